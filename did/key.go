package did

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"fmt"
	"lianzheng/internal/edkey"
	"strings"

	"github.com/multiformats/go-multibase"
)

// Algorithm names a supported public-key algorithm.
type Algorithm string

// Supported algorithms.
const (
	Ed25519 Algorithm = "Ed25519" // multicodec ed25519-pub (0xed), 32-byte key
	P256    Algorithm = "P-256"   // multicodec p256-pub (0x1200), 33-byte compressed point
)

// Multicodec prefixes (unsigned varint of the codec number).
var (
	codecEd25519 = []byte{0xed, 0x01} // 0xed
	codecP256    = []byte{0x80, 0x24} // 0x1200
)

const (
	ed25519KeyLen = ed25519.PublicKeySize
	p256KeyLen    = 33 // compressed SEC1 point

	// maxMultikeyLen caps the text decoded as a multikey before base58 decoding (which is
	// quadratic). Real values are 48 (Ed25519) and 49 (P-256) characters.
	maxMultikeyLen = 64

	keyPrefix = "did:key:"
)

// PublicKey is a validated public key with its algorithm. Key is an ed25519.PublicKey (Alg
// Ed25519) or a *ecdsa.PublicKey on P-256 (Alg P256). Build it with NewPublicKey or a
// parser; a PublicKey from this package is always valid.
type PublicKey struct {
	Alg Algorithm
	Key crypto.PublicKey
}

// NewPublicKey validates k (ed25519.PublicKey, *ecdsa.PublicKey on P-256, PublicKey or JWK)
// and returns it with its algorithm. The key material is copied.
func NewPublicKey(k crypto.PublicKey) (PublicKey, error) {
	switch k := k.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519KeyLen {
			return PublicKey{}, fmt.Errorf("%w: Ed25519 public key is %d bytes, want %d", ErrInvalidDID, len(k), ed25519KeyLen)
		}
		if err := edkey.Check(k); err != nil {
			return PublicKey{}, fmt.Errorf("%w: %v", ErrInvalidDID, err)
		}
		return PublicKey{Alg: Ed25519, Key: ed25519.PublicKey(bytes.Clone(k))}, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return PublicKey{}, fmt.Errorf("%w: ECDSA public key is not on P-256", ErrInvalidDID)
		}
		raw, err := k.Bytes() // rejects invalid points
		if err != nil {
			return PublicKey{}, fmt.Errorf("%w: P-256 public key: %v", ErrInvalidDID, err)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			return PublicKey{}, fmt.Errorf("%w: P-256 public key: %v", ErrInvalidDID, err)
		}
		return PublicKey{Alg: P256, Key: pub}, nil
	case PublicKey:
		n, err := NewPublicKey(k.Key)
		if err == nil && n.Alg != k.Alg {
			err = fmt.Errorf("%w: PublicKey says %s but holds %s", ErrInvalidDID, q(string(k.Alg)), n.Alg)
		}
		return n, err
	case *PublicKey:
		if k == nil {
			return PublicKey{}, fmt.Errorf("%w: nil public key", ErrInvalidDID)
		}
		return NewPublicKey(*k)
	case JWK:
		return k.PublicKey()
	default:
		return PublicKey{}, fmt.Errorf("%w: unsupported public key type %T", ErrInvalidDID, k)
	}
}

// Bytes returns the raw key: 32 bytes for Ed25519, the 33-byte compressed point for P-256.
// A PublicKey whose Alg and Key do not match (not one built by this package) has none: nil.
func (k PublicKey) Bytes() []byte {
	b, _ := k.rawBytes()
	return b
}

