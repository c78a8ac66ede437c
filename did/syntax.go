package did

import (
	"fmt"
	"strings"
)

const (
	lzPrefix = "did:lz:"

	// MaxLZIDLen is the longest method-specific id a did:lz DID may have.
	MaxLZIDLen = 64
	// MaxFragmentLen is the longest DID URL fragment accepted.
	MaxFragmentLen = 128
)

// Method names.
const (
	MethodKey = "key"
	MethodLZ  = "lz"
)

// ValidLZID reports whether id is a valid did:lz method-specific id: 1–64 characters of
// [a-z0-9-], not starting or ending with '-'.
func ValidLZID(id string) bool {
	if len(id) == 0 || len(id) > MaxLZIDLen || id[0] == '-' || id[len(id)-1] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// LZ returns the did:lz DID for a method-specific id, or ErrInvalidDID.
func LZ(id string) (string, error) {
	if !ValidLZID(id) {
		return "", fmt.Errorf("%w: did:lz id %s must be 1-%d characters of [a-z0-9-], not starting or ending with '-'", ErrInvalidDID, q(id), MaxLZIDLen)
	}
	return lzPrefix + id, nil
}

// ParseLZ parses a did:lz DID (no path, query or fragment) and returns its method-specific id.
func ParseLZ(did string) (string, error) {
	id, ok := strings.CutPrefix(did, lzPrefix)
	if !ok {
		return "", fmt.Errorf("%w: %s is not a did:lz DID", ErrInvalidDID, q(did))
	}
	if !ValidLZID(id) {
		return "", fmt.Errorf("%w: %s: id must be 1-%d characters of [a-z0-9-], not starting or ending with '-'", ErrInvalidDID, q(did), MaxLZIDLen)
	}
	return id, nil
}

// ParseDID checks that s is a DID (not a DID URL) of a supported method, did:key or did:lz,
// and returns the method name ("key" or "lz").
func ParseDID(s string) (method string, err error) {
	switch {
	case strings.HasPrefix(s, keyPrefix):
		if _, err := ParseKey(s); err != nil {
			return "", err
		}
		return MethodKey, nil
	case strings.HasPrefix(s, lzPrefix):
		if _, err := ParseLZ(s); err != nil {
			return "", err
		}
		return MethodLZ, nil
	case strings.HasPrefix(s, "did:"):
		return "", fmt.Errorf("%w: %s: %w", ErrInvalidDID, q(s), ErrUnsupportedMethod)
	default:
		return "", fmt.Errorf("%w: %s is not a DID", ErrInvalidDID, q(s))
	}
}

// ValidFragment reports whether f is an acceptable DID URL fragment (without '#'): 1–128
// characters of [A-Za-z0-9._~-].
func ValidFragment(f string) bool {
	if len(f) == 0 || len(f) > MaxFragmentLen {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// DIDURL is a parsed DID URL: a DID of a supported method and an optional fragment.
// Paths and queries are not supported.
type DIDURL struct {
	DID      string // e.g. "did:lz:gaj-beijing"
	Method   string // "key" or "lz"
	Fragment string // without '#'; "" when the URL has none
}

// ParseDIDURL parses "did:…" or "did:…#fragment" where the DID is did:key or did:lz and the
// fragment satisfies ValidFragment. An empty fragment ("did:lz:x#") is rejected.
func ParseDIDURL(s string) (DIDURL, error) {
	d, frag, hasFrag := strings.Cut(s, "#")
	if hasFrag && !ValidFragment(frag) {
		return DIDURL{}, fmt.Errorf("%w: DID URL %s: fragment must be 1-%d characters of [A-Za-z0-9._~-]", ErrInvalidDID, q(s), MaxFragmentLen)
	}
	m, err := ParseDID(d)
	if err != nil {
		return DIDURL{}, err
	}
	return DIDURL{DID: d, Method: m, Fragment: frag}, nil
}

// String returns the DID URL text.
func (u DIDURL) String() string {
	if u.Fragment == "" {
		return u.DID
	}
	return u.DID + "#" + u.Fragment
}
