package wire

// The window's signed presentation request (LZ1Q) — the first of the two QR codes of an
// in-person presentation (DESIGN §3).
//
// A request names the window (a did:lz DID registered on the ledger), the service item, the
// fields it asks for per credential type, a fresh 128-bit nonce and a short validity, and is
// signed by the window's key:
//
//	SignedRequest = [payload: bstr (deterministic CBOR of Request), sig: bstr]
//	sig           = Ed25519(key named by Request.KeyID, "lianzheng-request-v1\n" || payload)
//
// The wallet checks the signature with the key the window's DID had at IssuedAt (from the
// ledger), the validity window, and — with OverAsk — whether the window asks for more than
// its service item is registered for on the ledger; over-asked fields are shown to the
// citizen as a warning and never disclosed. The answer travels as LZ1R (EncodeResponse) with
// the KB-JWTs bound to NonceString() and Audience(). The purpose shown to the citizen comes
// from the ledger registration, not from the request.

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"lianzheng/internal/edkey"
	"slices"
	"sort"
	"time"

	"github.com/fxamacker/cbor/v2"

	"lianzheng/did"
)

// Version of the request format.
const Version = 1

// Limits.
const (
	MaxValidity  = 10 * time.Minute // exp - iat
	MaxTypes     = 8
	MaxFields    = 32
	maxEncoded   = MaxRequestBody
	nonceLen     = 16
	sigDomain    = "lianzheng-request-v1\n"
	defaultSkew  = 2 * time.Minute
	maxStringLen = 256
)

// FieldRequest asks for fields of one credential type (catalogue type id).
type FieldRequest struct {
	Type   string   `cbor:"1,keyasint"`
	Fields []string `cbor:"2,keyasint"`
}

// Request is what the window asks for.
type Request struct {
	Version  int            `cbor:"1,keyasint"`
	Window   string         `cbor:"2,keyasint"` // window DID (did:lz)
	KeyID    string         `cbor:"3,keyasint"` // DID URL of the signing key
	Item     string         `cbor:"4,keyasint"` // service item id
	Requests []FieldRequest `cbor:"5,keyasint"`
	Nonce    []byte         `cbor:"6,keyasint"` // 16 random bytes
	IssuedAt int64          `cbor:"7,keyasint"` // Unix seconds
	Expires  int64          `cbor:"8,keyasint"` // Unix seconds
}

// NonceString returns the KB-JWT nonce for this request (base64url of the nonce bytes).
func (r *Request) NonceString() string { return NonceString(r.Nonce) }

// Audience is the KB-JWT aud for this request: the window's DID.
func (r *Request) Audience() string { return r.Window }

// Errors of the request (wrapped with detail; ErrMalformed is shared by every message).
var (
	ErrSignature = errors.New("request: signature invalid or key not valid")
	ErrExpired   = errors.New("request: expired")
	ErrNotYet    = errors.New("request: not yet valid")
)

var encMode, decMode = func() (cbor.EncMode, cbor.DecMode) {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	dm, err := cbor.DecOptions{MaxNestedLevels: 8, MaxArrayElements: 64, MaxMapPairs: 16,
		IndefLength: cbor.IndefLengthForbidden, DupMapKey: cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField, UTF8: cbor.UTF8RejectInvalid}.DecMode()
	if err != nil {
		panic(err)
	}
	return em, dm
}()

// New builds a request valid for validity from now with a fresh nonce.
func New(window, keyID, item string, reqs []FieldRequest, now time.Time, validity time.Duration) (*Request, error) {
	n := make([]byte, nonceLen)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("request: nonce: %w", err)
	}
	r := &Request{Version: Version, Window: window, KeyID: keyID, Item: item, Requests: reqs, Nonce: n,
		IssuedAt: now.Unix(), Expires: now.Add(validity).Unix()}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Request) validate() error {
	u, err := did.ParseDIDURL(r.KeyID)
	switch {
	case r.Version != Version:
		return fmt.Errorf("request: %w: version %d", ErrMalformed, r.Version)
	case err != nil || u.DID != r.Window || u.Fragment == "":
		return fmt.Errorf("request: %w: key %q is not a key of window %q", ErrMalformed, r.KeyID, r.Window)
	case r.Item == "" || len(r.Item) > maxStringLen:
		return fmt.Errorf("request: %w: service item", ErrMalformed)
	case len(r.Nonce) != nonceLen:
		return fmt.Errorf("request: %w: nonce of %d bytes", ErrMalformed, len(r.Nonce))
	case r.Expires <= r.IssuedAt || time.Duration(r.Expires-r.IssuedAt)*time.Second > MaxValidity:
		return fmt.Errorf("request: %w: validity must be positive and at most %s", ErrMalformed, MaxValidity)
	case len(r.Requests) == 0 || len(r.Requests) > MaxTypes:
		return fmt.Errorf("request: %w: %d credential types requested", ErrMalformed, len(r.Requests))
	}
	if _, err := did.ParseLZ(r.Window); err != nil {
		return fmt.Errorf("request: %w: window %q: %v", ErrMalformed, r.Window, err)
	}
	seen := map[string]bool{}
	for _, fr := range r.Requests {
		if fr.Type == "" || len(fr.Type) > maxStringLen || seen[fr.Type] {
			return fmt.Errorf("request: %w: credential type %q empty, too long or repeated", ErrMalformed, fr.Type)
		}
		seen[fr.Type] = true
		if len(fr.Fields) == 0 || len(fr.Fields) > MaxFields {
			return fmt.Errorf("request: %w: %d fields for %s", ErrMalformed, len(fr.Fields), fr.Type)
		}
		fs := map[string]bool{}
		for _, f := range fr.Fields {
			if f == "" || len(f) > maxStringLen || fs[f] {
				return fmt.Errorf("request: %w: field %q empty, too long or repeated", ErrMalformed, f)
			}
			fs[f] = true
		}
	}
	return nil
}

