package jws

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"lianzheng/credential"
)

func TestSignVerify(t *testing.T) {
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	es, err := NewES256Signer(pk)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Signer{NewEd25519Signer(ek), es} {
		tok, err := Sign(map[string]any{"typ": "x"}, []byte(`{"a":1}`), s)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(s.Public()); err != nil {
			t.Fatalf("%s: %v", s.Alg(), err)
		}
		if string(p.Payload) != `{"a":1}` || p.Header["typ"] != "x" {
			t.Fatalf("parsed %+v", p)
		}
	}
}

func TestParseRejects(t *testing.T) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	good, _ := Sign(nil, []byte(`{}`), NewEd25519Signer(k))
	parts := strings.Split(good, ".")
	hdr := func(h string) string { return B64.EncodeToString([]byte(h)) + "." + parts[1] + "." + parts[2] }
	cases := []struct {
		name, in string
		code     credential.Code
	}{
		{"two parts", parts[0] + "." + parts[1], credential.CodeMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], credential.CodeMalformed},
		{"alg none", hdr(`{"alg":"none"}`), credential.CodeAlgNone},
		{"alg NONE", hdr(`{"alg":"NONE"}`), credential.CodeAlgNone},
		{"no alg", hdr(`{"typ":"x"}`), credential.CodeUnsigned},
		{"HS256", hdr(`{"alg":"HS256"}`), credential.CodeUnsupportedAlg},
		{"RS256", hdr(`{"alg":"RS256"}`), credential.CodeUnsupportedAlg},
		{"crit", hdr(`{"alg":"EdDSA","crit":["b64"],"b64":false}`), credential.CodeUnknownCrit},
		{"duplicate alg", hdr(`{"alg":"EdDSA","alg":"none"}`), credential.CodeMalformed},
		{"header not object", hdr(`[1]`), credential.CodeMalformed},
		{"empty signature", parts[0] + "." + parts[1] + ".", credential.CodeUnsigned},
		{"oversized", strings.Repeat("a", MaxCompactSize+1), credential.CodeOversized},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		if got := credential.CodeOf(err); got != c.code {
			t.Errorf("%s: code %q (%v), want %q", c.name, got, err, c.code)
		}
	}
}

func TestVerifyKeyMismatch(t *testing.T) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok, _ := Sign(nil, []byte(`{}`), NewEd25519Signer(k))
	p, _ := Parse(tok)
	if c := credential.CodeOf(p.Verify(other.Public())); c != credential.CodeBadSignature {
		t.Errorf("other key: %q", c)
	}
	if c := credential.CodeOf(p.Verify(&pk.PublicKey)); c != credential.CodeIssuerKeyMismatch {
		t.Errorf("P-256 key for EdDSA: %q", c)
	}
}

func TestMarshalCanonical(t *testing.T) {
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
	}
	b, err := Marshal(map[string]any{"z": 1, "a": jwk{"OKP", "Ed25519"}, "h": "<&>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"crv":"Ed25519","kty":"OKP"},"h":"<&>","z":1}`; string(b) != want {
		t.Fatalf("got %s want %s", b, want)
	}
}

func FuzzParse(f *testing.F) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	good, _ := Sign(nil, []byte(`{}`), NewEd25519Signer(k))
	f.Add(good)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := Parse(s); err == nil {
			// Exactly three parts, and the signing input is the text before the second dot.
			if strings.Count(s, ".") != 2 || p.SigningInput+"."+B64.EncodeToString(p.Signature) != s {
				t.Fatalf("Parse(%q): signing input %q", s, p.SigningInput)
			}
			_ = p.Verify(k.Public())
		}
	})
}
