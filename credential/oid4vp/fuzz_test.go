package oid4vp

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"lianzheng/credential/jws"
)

// FuzzParseJAR: no request object, however malformed, panics the parser; one it accepts
// signs again to one it accepts.
func FuzzParseJAR(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(nil)
	r, _ := testRequest(f, time.Unix(1_800_000_000, 0))
	tok, err := r.Sign(testDID+"#key-1", jws.NewEd25519Signer(priv))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, s string) {
		got, _, err := ParseJAR(s)
		if err != nil {
			return
		}
		if _, err := got.Sign(testDID+"#key-1", jws.NewEd25519Signer(priv)); err != nil && got.ClientID == ClientIDFor(testDID) {
			t.Fatalf("accepted request does not sign again: %v", err)
		}
	})
}

// FuzzParseQuery: no DCQL query panics the parser or the matcher.
func FuzzParseQuery(f *testing.F) {
	b, _ := json.Marshal(QueryFor(testReqs))
	f.Add(b)
	f.Add([]byte(`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":[null]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseQuery(b)
		if err != nil {
			return
		}
		MatchQuery(q, []Held{{ID: "c", VCT: "urn:lz:vct:household-register", Claims: map[string]any{"name": "x"}}})
	})
}

// FuzzDecrypt: no JWE panics the header reader, the decryption or the response parser.
func FuzzDecrypt(f *testing.F) {
	r, ek := testRequest(f, time.Unix(1_800_000_000, 0))
	to, _ := r.EncryptionKey()
	c, err := Encrypt(to, EncA128GCM, r.Nonce, []byte(`{"vp_token":{"a":["x~y~"]},"state":"s"}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c)
	f.Add("eyJhbGciOiJFQ0RILUVTIn0....")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = PeekJWE(s)
		pt, err := ek.Decrypt(s, r.Nonce)
		if err != nil {
			return
		}
		_, _ = ParseResponse(pt)
	})
}

// FuzzParseLink: no link panics the parser.
func FuzzParseLink(f *testing.F) {
	f.Add(Link{ClientID: ClientIDFor(testDID), RequestURI: "https://x/r"}.String())
	f.Fuzz(func(t *testing.T, s string) { _, _ = ParseLink(s) })
}
