package did

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
)

// The reference check's arithmetic. Ed25519 curve -x² + y² = 1 + d x² y² over GF(p) (RFC 8032 §5.1): p = 2^255 - 19,
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

func TestEd25519PointChecks(t *testing.T) {
	for i := 0; i < 100; i++ {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkEd25519Point(pub); err != nil {
			t.Fatalf("generated key %x rejected: %v", []byte(pub), err)
		}
	}
	bad := map[string]string{
		// The eight small-order points (libsodium's blocklist, canonical encodings).
		"identity":          "0100000000000000000000000000000000000000000000000000000000000000",
		"order 2":           "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"order 4":           "0000000000000000000000000000000000000000000000000000000000000000",
		"order 4 (neg)":     "0000000000000000000000000000000000000000000000000000000000000080",
		"order 8 a":         "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"order 8 b":         "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		"order 8 c":         "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"order 8 d":         "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		"identity, x=0 neg": "0100000000000000000000000000000000000000000000000000000000000080",
		"y = p":             "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"y = p+1":           "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"y = 2^255-1":       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"not on curve y=2":  "0200000000000000000000000000000000000000000000000000000000000000",
	}
	for name, h := range bad {
		raw, _ := hex.DecodeString(h)
		if err := checkEd25519Point(raw); err == nil {
			t.Errorf("%s: %s accepted", name, h)
		}
		if _, err := NewPublicKey(ed25519.PublicKey(raw)); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: NewPublicKey err = %v", name, err)
		}
		if _, err := ParseKey("did:key:" + b58(t, cat(codecEd25519, raw))); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: ParseKey err = %v", name, err)
		}
		if _, err := (JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(raw)}).PublicKey(); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: JWK err = %v", name, err)
		}
	}
}

// refCheckEd25519Point is the textbook check, RFC 8032 §5.1.3 decoding with a square root
// followed by [8]P = identity, slow but plainly right: the reference for the fast check.
func refCheckEd25519Point(raw []byte) error {
	le := make([]byte, 32)
	for i := range le {
		le[i] = raw[31-i]
	}
	sign := le[0] >> 7
	le[0] &= 0x7f
	y := new(big.Int).SetBytes(le)
	if y.Cmp(edP) >= 0 {
		return errors.New("non-canonical")
	}
	y2 := new(big.Int).Mul(y, y)
	x2 := modDiv(new(big.Int).Sub(y2, edOne), new(big.Int).Add(new(big.Int).Mul(edD, y2), edOne))
	x := new(big.Int).ModSqrt(x2, edP)
	if x == nil {
		return errors.New("not on curve")
	}
	if x.Sign() == 0 && sign == 1 {
		return errors.New("non-canonical")
	}
	if x.Bit(0) != uint(sign) {
		x.Sub(edP, x)
	}
	for range 3 { // x3 = 2xy / (1 + d x²y²), y3 = (y² + x²) / (1 - d x²y²)
		xy := new(big.Int).Mul(x, y)
		dxy2 := new(big.Int).Mul(xy, xy)
		dxy2.Mul(dxy2, edD)
		x, y = modDiv(new(big.Int).Lsh(xy, 1), new(big.Int).Add(edOne, dxy2)),
			modDiv(new(big.Int).Add(new(big.Int).Mul(y, y), new(big.Int).Mul(x, x)), new(big.Int).Sub(edOne, dxy2))
	}
	if x.Sign() == 0 && y.Cmp(edOne) == 0 {
		return errors.New("small order")
	}
	return nil
}

func TestEd25519PointCheckMatchesReference(t *testing.T) {
	var inputs [][]byte
	for i := 0; i < 2000; i++ {
		b := make([]byte, 32)
		rand.Read(b)
		if i%4 == 0 {
			b[31] |= 0x7f // near p: exercises the canonical check
			for j := 0; j < 31; j++ {
				b[j] = 0xff
			}
			b[0] = byte(0xe0 + i%32)
		}
		inputs = append(inputs, b)
	}
	for _, y := range smallOrderY {
		for _, sign := range []byte{0, 0x80} {
			b := make([]byte, 32)
			y.FillBytes(b)
			for i, j := 0, 31; i < j; i, j = i+1, j-1 {
				b[i], b[j] = b[j], b[i]
			}
			b[31] |= sign
			inputs = append(inputs, b)
		}
	}
	accepted := 0
	for _, b := range inputs {
		fast, ref := slowCheckEd25519Point(b), refCheckEd25519Point(b)
		if (fast == nil) != (ref == nil) {
			t.Errorf("%x: fast check %v, reference %v", b, fast, ref)
		}
		if fast == nil {
			accepted++
		}
	}
	if accepted < 500 || accepted > 1500 {
		t.Errorf("accepted %d of %d random encodings; expected about half", accepted, len(inputs))
	}
}

func BenchmarkCheckEd25519Point(b *testing.B) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	for b.Loop() {
		if err := slowCheckEd25519Point(pub); err != nil {
			b.Fatal(err)
		}
	}
}