// Sign encodes and signs the request; the result is the QR body (see Encode for the text).
func (r *Request) Sign(key ed25519.PrivateKey) ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	payload, err := encMode.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("request: encode: %w", err)
	}
	sig := ed25519.Sign(key, append([]byte(sigDomain), payload...))
	return encMode.Marshal([]any{payload, sig})
}

// Parse decodes a signed request body without checking the signature (see Verify).
func Parse(body []byte) (*Request, []byte, []byte, error) {
	if len(body) > maxEncoded {
		return nil, nil, nil, fmt.Errorf("request: %w: %d bytes", ErrMalformed, len(body))
	}
	var outer [][]byte
	if err := decMode.Unmarshal(body, &outer); err != nil || len(outer) != 2 {
		return nil, nil, nil, fmt.Errorf("request: %w: not [payload, signature]", ErrMalformed)
	}
	var r Request
	if err := decMode.Unmarshal(outer[0], &r); err != nil {
		return nil, nil, nil, fmt.Errorf("request: %w: %v", ErrMalformed, err)
	}
	// Only the deterministic encoding is accepted, so a request has exactly one form.
	if again, err := encMode.Marshal(&r); err != nil || string(again) != string(outer[0]) {
		return nil, nil, nil, fmt.Errorf("request: %w: not in deterministic encoding", ErrMalformed)
	}
	if err := r.validate(); err != nil {
		return nil, nil, nil, err
	}
	return &r, outer[0], outer[1], nil
}

// KeyAt returns the Ed25519 key a DID URL named at time t (e.g. from the ledger resolver).
type KeyAt func(didURL string, t time.Time) (ed25519.PublicKey, error)

// Verify parses a signed request body and checks its signature with the window key valid at
// IssuedAt, and its validity at now (skew tolerated, default 2 minutes).
func Verify(body []byte, keyAt KeyAt, now time.Time, skew time.Duration) (*Request, error) {
	r, payload, sig, err := Parse(body)
	if err != nil {
		return nil, err
	}
	if skew == 0 {
		skew = defaultSkew
	}
	iat := time.Unix(r.IssuedAt, 0)
	key, err := keyAt(r.KeyID, iat)
	if err != nil {
		return nil, fmt.Errorf("%w: %s at %s: %v", ErrSignature, r.KeyID, iat.UTC().Format(time.RFC3339), err)
	}
	if len(sig) != ed25519.SignatureSize || !edkey.Verify(key, append([]byte(sigDomain), payload...), sig) {
		return nil, fmt.Errorf("%w: signature does not verify", ErrSignature)
	}
	if now.Add(skew).Before(iat) {
		return nil, fmt.Errorf("%w: issued at %s", ErrNotYet, iat.UTC().Format(time.RFC3339))
	}
	if !now.Before(time.Unix(r.Expires, 0).Add(skew)) {
		return nil, fmt.Errorf("%w: at %s", ErrExpired, time.Unix(r.Expires, 0).UTC().Format(time.RFC3339))
	}
	return r, nil
}

// OverAsk returns, per credential type, the requested fields that the window's service item
// is not registered for (allowed: type id → registered fields). An empty result means the
// request stays within its registration. A type not registered at all is over-asked whole.
func OverAsk(r *Request, allowed map[string][]string) []FieldRequest {
	var out []FieldRequest
	for _, fr := range r.Requests {
		var extra []string
		for _, f := range fr.Fields {
			if !slices.Contains(allowed[fr.Type], f) {
				extra = append(extra, f)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			out = append(out, FieldRequest{Type: fr.Type, Fields: extra})
		}
	}
	return out
}
