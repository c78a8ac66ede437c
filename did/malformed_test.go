package did

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"testing"
)

// TestMalformedPublicKeyNoPanic: a PublicKey built by hand with a key that does not match its
// algorithm (not by this package's constructors) is never encoded as some other key and
// never panics: every encoding is empty, and the empty JWK is refused by the parser.
func TestMalformedPublicKeyNoPanic(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	for name, k := range map[string]PublicKey{
		"zero":               {},
		"ed25519 short":      {Alg: Ed25519, Key: ed25519.PublicKey{1, 2, 3}},
		"ed25519 with ecdsa": {Alg: Ed25519, Key: &ecdsa.PublicKey{}},
		"p256 with ed25519":  {Alg: P256, Key: priv.Public()},
		"p256 nil":           {Alg: P256, Key: (*ecdsa.PublicKey)(nil)},
		"p256 empty":         {Alg: P256, Key: &ecdsa.PublicKey{}},
		"unknown alg":        {Alg: "RSA", Key: priv.Public()},
	} {
		t.Run(name, func(t *testing.T) {
			if b := k.Bytes(); b != nil {
				t.Errorf("Bytes = %x", b)
			}
			if m := k.Multikey(); m != "" {
				t.Errorf("Multikey = %q", m)
			}
			if d := k.DIDKey(); d != "" {
				t.Errorf("DIDKey = %q", d)
			}
			if tp := k.Thumbprint(); tp != "" {
				t.Errorf("Thumbprint = %q", tp)
			}
			j := k.JWK()
			if j != (JWK{}) {
				t.Errorf("JWK = %+v", j)
			}
			if _, err := j.PublicKey(); err == nil {
				t.Error("the empty JWK was accepted")
			}
		})
	}
}
