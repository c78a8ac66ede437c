package oid4vp

import (
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/internal/bilingual"
	"lianzheng/internal/strictjson"
)

// Errors (test with errors.Is; messages carry detail, never a disclosed value).
var (
	ErrMalformed   = errors.New("oid4vp: malformed")
	ErrTooLarge    = errors.New("oid4vp: too large")
	ErrUnsupported = errors.New("oid4vp: unsupported")
	ErrSignature   = errors.New("oid4vp: request object signature invalid or key not valid")
	ErrExpired     = errors.New("oid4vp: request expired")
	ErrNotYet      = errors.New("oid4vp: request not yet valid")
	ErrDecrypt     = errors.New("oid4vp: response cannot be decrypted")
	ErrWrongKey    = errors.New("oid4vp: response encrypted to another key")
	ErrNonce       = errors.New("oid4vp: response apv is not the request's nonce")
)

// VerifierInfoFormat names LianZheng's verifier_info entry: the portal's registration on the
// consortium ledger (Registration), which the wallet compares with the ledger itself.
const VerifierInfoFormat = "lz_ledger_registration"

// Limits of a request.
const (
	MaxValidity   = 10 * time.Minute
	maxVerifierIn = 4
	maxString     = 2048
)

// JWK is a public elliptic-curve key (the response encryption key).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// JWKSet is a JSON Web Key Set.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// FormatParams are the algorithms a verifier accepts for one credential format.
type FormatParams struct {
	SDJWTAlgValues []string `json:"sd-jwt_alg_values"`
	KBJWTAlgValues []string `json:"kb-jwt_alg_values"`
}

// ClientMetadata is the verifier's metadata passed in the request.
type ClientMetadata struct {
	JWKS                                *JWKSet                 `json:"jwks,omitempty"`
	VPFormatsSupported                  map[string]FormatParams `json:"vp_formats_supported"`
	EncryptedResponseEncValuesSupported []string                `json:"encrypted_response_enc_values_supported,omitempty"`
}

// VerifierInfo is one verifier attestation (OpenID4VP 1.0 §5.11).
type VerifierInfo struct {
	Format        string          `json:"format"`
	Data          json.RawMessage `json:"data"`
	CredentialIDs []string        `json:"credential_ids,omitempty"`
}

// Registration is the data of LianZheng's verifier_info entry: the online service's record
// on the consortium ledger (who, which service item, why, which fields). It is a claim, not
// proof: the wallet reads the same record from the ledger (with proofs) and refuses a
// request whose registration differs or that asks beyond it.
type Registration struct {
	Service    string         `json:"service"`    // the portal's did:lz (the client_id's DID)
	Department string         `json:"department"` // member id
	Name       bilingual.Text `json:"name"`       // the service's registered name
	Item       string         `json:"item"`       // service item id
	ItemName   bilingual.Text `json:"item_name"`
	Purpose    bilingual.Text `json:"purpose"`
	Requests   []Requested    `json:"requests"`
}

// Requested is what the registration lets the item ask of one credential type.
type Requested struct {
	Type     string   `json:"type"` // catalogue id (also the DCQL credential query id)
	VCT      string   `json:"vct"`
	Fields   []string `json:"fields"`
	Optional []string `json:"optional,omitempty"`
}

// Request is the authorisation request carried by the signed request object.
type Request struct {
	ClientID       string         `json:"client_id"`
	ResponseType   string         `json:"response_type"`
	ResponseMode   string         `json:"response_mode"`
	ResponseURI    string         `json:"response_uri"`
	Nonce          string         `json:"nonce"`
	State          string         `json:"state"`
	DCQLQuery      Query          `json:"dcql_query"`
	ClientMetadata ClientMetadata `json:"client_metadata"`
	VerifierInfo   []VerifierInfo `json:"verifier_info,omitempty"`
	Aud            string         `json:"aud"`
	IssuedAt       int64          `json:"iat"`
	Expires        int64          `json:"exp"`
	WalletNonce    string         `json:"wallet_nonce,omitempty"`
}

