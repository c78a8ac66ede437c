package did

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"lianzheng/internal/edkey"
)

// JWK is a public JSON Web Key as used in SD-JWT cnf.jwk: kty "OKP"/crv "Ed25519" (RFC 8037)
// or kty "EC"/crv "P-256" (RFC 7518), coordinates in unpadded base64url.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
}

// maxJWKLen caps the JSON accepted by ParseJWKJSON.
const maxJWKLen = 4096

var b64 = base64.RawURLEncoding.Strict()

// JWK returns the public JWK of k, or the empty JWK (which every parser refuses) for a
// PublicKey not built by this package whose Alg and Key do not match.
func (k PublicKey) JWK() JWK {
	if _, ok := k.rawBytes(); !ok {
		return JWK{}
	}
	switch k.Alg {
	case Ed25519:
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(k.Key.(ed25519.PublicKey))}
	case P256:
		raw, err := k.Key.(*ecdsa.PublicKey).Bytes()
		if err != nil || len(raw) != 65 {
			return JWK{}
		}
		return JWK{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(raw[1:33]), Y: b64.EncodeToString(raw[33:65])}
	}
	return JWK{}
}

// decodeCoord decodes one base64url coordinate of exactly n bytes, canonically encoded.
func decodeCoord(name, s string, n int) ([]byte, error) {
	if len(s) != b64.EncodedLen(n) {
		return nil, fmt.Errorf("%w: JWK %s has wrong length", ErrInvalidDID, name)
	}
	b, err := b64.DecodeString(s)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("%w: JWK %s is not base64url of %d bytes", ErrInvalidDID, name, n)
	}
	return b, nil
}

// PublicKey validates the JWK and returns the key it holds. Points not on the curve, wrong
// coordinate lengths, padded or non-canonical base64url and unknown kty/crv are rejected.
func (j JWK) PublicKey() (PublicKey, error) {
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519":
		if j.Y != "" {
			return PublicKey{}, fmt.Errorf("%w: OKP JWK with y", ErrInvalidDID)
		}
		x, err := decodeCoord("x", j.X, ed25519KeyLen)
		if err != nil {
			return PublicKey{}, err
		}
		if err := edkey.Check(x); err != nil {
			return PublicKey{}, fmt.Errorf("%w: OKP JWK: %v", ErrInvalidDID, err)
		}
		return PublicKey{Alg: Ed25519, Key: ed25519.PublicKey(x)}, nil
	case j.Kty == "EC" && j.Crv == "P-256":
		x, err := decodeCoord("x", j.X, 32)
		if err != nil {
			return PublicKey{}, err
		}
		y, err := decodeCoord("y", j.Y, 32)
		if err != nil {
			return PublicKey{}, err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return PublicKey{}, fmt.Errorf("%w: P-256 JWK: %v", ErrInvalidDID, err)
		}
		return PublicKey{Alg: P256, Key: pub}, nil
	default:
		return PublicKey{}, fmt.Errorf("%w: unsupported JWK kty %s crv %s", ErrInvalidDID, q(j.Kty), q(j.Crv))
	}
}

// ParseJWKJSON parses a public JWK in JSON. Members other than kty, crv, x, y (such as kid,
// alg, use) are ignored, except that a JWK carrying private key material ("d") is rejected:
// a private key must never travel in a cnf claim or a DID document.
func ParseJWKJSON(data []byte) (PublicKey, error) {
	if len(data) > maxJWKLen {
		return PublicKey{}, fmt.Errorf("%w: JWK too large", ErrInvalidDID)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return PublicKey{}, fmt.Errorf("%w: JWK: %v", ErrInvalidDID, err)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := m[private]; ok {
			return PublicKey{}, fmt.Errorf("%w: JWK contains private key member %q", ErrInvalidDID, private)
		}
	}
	// Members are read by exact name (encoding/json would match struct fields
	// case-insensitively, letting "X" stand in for "x").
	var j JWK
	for _, f := range []struct {
		name string
		dst  *string
	}{{"kty", &j.Kty}, {"crv", &j.Crv}, {"x", &j.X}, {"y", &j.Y}} {
		raw, ok := m[f.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return PublicKey{}, fmt.Errorf("%w: JWK member %q is not a string", ErrInvalidDID, f.name)
		}
	}
	return j.PublicKey()
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of the key ("" for a
// malformed PublicKey, so that no two bad keys share a thumbprint).
func (k PublicKey) Thumbprint() string {
	j := k.JWK()
	if j.Kty == "" {
		return ""
	}
	var buf bytes.Buffer
	// RFC 7638 §3.2: required members only, lexicographic order, no whitespace. The values
	// are fixed names and base64url, which need no JSON escaping.
	if k.Alg == Ed25519 {
		fmt.Fprintf(&buf, `{"crv":%q,"kty":%q,"x":%q}`, j.Crv, j.Kty, j.X)
	} else {
		fmt.Fprintf(&buf, `{"crv":%q,"kty":%q,"x":%q,"y":%q}`, j.Crv, j.Kty, j.X, j.Y)
	}
	sum := sha256.Sum256(buf.Bytes())
	return b64.EncodeToString(sum[:])
}
