package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
)

// The cache never turns a bad signature into a good one, whatever was verified before.
func TestSigCacheOnlyRemembersSuccesses(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("message")
	sig := ed25519.Sign(priv, msg)
	c := &sigCache{seen: map[[32]byte]struct{}{}}
	for i := 0; i < 2; i++ {
		if !c.verify(pub, msg, sig) {
			t.Fatal("valid signature refused")
		}
		if c.verify(other, msg, sig) || c.verify(pub, []byte("other"), sig) {
			t.Fatal("signature accepted for another key or message")
		}
		bad := append([]byte(nil), sig...)
		bad[0] ^= 1
		if c.verify(pub, msg, bad) {
			t.Fatal("altered signature accepted")
		}
	}
	if len(c.seen) != 1 {
		t.Fatalf("cache holds %d entries, want 1", len(c.seen))
	}
}