// NewState returns a fresh opaque state value (128 bits, base64url).
func NewState() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return jws.B64.EncodeToString(b)
}

var tokenChars = regexp.MustCompile(`^[A-Za-z0-9_~.\-]{16,128}$`)

// Registration returns the LianZheng registration carried in verifier_info (nil, nil when
// the request carries none).
func (r *Request) Registration() (*Registration, error) {
	for _, vi := range r.VerifierInfo {
		if vi.Format != VerifierInfoFormat {
			continue
		}
		var reg Registration
		if err := strictjson.Decode(vi.Data, &reg); err != nil {
			return nil, fmt.Errorf("%w: verifier_info: %v", ErrMalformed, err)
		}
		return &reg, nil
	}
	return nil, nil
}

// EncryptionKey returns the key the response must be encrypted to: the first key of
// client_metadata.jwks meant for encryption with ECDH-ES on P-256.
func (r *Request) EncryptionKey() (*JWK, error) {
	if r.ClientMetadata.JWKS == nil {
		return nil, fmt.Errorf("%w: client_metadata has no jwks", ErrMalformed)
	}
	for i := range r.ClientMetadata.JWKS.Keys {
		k := &r.ClientMetadata.JWKS.Keys[i]
		if k.Kty == "EC" && k.Crv == "P-256" && (k.Use == "" || k.Use == "enc") && (k.Alg == "" || k.Alg == AlgECDHES) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: no P-256 ECDH-ES key in client_metadata.jwks", ErrUnsupported)
}

// Enc is the content encryption the response uses: A128GCM unless the verifier lists only
// A256GCM among the values it supports.
func (r *Request) Enc() string {
	v := r.ClientMetadata.EncryptedResponseEncValuesSupported
	if len(v) == 0 || slices.Contains(v, EncA128GCM) {
		return EncA128GCM
	}
	if slices.Contains(v, EncA256GCM) {
		return EncA256GCM
	}
	return ""
}

// validate checks the request's own consistency (not its signature, not its times).
func (r *Request) validate() error {
	d, err := DIDOf(r.ClientID)
	if err != nil {
		return err
	}
	_ = d
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }
	switch {
	case r.ResponseType != ResponseTypeVPToken:
		return fmt.Errorf("%w: response_type %q", ErrUnsupported, short(r.ResponseType))
	case r.ResponseMode != ResponseModeDirectPostJWT:
		return fmt.Errorf("%w: response_mode %q (only %s: an encrypted response)", ErrUnsupported, short(r.ResponseMode), ResponseModeDirectPostJWT)
	case !tokenChars.MatchString(r.Nonce):
		return bad("nonce must be 16-128 URL-safe characters")
	case r.State != "" && !tokenChars.MatchString(r.State):
		// OpenID4VP 1.0 §5.2: state is required only when presentations without holder
		// binding are asked (§5.3), which a DCQL query here never does: optional otherwise.
		return bad("state, when present, must be 16-128 URL-safe characters")
	case r.Expires <= r.IssuedAt || time.Duration(r.Expires-r.IssuedAt)*time.Second > MaxValidity:
		return bad(fmt.Sprintf("validity must be positive and at most %s", MaxValidity))
	case len(r.VerifierInfo) > maxVerifierIn:
		return bad("too many verifier_info entries")
	case len(r.ResponseURI) > maxString || len(r.Aud) > maxString || len(r.WalletNonce) > maxString:
		return bad("a string member is too long")
	case r.Aud != SelfIssuedAudience:
		return bad(fmt.Sprintf("aud %q", short(r.Aud)))
	}
	ru, err := url.Parse(r.ResponseURI)
	if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" || ru.User != nil || ru.Fragment != "" {
		return bad(fmt.Sprintf("response_uri %q", short(r.ResponseURI)))
	}
	if err := r.DCQLQuery.validate(); err != nil {
		return err
	}
	if _, err := r.EncryptionKey(); err != nil {
		return err
	}
	if r.Enc() == "" {
		return fmt.Errorf("%w: encrypted_response_enc_values_supported %v", ErrUnsupported, r.ClientMetadata.EncryptedResponseEncValuesSupported)
	}
	if _, err := r.Registration(); err != nil {
		return err
	}
	return nil
}

