package did

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"
)

func b58(t testing.TB, b []byte) string {
	t.Helper()
	s, err := multibase.Encode(multibase.Base58BTC, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// offCurveX returns a compressed encoding 0x02||x whose x is not the x of any P-256 point.
func offCurveP256(t testing.TB) []byte {
	t.Helper()
	for i := 1; i < 256; i++ {
		raw := append([]byte{0x02}, make([]byte, 32)...)
		raw[32] = byte(i)
		if x, _ := elliptic.UnmarshalCompressed(elliptic.P256(), raw); x == nil {
			return raw
		}
	}
	t.Fatal("no off-curve x found")
	return nil
}

func TestKeyRoundTrip(t *testing.T) {
	for i := 0; i < 40; i++ {
		edPub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, pub := range []any{edPub, &ec.PublicKey} {
			k, err := NewPublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			did := k.DIDKey()
			if alt := map[Algorithm]string{Ed25519: KeyFromEd25519(edPub), P256: KeyFromP256(&ec.PublicKey)}[k.Alg]; alt != did {
				t.Errorf("KeyFrom* = %s, DIDKey = %s", alt, did)
			}
			prefix := map[Algorithm]string{Ed25519: "did:key:z6Mk", P256: "did:key:zDn"}[k.Alg]
			if !strings.HasPrefix(did, prefix) {
				t.Errorf("%s does not start with %s", did, prefix)
			}
			p, err := ParseKey(did)
			if err != nil || !p.Equal(pub) || p.Alg != k.Alg {
				t.Fatalf("ParseKey(%s) = %v, %v", did, p, err)
			}
			mk, err := EncodeMultikey(pub)
			if err != nil || "did:key:"+mk != did {
				t.Fatalf("EncodeMultikey = %s, %v", mk, err)
			}
			if p, err := DecodeMultikey(mk); err != nil || !p.Equal(k) {
				t.Fatalf("DecodeMultikey(%s) = %v", mk, err)
			}
			j := k.JWK()
			if p, err := j.PublicKey(); err != nil || !p.Equal(pub) {
				t.Fatalf("JWK round trip %+v: %v", j, err)
			}
			js, _ := json.Marshal(j)
			if p, err := ParseJWKJSON(js); err != nil || !p.Equal(pub) {
				t.Fatalf("ParseJWKJSON(%s): %v", js, err)
			}
			if k.Thumbprint() != p.Thumbprint() {
				t.Error("thumbprint differs for the same key")
			}
		}
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		if k, _ := NewPublicKey(edPub); k.Equal(other) || k.Equal(&ec.PublicKey) {
			t.Error("Equal accepts a different key")
		}
	}
}

func TestThumbprintRFC8037(t *testing.T) {
	// RFC 8037 appendix A.3.
	k, err := JWK{Kty: "OKP", Crv: "Ed25519", X: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.Thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}

func TestParseKeyRejects(t *testing.T) {
	const good = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	goodKey, err := ParseKey(good)
	if err != nil {
		t.Fatal(err)
	}
	edRaw := goodKey.Bytes()
	p256, err := ParseKey("did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv")
	if err != nil {
		t.Fatal(err)
	}
	pRaw := p256.Bytes()
	uncompressed, _ := p256.Key.(*ecdsa.PublicKey).Bytes()
	base16, _ := multibase.Encode(multibase.Base16, cat(codecEd25519, edRaw))
	base64url, _ := multibase.Encode(multibase.Base64url, cat(codecEd25519, edRaw))
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"prefix only", "did:key:"},
		{"no colon", "did:key"},
		{"wrong method", strings.Replace(good, "did:key:", "did:kex:", 1)},
		{"uppercase scheme", strings.Replace(good, "did:", "DID:", 1)},
		{"uppercase method", strings.Replace(good, "key", "KEY", 1)},
		{"no multibase", "did:key:" + good[9:]},
		{"base16 multibase", "did:key:" + base16},
		{"base64url multibase", "did:key:" + base64url},
		{"bad base58 char 0", good[:20] + "0" + good[21:]},
		{"bad base58 char l", good[:20] + "l" + good[21:]},
		{"fragment", good + "#" + good[8:]},
		{"query", good + "?x=1"},
		{"path", good + "/p"},
		{"leading space", " " + good},
		{"trailing newline", good + "\n"},
		{"truncated", good[:len(good)-1]},
		{"extra char", good + "1"},
		{"leading zero byte", "did:key:z1" + good[9:]},
		{"x25519 multicodec", "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW"},
		{"secp256k1 multicodec", "did:key:" + b58(t, cat([]byte{0xe7, 0x01}, pRaw))},
		{"non-minimal varint", "did:key:" + b58(t, cat([]byte{0xed, 0x81, 0x00}, edRaw))},
		{"no multicodec", "did:key:" + b58(t, edRaw)},
		{"ed25519 31 bytes", "did:key:" + b58(t, cat(codecEd25519, edRaw[:31]))},
		{"ed25519 33 bytes", "did:key:" + b58(t, cat(codecEd25519, edRaw, []byte{0}))},
		{"ed25519 empty", "did:key:" + b58(t, codecEd25519)},
		{"p256 32 bytes", "did:key:" + b58(t, cat(codecP256, pRaw[:32]))},
		{"p256 34 bytes", "did:key:" + b58(t, cat(codecP256, pRaw, []byte{0}))},
		{"p256 uncompressed", "did:key:" + b58(t, cat(codecP256, uncompressed))},
		{"p256 bad prefix 04", "did:key:" + b58(t, cat(codecP256, []byte{0x04}, pRaw[1:]))},
		{"p256 bad prefix 00", "did:key:" + b58(t, cat(codecP256, []byte{0x00}, pRaw[1:]))},
		{"p256 not on curve", "did:key:" + b58(t, cat(codecP256, offCurveP256(t)))},
		{"p256 x >= p", "did:key:" + b58(t, cat(codecP256, []byte{0x02}, repeat(0xff, 32)))},
		{"overlong", "did:key:z" + strings.Repeat("2", 5000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKey(c.in)
			if err == nil {
				t.Fatalf("ParseKey(%q) accepted: %v", c.in, k.Alg)
			}
			if !errors.Is(err, ErrInvalidDID) {
				t.Errorf("error %v does not wrap ErrInvalidDID", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error message is %d bytes long", len(err.Error()))
			}
			if _, err := DecodeMultikey(strings.TrimPrefix(c.in, "did:key:")); err == nil && strings.HasPrefix(c.in, "did:key:") {
				t.Errorf("DecodeMultikey accepted %q", c.in)
			}
		})
	}
}

func TestNewPublicKeyRejects(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	for name, k := range map[string]any{
		"nil":              nil,
		"short ed25519":    ed25519.PublicKey(make([]byte, 31)),
		"bytes":            []byte(ed),
		"P-384":            &p384.PublicKey,
		"nil ecdsa":        (*ecdsa.PublicKey)(nil),
		"mismatched alg":   PublicKey{Alg: P256, Key: ed},
		"nil *PublicKey":   (*PublicKey)(nil),
		"zero PublicKey":   PublicKey{},
		"private key":      ed25519.PrivateKey(make([]byte, 64)),
		"ecdsa value type": p384.PublicKey,
	} {
		if _, err := NewPublicKey(k); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: NewPublicKey err = %v", name, err)
		}
		if _, err := EncodeMultikey(k); err == nil {
			t.Errorf("%s: EncodeMultikey accepted", name)
		}
	}
	if (PublicKey{Alg: P256, Key: ed}).Equal(ed) {
		t.Error("Equal accepted a PublicKey with mismatched algorithm")
	}
}

func TestJWKRejects(t *testing.T) {
	ed := JWK{Kty: "OKP", Crv: "Ed25519", X: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
	ec := JWK{Kty: "EC", Crv: "P-256", X: "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", Y: "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"}
	for _, j := range []JWK{ed, ec} {
		if _, err := j.PublicKey(); err != nil {
			t.Fatalf("%+v: %v", j, err)
		}
	}
	mod := func(j JWK, f func(*JWK)) JWK { f(&j); return j }
	cases := map[string]JWK{
		"okp wrong crv":      mod(ed, func(j *JWK) { j.Crv = "X25519" }),
		"okp with y":         mod(ed, func(j *JWK) { j.Y = ec.Y }),
		"okp padded":         mod(ed, func(j *JWK) { j.X += "=" }),
		"okp std base64":     mod(ed, func(j *JWK) { j.X = strings.ReplaceAll(j.X, "_", "/") }),
		"okp short":          mod(ed, func(j *JWK) { j.X = j.X[:42] }),
		"okp non-canonical":  mod(ed, func(j *JWK) { j.X = j.X[:42] + "p" }), // "o"+1: unused low bits set
		"okp empty":          mod(ed, func(j *JWK) { j.X = "" }),
		"ec no y":            mod(ec, func(j *JWK) { j.Y = "" }),
		"ec wrong crv":       mod(ec, func(j *JWK) { j.Crv = "P-384" }),
		"ec lowercase crv":   mod(ec, func(j *JWK) { j.Crv = "p-256" }),
		"ec off curve":       mod(ec, func(j *JWK) { j.Y = j.X }),
		"ec kty OKP":         mod(ec, func(j *JWK) { j.Kty = "OKP" }),
		"unknown kty":        mod(ec, func(j *JWK) { j.Kty = "RSA" }),
		"ec x too long":      mod(ec, func(j *JWK) { j.X += "AA" }),
		"ec x >= p (all ff)": mod(ec, func(j *JWK) { j.X = "__________________________________________8" }),
	}
	for name, j := range cases {
		if _, err := j.PublicKey(); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: %+v accepted (err %v)", name, j, err)
		}
	}
	for name, js := range map[string]string{
		"private d":     `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`,
		"uppercase X":   `{"kty":"OKP","crv":"Ed25519","X":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		"x not string":  `{"kty":"OKP","crv":"Ed25519","x":1}`,
		"not an object": `["OKP"]`,
		"garbage":       `{"kty":`,
		"too large":     `{"kty":"OKP","pad":"` + strings.Repeat("a", 5000) + `"}`,
	} {
		if _, err := ParseJWKJSON([]byte(js)); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: ParseJWKJSON err = %v", name, err)
		}
	}
	k, err := ParseJWKJSON([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k","alg":"EdDSA"}`))
	if err != nil || k.JWK() != ed {
		t.Errorf("ParseJWKJSON with kid/alg: %v", err)
	}
}
