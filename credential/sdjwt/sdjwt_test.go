package sdjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/internal/testvectors"
)

// holderFromCnf reads cnf.jwk, as the SD-JWT VC profile does.
func holderFromCnf(cnf map[string]any) (crypto.PublicKey, error) {
	b, err := json.Marshal(cnf["jwk"])
	if err != nil {
		return nil, err
	}
	k, err := did.ParseJWKJSON(b)
	if err != nil {
		return nil, err
	}
	return k.Key, nil
}

func vectorIssuerKey(t testing.TB) crypto.PublicKey {
	k, err := did.ParseJWKJSON(testvectors.Read(t, "sd-jwt/issuer-jwk.json"))
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

func vectorOptions(t testing.TB) VerifyOptions {
	key := vectorIssuerKey(t)
	return VerifyOptions{
		IssuerKey: func(map[string]any, map[string]any) (crypto.PublicKey, error) { return key, nil },
		HolderKey: holderFromCnf,
		RequireKB: true,
		Nonce:     "1234567890",
		Audience:  "https://verifier.example.org",
		Now:       time.Unix(1748536865, 0).Add(time.Minute),
	}
}

func TestIETFVector(t *testing.T) {
	text := string(testvectors.Read(t, "sd-jwt/presentation-with-kb.txt"))
	res, err := Verify(text, vectorOptions(t))
	if err != nil {
		t.Fatalf("vector does not verify: %v", err)
	}
	if res.Claims["given_name"] != "John" || res.Claims["family_name"] != "Doe" {
		t.Errorf("claims: %v", res.Claims)
	}
	if _, ok := res.Claims["address"].(map[string]any); !ok {
		t.Errorf("address not disclosed: %v", res.Claims)
	}
	if n, _ := res.Claims["nationalities"].([]any); len(n) != 1 || n[0] != "US" {
		t.Errorf("nationalities = %v, want [US]", res.Claims["nationalities"])
	}
	if _, ok := res.Claims["_sd"]; ok {
		t.Error("_sd left in processed claims")
	}
	if res.KB == nil || res.KB.Nonce != "1234567890" {
		t.Errorf("KB = %+v", res.KB)
	}
	paths := map[string]bool{}
	for _, d := range res.Disclosed {
		paths[d.Path] = true
	}
	for _, p := range []string{"family_name", "address", "given_name", "nationalities[0]"} {
		if !paths[p] {
			t.Errorf("no disclosure at %s (have %v)", p, paths)
		}
	}
}

// Every single-byte change to the vector must fail verification.
func TestIETFVectorEveryByteMatters(t *testing.T) {
	text := []byte(testvectors.Read(t, "sd-jwt/presentation-with-kb.txt"))
	opt := vectorOptions(t)
	for i := range text {
		for _, x := range []byte{0x01, 0x02, 0x20, 0x40} {
			m := append([]byte(nil), text...)
			m[i] ^= x
			if _, err := Verify(string(m), opt); err == nil {
				t.Fatalf("byte %d ^ %#x (%q→%q) still verifies", i, x, text[i], m[i])
			}
		}
		m := append(append([]byte(nil), text[:i]...), text[i+1:]...)
		if _, err := Verify(string(m), opt); err == nil {
			t.Fatalf("deleting byte %d still verifies", i)
		}
	}
}

func TestIETFVectorWrongContext(t *testing.T) {
	text := string(testvectors.Read(t, "sd-jwt/presentation-with-kb.txt"))
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := []struct {
		name string
		mod  func(*VerifyOptions)
		code credential.Code
	}{
		{"nonce", func(o *VerifyOptions) { o.Nonce = "x" }, credential.CodeNonceMismatch},
		{"aud", func(o *VerifyOptions) { o.Audience = "https://other.example" }, credential.CodeAudienceMismatch},
		{"kb too old", func(o *VerifyOptions) { o.Now = o.Now.Add(time.Hour) }, credential.CodePresentationExpired},
		{"kb future", func(o *VerifyOptions) { o.Now = o.Now.Add(-time.Hour) }, credential.CodeClockSkew},
		{"expired", func(o *VerifyOptions) { o.Now = time.Unix(1883000000+3600, 0) }, credential.CodeExpired},
		{"issuer key", func(o *VerifyOptions) {
			o.IssuerKey = func(map[string]any, map[string]any) (crypto.PublicKey, error) { return &other.PublicKey, nil }
		}, credential.CodeBadSignature},
		// A bad issuer signature decides the answer whatever else is wrong too.
		{"issuer key and nonce", func(o *VerifyOptions) {
			o.Nonce = "x"
			o.IssuerKey = func(map[string]any, map[string]any) (crypto.PublicKey, error) { return &other.PublicKey, nil }
		}, credential.CodeBadSignature},
		{"issuer key and expired", func(o *VerifyOptions) {
			o.Now = time.Unix(1883000000+3600, 0)
			o.IssuerKey = func(map[string]any, map[string]any) (crypto.PublicKey, error) { return &other.PublicKey, nil }
		}, credential.CodeBadSignature},
		{"issuer key and holder key", func(o *VerifyOptions) {
			o.HolderKey = func(map[string]any) (crypto.PublicKey, error) { return &other.PublicKey, nil }
			o.IssuerKey = func(map[string]any, map[string]any) (crypto.PublicKey, error) { return &other.PublicKey, nil }
		}, credential.CodeBadSignature},
		{"issuer key type", func(o *VerifyOptions) {
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			o.IssuerKey = func(map[string]any, map[string]any) (crypto.PublicKey, error) { return pub, nil }
		}, credential.CodeIssuerKeyMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := vectorOptions(t)
			c.mod(&o)
			_, err := Verify(text, o)
			if got := credential.CodeOf(err); got != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
		})
	}
}

