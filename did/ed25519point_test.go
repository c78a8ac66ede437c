package did

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
)

// TestEd25519PointChecks: every way a DID key arrives refuses the encodings internal/edkey
// refuses (its own tests hold the check to a reference).
func TestEd25519PointChecks(t *testing.T) {
	for i := 0; i < 100; i++ {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewPublicKey(pub); err != nil {
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
