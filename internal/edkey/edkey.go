// Package edkey keeps Ed25519 public keys as decoded curve points: the one place a key's
// encoding is checked (Check) and the verification every verifier of the module uses
// (Verify).
//
// Design. crypto/ed25519.Verify decodes the public key (a square root, about 6 % of a
// verification) on every call; a window checks the same few department keys on every answer,
// and each holder key is decoded once by Check when its cnf is read and again by the
// verification. Here a key is decoded once and its negated point remembered in a bounded
// table (cleared when full, like the module's other caches); Verify then runs the standard
// library's own equation on it — the same SHA-512 challenge, the same
// VarTimeDoubleScalarBaseMult from filippo.io/edwards25519 (the standard library's code,
// exported), the same encoding comparison of R and the same canonical-S rule — so its
// verdict is crypto/ed25519.Verify's for every input (a differential test over random,
// mutated and edge-case inputs and a fuzz target hold it to that).
//
// Threats. Keys are public data: nothing here is constant time. The table holds only
// public points; a flood of new keys costs one decoding each and at worst clears it. Check
// refuses encodings that are not canonical (y ≥ p), not on the curve, or of small order
// (the eight torsion points, for which anyone can produce "signatures"); crypto/ed25519
// accepts the first and the last, so a DID or cnf key is checked when it is parsed, not
// trusted to the verification.
package edkey

import (
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// Errors of Check; each wraps ErrInvalidKey.
var (
	ErrInvalidKey   = errors.New("invalid Ed25519 public key")
	ErrKeyLength    = keyError("Ed25519 key must be 32 bytes")
	ErrNotOnCurve   = keyError("Ed25519 key is not a curve point")
	ErrNonCanonical = keyError("Ed25519 key is not canonically encoded")
	ErrSmallOrder   = keyError("Ed25519 key has small order")
)

// keyErr is a reason a key is refused; errors.Is matches it and ErrInvalidKey.
type keyErr string

func keyError(s string) error         { return keyErr(s) }
func (e keyErr) Error() string        { return string(e) }
func (e keyErr) Is(target error) bool { return target == ErrInvalidKey }

// Check reports whether raw is a usable Ed25519 public key: 32 bytes, canonically encoded,
// a curve point and not of small order. A key that passes is remembered, so that checking
// it again and verifying with it decode nothing.
func Check(raw []byte) error {
	if len(raw) != ed25519.PublicKeySize {
		return ErrKeyLength
	}
	e, err := lookup(raw)
	if err != nil {
		return ErrNotOnCurve
	}
	if e.checked.Load() {
		return nil
	}
	if err := checkPoint(raw, e.negA); err != nil {
		return err
	}
	e.checked.Store(true)
	return nil
}

// checkPoint is the rest of Check for a point that decoded from raw. SetBytes accepts
// y ≥ p (it reduces y) and x = 0 with the sign bit set; the first is refused here on the
// bytes, the second leaves only the identity and the point of order 2, both of small order.
func checkPoint(raw []byte, negA *edwards25519.Point) error {
	if yAtLeastP(raw) {
		return ErrNonCanonical
	}
	// -A has small order exactly when A has.
	if new(edwards25519.Point).MultByCofactor(negA).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return ErrSmallOrder
	}
	return nil
}

// yAtLeastP reports whether the 255-bit little-endian y of raw is at least p = 2^255 - 19,
// whose encoding is ed ff … ff 7f.
func yAtLeastP(raw []byte) bool {
	if raw[31]&0x7f != 0x7f || raw[0] < 0xed {
		return false
	}
	for _, b := range raw[1:31] {
		if b != 0xff {
			return false
		}
	}
	return true
}

// Verify reports whether sig is a valid Ed25519 signature of msg by pub, with the verdict
// of crypto/ed25519.Verify (RFC 8032 without the cofactor, S < ℓ, R compared as encoded).
// A key of the wrong length verifies nothing (crypto/ed25519 panics).
func Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize || sig[63]&224 != 0 {
		return false
	}
	e, err := lookup(pub)
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pub)
	h.Write(msg)
	var digest [64]byte
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		return false
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	r := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, e.negA, s)
	return [32]byte(sig[:32]) == [32]byte(r.Bytes())
}

// entry is a remembered key: its negated point (what the verification equation uses) and
// whether Check passed it. negA is never changed after the entry is made.
type entry struct {
	negA    *edwards25519.Point
	checked atomic.Bool
}

// maxKeys bounds the table: the keys of every department and window of a large consortium,
// with room for the holder keys of the answers in flight. Cleared when full.
const maxKeys = 4096

var table = struct {
	sync.Mutex
	m map[[ed25519.PublicKeySize]byte]*entry
}{m: map[[ed25519.PublicKeySize]byte]*entry{}}

// lookup returns the remembered entry for raw (32 bytes), decoding and remembering it if
// it is new. A failure (no curve point) is not remembered.
func lookup(raw []byte) (*entry, error) {
	key := [ed25519.PublicKeySize]byte(raw)
	table.Lock()
	e, ok := table.m[key]
	table.Unlock()
	if ok {
		return e, nil
	}
	a, err := new(edwards25519.Point).SetBytes(raw)
	if err != nil {
		return nil, err
	}
	e = &entry{negA: new(edwards25519.Point).Negate(a)}
	table.Lock()
	if old, ok := table.m[key]; ok {
		e = old
	} else {
		if len(table.m) >= maxKeys {
			clear(table.m)
		}
		table.m[key] = e
	}
	table.Unlock()
	return e, nil
}
