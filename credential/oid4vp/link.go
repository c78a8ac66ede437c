package oid4vp

import (
	"fmt"
	"net/url"
	"strings"

	"lianzheng/did"
)

// Protocol constants (OpenID4VP 1.0).
const (
	Scheme                    = "openid4vp"
	ClientIDPrefix            = "decentralized_identifier:"
	TypJAR                    = "oauth-authz-req+jwt"
	ContentTypeJAR            = "application/oauth-authz-req+jwt"
	ResponseTypeVPToken       = "vp_token"
	ResponseModeDirectPostJWT = "direct_post.jwt"
	// SelfIssuedAudience is the request object's aud for a wallet not known in advance.
	SelfIssuedAudience = "https://self-issued.me/v2"
	FormatSDJWT        = "dc+sd-jwt"
)

// Size limits of what this package parses.
const (
	MaxLink  = 4 << 10
	MaxJAR   = 32 << 10
	MaxJWE   = 256 << 10
	MaxQuery = 16 << 10
)

// Link is an authorisation request by reference.
type Link struct {
	ClientID         string // decentralized_identifier:did:lz:…
	RequestURI       string // where the signed request object is fetched
	RequestURIMethod string // "" or "get" (the default); "post" is not supported
}

// ClientIDFor is the client identifier of a verifier DID: the DID with the
// decentralized_identifier: prefix. The KB-JWT aud of a presentation is this whole string.
func ClientIDFor(d string) string { return ClientIDPrefix + d }

// DIDOf returns the DID of a decentralized_identifier client id (any DID method; the caller
// decides which it trusts).
func DIDOf(clientID string) (string, error) {
	d, ok := strings.CutPrefix(clientID, ClientIDPrefix)
	if !ok {
		return "", fmt.Errorf("%w: client_id %q has no %s prefix", ErrMalformed, short(clientID), ClientIDPrefix)
	}
	if _, err := did.ParseDIDURL(d); err != nil || strings.ContainsAny(d, "#?/") {
		return "", fmt.Errorf("%w: client_id %q is not a DID", ErrMalformed, short(clientID))
	}
	return d, nil
}

// String is the openid4vp:// URI of the link.
func (l Link) String() string {
	q := url.Values{}
	q.Set("client_id", l.ClientID)
	q.Set("request_uri", l.RequestURI)
	if l.RequestURIMethod != "" {
		q.Set("request_uri_method", l.RequestURIMethod)
	}
	return Scheme + "://?" + q.Encode()
}

// ParseLink reads an openid4vp:// link (as scanned, pasted or opened). It requires a
// decentralized_identifier client id and a request_uri (absolute http or https URL; the
// caller decides whether http is acceptable), and refuses a request passed by value
// (`request`, or bare parameters): LianZheng only answers signed request objects.
func ParseLink(s string) (*Link, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxLink {
		return nil, fmt.Errorf("%w: link of %d bytes", ErrTooLarge, len(s))
	}
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, Scheme) {
		return nil, fmt.Errorf("%w: not an %s:// link", ErrMalformed, Scheme)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: link query: %v", ErrMalformed, err)
	}
	for k, v := range q {
		if len(v) != 1 {
			return nil, fmt.Errorf("%w: link parameter %q repeated", ErrMalformed, short(k))
		}
		switch k {
		case "client_id", "request_uri", "request_uri_method":
		case "request", "dcql_query", "presentation_definition", "response_uri", "nonce":
			return nil, fmt.Errorf("%w: request passed by value (%s); only a signed request_uri is answered", ErrUnsupported, k)
		}
	}
	l := &Link{ClientID: q.Get("client_id"), RequestURI: q.Get("request_uri"), RequestURIMethod: q.Get("request_uri_method")}
	if _, err := DIDOf(l.ClientID); err != nil {
		return nil, err
	}
	ru, err := url.Parse(l.RequestURI)
	if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" || ru.User != nil || ru.Fragment != "" {
		return nil, fmt.Errorf("%w: request_uri %q", ErrMalformed, short(l.RequestURI))
	}
	switch l.RequestURIMethod {
	case "", "get":
	case "post":
		return nil, fmt.Errorf("%w: request_uri_method post", ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: request_uri_method %q", ErrMalformed, short(l.RequestURIMethod))
	}
	return l, nil
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