// rawBytes is Bytes, saying whether k is well formed. It checks the shape of k, not the point (the
// constructors did that).
func (k PublicKey) rawBytes() ([]byte, bool) {
	switch key := k.Key.(type) {
	case ed25519.PublicKey:
		if k.Alg != Ed25519 || len(key) != ed25519KeyLen {
			return nil, false
		}
		return bytes.Clone(key), true
	case *ecdsa.PublicKey:
		if k.Alg != P256 || key == nil || key.Curve != elliptic.P256() {
			return nil, false
		}
		raw, err := key.Bytes()
		if err != nil || len(raw) != 65 {
			return nil, false
		}
		out := make([]byte, p256KeyLen)
		out[0] = 0x02 | raw[64]&1
		copy(out[1:], raw[1:33])
		return out, true
	}
	return nil, false
}

// Multikey returns the Multikey publicKeyMultibase value: 'z' + base58btc(multicodec || key),
// or "" for a PublicKey not built by this package whose Alg and Key do not match (every
// parser refuses the empty value, so a bad key can never pass as another).
func (k PublicKey) Multikey() string {
	raw, ok := k.rawBytes()
	if !ok {
		return ""
	}
	prefix := codecEd25519
	if k.Alg == P256 {
		prefix = codecP256
	}
	s, err := multibase.Encode(multibase.Base58BTC, append(bytes.Clone(prefix), raw...))
	if err != nil {
		return ""
	}
	return s
}

// DIDKey returns the key's did:key DID.
// It is "" for a malformed PublicKey (see Multikey).
func (k PublicKey) DIDKey() string {
	m := k.Multikey()
	if m == "" {
		return ""
	}
	return keyPrefix + m
}

// JWSAlg returns the JOSE algorithm for signatures by this key: "EdDSA" or "ES256".
func (k PublicKey) JWSAlg() string {
	if k.Alg == P256 {
		return "ES256"
	}
	return "EdDSA"
}

// Equal reports whether x is the same key. x may be an ed25519.PublicKey, a *ecdsa.PublicKey,
// a PublicKey, a *PublicKey or a JWK.
func (k PublicKey) Equal(x crypto.PublicKey) bool {
	o, err := NewPublicKey(x)
	if err != nil {
		return false
	}
	a, ok := k.rawBytes()
	return ok && o.Alg == k.Alg && bytes.Equal(a, o.Bytes())
}

// KeyFromEd25519 returns the did:key DID of an Ed25519 public key. It panics if pub is not
// a valid key (not 32 bytes, not a curve point, small order): keys from
// ed25519.GenerateKey always are; use NewPublicKey for keys from elsewhere.
func KeyFromEd25519(pub ed25519.PublicKey) string {
	k, err := NewPublicKey(pub)
	if err != nil {
		panic(err.Error())
	}
	return k.DIDKey()
}

// KeyFromP256 returns the did:key DID of a P-256 public key (compressed point). It panics if
// pub is not a valid P-256 key (a programming error).
func KeyFromP256(pub *ecdsa.PublicKey) string {
	k, err := NewPublicKey(pub)
	if err != nil {
		panic(err.Error())
	}
	return k.DIDKey()
}

// EncodeMultikey returns the publicKeyMultibase value for pub (see NewPublicKey).
func EncodeMultikey(pub crypto.PublicKey) (string, error) {
	k, err := NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	return k.Multikey(), nil
}