type party struct {
	signer jws.Signer
	pub    did.PublicKey
}

func newParty(t testing.TB) party {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := jws.NewEd25519Signer(priv)
	pk, err := did.NewPublicKey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return party{s, pk}
}

func licenceClaims(holder party) map[string]any {
	return map[string]any{
		"iss":        "did:lz:demo-vehicle-admin",
		"iat":        time.Now().Add(-time.Hour).Unix(),
		"exp":        time.Now().Add(24 * time.Hour).Unix(),
		"name":       "测试用户甲",
		"id_number":  "TEST-0000-0001",
		"birth_date": "1990-01-01",
		"address":    map[string]any{"city": "示例市", "street": "样例路 1 号"},
		"class":      "C1",
		"aliases":    []any{"甲", "A"},
		"cnf":        map[string]any{"jwk": holder.pub.JWK()},
	}
}

func issueTest(t testing.TB, iss, holder party, decoys int) *SDJWT {
	t.Helper()
	sd, err := Issue(licenceClaims(holder), iss.signer, IssueOptions{
		Disclosable: []string{"name", "id_number", "birth_date", "address", "address.street", "class", "aliases[]"},
		Decoys:      decoys,
		Header:      map[string]any{"typ": "dc+sd-jwt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func optsFor(iss party) VerifyOptions {
	return VerifyOptions{
		IssuerKey: func(map[string]any, map[string]any) (crypto.PublicKey, error) { return iss.pub.Key, nil },
		HolderKey: holderFromCnf,
		RequireKB: true,
		Nonce:     "n-123",
		Audience:  "did:lz:window-1",
	}
}

func TestIssuePresentVerify(t *testing.T) {
	iss, holder := newParty(t), newParty(t)
	full := issueTest(t, iss, holder, 3)
	if len(full.Disclosures) != 8 { // 6 claims incl. nested street + 2 alias elements
		t.Fatalf("%d disclosures", len(full.Disclosures))
	}
	sub, err := full.Select("name", "address.street", "aliases[1]")
	if err != nil {
		t.Fatal(err)
	}
	text, err := sub.Bind(holder.signer, "n-123", "did:lz:window-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(text, optsFor(iss))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.Claims["name"] != "测试用户甲" {
		t.Errorf("name = %v", res.Claims["name"])
	}
	addr, _ := res.Claims["address"].(map[string]any)
	if addr["street"] != "样例路 1 号" || addr["city"] != "示例市" {
		t.Errorf("address = %v", addr)
	}
	for _, hidden := range []string{"id_number", "birth_date", "class"} {
		if _, ok := res.Claims[hidden]; ok {
			t.Errorf("%s disclosed but not selected", hidden)
		}
	}
	if a, _ := res.Claims["aliases"].([]any); len(a) != 1 || a[0] != "A" {
		t.Errorf("aliases = %v", res.Claims["aliases"])
	}
}

func TestVerifyRejections(t *testing.T) {
	iss, holder, mallory := newParty(t), newParty(t), newParty(t)
	full := issueTest(t, iss, holder, 0)
	sub, _ := full.Select("name", "class")
	good, err := sub.Bind(holder.signer, "n-123", "did:lz:window-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "~")
	kbless := strings.Join(parts[:len(parts)-1], "~") + "~"

	// A disclosure for the same name with another value, not committed by the issuer.
	forged, _ := NewDisclosure("c2FsdHNhbHRzYWx0c2FsdA", "class", "A1", false)
	withForged := &SDJWT{IssuerJWT: sub.IssuerJWT, Disclosures: append(append([]*Disclosure{}, sub.Disclosures...), forged)}
	forgedText, _ := withForged.Bind(holder.signer, "n-123", "did:lz:window-1", time.Now())

	dup := &SDJWT{IssuerJWT: sub.IssuerJWT, Disclosures: append(append([]*Disclosure{}, sub.Disclosures...), sub.Disclosures[0])}
	dupText, _ := dup.Bind(holder.signer, "n-123", "did:lz:window-1", time.Now())

	byMallory, _ := sub.Bind(mallory.signer, "n-123", "did:lz:window-1", time.Now())

	// KB-JWT whose sd_hash covers a different selection than what is shown.
	other, _ := full.Select("name")
	otherKB, _ := other.Bind(holder.signer, "n-123", "did:lz:window-1", time.Now())
	okb := strings.Split(otherKB, "~")
	swapped := kbless + okb[len(okb)-1]

	// KB-JWT with the wrong typ.
	badTyp := func() string {
		pb, _ := jws.Marshal(map[string]any{"iat": time.Now().Unix(), "nonce": "n-123", "aud": "did:lz:window-1", "sd_hash": Digest(kbless)})
		kb, _ := jws.Sign(map[string]any{"typ": "JWT"}, pb, holder.signer)
		return kbless + kb
	}()

	// alg none issuer JWT.
	algNone := func() string {
		h := jws.B64.EncodeToString([]byte(`{"alg":"none","typ":"dc+sd-jwt"}`))
		p := strings.Split(sub.IssuerJWT, ".")[1]
		return h + "." + p + ".~"
	}()
	unsigned := strings.Join(strings.Split(sub.IssuerJWT, ".")[:2], ".") + ".~"
	crit := func() string {
		h := jws.B64.EncodeToString([]byte(`{"alg":"EdDSA","crit":["x-lz"],"x-lz":1}`))
		p := strings.Split(sub.IssuerJWT, ".")[1]
		sig, _ := iss.signer.Sign([]byte(h + "." + p))
		return h + "." + p + "." + jws.B64.EncodeToString(sig) + "~"
	}()

	cases := []struct {
		name string
		text string
		code credential.Code
	}{
		{"no kb", kbless, credential.CodeMissingKB},
		{"forged disclosure", forgedText, credential.CodeDisclosureUnbound},
		{"duplicate disclosure", dupText, credential.CodeDuplicateDisc},
		{"kb by other key", byMallory, credential.CodeBadKB},
		{"sd_hash mismatch", swapped, credential.CodeSDHashMismatch},
		{"kb typ", badTyp, credential.CodeBadKB},
		{"alg none", algNone, credential.CodeAlgNone},
		{"unsigned", unsigned, credential.CodeUnsigned},
		{"crit", crit, credential.CodeUnknownCrit},
		{"garbage", "not an sd-jwt", credential.CodeMalformed},
		{"oversized", strings.Repeat("a", MaxSize+1), credential.CodeOversized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(c.text, optsFor(iss))
			if got := credential.CodeOf(err); got != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
		})
	}
	if _, err := Verify(good, optsFor(iss)); err != nil {
		t.Fatalf("control case fails: %v", err)
	}
}

func TestParseRoundTrip(t *testing.T) {
	text := string(testvectors.Read(t, "sd-jwt/presentation-with-kb.txt"))
	sd, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if sd.String() != text {
		t.Fatal("Parse/String is not lossless")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(string(testvectors.Read(f, "sd-jwt/presentation-with-kb.txt")))
	f.Add("a.b.c~")
	f.Add("~~~")
	key := vectorIssuerKey(f)
	opt := VerifyOptions{
		IssuerKey: func(map[string]any, map[string]any) (crypto.PublicKey, error) { return key, nil },
		HolderKey: holderFromCnf,
		Nonce:     "1234567890", Audience: "https://verifier.example.org",
		Now: time.Unix(1748536865, 0),
	}
	f.Fuzz(func(t *testing.T, s string) {
		sd, err := Parse(s)
		if err == nil && sd.String() != s {
			t.Fatalf("lossy parse of %q", s)
		}
		_, _ = Verify(s, opt)
	})
}
