package dataintegrity

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/ldcontext"
	"lianzheng/credential/statuslist"
)

var testClaims = map[string]any{
	"name":            "张三",
	"birthDate":       "1990-01-01",
	"idNumber":        "110101199001011234",
	"householdNumber": "110101000123",
	"address":         "北京市东城区某街道1号",
	"relationship":    "户主",
	"ethnicity":       "汉",
	"gender":          "男",
	"issuingOffice":   "北京市公安局东城分局",
	"registeredSince": "2010-05-20",
}

func testCredential(t testing.TB) map[string]any {
	t.Helper()
	c, err := NewCredential(CredentialConfig{
		ID:         "urn:uuid:1d7c1a5e-8b0e-4f57-9d4e-3c1f0a2b4c6d",
		Types:      []string{"HouseholdRegisterCredential"},
		Issuer:     "did:lz:gongan",
		Holder:     "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
		ValidFrom:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		Claims:     testClaims,
		Status: []StatusEntry{
			{ListCredential: "https://status.lianzheng.example/gongan/revocation/1", Index: 94567, Purpose: statuslist.PurposeRevocation},
			{ListCredential: "https://status.lianzheng.example/gongan/suspension/1", Index: 1234, Purpose: statuslist.PurposeSuspension},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testCredentialVocab is testCredential in the form issued under a public base URL: the
// inline {"@vocab": vocab} context and status list credential URLs.
func testCredentialVocab(t testing.TB, vocab string) map[string]any {
	t.Helper()
	c, err := BuildCredential(CredentialConfig{
		ID:         "urn:uuid:1d7c1a5e-8b0e-4f57-9d4e-3c1f0a2b4c6d",
		Types:      []string{"HouseholdRegisterCredential"},
		Issuer:     "did:lz:gongan",
		Holder:     "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
		ValidFrom:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		Claims:     testClaims,
		Vocab:      vocab,
		Status: []StatusEntry{
			{ListCredential: "https://lianzheng.gov.example/status/gongan/0/revocation", Index: 94567, Purpose: statuslist.PurposeRevocation},
			{ListCredential: "https://lianzheng.gov.example/status/gongan/0/suspension", Index: 94567, Purpose: statuslist.PurposeSuspension},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCredentialEveryClaimIsSigned(t *testing.T) {
	c := testCredential(t)
	nq, err := CanonicalizeRDFC(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(nq)
	holder := "<did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2>"
	// Claims are kept under the LianZheng vocabulary, except the few names the VC 2.0
	// context itself defines (and protects), which keep the VC meaning.
	vcTerms := map[string]string{"name": "https://schema.org/name", "description": "https://schema.org/description"}
	for k, v := range testClaims {
		pred := ldcontext.LianZhengVocab + k
		if p, ok := vcTerms[k]; ok {
			pred = p
		}
		want := fmt.Sprintf("%s <%s> %q .\n", holder, pred, v)
		if !strings.Contains(s, want) {
			t.Errorf("claim %s missing from the canonical N-Quads (want line %q)", k, want)
		}
	}
	for _, want := range []string{
		"<urn:uuid:1d7c1a5e-8b0e-4f57-9d4e-3c1f0a2b4c6d> <https://www.w3.org/2018/credentials#issuer> <did:lz:gongan> .",
		"<https://www.w3.org/2018/credentials#credentialSubject> " + holder,
		"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <" + ldcontext.LianZhengVocab + "HouseholdRegisterCredential>",
		"<https://www.w3.org/2018/credentials#validFrom> \"2025-01-01T00:00:00Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>",
		"<https://www.w3.org/2018/credentials#validUntil> \"2035-01-01T00:00:00Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>",
		"<https://www.w3.org/ns/credentials/status#statusListIndex> \"94567\"",
		"<https://www.w3.org/ns/credentials/status#statusListIndex> \"1234\"",
		"<https://www.w3.org/ns/credentials/status#statusPurpose> \"suspension\"",
		"<https://www.w3.org/ns/credentials/status#statusListCredential> <https://status.lianzheng.example/gongan/revocation/1>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("canonical N-Quads lack %q", want)
		}
	}
	// One line per claim + 2 types + issuer/validity/subject/status links and entries: no
	// quad is silently missing. Count the subject's quads exactly: id is the node itself.
	if n := strings.Count(s, "\n"+holder+" <") + boolInt(strings.HasPrefix(s, holder+" <")); n != len(testClaims) {
		t.Errorf("%d claim quads, want %d", n, len(testClaims))
	}
}

func TestCredentialSignVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	vm := "did:lz:gongan#key-1"
	resolve := func(m string) (ed25519.PublicKey, error) {
		if m != vm {
			return nil, errors.New("unknown key")
		}
		return pub, nil
	}
	c := testCredential(t)
	signed, err := SignCredential(c, vm, priv, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c["proof"]; ok {
		t.Fatal("Sign modified its input")
	}
	res, err := Verify(signed, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if res.VerificationMethod != vm || res.Cryptosuite != CryptosuiteRDFC {
		t.Fatalf("%+v", res)
	}
	for _, k := range []string{"name", "idNumber", "address"} {
		d, _ := toDocument(signed)
		d["credentialSubject"].(map[string]any)[k] = "篡改"
		if _, err := Verify(d, resolve); credential.CodeOf(err) != credential.CodeBadProof {
			t.Errorf("changed %s: %v", k, err)
		}
	}
	// A claim smuggled in under a term no context defines is rejected, not ignored.
	d, _ := toDocument(signed)
	d["@context"] = []any{ldcontext.CredentialsV2}
	if _, err := Verify(d, resolve); err == nil {
		t.Error("verified with the claims context removed")
	}
	// JCS over the same credential.
	signedJCS, err := Sign(c, ProofConfig{Cryptosuite: CryptosuiteJCS, VerificationMethod: vm}, priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(signedJCS, resolve); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyWithOptions(signedJCS, resolve, VerifyOptions{Cryptosuites: []string{CryptosuiteRDFC}}); credential.CodeOf(err) != credential.CodeUnsupportedAlg {
		t.Errorf("JCS proof with only RDFC allowed: %v", err)
	}
}

func TestStrictJSONLD(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"@context":          []any{ldcontext.CredentialsV2},
			"id":                "urn:uuid:0b7a4b2e-0000-4000-8000-000000000001",
			"type":              []any{"VerifiableCredential"},
			"issuer":            "did:lz:gongan",
			"validFrom":         "2025-01-01T00:00:00Z",
			"credentialSubject": map[string]any{"id": "did:key:z6Mk"},
		}
	}
	if _, err := CanonicalizeRDFC(base()); err != nil {
		t.Fatalf("base document rejected: %v", err)
	}
	cases := map[string]func(d map[string]any){
		"undefined claim":     func(d map[string]any) { d["credentialSubject"].(map[string]any)["degree"] = "PhD" },
		"undefined top term":  func(d map[string]any) { d["nationality"] = "CN" },
		"undefined type":      func(d map[string]any) { d["type"] = []any{"VerifiableCredential", "MadeUpCredential"} },
		"relative issuer":     func(d map[string]any) { d["issuer"] = "gongan" },
		"relative subject id": func(d map[string]any) { d["credentialSubject"].(map[string]any)["id"] = "holder" },
		"unknown keyword":     func(d map[string]any) { d["@foo"] = "bar" },
		"no context":          func(d map[string]any) { delete(d, "@context") },
		"unknown context":     func(d map[string]any) { d["@context"] = []any{ldcontext.CredentialsV2, "https://evil.example/ctx"} },
	}
	for name, mutate := range cases {
		d := base()
		mutate(d)
		_, err := CanonicalizeRDFC(d)
		if err == nil {
			t.Errorf("%s: canonicalised (a term would be dropped silently)", name)
			continue
		}
		if credential.CodeOf(err) != credential.CodeMalformed {
			t.Errorf("%s: %v, want CodeMalformed", name, err)
		}
		_, priv, _ := ed25519.GenerateKey(nil)
		if _, err := Sign(d, ProofConfig{VerificationMethod: "did:lz:gongan#key-1"}, priv); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	// With the LianZheng context the same claims are kept.
	d := base()
	d["@context"] = []any{ldcontext.CredentialsV2, ldcontext.LianZhengV1}
	d["nationality"] = "CN"
	d["credentialSubject"].(map[string]any)["degree"] = "PhD"
	nq, err := CanonicalizeRDFC(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nationality", "degree"} {
		if !strings.Contains(string(nq), "<"+ldcontext.LianZhengVocab+k+">") {
			t.Errorf("%s dropped", k)
		}
	}
}

func TestNewCredentialRejects(t *testing.T) {
	ok := CredentialConfig{Issuer: "did:lz:gongan", Holder: "did:key:z6Mk", ValidFrom: time.Now()}
	for name, mutate := range map[string]func(c *CredentialConfig){
		"issuer not did:lz":  func(c *CredentialConfig) { c.Issuer = "did:web:example.com" },
		"holder not did:key": func(c *CredentialConfig) { c.Holder = "did:lz:someone" },
		"no validFrom":       func(c *CredentialConfig) { c.ValidFrom = time.Time{} },
		"until before from":  func(c *CredentialConfig) { c.ValidUntil = c.ValidFrom.Add(-time.Hour) },
		"claim id":           func(c *CredentialConfig) { c.Claims = map[string]any{"id": "x"} },
		"claim @type":        func(c *CredentialConfig) { c.Claims = map[string]any{"@type": "x"} },
		"claim iri":          func(c *CredentialConfig) { c.Claims = map[string]any{"https://x/y": "x"} },
		"bad purpose": func(c *CredentialConfig) {
			c.Status = []StatusEntry{{ListCredential: "https://s/1", Index: 1, Purpose: "message"}}
		},
		"relative list url": func(c *CredentialConfig) {
			c.Status = []StatusEntry{{ListCredential: "status/1", Index: 1, Purpose: "revocation"}}
		},
	} {
		c := ok
		mutate(&c)
		if _, err := NewCredential(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewCredential(ok); err != nil {
		t.Fatal(err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
