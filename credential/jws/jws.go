// Package jws is a deliberately small JSON Web Signature (RFC 7515) implementation for the
// compact serialisation only, with the strictness a credential verifier needs:
//
//   - algorithms are an allow-list (EdDSA/Ed25519 and ES256); "none" and everything else is refused;
//   - the key type must match the algorithm (no RSA/HMAC confusion is even expressible);
//   - any "crit" header is refused, since we understand no extensions;
//   - base64url is decoded strictly (no padding, no non-zero trailing bits), so that every
//     change to the text changes the decoded bytes;
//   - header JSON is parsed with duplicate keys and excessive depth rejected.
//
// Errors are *credential.Error values with stable codes.
package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"lianzheng/internal/edkey"
	"math/big"
	"strings"

	"lianzheng/credential"
	"lianzheng/internal/strictjson"
)

// Algorithms we sign and verify with.
const (
	AlgEdDSA   = "EdDSA"   // Ed25519 (RFC 8037)
	AlgEd25519 = "Ed25519" // fully-specified name (RFC 9864); verified, never produced
	AlgES256   = "ES256"   // ECDSA P-256 SHA-256
)

// MaxCompactSize bounds the size of a compact JWS we are willing to parse.
const MaxCompactSize = 64 << 10

// B64 is the strict unpadded base64url encoding used throughout JOSE.
var B64 = base64.RawURLEncoding.Strict()

// DecodeB64 appends the strict base64url decoding of s to dst and returns it: with a
// stack buffer as dst (cap permitting) a part that is only parsed, never kept, costs no
// allocation. The result aliases dst's array when it fits.
func DecodeB64(dst []byte, s string) ([]byte, error) {
	n := B64.DecodedLen(len(s))
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	m, err := B64.Decode(dst[len(dst):len(dst)+n], []byte(s))
	if err != nil {
		return nil, err
	}
	return dst[:len(dst)+m], nil
}

// Signer produces JWS signatures.
type Signer interface {
	Alg() string
	Sign(signingInput []byte) ([]byte, error)
	Public() crypto.PublicKey
}

type ed25519Signer struct{ k ed25519.PrivateKey }

// NewEd25519Signer signs with EdDSA.
func NewEd25519Signer(k ed25519.PrivateKey) Signer { return ed25519Signer{k} }

func (s ed25519Signer) Alg() string                    { return AlgEdDSA }
func (s ed25519Signer) Public() crypto.PublicKey       { return s.k.Public() }
func (s ed25519Signer) Sign(in []byte) ([]byte, error) { return ed25519.Sign(s.k, in), nil }

type es256Signer struct{ k *ecdsa.PrivateKey }

// NewES256Signer signs with ES256 (P-256 only).
func NewES256Signer(k *ecdsa.PrivateKey) (Signer, error) {
	if k == nil || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("jws: ES256 needs a P-256 key")
	}
	return es256Signer{k}, nil
}

