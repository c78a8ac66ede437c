package did

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors; every error returned by this package wraps one of them (test with errors.Is).
var (
	// ErrInvalidDID: the DID, DID URL, key encoding or document is malformed.
	ErrInvalidDID = errors.New("did: invalid")
	// ErrNotFound: the DID, or the key fragment within it, is not known.
	ErrNotFound = errors.New("did: not found")
	// ErrDeactivated: the DID has been deactivated.
	ErrDeactivated = errors.New("did: deactivated")
	// ErrKeyNotValid: the key exists but was not valid (for the purpose) at the time asked.
	ErrKeyNotValid = errors.New("did: key not valid")
	// ErrUnsupportedMethod: no resolver handles this DID method.
	ErrUnsupportedMethod = errors.New("did: unsupported method")
)

// maxQuoted bounds how much of an untrusted input is echoed into an error message.
const maxQuoted = 80

// q quotes untrusted input for an error message, truncated so errors and logs stay small.
func q(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}

// show returns s as is when it is short and made of DID characters only, else quoted.
func show(s string) string {
	if len(s) > maxQuoted {
		return q(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(":.-_~#%", c) >= 0) {
			return q(s)
		}
	}
	return s
}