// DecodeMultikey parses a Multikey publicKeyMultibase value. Only base58btc ('z') with the
// ed25519-pub or p256-pub multicodec and the exact key length is accepted, the point must be
// valid (on the curve; for Ed25519 also canonical and not of small order), and the input
// must be the canonical encoding of the key it decodes to.
func DecodeMultikey(s string) (PublicKey, error) {
	if len(s) > maxMultikeyLen {
		return PublicKey{}, fmt.Errorf("%w: multikey too long (%d characters)", ErrInvalidDID, len(s))
	}
	if !strings.HasPrefix(s, "z") {
		return PublicKey{}, fmt.Errorf("%w: multikey %s is not base58btc ('z')", ErrInvalidDID, q(s))
	}
	enc, data, err := multibase.Decode(s)
	if err != nil || enc != multibase.Base58BTC {
		return PublicKey{}, fmt.Errorf("%w: multikey %s: bad base58btc", ErrInvalidDID, q(s))
	}
	var k PublicKey
	switch {
	case bytes.HasPrefix(data, codecEd25519):
		raw := data[len(codecEd25519):]
		if len(raw) != ed25519KeyLen {
			return PublicKey{}, fmt.Errorf("%w: multikey %s: Ed25519 key is %d bytes, want %d", ErrInvalidDID, q(s), len(raw), ed25519KeyLen)
		}
		if err := edkey.Check(raw); err != nil {
			return PublicKey{}, fmt.Errorf("%w: multikey %s: %v", ErrInvalidDID, q(s), err)
		}
		k = PublicKey{Alg: Ed25519, Key: ed25519.PublicKey(bytes.Clone(raw))}
	case bytes.HasPrefix(data, codecP256):
		raw := data[len(codecP256):]
		if len(raw) != p256KeyLen {
			return PublicKey{}, fmt.Errorf("%w: multikey %s: P-256 key is %d bytes, want %d", ErrInvalidDID, q(s), len(raw), p256KeyLen)
		}
		pub, err := decompressP256(raw)
		if err != nil {
			return PublicKey{}, fmt.Errorf("%w: multikey %s: %v", ErrInvalidDID, q(s), err)
		}
		k = PublicKey{Alg: P256, Key: pub}
	default:
		return PublicKey{}, fmt.Errorf("%w: multikey %s: unsupported multicodec", ErrInvalidDID, q(s))
	}
	if k.Multikey() != s { // e.g. a varint or base58 spelling that is not canonical
		return PublicKey{}, fmt.Errorf("%w: multikey %s is not canonical", ErrInvalidDID, q(s))
	}
	return k, nil
}

// decompressP256 parses a 33-byte compressed SEC1 point, rejecting points not on the curve.
func decompressP256(raw []byte) (*ecdsa.PublicKey, error) {
	if len(raw) != p256KeyLen || (raw[0] != 0x02 && raw[0] != 0x03) {
		return nil, fmt.Errorf("P-256 point is not in compressed form")
	}
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), raw)
	if x == nil {
		return nil, fmt.Errorf("P-256 point is not on the curve")
	}
	u := make([]byte, 65)
	u[0] = 0x04
	x.FillBytes(u[1:33])
	y.FillBytes(u[33:])
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), u)
}

// ParseKey parses a did:key DID (no fragment; see ParseDIDURL) and returns its key.
func ParseKey(did string) (PublicKey, error) {
	mb, ok := strings.CutPrefix(did, keyPrefix)
	if !ok {
		return PublicKey{}, fmt.Errorf("%w: %s is not a did:key DID", ErrInvalidDID, q(did))
	}
	k, err := DecodeMultikey(mb)
	if err != nil {
		return PublicKey{}, fmt.Errorf("parse %s: %w", q(did), err)
	}
	return k, nil
}

// ResolveKey returns the DID document of a did:key DID: one Multikey verification method
// whose fragment is the multibase value, referenced from authentication, assertionMethod,
// capabilityInvocation and capabilityDelegation. (No X25519 keyAgreement is derived.)
func ResolveKey(did string) (*Document, error) {
	h, err := KeyHistory(did)
	if err != nil {
		return nil, err
	}
	return h.Document(h.Created)
}

// KeyHistory returns the (trivial) key history of a did:key DID: its single key, valid at
// all times, with every verification relationship.
func KeyHistory(did string) (*History, error) {
	k, err := ParseKey(did)
	if err != nil {
		return nil, err
	}
	mk := k.Multikey()
	return &History{
		DID: did,
		Keys: []KeyRecord{{
			ID:                 mk,
			PublicKeyMultibase: mk,
			Purposes:           []string{PurposeAuthentication, PurposeAssertion, PurposeCapabilityInvocation, PurposeCapabilityDelegation},
		}},
	}, nil
}
