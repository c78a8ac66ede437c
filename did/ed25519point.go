package did

import (
	"errors"
	"math/big"
	"sync"
)

// Ed25519 curve -x² + y² = 1 + d x² y² over GF(p) (RFC 8032 §5.1): p = 2^255 - 19,
// d = -121665/121666.
var (
	edP    = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	edD    = modDiv(big.NewInt(-121665), big.NewInt(121666))
	edOne  = big.NewInt(1)
	edHalf = new(big.Int).Rsh(edP, 1) // (p-1)/2

	// smallOrderY holds the y coordinates of the 8 points of order dividing 8: the identity
	// (y = 1), order 2 (y = -1), order 4 (y = 0) and the two y values of the order-8 points,
	// which double to y = 0: from x² = -y² and the curve equation, d y⁴ + 2 y² - 1 = 0.
	smallOrderY = func() []*big.Int {
		ys := []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(edP, edOne)}
		s := new(big.Int).ModSqrt(new(big.Int).Add(edOne, edD), edP) // sqrt(1 + d)
		if s == nil {
			panic("did: 1+d is not a square")
		}
		for _, r := range []*big.Int{s, new(big.Int).Neg(s)} {
			y2 := modDiv(new(big.Int).Sub(r, edOne), edD) // y² = (-1 ± sqrt(1+d)) / d
			if y := new(big.Int).ModSqrt(y2, edP); y != nil {
				ys = append(ys, y, new(big.Int).Sub(edP, y))
			}
		}
		if len(ys) != 5 {
			panic("did: wrong number of small-order y coordinates")
		}
		return ys
	}()
)

func modDiv(a, b *big.Int) *big.Int {
	r := new(big.Int).ModInverse(new(big.Int).Mod(b, edP), edP)
	r.Mul(r, a)
	return r.Mod(r, edP)
}

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

func slowCheckEd25519Point(raw []byte) error {
	be := make([]byte, 32)
	for i := range be {
		be[i] = raw[31-i] // little-endian to big-endian
	}
	be[0] &= 0x7f // the sign of x; every y left below has two points, one of each sign
	y := new(big.Int).SetBytes(be)
	if y.Cmp(edP) >= 0 {
		return errors.New("Ed25519 key is not canonically encoded")
	}
	for _, s := range smallOrderY { // also covers x = 0 (y = ±1), where the sign bit matters
		if y.Cmp(s) == 0 {
			return errors.New("Ed25519 key has small order")
		}
	}
	// A point exists iff x² = (y² - 1) / (d y² + 1) is a square, i.e. iff (y² - 1)(d y² + 1)
	// is a non-zero square (u^((p-1)/2) = 1; d y² + 1 never vanishes as -1/d is not a square).
	y2 := new(big.Int).Mul(y, y)
	u := new(big.Int).Sub(y2, edOne)
	v := y2.Mul(y2, edD)
	v.Add(v, edOne)
	u.Mul(u, v).Mod(u, edP)
	if u.Sign() == 0 || u.Exp(u, edHalf, edP).Cmp(edOne) != 0 { // Euler's criterion
		return errors.New("Ed25519 key is not a curve point")
	}
	return nil
}
