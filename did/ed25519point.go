package did

import (
	"bytes"
	"errors"
	"sync"

	"filippo.io/edwards25519"
)

// checkEd25519Point rejects an Ed25519 public key whose encoding is not canonical (y ≥ p),
// that is not a curve point, or that has small order (one of the 8 torsion points, for which
// signatures can be forged without a private key). crypto/ed25519 only finds out at
// verification time (and accepts small-order keys); a DID or cnf key that can never verify,
// or that anyone can "sign" for, is refused when parsed. Public data: not constant time.
func checkEd25519Point(raw []byte) error {
	if len(raw) != ed25519KeyLen {
		return errors.New("Ed25519 key must be 32 bytes")
	}
	var key [ed25519KeyLen]byte
	copy(key[:], raw)
	goodPoints.Lock()
	_, ok := goodPoints.m[key]
	goodPoints.Unlock()
	if ok {
		return nil
	}
	if err := slowCheckEd25519Point(raw); err != nil {
		return err
	}
	goodPoints.Lock()
	if len(goodPoints.m) >= maxGoodPoints {
		clear(goodPoints.m)
	}
	goodPoints.m[key] = struct{}{}
	goodPoints.Unlock()
	return nil
}

// goodPoints remembers keys that passed the check (~25 µs, a third of an Ed25519 verify):
// the keys of issuers and windows recur on every verification. Bounded; cleared when full.
var goodPoints = struct {
	sync.Mutex
	m map[[ed25519KeyLen]byte]struct{}
}{m: map[[ed25519KeyLen]byte]struct{}{}}

const maxGoodPoints = 4096

// slowCheckEd25519Point decodes the point with filippo.io/edwards25519 (the standard
// library's own field arithmetic, exported): SetBytes finds x from y with one square root
// and fails when there is none (not a curve point); it accepts y ≥ p and x = 0 with the sign
// bit set, so the point's canonical encoding must equal raw; [8]P = identity marks the small
// order points. (A math/big version, Euler's criterion, took a tenth of a batch row's CPU.)
func slowCheckEd25519Point(raw []byte) error {
	p, err := new(edwards25519.Point).SetBytes(raw)
	if err != nil {
		return errors.New("Ed25519 key is not a curve point")
	}
	if !bytes.Equal(p.Bytes(), raw) {
		return errors.New("Ed25519 key is not canonically encoded")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errors.New("Ed25519 key has small order")
	}
	return nil
}
