package oid4vci

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/internal/strictjson"
)

// ProofTyp is the JOSE typ of an OpenID4VCI key proof JWT.
const ProofTyp = "openid4vci-proof+jwt"

// MaxRequestBytes bounds a credential request body.
const MaxRequestBytes = 32 << 10

// CredentialRequest is the part of an OpenID4VCI credential request we act on. Other
// members are ignored (1.0 §8.2: the issuer MUST ignore unrecognised parameters).
type CredentialRequest struct {
	// Identifier is the 1.0 way (§8.2) when the token response had authorization_details:
	// one of its credential_identifiers. ConfigurationID is the other (and what wallets that
	// ignore authorization_details send). Exactly one of them, or the draft 13 pair
	// Format and VCT.
	Identifier      string `json:"credential_identifier,omitempty"`
	ConfigurationID string `json:"credential_configuration_id,omitempty"`
	Format          string `json:"format,omitempty"` // draft 13 style, with vct
	VCT             string `json:"vct,omitempty"`
	// Proof (singular) is draft 13/14's form, accepted from older wallets; 1.0 has Proofs.
	Proof *struct {
		ProofType string `json:"proof_type"`
		JWT       string `json:"jwt"`
	} `json:"proof,omitempty"`
	Proofs *struct {
		JWT []string `json:"jwt"`
	} `json:"proofs,omitempty"`
	Encryption json.RawMessage `json:"credential_response_encryption,omitempty"`
}

// Error is an OAuth/OpenID4VCI error response.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	// Reason says which refusal an invalid_grant is (one of the Reason* values), and
	// AttemptsLeft how many PIN tries a wrong PIN leaves: members of our extension to the
	// OAuth 2.0 error response (other wallets ignore them), so that a wallet can tell the
	// citizen in words without reading the description.
	Reason       string `json:"lz_reason,omitempty"`
	AttemptsLeft *int   `json:"lz_attempts_left,omitempty"`
}

// The token endpoint's invalid_grant reasons (Error.Reason); the wallet (wallet.Reason*)
// maps them to its typed errors.
const (
	ReasonWrongPIN     = "wrong_tx_code"
	ReasonOfferExpired = "offer_expired"
	ReasonOfferUsed    = "offer_used"
	ReasonOfferBlocked = "offer_blocked"
	ReasonOfferUnknown = "offer_unknown"
)

// Credential endpoint error codes (OpenID4VCI 1.0 §8.3.1.2).
const (
	ErrCodeInvalidRequest = "invalid_credential_request"
	ErrCodeUnknownConfig  = "unknown_credential_configuration"
	ErrCodeUnknownID      = "unknown_credential_identifier"
	ErrCodeInvalidProof   = "invalid_proof"
	ErrCodeInvalidNonce   = "invalid_nonce"
	ErrCodeEncryption     = "invalid_encryption_parameters"
	ErrCodeRequestDenied  = "credential_request_denied"
	ErrCodeInvalidToken   = "invalid_token" // RFC 6750, with 401 and WWW-Authenticate
)

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func errf(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Description: fmt.Sprintf(format, a...)}
}

// ParseCredentialRequest decodes a credential request body and returns it with its one
// proof JWT. Bodies over MaxRequestBytes, malformed JSON, both or neither of
// credential_identifier and credential_configuration_id (without the draft 13 format),
// and both proof and proofs are invalid_credential_request; no proof, several, and proof
// types other than jwt are invalid_proof.
func ParseCredentialRequest(body []byte) (*CredentialRequest, string, error) {
	if len(body) > MaxRequestBytes {
		return nil, "", errf(413, ErrCodeInvalidRequest, "request body too large")
	}
	var r CredentialRequest
	// Strict: duplicate members, invalid UTF-8, deep nesting and trailing data are refused.
	if err := strictjson.Decode(body, &r); err != nil {
		return nil, "", errf(400, ErrCodeInvalidRequest, "request body is not a strict JSON credential request")
	}
	if len(r.Encryption) > 0 && string(r.Encryption) != "null" {
		return nil, "", errf(400, ErrCodeEncryption, "credential response encryption is not supported")
	}
	switch {
	case r.Identifier != "" && r.ConfigurationID != "":
		return nil, "", errf(400, ErrCodeInvalidRequest, "credential_identifier and credential_configuration_id are exclusive")
	case r.Identifier == "" && r.ConfigurationID == "" && r.Format == "":
		return nil, "", errf(400, ErrCodeInvalidRequest, "credential_identifier or credential_configuration_id is required")
	}
	switch {
	case r.Proof != nil && r.Proofs != nil:
		return nil, "", errf(400, ErrCodeInvalidRequest, "both proof and proofs given")
	case r.Proof != nil:
		if r.Proof.ProofType != "jwt" {
			return nil, "", errf(400, ErrCodeInvalidProof, "proof_type must be jwt")
		}
		if r.Proof.JWT == "" {
			return nil, "", errf(400, ErrCodeInvalidProof, "proof jwt missing")
		}
		return &r, r.Proof.JWT, nil
	case r.Proofs != nil:
		if len(r.Proofs.JWT) != 1 || r.Proofs.JWT[0] == "" {
			return nil, "", errf(400, ErrCodeInvalidProof, "exactly one jwt proof is accepted (no batch issuance)")
		}
		return &r, r.Proofs.JWT[0], nil
	}
	return nil, "", errf(400, ErrCodeInvalidProof, "a key proof is required")
}

