package edkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math/big"
	"sync"
	"testing"
)

// The reference check's arithmetic. Ed25519 curve -x² + y² = 1 + d x² y² over GF(p)
// (RFC 8032 §5.1): p = 2^255 - 19, d = -121665/121666.
var (
	edP   = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	edD   = modDiv(big.NewInt(-121665), big.NewInt(121666))
	edOne = big.NewInt(1)
	// edL is the order of the prime-order subgroup, 2^252 + 27742317777372353535851937790883648493.
	edL, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

	// smallOrderY holds the y coordinates of the 8 points of order dividing 8: the identity
	// (y = 1), order 2 (y = -1), order 4 (y = 0) and the two y values of the order-8 points,
	// which double to y = 0: from x² = -y² and the curve equation, d y⁴ + 2 y² - 1 = 0.
	smallOrderY = func() []*big.Int {
		ys := []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(edP, edOne)}
		s := new(big.Int).ModSqrt(new(big.Int).Add(edOne, edD), edP) // sqrt(1 + d)
		if s == nil {
			panic("edkey test: 1+d is not a square")
		}
		for _, r := range []*big.Int{s, new(big.Int).Neg(s)} {
			y2 := modDiv(new(big.Int).Sub(r, edOne), edD) // y² = (-1 ± sqrt(1+d)) / d
			if y := new(big.Int).ModSqrt(y2, edP); y != nil {
				ys = append(ys, y, new(big.Int).Sub(edP, y))
			}
		}
		if len(ys) != 5 {
			panic("edkey test: wrong number of small-order y coordinates")
		}
		return ys
	}()
)

func modDiv(a, b *big.Int) *big.Int {
	r := new(big.Int).ModInverse(new(big.Int).Mod(b, edP), edP)
	r.Mul(r, a)
	return r.Mod(r, edP)
}

