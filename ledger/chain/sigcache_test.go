package chain

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"lianzheng/ledger"
)

// The cache never turns a bad signature into a good one, whatever was verified before.
func TestSigCacheOnlyRemembersSuccesses(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("message")
	sig := ed25519.Sign(priv, msg)
	c := newSigCache()
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

// canonicalSigningBytes agrees with Envelope.SigningBytes on canonical envelopes.
func TestCanonicalSigningBytes(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, body := range []string{`{}`, `{"list":1,"updates":[{"index":5,"value":1}]}`, `{"s":"a,\"sig\":\"x\"}"}`} {
		e := &ledger.Envelope{V: ledger.TxVersion, Chain: "c", Type: ledger.TxStatusSet, Signer: "did:lz:x#key-1", Nonce: "AAAAAAAAAAAAAAAAAAAAAA", Body: []byte(body)}
		if err := signWith(e, priv); err != nil {
			t.Fatal(err)
		}
		tx, err := e.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		want, err := e.SigningBytes()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := canonicalSigningBytes(tx, e.Sig)
		if !ok || string(got) != string(want) {
			t.Fatalf("body %s: got %q (%v), want %q", body, got, ok, want)
		}
		if _, ok := canonicalSigningBytes(tx, ""); ok {
			t.Fatal("accepted an empty signature")
		}
		if _, ok := canonicalSigningBytes(tx[:len(tx)-1], e.Sig); ok {
			t.Fatal("accepted a truncated envelope")
		}
	}
}