// ProofCheck is what a key proof must match.
type ProofCheck struct {
	Audience string // the credential issuer identifier
	Nonce    string // the c_nonce handed out (when ConsumeNonce is nil)
	// ConsumeNonce, if set, is asked instead of comparing with Nonce: it reports whether the
	// proof's nonce is live, and uses it up. It is called only for a proof valid otherwise.
	ConsumeNonce func(nonce string) bool
	Now          time.Time
	MaxAge       time.Duration // iat not older than this (default 5 min)
	Skew         time.Duration // iat not further in the future (default 30 s)
}

// ErrNonce marks a proof whose nonce is missing or not a live c_nonce of this issuer.
var ErrNonce = errors.New("oid4vci: proof nonce is missing, unknown, used or expired")

// VerifyProof checks a key proof JWT strictly: typ openid4vci-proof+jwt, an allowed
// algorithm (no none), the holder key as a public jwk header or as a did:key kid (nothing
// else: no x5c, no other DID), a valid signature by that key, aud = the issuer, a fresh iat,
// and the nonce. It returns the proven holder key. Nonce problems are *Error with code
// invalid_nonce, the rest invalid_proof.
func VerifyProof(proof string, c ProofCheck) (did.PublicKey, error) {
	if c.MaxAge <= 0 {
		c.MaxAge = 5 * time.Minute
	}
	if c.Skew <= 0 {
		c.Skew = 30 * time.Second
	}
	bad := func(format string, a ...any) (did.PublicKey, error) {
		return did.PublicKey{}, errf(400, "invalid_proof", format, a...)
	}
	p, err := jws.Parse(proof)
	if err != nil {
		return bad("proof jwt: %v", err)
	}
	if typ, _ := p.Header["typ"].(string); typ != ProofTyp {
		return bad("proof typ must be %s", ProofTyp)
	}
	for _, h := range []string{"x5c", "trust_chain", "key_attestation"} {
		if _, ok := p.Header[h]; ok {
			return bad("proof header %s is not accepted: send the key as jwk", h)
		}
	}
	key, err := proofKey(p.Header)
	if err != nil {
		return bad("%v", err)
	}
	if key.JWSAlg() != p.Alg && !(p.Alg == jws.AlgEd25519 && key.JWSAlg() == jws.AlgEdDSA) {
		return bad("proof alg %s does not suit the jwk", p.Alg)
	}
	if err := p.Verify(key.Key); err != nil {
		return bad("proof signature does not verify")
	}
	var claims struct {
		Aud   any    `json:"aud"`
		Iat   *int64 `json:"iat"`
		Nonce string `json:"nonce"`
	}
	// Strict: a duplicate nonce (or aud, iat) must not ride beside the real one.
	if err := strictjson.Decode(p.Payload, &claims); err != nil {
		return bad("proof payload is not a strict JSON object with numeric iat")
	}
	audOK := false
	switch a := claims.Aud.(type) {
	case string:
		audOK = a == c.Audience
	case []any:
		audOK = len(a) == 1 && a[0] == c.Audience
	}
	if !audOK || c.Audience == "" {
		return bad("proof aud must be the credential issuer %s", c.Audience)
	}
	if claims.Iat == nil {
		return bad("proof iat missing")
	}
	iat := time.Unix(*claims.Iat, 0)
	if iat.Before(c.Now.Add(-c.MaxAge)) {
		return bad("proof is stale (iat too old)")
	}
	if iat.After(c.Now.Add(c.Skew)) {
		return bad("proof iat is in the future")
	}
	ok := claims.Nonce != "" && c.Nonce != "" && claims.Nonce == c.Nonce
	if c.ConsumeNonce != nil {
		ok = claims.Nonce != "" && c.ConsumeNonce(claims.Nonce)
	}
	if !ok {
		return did.PublicKey{}, &Error{Status: 400, Code: ErrCodeInvalidNonce, Description: ErrNonce.Error()}
	}
	return key, nil
}

// proofKey is the holder key a proof names: a public jwk, or (exclusively) a kid that is a
// did:key DID URL whose fragment, if any, is its own key.
func proofKey(h map[string]any) (did.PublicKey, error) {
	jv, hasJWK := h["jwk"]
	kv, hasKID := h["kid"]
	switch {
	case hasJWK && hasKID:
		return did.PublicKey{}, errors.New("proof header has both jwk and kid")
	case hasKID:
		kid, _ := kv.(string)
		d, frag, _ := strings.Cut(kid, "#")
		if !strings.HasPrefix(d, "did:key:") || (frag != "" && "did:key:"+frag != d) {
			return did.PublicKey{}, errors.New("proof kid must be a did:key DID URL")
		}
		k, err := did.ParseKey(d)
		if err != nil {
			return did.PublicKey{}, fmt.Errorf("proof kid: %w", err)
		}
		return k, nil
	}
	jm, ok := jv.(map[string]any)
	if !ok {
		return did.PublicKey{}, errors.New("proof header needs the holder key as jwk (or a did:key kid)")
	}
	if _, priv := jm["d"]; priv {
		return did.PublicKey{}, errors.New("proof jwk contains a private key")
	}
	jb, _ := json.Marshal(jm)
	k, err := did.ParseJWKJSON(jb)
	if err != nil {
		return did.PublicKey{}, fmt.Errorf("proof jwk: %w", err)
	}
	return k, nil
}