// refCheck is the textbook check, RFC 8032 §5.1.3 decoding with a square root followed by
// [8]P = identity, slow but plainly right: the reference for Check.
func refCheck(raw []byte) error {
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

// badKeys are encodings Check must refuse, with the reason.
var badKeys = []struct {
	name, hex string
	want      error
}{
	// The eight small-order points (libsodium's blocklist, canonical encodings).
	{"identity", "0100000000000000000000000000000000000000000000000000000000000000", ErrSmallOrder},
	{"order 2", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", ErrSmallOrder},
	{"order 4", "0000000000000000000000000000000000000000000000000000000000000000", ErrSmallOrder},
	{"order 4 (neg)", "0000000000000000000000000000000000000000000000000000000000000080", ErrSmallOrder},
	{"order 8 a", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", ErrSmallOrder},
	{"order 8 b", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", ErrSmallOrder},
	{"order 8 c", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", ErrSmallOrder},
	{"order 8 d", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", ErrSmallOrder},
	{"identity, x=0 neg", "0100000000000000000000000000000000000000000000000000000000000080", ErrSmallOrder},
	{"y = p", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", ErrNonCanonical},
	{"y = p+1", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", ErrNonCanonical},
	{"y = 2^255-1", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", ErrNotOnCurve},
	{"not on curve y=2", "0200000000000000000000000000000000000000000000000000000000000000", ErrNotOnCurve},
	{"short", "0200", ErrKeyLength},
}

func TestCheckRefuses(t *testing.T) {
	for _, c := range badKeys {
		raw, _ := hex.DecodeString(c.hex)
		for range 2 { // the second time from the table, where the point decoded
			err := Check(raw)
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s: err = %v, want an ErrInvalidKey", c.name, err)
			}
			// y = 2^255-1 reduces to y = 18, which is not a curve point: either reason is right.
			if !errors.Is(err, c.want) && !(c.want == ErrNotOnCurve && errors.Is(err, ErrNonCanonical)) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			}
		}
	}
}

func TestCheckAcceptsGeneratedKeys(t *testing.T) {
	for range 100 {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(pub); err != nil {
			t.Fatalf("generated key %x refused: %v", []byte(pub), err)
		}
		if err := Check(pub); err != nil {
			t.Fatalf("generated key %x refused the second time: %v", []byte(pub), err)
		}
	}
}

// TestCheckMatchesReference: random encodings (about half are curve points), encodings near
// p, and the small-order y coordinates with both signs, against refCheck. A fresh table
// each time, so that every input is decoded here.
func TestCheckMatchesReference(t *testing.T) {
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
		got, ref := Check(b), refCheck(b)
		if (got == nil) != (ref == nil) {
			t.Errorf("%x: Check %v, reference %v", b, got, ref)
		}
		if got == nil {
			accepted++
		}
	}
	if accepted < 500 || accepted > 1500 {
		t.Errorf("accepted %d of %d random encodings; expected about half", accepted, len(inputs))
	}
}

// verifyCases are signatures crypto/ed25519 accepts and a spread of ones it refuses:
// every byte of the signature and the message flipped in turn, S + ℓ (not canonical),
// the signature of another key, a small-order key with a signature that verifies for any
// message under the cofactorless equation's neighbours, and a non-canonical key encoding.
func verifyCases(t testing.TB) [][3][]byte {
	var cases [][3][]byte
	for range 20 {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		msg := make([]byte, 1+len(cases)%300)
		rand.Read(msg)
		sig := ed25519.Sign(priv, msg)
		cases = append(cases, [3][]byte{pub, msg, sig})
		for i := range sig {
			bad := append([]byte(nil), sig...)
			bad[i] ^= 1 << (i % 8)
			cases = append(cases, [3][]byte{pub, msg, bad})
		}
		badMsg := append([]byte(nil), msg...)
		badMsg[0] ^= 0x80
		cases = append(cases, [3][]byte{pub, badMsg, sig})
		// S + ℓ: the same scalar, not canonically encoded.
		s := new(big.Int).SetBytes(reverse(sig[32:]))
		s.Add(s, edL)
		if s.BitLen() <= 256 {
			b := make([]byte, 32)
			s.FillBytes(b)
			cases = append(cases, [3][]byte{pub, msg, append(append([]byte(nil), sig[:32]...), reverse(b)...)})
		}
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		cases = append(cases, [3][]byte{other, msg, sig})
	}
	for _, c := range badKeys {
		raw, _ := hex.DecodeString(c.hex)
		if len(raw) != 32 {
			continue
		}
		// R = identity, S = 0 verifies under the cofactorless equation for the identity key.
		zeroSig := make([]byte, 64)
		zeroSig[0] = 1
		cases = append(cases, [3][]byte{raw, []byte("any message"), zeroSig}, [3][]byte{raw, nil, make([]byte, 64)})
	}
	return cases
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

// TestVerifyMatchesStandardLibrary: the same verdict as crypto/ed25519.Verify on every case,
// with the key new to the table and again from it.
func TestVerifyMatchesStandardLibrary(t *testing.T) {
	valid := 0
	for _, c := range verifyCases(t) {
		want := ed25519.Verify(c[0], c[1], c[2])
		for round := range 2 {
			if got := Verify(c[0], c[1], c[2]); got != want {
				t.Fatalf("round %d: Verify(%x, %x, %x) = %v, crypto/ed25519 %v", round, c[0], c[1], c[2], got, want)
			}
		}
		if want {
			valid++
		}
	}
	if valid < 20 {
		t.Fatalf("only %d valid cases", valid)
	}
	if Verify(make([]byte, 31), nil, make([]byte, 64)) || Verify(make([]byte, 32), nil, make([]byte, 63)) {
		t.Fatal("wrong lengths verified")
	}
}

// TestTableClears: past maxKeys the table is cleared, and verification is unchanged.
func TestTableClears(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sig := ed25519.Sign(priv, []byte("m"))
	for i := 0; i < maxKeys+10; i++ {
		k, _, _ := ed25519.GenerateKey(rand.Reader)
		if err := Check(k); err != nil {
			t.Fatal(err)
		}
		if !Verify(pub, []byte("m"), sig) {
			t.Fatalf("after %d keys: a valid signature refused", i)
		}
	}
	table.Lock()
	n := len(table.m)
	table.Unlock()
	if n > maxKeys {
		t.Fatalf("table holds %d keys, bound %d", n, maxKeys)
	}
}

// TestConcurrent runs checks and verifications of shared and new keys from several
// goroutines (go test -race).
func TestConcurrent(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sig := ed25519.Sign(priv, []byte("m"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				k, p, _ := ed25519.GenerateKey(rand.Reader)
				if Check(k) != nil || Check(pub) != nil {
					t.Error("key refused")
				}
				if !Verify(pub, []byte("m"), sig) || !Verify(k, []byte("x"), ed25519.Sign(p, []byte("x"))) {
					t.Error("signature refused")
				}
			}
		})
	}
	wg.Wait()
}

// FuzzVerify holds Verify to crypto/ed25519.Verify's verdict on arbitrary keys, messages
// and signatures, and Check to the reference check.
func FuzzVerify(f *testing.F) {
	for _, c := range verifyCases(f)[:30] {
		f.Add(c[0], c[1], c[2])
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != 32 {
			if Verify(pub, msg, sig) {
				t.Fatal("a key of the wrong length verified")
			}
			return
		}
		if got, want := Verify(pub, msg, sig), ed25519.Verify(pub, msg, sig); got != want {
			t.Fatalf("Verify = %v, crypto/ed25519 %v", got, want)
		}
		if got, ref := Check(pub), refCheck(pub); (got == nil) != (ref == nil) {
			t.Fatalf("Check %v, reference %v", got, ref)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 600)
	sig := ed25519.Sign(priv, msg)
	b.Run("edkey", func(b *testing.B) {
		for b.Loop() {
			Verify(pub, msg, sig)
		}
	})
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			ed25519.Verify(pub, msg, sig)
		}
	})
}

func BenchmarkCheckNewKey(b *testing.B) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i], _, _ = ed25519.GenerateKey(rand.Reader)
	}
	i := 0
	for b.Loop() {
		clear(table.m)
		if err := Check(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