// Sign validates the request and signs it as a request object with the verifier's key kid
// (an absolute DID URL of the client_id's DID).
func (r *Request) Sign(kid string, s jws.Signer) (string, error) {
	if err := r.validate(); err != nil {
		return "", err
	}
	if err := checkKid(kid, r.ClientID); err != nil {
		return "", err
	}
	payload, err := jws.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("oid4vp: request: %w", err)
	}
	if len(payload) > MaxJAR/2 {
		return "", fmt.Errorf("%w: request object payload of %d bytes", ErrTooLarge, len(payload))
	}
	return jws.Sign(map[string]any{"typ": TypJAR, "kid": kid}, payload, s)
}

func checkKid(kid, clientID string) error {
	d, _ := DIDOf(clientID)
	u, err := did.ParseDIDURL(kid)
	if err != nil || u.DID != d || u.Fragment == "" {
		return fmt.Errorf("%w: kid %q is not an absolute DID URL of %s", ErrMalformed, short(kid), short(clientID))
	}
	return nil
}

// ParseJAR parses a request object without checking its signature or times (see VerifyJAR):
// size, JWS header policy (alg allow-list, no crit), typ, kid an absolute DID URL of the
// client_id's DID, strict JSON, the request's consistency.
func ParseJAR(token string) (*Request, *jws.Parsed, error) {
	if len(token) > MaxJAR {
		return nil, nil, fmt.Errorf("%w: request object of %d bytes", ErrTooLarge, len(token))
	}
	p, err := jws.Parse(token)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: request object: %w", ErrMalformed, err)
	}
	if typ, _ := p.Header["typ"].(string); typ != TypJAR {
		return nil, nil, fmt.Errorf("%w: request object typ %q", ErrMalformed, short(typ))
	}
	var r Request
	if err := strictjson.Decode(p.Payload, &r); err != nil {
		return nil, nil, fmt.Errorf("%w: request object: %v", ErrMalformed, err)
	}
	if iss, ok := p.Header["iss"]; ok {
		return nil, nil, fmt.Errorf("%w: iss in the header (%v)", ErrMalformed, iss)
	}
	if err := r.validate(); err != nil {
		return nil, nil, err
	}
	kid, _ := p.Header["kid"].(string)
	if err := checkKid(kid, r.ClientID); err != nil {
		return nil, nil, err
	}
	return &r, p, nil
}

// KeyAt returns the public key a DID URL named at time t (the ledger's did:lz history).
type KeyAt func(kid string, t time.Time) (crypto.PublicKey, error)

// VerifyJAR parses a request object and checks its signature with the key its kid named at
// the request's iat, and its validity at now (skew tolerated either side).
func VerifyJAR(token string, keyAt KeyAt, now time.Time, skew time.Duration) (*Request, string, error) {
	r, p, err := ParseJAR(token)
	if err != nil {
		return nil, "", err
	}
	kid, _ := p.Header["kid"].(string)
	iat := time.Unix(r.IssuedAt, 0)
	key, err := keyAt(kid, iat)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s at %s: %v", ErrSignature, kid, iat.UTC().Format(time.RFC3339), err)
	}
	if err := p.Verify(key); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if now.Add(skew).Before(iat) {
		return nil, "", fmt.Errorf("%w: issued at %s", ErrNotYet, iat.UTC().Format(time.RFC3339))
	}
	if exp := time.Unix(r.Expires, 0); !now.Before(exp.Add(skew)) {
		return nil, "", fmt.Errorf("%w: at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	return r, kid, nil
}