func (s es256Signer) Alg() string              { return AlgES256 }
func (s es256Signer) Public() crypto.PublicKey { return &s.k.PublicKey }
func (s es256Signer) Sign(in []byte) ([]byte, error) {
	h := sha256.Sum256(in)
	r, ss, err := ecdsa.Sign(rand.Reader, s.k, h[:])
	if err != nil {
		return nil, fmt.Errorf("jws: ES256 sign: %w", err)
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	ss.FillBytes(out[32:])
	return out, nil
}

// Marshal encodes v in the canonical JSON form LianZheng issuers produce: compact, no HTML
// escaping, object keys sorted at every level (structs included: v is first turned into
// generic JSON values), numbers as written. The compact QR form relies on this.
func Marshal(v any) ([]byte, error) {
	b, err := marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var g any
	if err := d.Decode(&g); err != nil {
		return nil, err
	}
	return marshal(g)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Sign builds a compact JWS. header must not contain "alg"; it is set from the signer.
func Sign(header map[string]any, payload []byte, s Signer) (string, error) {
	h := make(map[string]any, len(header)+1)
	for k, v := range header {
		h[k] = v
	}
	h["alg"] = s.Alg()
	hb, err := Marshal(h)
	if err != nil {
		return "", fmt.Errorf("jws: header: %w", err)
	}
	in := B64.EncodeToString(hb) + "." + B64.EncodeToString(payload)
	sig, err := s.Sign([]byte(in))
	if err != nil {
		return "", err
	}
	return in + "." + B64.EncodeToString(sig), nil
}

// Parsed is a compact JWS split into its parts. Nothing in it is trusted until Verify succeeds.
type Parsed struct {
	Header       map[string]any
	Alg          string
	Payload      []byte
	Signature    []byte
	SigningInput string // base64url(header) "." base64url(payload), exactly as received
}

// Parse splits and decodes a compact JWS and applies the header policy (alg allow-list,
// no crit). It does not verify the signature.
func Parse(compact string) (*Parsed, error) {
	if len(compact) > MaxCompactSize {
		return nil, credential.Errorf(credential.CodeOversized, "jws of %d bytes", len(compact))
	}
	i := strings.IndexByte(compact, '.')
	j := -1
	if i >= 0 {
		if k := strings.IndexByte(compact[i+1:], '.'); k >= 0 {
			j = i + 1 + k
		}
	}
	if i < 0 || j < 0 || strings.IndexByte(compact[j+1:], '.') >= 0 {
		return nil, credential.Errorf(credential.CodeMalformed, "jws has %d parts, want 3", strings.Count(compact, ".")+1)
	}
	var scratch [512]byte
	hb, err := DecodeB64(scratch[:0], compact[:i])
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "jws header base64: %v", err)
	}
	header, err := strictjson.Object(hb)
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "jws header: %v", err)
	}
	payload, err := B64.DecodeString(compact[i+1 : j])
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "jws payload base64: %v", err)
	}
	sig, err := B64.DecodeString(compact[j+1:])
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "jws signature base64: %v", err)
	}
	alg, _ := header["alg"].(string)
	switch {
	case alg == "" && header["alg"] == nil:
		return nil, credential.Errorf(credential.CodeUnsigned, "jws header has no alg")
	case strings.EqualFold(alg, "none"):
		return nil, credential.Errorf(credential.CodeAlgNone, "jws alg none")
	case alg != AlgEdDSA && alg != AlgEd25519 && alg != AlgES256:
		return nil, credential.Errorf(credential.CodeUnsupportedAlg, "jws alg %q", alg)
	}
	if c, ok := header["crit"]; ok {
		return nil, credential.Errorf(credential.CodeUnknownCrit, "jws crit %v not understood", c)
	}
	if len(sig) == 0 {
		return nil, credential.Errorf(credential.CodeUnsigned, "jws has an empty signature")
	}
	return &Parsed{Header: header, Alg: alg, Payload: payload, Signature: sig,
		SigningInput: compact[:j]}, nil
}

// Verify checks the signature with key, which must suit the algorithm.
func (p *Parsed) Verify(key crypto.PublicKey) error {
	if err := VerifySignature(p.Alg, key, []byte(p.SigningInput), p.Signature); err != nil {
		return err
	}
	return nil
}

// VerifySignature checks a raw JWS signature for alg over input.
func VerifySignature(alg string, key crypto.PublicKey, input, sig []byte) error {
	switch alg {
	case AlgEdDSA, AlgEd25519:
		k, ok := key.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return credential.Errorf(credential.CodeIssuerKeyMismatch, "alg %s needs an Ed25519 key, have %T", alg, key)
		}
		if len(sig) != ed25519.SignatureSize || !edkey.Verify(k, input, sig) {
			return credential.Errorf(credential.CodeBadSignature, "Ed25519 signature does not verify")
		}
		return nil
	case AlgES256:
		k, ok := key.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() {
			return credential.Errorf(credential.CodeIssuerKeyMismatch, "alg %s needs a P-256 key, have %T", alg, key)
		}
		if len(sig) != 64 {
			return credential.Errorf(credential.CodeBadSignature, "ES256 signature of %d bytes", len(sig))
		}
		h := sha256.Sum256(input)
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, h[:], r, s) {
			return credential.Errorf(credential.CodeBadSignature, "ES256 signature does not verify")
		}
		return nil
	case "none", "":
		return credential.Errorf(credential.CodeAlgNone, "alg %q", alg)
	default:
		return credential.Errorf(credential.CodeUnsupportedAlg, "alg %q", alg)
	}
}
