package wallet

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"lianzheng/credential"
	"lianzheng/internal/bilingual"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/internal/strictjson"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// OpenID4VCI constants.
const (
	OfferScheme       = "openid-credential-offer://"
	GrantPreAuthCode  = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	ProofTyp          = "openid4vci-proof+jwt"
	maxOfferLen       = 8 << 10
	maxHTTPBody       = 1 << 20
	metadataWellKnown = "/.well-known/openid-credential-issuer"
	asWellKnown       = "/.well-known/oauth-authorization-server"
)

// TxCode describes the transaction code (PIN) the offer needs.
type TxCode struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// PreAuthGrant is the pre-authorised code grant of an offer.
type PreAuthGrant struct {
	Code   string  `json:"pre-authorized_code"`
	TxCode *TxCode `json:"tx_code,omitempty"`
}

// Offer is an OpenID4VCI credential offer.
type Offer struct {
	CredentialIssuer string                     `json:"credential_issuer"`
	ConfigurationIDs []string                   `json:"credential_configuration_ids"`
	Grants           map[string]json.RawMessage `json:"grants"`
	PreAuth          *PreAuthGrant              `json:"-"`
}

// ParseOffer reads an offer from the scanned text (openid-credential-offer://?credential_offer=…,
// an https link with the same query, or the bare JSON). credential_offer_uri is fetched by
// Receive, not here.
func ParseOffer(text string) (*Offer, string, error) {
	text = strings.TrimSpace(text)
	if len(text) > maxOfferLen {
		return nil, "", fmt.Errorf("%w: offer of %d bytes is too large", ErrBadOffer, len(text))
	}
	var raw string
	var uri string
	if strings.HasPrefix(text, "{") {
		raw = text
	} else {
		u, err := url.Parse(text)
		if err != nil {
			return nil, "", fmt.Errorf("%w: not a URL: %w", ErrBadOffer, err)
		}
		if u.Scheme != "openid-credential-offer" && u.Scheme != "https" && u.Scheme != "http" {
			return nil, "", fmt.Errorf("%w: scheme %q", ErrBadOffer, u.Scheme)
		}
		q := u.Query()
		raw, uri = q.Get("credential_offer"), q.Get("credential_offer_uri")
		if raw == "" && uri == "" {
			return nil, "", fmt.Errorf("%w: neither credential_offer nor credential_offer_uri", ErrBadOffer)
		}
		if raw == "" {
			return nil, uri, nil
		}
	}
	o, err := decodeOffer([]byte(raw))
	return o, "", err
}

func decodeOffer(b []byte) (*Offer, error) {
	var o Offer
	if err := strictjson.Decode(b, &o); err != nil {
		return nil, fmt.Errorf("%w: offer JSON: %w", ErrBadOffer, err)
	}
	iu, err := url.Parse(o.CredentialIssuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" {
		return nil, fmt.Errorf("%w: credential_issuer %q is not an https URL", ErrBadOffer, o.CredentialIssuer)
	}
	if len(o.ConfigurationIDs) == 0 {
		return nil, fmt.Errorf("%w: no credential configuration named", ErrBadOffer)
	}
	if g, ok := o.Grants[GrantPreAuthCode]; ok {
		var p PreAuthGrant
		if err := strictjson.Decode(g, &p); err != nil || p.Code == "" {
			return nil, fmt.Errorf("%w: malformed pre-authorized_code grant", ErrBadOffer)
		}
		o.PreAuth = &p
	}
	if o.PreAuth == nil {
		return nil, fmt.Errorf("%w: no pre-authorised code grant (the only flow supported)", ErrBadOffer)
	}
	return &o, nil
}

// ParseOfferPNG reads an offer from a QR image.
func ParseOfferPNG(png []byte) (*Offer, string, error) {
	text, err := qr.DecodePNG(png)
	if err != nil {
		return nil, "", fmt.Errorf("%w: QR image: %w", ErrBadOffer, err)
	}
	return ParseOffer(text)
}

// NeedsPIN reports whether the offer needs a transaction code.
func (o *Offer) NeedsPIN() bool { return o.PreAuth != nil && o.PreAuth.TxCode != nil }

