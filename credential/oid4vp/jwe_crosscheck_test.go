package oid4vp

import (
	"bytes"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestJWECrossCheck: our ECDH-ES + Concat KDF (crypto/ecdh, deriveECDHES) against an
// independent implementation, go-jose: what we encrypt, go-jose decrypts (it derives the key
// from the header's epk and apv itself), for both content encryptions; and what go-jose
// decrypts, we decrypt too.
func TestJWECrossCheck(t *testing.T) {
	k, err := NewEncKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	msg := []byte(`{"vp_token":{"q":["a~b~c"]},"state":"s"}`)
	for _, enc := range []string{EncA128GCM, EncA256GCM} {
		c, err := Encrypt(&pub, enc, "nonce-of-the-request", msg)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := jose.ParseEncryptedCompact(c, []jose.KeyAlgorithm{jose.ECDH_ES}, []jose.ContentEncryption{jose.A128GCM, jose.A256GCM})
		if err != nil {
			t.Fatal(err)
		}
		pt, err := obj.Decrypt(k.priv)
		if err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("%s: go-jose could not decrypt ours: %v", enc, err)
		}
		ours, err := k.Decrypt(c, "nonce-of-the-request")
		if err != nil || !bytes.Equal(ours, msg) {
			t.Fatalf("%s: %v", enc, err)
		}
	}
}
