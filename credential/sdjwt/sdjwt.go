// Package sdjwt implements Selective Disclosure for JWTs (RFC 9901): issuing a JWT whose
// claims are replaced by salted digests, presenting a chosen subset of the disclosures,
// binding the presentation to a holder key with a KB-JWT (typ kb+jwt, nonce, aud, iat,
// sd_hash), and verifying all of it.
//
// The verifier follows RFC 9901 §7 to the letter and fails closed: the issuer signature is
// checked first (alg allow-list via package jws), every disclosure must be committed to by
// exactly one digest in the signed payload, no digest may appear twice, a disclosed claim may
// not overwrite a plain one, and a key-binding JWT must be signed by the key in cnf and cover
// exactly the presented text through sd_hash. Only SHA-256 is accepted as _sd_alg.
//
// Only the SD-JWT mechanics live here; the SD-JWT VC profile (typ, vct, status) is in
// package sdjwtvc, and which key is the issuer's is decided by the caller's key callback.
package sdjwt

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"lianzheng/internal/strictjson"
	"sort"
	"strings"

	"lianzheng/credential"
	"lianzheng/credential/jws"
)

// HashAlg is the only _sd_alg we produce and accept.
const HashAlg = "sha-256"

// MaxSize bounds an SD-JWT (with disclosures and KB-JWT) we are willing to parse.
const MaxSize = 256 << 10

// MaxDisclosures bounds the number of disclosures in one SD-JWT.
const MaxDisclosures = 1024

// Reserved claim names that may not be disclosed.
const (
	claimSD    = "_sd"
	claimSDAlg = "_sd_alg"
	claimDots  = "..."
)

// Disclosure is one salted claim: ["salt","name",value] for an object member, or
// ["salt",value] for an array element.
type Disclosure struct {
	Encoded string // base64url as transmitted; the digest is over these ASCII bytes
	Salt    string
	Name    string // empty for array elements
	Array   bool   // true for an array-element disclosure
	Value   any
	Digest  string // base64url(SHA-256(Encoded))
	Path    string // where it sits in the processed claims, set by Verify/Paths
}

// Digest returns base64url(SHA-256(s)) as used for _sd entries and sd_hash.
func Digest(s string) string {
	h := sha256.Sum256([]byte(s))
	var out [43]byte // base64url of 32 bytes, unpadded
	jws.B64.Encode(out[:], h[:])
	return string(out[:])
}

// NewSalt returns 128 random bits, base64url-encoded (RFC 9901 §9.3 recommends at least 128).
func NewSalt() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sdjwt: salt: %w", err)
	}
	return jws.B64.EncodeToString(b[:]), nil
}

// NewDisclosure builds a disclosure. name == "" with array == true makes an array element.
func NewDisclosure(salt, name string, value any, array bool) (*Disclosure, error) {
	var arr []any
	if array {
		arr = []any{salt, value}
	} else {
		if name == claimSD || name == claimDots || name == claimSDAlg {
			return nil, fmt.Errorf("sdjwt: claim name %q cannot be disclosed", name)
		}
		arr = []any{salt, name, value}
	}
	b, err := jws.Marshal(arr)
	if err != nil {
		return nil, fmt.Errorf("sdjwt: disclosure %q: %w", name, err)
	}
	enc := jws.B64.EncodeToString(b)
	return &Disclosure{Encoded: enc, Salt: salt, Name: name, Array: array, Value: value, Digest: Digest(enc)}, nil
}

// ParseDisclosure decodes one disclosure strictly.
func ParseDisclosure(enc string) (*Disclosure, error) {
	var scratch [512]byte // the JSON is parsed into values and not kept
	b, err := jws.DecodeB64(scratch[:0], enc)
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "disclosure base64: %v", err)
	}
	arr, err := strictjson.Array(b)
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "disclosure JSON: %v", err)
	}
	d := &Disclosure{Encoded: enc, Digest: Digest(enc)}
	var ok bool
	switch len(arr) {
	case 2:
		d.Array = true
		d.Value = arr[1]
	case 3:
		if d.Name, ok = arr[1].(string); !ok {
			return nil, credential.Errorf(credential.CodeMalformed, "disclosure claim name is not a string")
		}
		if d.Name == claimSD || d.Name == claimDots || d.Name == claimSDAlg {
			return nil, credential.Errorf(credential.CodeMalformed, "disclosure of reserved name %q", d.Name)
		}
		d.Value = arr[2]
	default:
		return nil, credential.Errorf(credential.CodeMalformed, "disclosure has %d elements", len(arr))
	}
	if d.Salt, ok = arr[0].(string); !ok {
		return nil, credential.Errorf(credential.CodeMalformed, "disclosure salt is not a string")
	}
	return d, nil
}

// SDJWT is a parsed, not yet verified, SD-JWT or SD-JWT+KB.
type SDJWT struct {
	IssuerJWT   string
	Disclosures []*Disclosure
	KBJWT       string // empty when there is no key binding
}

// Parse splits "<issuer-jwt>~<d1>~...~<dn>~[<kb-jwt>]". It decodes disclosures but verifies
// nothing.
func Parse(s string) (*SDJWT, error) {
	if len(s) > MaxSize {
		return nil, credential.Errorf(credential.CodeOversized, "SD-JWT of %d bytes", len(s))
	}
	last := strings.LastIndexByte(s, '~')
	if last < 0 {
		return nil, credential.Errorf(credential.CodeMalformed, "SD-JWT has no '~' separator")
	}
	if n := strings.Count(s[:last], "~"); n > MaxDisclosures {
		return nil, credential.Errorf(credential.CodeOversized, "%d disclosures", n)
	}
	first := strings.IndexByte(s, '~')
	out := &SDJWT{IssuerJWT: s[:first], KBJWT: s[last+1:]}
	if out.IssuerJWT == "" {
		return nil, credential.Errorf(credential.CodeMalformed, "SD-JWT has an empty issuer JWT")
	}
	if first < last {
		out.Disclosures = make([]*Disclosure, 0, strings.Count(s[first:last], "~"))
	}
	for rest := s[first+1 : last+1]; rest != ""; {
		p, next, _ := strings.Cut(rest, "~")
		rest = next
		if p == "" {
			return nil, credential.Errorf(credential.CodeMalformed, "empty disclosure")
		}
		d, err := ParseDisclosure(p)
		if err != nil {
			return nil, err
		}
		out.Disclosures = append(out.Disclosures, d)
	}
	return out, nil
}

// String serialises back to the compact form.
func (s *SDJWT) String() string {
	return s.SDHashInput() + s.KBJWT
}

// SDHashInput is the text the KB-JWT's sd_hash covers: issuer JWT and disclosures, each
// followed by '~'.
func (s *SDJWT) SDHashInput() string {
	var b strings.Builder
	b.WriteString(s.IssuerJWT)
	b.WriteByte('~')
	for _, d := range s.Disclosures {
		b.WriteString(d.Encoded)
		b.WriteByte('~')
	}
	return b.String()
}

// sortedKeys returns the keys of m in sorted order, for deterministic processing.
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