// IssuerMetadata is the part of the credential issuer metadata the wallet uses.
type IssuerMetadata struct {
	CredentialIssuer     string                     `json:"credential_issuer"`
	CredentialEndpoint   string                     `json:"credential_endpoint"`
	NonceEndpoint        string                     `json:"nonce_endpoint,omitempty"`
	TokenEndpoint        string                     `json:"token_endpoint,omitempty"` // non-standard shortcut
	AuthorizationServers []string                   `json:"authorization_servers,omitempty"`
	Configurations       map[string]json.RawMessage `json:"credential_configurations_supported"`
	Display              json.RawMessage            `json:"display,omitempty"`
}

// ReceiveOptions tune Receive.
type ReceiveOptions struct {
	HTTP *http.Client // default: 30 s timeout
	// InsecureHTTP allows http:// issuers (tests and loopback demos only).
	InsecureHTTP bool
}

func (o *ReceiveOptions) client() *http.Client {
	var hc *http.Client
	if o != nil {
		hc = o.HTTP
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return noRedirects(hc)
}

// resolveOffer parses the scanned offer text and, for an offer by reference
// (credential_offer_uri), fetches it.
func resolveOffer(ctx context.Context, hc *http.Client, text string, insecure bool) (*Offer, error) {
	offer, uri, err := ParseOffer(text)
	if err != nil {
		return nil, err
	}
	if uri != "" {
		var b json.RawMessage
		if err := getJSON(ctx, hc, endpointRule{insecure: insecure}, uri, &b); err != nil {
			return nil, fmt.Errorf("wallet: credential_offer_uri: %w", err)
		}
		if offer, err = decodeOffer(b); err != nil {
			return nil, err
		}
	}
	return offer, nil
}

// OfferSummary is what an offer is, for the citizen to see before typing its PIN: the
// credential types it offers, with their names from the ledger catalogue, and the
// departments the catalogue authorises to issue them — the one a credential received from
// this offer can come from (Receive refuses any other). An OpenID4VCI offer names no expiry
// and no issuer DID, so the summary has neither: the department tells the expiry with the PIN.
type OfferSummary struct {
	CredentialIssuer string // the issuance service's URL (credential_issuer)
	Types            []OfferedType
	// Departments are the members the catalogue authorises for every offered type (usually
	// one); empty when no member may issue them all, or a type is not in the catalogue.
	Departments []ledger.Member
	NeedsPIN    bool
	PINLength   int // digits of the PIN, when the offer says (0: not said)
}

// OfferedType is one credential type an offer names.
type OfferedType struct {
	ID   string         // the credential configuration id (our issuers use the catalogue type id)
	Name bilingual.Text // its catalogue name; the id in both languages when not in the catalogue
	// Known reports whether the ledger catalogue has the type.
	Known bool
}

// DescribeOffer reads an offer (fetching it when given by reference) and names what it
// offers from the ledger catalogue, without contacting the issuer otherwise and without
// spending its PIN. A text that is not an offer is ErrBadOffer.
func (w *Wallet) DescribeOffer(ctx context.Context, offerText string, o *ReceiveOptions) (*OfferSummary, error) {
	l, err := w.ledger()
	if err != nil {
		return nil, err
	}
	offer, err := resolveOffer(ctx, o.client(), offerText, o != nil && o.InsecureHTTP)
	if err != nil {
		return nil, err
	}
	s := &OfferSummary{CredentialIssuer: offer.CredentialIssuer, NeedsPIN: offer.NeedsPIN()}
	if s.NeedsPIN && offer.PreAuth.TxCode.Length > 0 {
		s.PINLength = offer.PreAuth.TxCode.Length
	}
	var issuers []string // member ids authorised for every type so far
	for i, id := range offer.ConfigurationIDs {
		ot := OfferedType{ID: id, Name: bilingual.Text{Zh: id, En: id}}
		t, err := l.Type(ctx, id)
		switch {
		case err == nil:
			ot.Name, ot.Known = t.Name, true
			if i == 0 {
				issuers = slices.Clone(t.Issuers)
			} else {
				issuers = slices.DeleteFunc(issuers, func(m string) bool { return !slices.Contains(t.Issuers, m) })
			}
		case errors.Is(err, ledgerclient.ErrNotFound):
			issuers = nil
		default:
			return nil, fmt.Errorf("wallet: catalogue: %w", err)
		}
		s.Types = append(s.Types, ot)
	}
	for _, id := range issuers {
		m, err := l.Member(ctx, id)
		if err != nil {
			if errors.Is(err, ledgerclient.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("wallet: member %s: %w", id, err)
		}
		s.Departments = append(s.Departments, *m)
	}
	return s, nil
}

// Receive runs the OpenID4VCI pre-authorised code flow for every configuration of the offer:
// metadata, token (with the PIN as tx_code), a key proof by a fresh holder key, the
// credential; each credential is verified against the ledger before it is stored.
func (w *Wallet) Receive(ctx context.Context, offerText, pin string, o *ReceiveOptions) ([]*Credential, error) {
	if o == nil {
		o = &ReceiveOptions{}
	}
	hc := o.client()
	l, err := w.ledger()
	if err != nil {
		return nil, err
	}
	offer, err := resolveOffer(ctx, hc, offerText, o.InsecureHTTP)
	if err != nil {
		return nil, err
	}
	if offer.NeedsPIN() && pin == "" {
		return nil, ErrOfferNeedsPIN
	}
	if err := (endpointRule{insecure: o.InsecureHTTP}).check(offer.CredentialIssuer); err != nil {
		return nil, fmt.Errorf("wallet: issuer %s: %w", offer.CredentialIssuer, err)
	}
	base := strings.TrimSuffix(offer.CredentialIssuer, "/")
	origin, err := originOf(base)
	if err != nil {
		return nil, err
	}
	// Every endpoint below (metadata, authorisation server, token, nonce, credential) must be
	// https on the issuer's own origin: the PIN and the token go nowhere else.
	rule := endpointRule{origin: origin, insecure: o.InsecureHTTP}
	var md IssuerMetadata
	if err := getJSON(ctx, hc, rule, base+metadataWellKnown, &md); err != nil {
		return nil, fmt.Errorf("wallet: issuer metadata: %w", err)
	}
	if strings.TrimSuffix(md.CredentialIssuer, "/") != base {
		return nil, fmt.Errorf("%w: metadata credential_issuer %q differs from the offer's %q", ErrIssuerFailed, md.CredentialIssuer, offer.CredentialIssuer)
	}
	if md.CredentialEndpoint == "" {
		return nil, fmt.Errorf("%w: issuer metadata has no credential_endpoint", ErrIssuerFailed)
	}
	for _, ep := range []string{md.CredentialEndpoint, md.NonceEndpoint, md.TokenEndpoint} {
		if ep == "" {
			continue
		}
		if err := rule.check(ep); err != nil { // before the PIN is spent on this issuer
			return nil, fmt.Errorf("wallet: issuer metadata: %w", err)
		}
	}
	tokenEP := md.TokenEndpoint
	if tokenEP == "" {
		as := base
		if len(md.AuthorizationServers) > 0 {
			as = strings.TrimSuffix(md.AuthorizationServers[0], "/")
		}
		var asm struct {
			TokenEndpoint string `json:"token_endpoint"`
		}
		if err := getJSON(ctx, hc, rule, as+asWellKnown, &asm); err == nil && asm.TokenEndpoint != "" {
			tokenEP = asm.TokenEndpoint
		} else {
			tokenEP = as + "/token"
		}
	}
	form := url.Values{"grant_type": {GrantPreAuthCode}, "pre-authorized_code": {offer.PreAuth.Code}}
	if offer.NeedsPIN() {
		form.Set("tx_code", pin)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		CNonce      string `json:"c_nonce"`
	}
	if err := rule.check(tokenEP); err != nil { // checked before the PIN is put in a request
		return nil, fmt.Errorf("wallet: token endpoint: %w", err)
	}
	if err := postForm(ctx, hc, rule, tokenEP, form, &tok); err != nil {
		return nil, fmt.Errorf("wallet: token: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: token response without access_token", ErrIssuerFailed)
	}
	var out []*Credential
	for _, cfgID := range offer.ConfigurationIDs {
		nonce := tok.CNonce
		if md.NonceEndpoint != "" {
			var nr struct {
				CNonce string `json:"c_nonce"`
			}
			if err := postJSON(ctx, hc, rule, md.NonceEndpoint, tok.AccessToken, nil, &nr); err != nil { // the bearer is harmless where not required
				return out, fmt.Errorf("wallet: nonce: %w", err)
			}
			nonce = nr.CNonce
		}
		c, err := w.requestCredential(ctx, hc, rule, l, &md, base, cfgID, tok.AccessToken, nonce)
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (w *Wallet) requestCredential(ctx context.Context, hc *http.Client, rule endpointRule, l Ledger, md *IssuerMetadata, issuerURL, cfgID, access, nonce string) (*Credential, error) {
	kid, err := w.Keys.NewEd25519() // a fresh holder key for every credential
	if err != nil {
		return nil, err
	}
	signer, err := w.Keys.Signer(kid)
	if err != nil {
		return nil, err
	}
	hpub, _ := did.NewPublicKey(signer.Public())
	claims := map[string]any{"aud": issuerURL, "iat": w.now().Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, _ := jws.Marshal(claims)
	proof, err := jws.Sign(map[string]any{"typ": ProofTyp, "jwk": hpub.JWK()}, payload, signer)
	if err != nil {
		_ = w.Keys.Delete(kid)
		return nil, err
	}
	req := map[string]any{"credential_configuration_id": cfgID}
	if md.NonceEndpoint != "" { // OpenID4VCI 1.0
		req["proofs"] = map[string]any{"jwt": []string{proof}}
	} else { // draft 13 issuers (c_nonce in the token response)
		req["proof"] = map[string]any{"proof_type": "jwt", "jwt": proof}
	}
	var resp struct {
		Credentials []struct {
			Credential json.RawMessage `json:"credential"`
		} `json:"credentials"`
		Credential json.RawMessage `json:"credential"`
		W3C        json.RawMessage `json:"w3c_vc,omitempty"`
	}
	if err := postJSON(ctx, hc, rule, md.CredentialEndpoint, access, req, &resp); err != nil {
		_ = w.Keys.Delete(kid)
		return nil, fmt.Errorf("wallet: credential: %w", err)
	}
	raw := resp.Credential
	if len(resp.Credentials) > 0 {
		raw = resp.Credentials[0].Credential
	}
	var text string
	if err := strictjson.Decode(raw, &text); err != nil || text == "" {
		_ = w.Keys.Delete(kid)
		return nil, fmt.Errorf("%w: credential response has no SD-JWT VC string", ErrIssuerFailed)
	}
	c, err := w.Accept(ctx, l, text, kid)
	if err != nil {
		_ = w.Keys.Delete(kid)
		return nil, err
	}
	if len(resp.W3C) > 0 {
		c.W3CVC = string(resp.W3C)
		_ = w.Store.PutCredential(c)
	}
	return c, nil
}

// Accept verifies an SD-JWT VC for the holder key kid against the ledger (issuer key at
// iat, issuer authorised for the type) and stores it.
func (w *Wallet) Accept(ctx context.Context, l Ledger, text, kid string) (*Credential, error) {
	v, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{
		IssuerKeyAt: func(k string, at time.Time) (crypto.PublicKey, error) {
			pk, err := did.AssertionKeyAt(ctx, resolver(l), k, at)
			return pk.Key, err
		},
		AllowNoKB: true,
		Now:       w.now(),
	})
	if err != nil {
		return nil, refuseCause(credential.CodeInvalidCredential, "凭证校验失败", "the credential does not verify", err)
	}
	t, err := checkAuthorised(ctx, l, v.VCT, v.Issuer)
	if err != nil {
		return nil, err
	}
	pub, err := w.Keys.Public(kid)
	if err != nil {
		return nil, err
	}
	if hk, ok := v.Holder.Key.(ed25519.PublicKey); !ok || !hk.Equal(pub) {
		return nil, refuse(credential.CodeWrongHolderKey, "凭证未绑定到本钱包的密钥", "the credential is not bound to this wallet's key")
	}
	c := &Credential{ID: newID(), SDJWT: text, Type: t.ID, VCT: v.VCT, Issuer: v.Issuer, HolderKID: kid,
		Received: w.now().UTC(), IssuedAt: v.IssuedAt.UTC(), Expires: v.Expires.UTC()}
	if v.Expires.IsZero() {
		c.Expires = time.Time{}
	}
	if v.Status != nil {
		c.StatusURI, c.StatusIdx = v.Status.URI, v.Status.Index
	}
	if err := w.Store.PutCredential(c); err != nil {
		return nil, err
	}
	return c, nil
}

// ErrUnsafeEndpoint marks an issuer endpoint the wallet refuses to contact: not https, or not
// on the issuer's own origin (the offer's credential_issuer). Issuer metadata is not signed
// (we do not accept signed_metadata), so it cannot vouch for another origin: an https issuer
// whose metadata named an http:// token endpoint would otherwise receive the PIN in clear.
var ErrUnsafeEndpoint = errors.New("wallet: unsafe issuer endpoint")

// endpointRule is what every URL the wallet contacts during receiving must satisfy.
type endpointRule struct {
	origin   string // scheme://host[:port] of the credential issuer; "" = any (the offer URI)
	insecure bool   // http allowed (tests and loopback demos only)
}

func (e endpointRule) check(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || (p.Scheme != "https" && !(e.insecure && p.Scheme == "http")) {
		return fmt.Errorf("%w: %q is not an https URL", ErrUnsafeEndpoint, u)
	}
	if e.origin != "" && !strings.EqualFold(p.Scheme+"://"+p.Host, e.origin) {
		return fmt.Errorf("%w: %q is not on the issuer's origin %s", ErrUnsafeEndpoint, u, e.origin)
	}
	return nil
}

// originOf returns scheme://host[:port] of an absolute URL.
func originOf(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "", fmt.Errorf("%w: %q is not an absolute URL", ErrUnsafeEndpoint, u)
	}
	return p.Scheme + "://" + p.Host, nil
}

// noRedirects makes a copy of hc that follows no redirect: an https endpoint answering 307
// to an http:// (or foreign) URL would otherwise have the PIN or token re-sent there.
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return fmt.Errorf("%w: issuer endpoints may not redirect", ErrUnsafeEndpoint)
	}
	return &c
}

func getJSON(ctx context.Context, hc *http.Client, rule endpointRule, u string, out any) error {
	if err := rule.check(u); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	return do(hc, req, out)
}

func postForm(ctx context.Context, hc *http.Client, rule endpointRule, u string, form url.Values, out any) error {
	if err := rule.check(u); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(hc, req, out)
}

func postJSON(ctx context.Context, hc *http.Client, rule endpointRule, u, bearer string, body, out any) error {
	if err := rule.check(u); err != nil {
		return err
	}
	var r io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(hc, req, out)
}

// do sends req and decodes the JSON answer into out. A request that gets no answer is
// ErrIssuerUnreachable (unless refused by the endpoint rule, or cancelled); an error answer is
// an *IssuerError; an answer that cannot be read is ErrIssuerFailed.
func do(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrUnsafeEndpoint) || errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrIssuerUnreachable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrIssuerUnreachable, req.URL.Path, err)
	}
	if len(b) > maxHTTPBody {
		return fmt.Errorf("%w: %s: response too large", ErrIssuerFailed, req.URL.Path)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error    string `json:"error"`
			Desc     string `json:"error_description"`
			Reason   string `json:"lz_reason"`
			Attempts *int   `json:"lz_attempts_left"`
		}
		ie := &IssuerError{Endpoint: req.URL.Path, Status: resp.StatusCode, AttemptsLeft: -1}
		if strictjson.Decode(b, &e) == nil {
			ie.Code, ie.Description, ie.Reason = e.Error, e.Desc, e.Reason
			if e.Attempts != nil && *e.Attempts >= 0 {
				ie.AttemptsLeft = *e.Attempts
			}
		}
		return ie
	}
	if err := strictjson.Decode(b, out); err != nil {
		return fmt.Errorf("%w: %s: JSON: %w", ErrIssuerFailed, req.URL.Path, err)
	}
	return nil
}
