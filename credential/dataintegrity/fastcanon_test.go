package dataintegrity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multiformats/go-multibase"
	"github.com/piprate/json-gold/ld"

	"lianzheng/assets"
	"lianzheng/credential/ldcontext"
	"lianzheng/credential/statuslist"
	"lianzheng/did"
	"lianzheng/internal/testvectors"
)

// The fast path's promise: for every document it answers, the bytes are the general path's
// (json-gold's). These tests compare the two on our credential shapes with random values,
// on hostile documents, on the W3C vectors, and (FuzzRDFCFastPath) on whatever a fuzzer
// makes. LZ_RDFC_ITERATIONS raises the iteration counts, LZ_RDFC_SEED fixes the seed.

func iterations(def int) int {
	if n, err := strconv.Atoi(os.Getenv("LZ_RDFC_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return def
}

func testRand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("LZ_RDFC_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("LZ_RDFC_SEED=%d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// fastFor is the fast path's answer for doc, with the template of doc's key built now if
// the key is new (rather than on its second sighting). used is false if it declines.
func fastFor(doc map[string]any) (out []byte, used bool) {
	sh := &shape{}
	if !sh.match(doc) {
		return nil, false
	}
	t, known := templates.lookup(sh.key)
	if !known {
		t = buildTemplate(sh, doc)
		templates.store(string(sh.key), t)
	}
	if t == nil {
		return nil, false
	}
	return t.render(sh.slots)
}

// compareFast checks doc: if the fast path answers, the general path gives the same bytes.
// It returns whether the fast path answered.
func compareFast(t *testing.T, what string, doc map[string]any) bool {
	t.Helper()
	fast, used := fastFor(doc)
	if !used {
		return false
	}
	gen, err := canonicalizeRDFCGeneral(doc)
	if err != nil {
		t.Fatalf("%s: the fast path answered where the general path refuses (%v):\n%s\ndocument: %s", what, err, fast, mustJSON(doc))
	}
	if !bytes.Equal(fast, gen) {
		t.Fatalf("%s: fast and general canonical forms differ\nfast:\n%s\ngeneral:\n%s\ndocument: %s", what, fast, gen, mustJSON(doc))
	}
	return true
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Random values.

var stringPieces = []string{
	"张三", "北京市东城区某街道1号", "户主", "汉", "𠀋𡈽", "😀", "é", "e\u0301", "ß", "İ", "\u200b", "\ufeff",
	"\"", "\\", "\\\"", "\n", "\r", "\r\n", "\t", "\x00", "\x01", "\x1f", "\x7f", "\u0085", "\u2028", "\u2029", "\ufffd",
	"'", "<", ">", "&", "{", "}", "^^", "@", "@id", "@value", "_:b0", "_:c14n1", " .", " .\n", "<urn:x>",
	"https://evil.example/x", "did:key:z6Mk", "urn:uuid:1", "a", "0", "-1", "1e3", "true", "null", " ",
}

func randString(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return ""
	case 1:
		return strings.Repeat(stringPieces[r.IntN(len(stringPieces))], 1+r.IntN(400))
	case 2:
		return "<" + undefinedTermVocab + "x" // the general path refuses it: so must the fast path
	}
	var b strings.Builder
	for n := r.IntN(8); n >= 0; n-- {
		switch r.IntN(3) {
		case 0:
			b.WriteString(stringPieces[r.IntN(len(stringPieces))])
		case 1:
			b.WriteRune(rune(0x4e00 + r.IntN(0x9fa5-0x4e00)))
		default:
			b.WriteRune(rune(r.IntN(0x80)))
		}
	}
	return b.String()
}

func randDate(r *rand.Rand) string {
	return fmt.Sprintf("%04d-%02d-%02d", 1900+r.IntN(200), 1+r.IntN(12), 1+r.IntN(28))
}

func randNumber(r *rand.Rand) any {
	switch r.IntN(10) {
	case 0:
		return int64(r.Int64N(1<<62)) - 1<<61
	case 1:
		return int64(r.IntN(1000)) - 500
	case 2:
		return -float64(r.IntN(1e6)) / 1000
	case 3:
		return math.Ldexp(r.Float64(), r.IntN(2000)-1000)
	case 4:
		return 1e21
	case 5:
		return float64(1<<53 + 1) // not exactly an int64 after the JSON round trip? it is: 2^53
	case 6:
		return int64(math.MaxInt64)
	case 7:
		return 0.1
	case 8:
		return math.Copysign(0, -1)
	default:
		return json.Number([]string{"1.0", "1E2", "-0", "123456789012345678901234567890", "1e-7", "5e-324", "0.000001"}[r.IntN(7)])
	}
}

func randLabel(r *rand.Rand) string {
	const a = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for n := 1 + r.IntN(10); n > 0; n-- {
		b.WriteByte(a[r.IntN(len(a))])
	}
	return b.String()
}

// randBase is a consortium public base URL: https://host[:port][/path]. One in eight has
// a host json-gold's IsURL refuses (weird is true): json-gold then drops every triple
// naming it, and the fast path declines such documents.
func randBase(r *rand.Rand) (base string, weird bool) {
	host := "h" + randLabel(r) + ".s" + randLabel(r) + ".example"
	if r.IntN(4) == 0 {
		host = "gov-" + randLabel(r) + ".cn"
	}
	if r.IntN(8) == 0 {
		host, weird = []string{"p.0.example", "a_b.example", "-x.example", "x", "1.2.3.999"}[r.IntN(5)], true
	}
	b := "https://" + host
	if r.IntN(3) == 0 {
		b += ":" + strconv.Itoa(1+r.IntN(65535))
	}
	if r.IntN(3) == 0 {
		b += "/" + randLabel(r)
	}
	return b, weird
}

func randHolder(r *rand.Rand) string {
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	return did.KeyFromEd25519(ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
}

func randUUID(r *rand.Rand) string {
	return fmt.Sprintf("urn:uuid:%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
}

// numberType is a synthetic catalogue type with the claim kinds the demo catalogue lacks.
var numberType = assets.CredentialType{ID: "synthetic", Claims: []assets.Claim{
	{Name: "count", Type: "number", Required: true}, {Name: "flag", Type: "boolean", Required: true},
	{Name: "ratio", Type: "number"}, {Name: "active", Type: "boolean"}, {Name: "note", Type: "string"},
	{Name: "since", Type: "date"}, {Name: "name", Type: "string"},
}}

// randCredential is what issuer.(*Department).sign makes for type ct: random claim values
// (optional claims sometimes absent), either context form, one or two status entries.
// weird: the base URL is one json-gold refuses as a URL.
func randCredential(r *rand.Rand, ct assets.CredentialType) (cred map[string]any, cfg CredentialConfig, weird bool) {
	claims := map[string]any{}
	for _, c := range ct.Claims {
		if !c.Required && r.IntN(3) == 0 {
			continue
		}
		switch c.Type {
		case "date":
			claims[c.Name] = randDate(r)
		case "number":
			claims[c.Name] = randNumber(r)
		case "boolean":
			claims[c.Name] = r.IntN(2) == 0
		default:
			claims[c.Name] = randString(r)
		}
	}
	dept := randLabel(r)
	from := time.Unix(1_600_000_000+r.Int64N(400_000_000), 0)
	cfg = CredentialConfig{
		ID: randUUID(r), Types: []string{ledgerW3CType(ct.ID)}, Issuer: "did:lz:" + dept, Holder: randHolder(r),
		ValidFrom: from, Claims: claims,
	}
	if r.IntN(4) != 0 {
		cfg.ValidUntil = from.AddDate(0, 0, 1+r.IntN(3650))
	}
	idx := r.IntN(131072)
	if r.IntN(2) == 0 { // under a public base URL: the inline @vocab, list credential URLs
		var base string
		base, weird = randBase(r)
		cfg.Vocab = base + "/ns/credentials/v1#"
		list := base + "/status/" + dept + "/" + strconv.Itoa(r.IntN(9))
		cfg.Status = []StatusEntry{{ListCredential: list + "/revocation", Index: idx, Purpose: statuslist.PurposeRevocation},
			{ListCredential: list + "/suspension", Index: idx, Purpose: statuslist.PurposeSuspension}}
	} else { // before: the LianZheng context, both entries the ledger URN (the same id)
		u := "urn:lz:status:" + dept + ":" + strconv.Itoa(r.IntN(9))
		cfg.Status = []StatusEntry{{ListCredential: u, Index: idx, Purpose: statuslist.PurposeRevocation},
			{ListCredential: u, Index: idx, Purpose: statuslist.PurposeSuspension}}
	}
	switch r.IntN(6) {
	case 0:
		cfg.Status = cfg.Status[:1]
	case 1:
		cfg.Status[1].Index = r.IntN(131072)
	}
	c, err := BuildCredential(cfg)
	if err != nil {
		panic(err)
	}
	return c, cfg, weird
}

// ledgerW3CType is ledger.W3CType (not imported: ledger must not be a test dependency of
// the credential packages' internals).
func ledgerW3CType(id string) string {
	var b strings.Builder
	up := true
	for _, c := range id {
		if c == '-' || c == '_' || c == '.' {
			up = true
			continue
		}
		if up {
			c = []rune(strings.ToUpper(string(c)))[0]
			up = false
		}
		b.WriteRune(c)
	}
	return b.String() + "Credential"
}

// checkSigned compares everything Sign derives from the canonical forms with the general
// path's: canonical document and proof configuration, both hashes, and the proofValue.
func checkSigned(t *testing.T, what string, cred map[string]any, priv ed25519.PrivateKey, pub ed25519.PublicKey, vm string, created time.Time, weird bool) {
	t.Helper()
	doc, err := toDocument(cred)
	if err != nil {
		t.Fatal(err)
	}
	proof := map[string]any{"type": ProofType, "cryptosuite": CryptosuiteRDFC, "created": xsdDateTime(created),
		"verificationMethod": vm, "proofPurpose": PurposeAssertion, "@context": doc["@context"]}
	if !compareFast(t, what+" (document)", doc) && !weird {
		t.Fatalf("%s: the fast path declined one of our credentials: %s", what, mustJSON(doc))
	}
	if !compareFast(t, what+" (proof configuration)", proof) {
		t.Fatalf("%s: the fast path declined our proof configuration: %s", what, mustJSON(proof))
	}
	genDoc, err := canonicalizeRDFCGeneral(doc)
	if err != nil {
		t.Fatal(err)
	}
	genProof, err := canonicalizeRDFCGeneral(proof)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ComputeSigningInput(CryptosuiteRDFC, doc, proof)
	if err != nil {
		t.Fatal(err)
	}
	if in.DocumentHash != sha256.Sum256(genDoc) || in.ProofConfigHash != sha256.Sum256(genProof) {
		t.Fatalf("%s: hashes differ from the general path's", what)
	}
	h1, h2 := sha256.Sum256(genProof), sha256.Sum256(genDoc)
	wantPV, _ := multibase.Encode(multibase.Base58BTC, ed25519.Sign(priv, append(h1[:], h2[:]...)))
	signed, err := SignCredential(cred, vm, priv, created)
	if err != nil {
		t.Fatal(err)
	}
	if pv := signed["proof"].(map[string]any)["proofValue"]; pv != wantPV {
		t.Fatalf("%s: proofValue %v, the general path's %s", what, pv, wantPV)
	}
	raw, _ := json.Marshal(signed)
	resolve := func(m string) (ed25519.PublicKey, error) { return pub, nil }
	if _, err := Verify(raw, resolve); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestFastRDFCCatalogue: every demo catalogue type (and a synthetic one with numbers and
// booleans), random claim values, both context forms, random base URLs, one or two status
// entries: the fast path answers, byte for byte as json-gold.
func TestFastRDFCCatalogue(t *testing.T) {
	cat, err := assets.DemoCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	types := append(append([]assets.CredentialType{}, cat.Types...), numberType)
	r := testRand(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	n := iterations(12 * len(types))
	for i := 0; i < n; i++ {
		ct := types[i%len(types)]
		cred, cfg, weird := randCredential(r, ct)
		vm := cfg.Issuer + "#key-" + strconv.Itoa(1+r.IntN(3))
		created := cfg.ValidFrom.Add(time.Duration(r.IntN(1000)) * time.Second)
		what := fmt.Sprintf("#%d %s", i, ct.ID)
		if hasSentinel(cred) {
			doc, _ := toDocument(cred)
			if _, used := fastFor(doc); used {
				t.Fatalf("%s: the fast path answered for a document the strict general path refuses", what)
			}
			continue
		}
		checkSigned(t, what, cred, priv, pub, vm, created, weird)
	}
}

func hasSentinel(cred map[string]any) bool {
	return strings.Contains(mustJSON(cred), strings.ReplaceAll("<"+undefinedTermVocab, "<", `\u003c`))
}

// TestFastRDFCStatusListCredentials: the gateway's BitstringStatusListCredentials.
func TestFastRDFCStatusListCredentials(t *testing.T) {
	r := testRand(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	for i := 0; i < iterations(40); i++ {
		l, err := statuslist.New(131072, 1)
		if err != nil {
			t.Fatal(err)
		}
		for j := r.IntN(50); j > 0; j-- {
			if err := l.Set(r.IntN(131072), 1); err != nil {
				t.Fatal(err)
			}
		}
		base, weird := randBase(r)
		dept := randLabel(r)
		purpose := []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension}[r.IntN(2)]
		c := statuslist.W3CCredentialConfig{ID: base + "/status/" + dept + "/0/" + purpose, Issuer: "did:lz:" + dept,
			Purpose: purpose, ValidFrom: time.Unix(1_700_000_000+r.Int64N(1e8), 0)}
		if r.IntN(2) == 0 {
			c.ValidUntil = c.ValidFrom.Add(time.Hour)
		}
		if r.IntN(2) == 0 {
			c.TTL = time.Duration(1+r.IntN(86400)) * time.Second
		}
		cred, err := l.W3CCredential(c)
		if err != nil {
			t.Fatal(err)
		}
		checkSigned(t, fmt.Sprintf("status list #%d", i), cred, priv, pub, c.Issuer+"#key-1", c.ValidFrom, weird)
	}
}

// TestFastRDFCW3CVectors: the W3C eddsa-rdfc-2022 vector document and proof configuration
// are in the fast path's grammar; its answer is the vector's canonical text.
func TestFastRDFCW3CVectors(t *testing.T) {
	dir := "w3c-di-eddsa/eddsa-rdfc-2022/"
	signed := readJSON(t, dir+"signedDataInt.json")
	unsigned := copyMap(signed)
	delete(unsigned, "proof")
	proof := readJSON(t, dir+"proofConfigDataInt.json")
	for _, c := range []struct {
		doc  map[string]any
		file string
	}{{unsigned, "canonDocDataInt.txt"}, {proof, "proofCanonDataInt.txt"}} {
		got, used := fastFor(c.doc)
		if !used {
			t.Fatalf("%s: the fast path declined the vector", c.file)
		}
		if want := testvectors.Read(t, dir+c.file); !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %q\nwant %q", c.file, got, want)
		}
	}
}

// TestFastRDFCLearnsOnSecondSighting: the cache notes a key the first time, builds on the
// second, and answers from the template after that; an unsupported key is remembered.
func TestFastRDFCLearnsOnSecondSighting(t *testing.T) {
	old := templates
	templates = newTemplateCache()
	defer func() { templates = old }()
	doc, _ := toDocument(testCredentialVocab(t, "https://learn.example/ns/credentials/v1#"))
	want, err := canonicalizeRDFCGeneral(doc)
	if err != nil {
		t.Fatal(err)
	}
	sh := &shape{}
	if !sh.match(doc) {
		t.Fatal("no match")
	}
	for i := 0; i < 3; i++ {
		got, err := canonicalizeRDFC(doc)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: %v", i, err)
		}
		tm, known := templates.lookup(sh.key)
		if (i == 0) == known || i > 0 && tm == nil {
			t.Fatalf("round %d: known %v template %v", i, known, tm != nil)
		}
	}
	// A key whose template cannot be made is remembered as such: "_sd" is typed @json by
	// the VC 2.0 context, so its value is not a plain literal.
	odd := copyMap(doc)
	subj := copyMap(doc["credentialSubject"].(map[string]any))
	subj["_sd"] = "x"
	odd["credentialSubject"] = subj
	want, err = canonicalizeRDFCGeneral(odd)
	if err != nil {
		t.Fatal(err)
	}
	if !sh.match(odd) {
		t.Fatal("no match")
	}
	for i := 0; i < 3; i++ {
		if got, err := canonicalizeRDFC(odd); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	if tm, known := templates.lookup(sh.key); !known || tm != nil {
		t.Fatalf("the @json claim's key: known %v, template %v", known, tm != nil)
	}
}

// TestFastRDFCHostile: documents near our shapes that play with JSON-LD. Whatever the fast
// path does with them, it never gives a canonical form the general path would not: either
// it declines, or the bytes are equal. (A difference would be a signature bypass: a
// verifier computing another canonical form than the signer.)
func TestFastRDFCHostile(t *testing.T) {
	type mut func(d, subj map[string]any)
	entry := func(d map[string]any, i int) map[string]any { return d["credentialStatus"].([]any)[i].(map[string]any) }
	cases := map[string]mut{
		"untouched":                   func(d, s map[string]any) {},
		"claim @id":                   func(d, s map[string]any) { s["@id"] = "did:key:zOther" },
		"claim @type":                 func(d, s map[string]any) { s["@type"] = "X" },
		"claim @value":                func(d, s map[string]any) { s["@value"] = "x" },
		"claim IRI string":            func(d, s map[string]any) { s["address"] = "https://evil.example/x" },
		"claim did string":            func(d, s map[string]any) { s["address"] = "did:key:zEvil" },
		"claim urn string":            func(d, s map[string]any) { s["address"] = "urn:evil:1" },
		"claim blank node string":     func(d, s map[string]any) { s["address"] = "_:b0" },
		"claim number":                func(d, s map[string]any) { s["address"] = json.Number("5") },
		"claim number string":         func(d, s map[string]any) { s["address"] = "5" },
		"claim fraction":              func(d, s map[string]any) { s["address"] = json.Number("0.30000000000000004") },
		"claim huge number":           func(d, s map[string]any) { s["address"] = json.Number("1e400") },
		"claim tiny number":           func(d, s map[string]any) { s["address"] = json.Number("1e-400") },
		"claim bool":                  func(d, s map[string]any) { s["address"] = true },
		"claim null":                  func(d, s map[string]any) { s["address"] = nil },
		"claim array":                 func(d, s map[string]any) { s["address"] = []any{"a", "b"} },
		"claim one-element array":     func(d, s map[string]any) { s["address"] = []any{"a"} },
		"claim object":                func(d, s map[string]any) { s["address"] = map[string]any{"x": "y"} },
		"claim value object":          func(d, s map[string]any) { s["address"] = map[string]any{"@value": "y", "@language": "zh"} },
		"claim name (VC term)":        func(d, s map[string]any) { s["name"] = "x" },
		"claim description (VC term)": func(d, s map[string]any) { s["description"] = "x" },
		"claim digestMultibase":       func(d, s map[string]any) { s["digestMultibase"] = "zQm" },
		"claim digestSRI":             func(d, s map[string]any) { s["digestSRI"] = "sha384-x" },
		"claim mediaType":             func(d, s map[string]any) { s["mediaType"] = "text/plain" },
		"claim _sd (@json)":           func(d, s map[string]any) { s["_sd"] = "x" },
		"claim exp (typed)":           func(d, s map[string]any) { s["exp"] = json.Number("5") },
		"claim iat string typed":      func(d, s map[string]any) { s["iat"] = "5" },
		"claim iss (@id)":             func(d, s map[string]any) { s["iss"] = "https://evil.example/" },
		"claim iss relative":          func(d, s map[string]any) { s["iss"] = "evil" },
		"claim validFrom in subject":  func(d, s map[string]any) { s["validFrom"] = d["validFrom"] },
		"claim issuer in subject":     func(d, s map[string]any) { s["issuer"] = d["issuer"] },
		"claim proof in subject":      func(d, s map[string]any) { s["proof"] = "x" },
		"claim statusPurpose":         func(d, s map[string]any) { s["statusPurpose"] = "revocation" },
		"claim type":                  func(d, s map[string]any) { s["type"] = "Person" },
		"claim type list":             func(d, s map[string]any) { s["type"] = []any{"Person", "Agent"} },
		"claim with colon":            func(d, s map[string]any) { s["schema:name"] = "x" },
		"claim IRI name":              func(d, s map[string]any) { s["https://evil.example/p"] = "x" },
		"claim sentinel literal":      func(d, s map[string]any) { s["address"] = "<" + undefinedTermVocab + "x" },
		"claim sentinel IRI":          func(d, s map[string]any) { s["address"] = undefinedTermVocab + "x" },
		"claim base sentinel IRI":     func(d, s map[string]any) { s["address"] = relativeIRIBase + "x" },
		"claim non-ASCII name":        func(d, s map[string]any) { s["姓名"] = "x" },
		"holder relative":             func(d, s map[string]any) { s["id"] = "holder" },
		"holder blank node":           func(d, s map[string]any) { s["id"] = "_:b0" },
		"holder https":                func(d, s map[string]any) { s["id"] = "https://holder.example/1" },
		"holder bad https":            func(d, s map[string]any) { s["id"] = "https://-x-/1" },
		"holder https no dot":         func(d, s map[string]any) { s["id"] = "https://localhost/1" },
		"holder https underscore":     func(d, s map[string]any) { s["id"] = "https://a_b.example/1" },
		"holder https bad port":       func(d, s map[string]any) { s["id"] = "https://a.example:99999/1" },
		"holder https percent":        func(d, s map[string]any) { s["id"] = "https://a.example/%zz" },
		"holder did percent fragment": func(d, s map[string]any) { s["id"] = "did:key:z#%zz" },
		"holder did slash":            func(d, s map[string]any) { s["id"] = "did:/key" },
		"holder did space":            func(d, s map[string]any) { s["id"] = "did:key:a b" },
		"holder did angle":            func(d, s map[string]any) { s["id"] = "did:key:a>b" },
		"holder did unicode":          func(d, s map[string]any) { s["id"] = "did:key:中" },
		"holder missing":              func(d, s map[string]any) { delete(s, "id") },
		"holder is credential":        func(d, s map[string]any) { s["id"] = d["id"] },
		"holder is issuer":            func(d, s map[string]any) { s["id"] = d["issuer"] },
		"holder is status entry":      func(d, s map[string]any) { s["id"] = entry(d, 0)["id"] },
		"entries same id":             func(d, s map[string]any) { entry(d, 1)["id"] = entry(d, 0)["id"] },
		"entries same id other index": func(d, s map[string]any) { entry(d, 1)["id"] = entry(d, 0)["id"]; entry(d, 1)["statusListIndex"] = "8" },
		"entries identical":           func(d, s map[string]any) { d["credentialStatus"].([]any)[1] = entry(d, 0) },
		"entry is credential":         func(d, s map[string]any) { entry(d, 0)["id"] = d["id"] },
		"entry index number":          func(d, s map[string]any) { entry(d, 0)["statusListIndex"] = json.Number("7") },
		"entries same id index number": func(d, s map[string]any) {
			entry(d, 1)["id"] = entry(d, 0)["id"]
			entry(d, 1)["statusListIndex"] = json.Number("94567")
		},
		"entry list relative":   func(d, s map[string]any) { entry(d, 0)["statusListCredential"] = "list" },
		"entry no id":           func(d, s map[string]any) { delete(entry(d, 0), "id") },
		"entry no type":         func(d, s map[string]any) { delete(entry(d, 0), "type") },
		"entry other type":      func(d, s map[string]any) { entry(d, 0)["type"] = "StatusList2021Entry" },
		"entry extra member":    func(d, s map[string]any) { entry(d, 0)["statusSize"] = json.Number("2") },
		"entry statusMessage":   func(d, s map[string]any) { entry(d, 0)["statusMessage"] = "x" },
		"entry nested":          func(d, s map[string]any) { entry(d, 0)["x"] = map[string]any{"id": "urn:a"} },
		"one entry as array":    func(d, s map[string]any) { d["credentialStatus"] = []any{entry(d, 0)} },
		"one entry as object":   func(d, s map[string]any) { d["credentialStatus"] = entry(d, 0) },
		"no status":             func(d, s map[string]any) { delete(d, "credentialStatus") },
		"no id":                 func(d, s map[string]any) { delete(d, "id") },
		"id https":              func(d, s map[string]any) { d["id"] = "https://cred.example/1" },
		"id blank":              func(d, s map[string]any) { d["id"] = "_:c14n0" },
		"issuer https":          func(d, s map[string]any) { d["issuer"] = "https://issuer.example/" },
		"issuer object":         func(d, s map[string]any) { d["issuer"] = map[string]any{"id": "did:lz:x"} },
		"issuer relative":       func(d, s map[string]any) { d["issuer"] = "x" },
		"validFrom number":      func(d, s map[string]any) { d["validFrom"] = json.Number("5") },
		"validFrom not a date":  func(d, s map[string]any) { d["validFrom"] = "yesterday \"\\\n" },
		"no validFrom":          func(d, s map[string]any) { delete(d, "validFrom") },
		"top-level name":        func(d, s map[string]any) { d["name"] = "x" },
		"top-level evidence":    func(d, s map[string]any) { d["evidence"] = "urn:e:1" },
		"top-level proof":       func(d, s map[string]any) { d["proof"] = map[string]any{"type": "DataIntegrityProof"} },
		"top-level holder":      func(d, s map[string]any) { d["holder"] = "did:key:z" },
		"top-level cryptosuite": func(d, s map[string]any) { d["cryptosuite"] = "eddsa-rdfc-2022" },
		"top-level @type":       func(d, s map[string]any) { d["@type"] = "X" },
		"top-level @graph":      func(d, s map[string]any) { d["@graph"] = []any{} },
		"top-level @included":   func(d, s map[string]any) { d["@included"] = []any{} },
		"subject array":         func(d, s map[string]any) { d["credentialSubject"] = []any{s} },
		"subject string":        func(d, s map[string]any) { d["credentialSubject"] = "did:key:z" },
		"type VC only":          func(d, s map[string]any) { d["type"] = []any{"VerifiableCredential"} },
		"type reversed":         func(d, s map[string]any) { d["type"] = []any{"HouseholdRegisterCredential", "VerifiableCredential"} },
		"type string":           func(d, s map[string]any) { d["type"] = "VerifiableCredential" },
		"type VP":               func(d, s map[string]any) { d["type"] = []any{"VerifiablePresentation"} },
		"type JsonSchema":       func(d, s map[string]any) { d["type"] = []any{"VerifiableCredential", "JsonSchema"} },
		"type status list":      func(d, s map[string]any) { d["type"] = []any{"VerifiableCredential", "BitstringStatusListCredential"} },
		"type duplicate":        func(d, s map[string]any) { d["type"] = []any{"VerifiableCredential", "VerifiableCredential"} },
		"type IRI":              func(d, s map[string]any) { d["type"] = []any{"VerifiableCredential", "https://evil.example/T"} },
		"context string":        func(d, s map[string]any) { d["@context"] = ldcontext.CredentialsV2 },
		"context VC only":       func(d, s map[string]any) { d["@context"] = []any{ldcontext.CredentialsV2} },
		"context reversed":      func(d, s map[string]any) { d["@context"] = []any{d["@context"].([]any)[1], ldcontext.CredentialsV2} },
		"context v1":            func(d, s map[string]any) { d["@context"] = []any{ldcontext.CredentialsV1, ldcontext.LianZhengV1} },
		"context extra":         func(d, s map[string]any) { d["@context"] = append(d["@context"].([]any), ldcontext.DataIntegrityV2) },
		"context examples": func(d, s map[string]any) {
			d["@context"] = []any{ldcontext.CredentialsV2, ldcontext.CredentialsExamplesV2}
		},
		"context two vocabs": func(d, s map[string]any) {
			d["@context"] = append(d["@context"].([]any), map[string]any{"@vocab": "https://b.example/#"})
		},
		"vocab relative": func(d, s map[string]any) { d["@context"].([]any)[1] = map[string]any{"@vocab": "ns#"} },
		"vocab no hash": func(d, s map[string]any) {
			d["@context"].([]any)[1] = map[string]any{"@vocab": "https://a.example/ns/"}
		},
		"vocab urn":      func(d, s map[string]any) { d["@context"].([]any)[1] = map[string]any{"@vocab": "urn:x:"} },
		"vocab bad host": func(d, s map[string]any) { d["@context"].([]any)[1] = map[string]any{"@vocab": "https://-bad-/ns#"} },
		"vocab underscore host": func(d, s map[string]any) {
			d["@context"].([]any)[1] = map[string]any{"@vocab": "https://a_b.example/ns#"}
		},
		"vocab sentinel": func(d, s map[string]any) { d["@context"].([]any)[1] = map[string]any{"@vocab": undefinedTermVocab} },
		"vocab W3C credentials": func(d, s map[string]any) {
			d["@context"].([]any)[1] = map[string]any{"@vocab": "https://www.w3.org/2018/credentials#"}
		},
		"vocab rdf": func(d, s map[string]any) {
			d["@context"].([]any)[1] = map[string]any{"@vocab": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
		},
		"vocab with term def": func(d, s map[string]any) {
			d["@context"].([]any)[1] = map[string]any{"@vocab": "https://a.example/#", "address": "@id"}
		},
		"vocab @base": func(d, s map[string]any) { d["@context"].([]any)[1] = map[string]any{"@base": "https://a.example/"} },
		"vocab alias": func(d, s map[string]any) { d["@context"].([]any)[1] = map[string]any{"address": "@type"} },
	}
	for _, vocab := range []string{"", "https://hostile.example/ns/credentials/v1#"} {
		used := 0
		for name, m := range cases {
			var base map[string]any
			if vocab == "" {
				base = testCredential(t)
			} else {
				base = testCredentialVocab(t, vocab)
			}
			d, err := toDocument(base)
			if err != nil {
				t.Fatal(err)
			}
			s := d["credentialSubject"].(map[string]any)
			m(d, s)
			if compareFast(t, name, d) {
				used++
			}
			// And through the cache, as Verify would meet it three times.
			want, werr := canonicalizeRDFCGeneral(d)
			for i := 0; i < 3; i++ {
				got, err := canonicalizeRDFC(d)
				if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
					t.Fatalf("%s: canonicalizeRDFC %v / general %v", name, err, werr)
				}
			}
		}
		t.Logf("vocab %q: the fast path answered %d of %d hostile variants (and agreed)", vocab, used, len(cases))
	}
}

// TestFastRDFCProofConfigHostile: proof configurations as a verifier meets them.
func TestFastRDFCProofConfigHostile(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"type": ProofType, "cryptosuite": CryptosuiteRDFC, "created": "2025-01-01T00:00:00Z",
			"verificationMethod": "did:lz:gongan#key-1", "proofPurpose": PurposeAssertion,
			"@context": []any{ldcontext.CredentialsV2, ldcontext.LianZhengV1}}
	}
	cases := map[string]func(p map[string]any){
		"untouched": func(p map[string]any) {},
		"expires":   func(p map[string]any) { p["expires"] = "2030-01-01T00:00:00Z" },
		"domain challenge nonce": func(p map[string]any) {
			p["domain"], p["challenge"], p["nonce"] = "https://verifier.example", "c\"\\\n", "n"
		},
		"purpose authentication": func(p map[string]any) { p["proofPurpose"] = PurposeAuthentication },
		"purpose IRI":            func(p map[string]any) { p["proofPurpose"] = "https://w3id.org/security#assertionMethod" },
		"purpose unknown":        func(p map[string]any) { p["proofPurpose"] = "other" },
		"vm https":               func(p map[string]any) { p["verificationMethod"] = "https://issuer.example/keys/1" },
		"vm relative":            func(p map[string]any) { p["verificationMethod"] = "#key-1" },
		"vm blank":               func(p map[string]any) { p["verificationMethod"] = "_:b1" },
		"vm object":              func(p map[string]any) { p["verificationMethod"] = map[string]any{"id": "did:lz:x#k"} },
		"id":                     func(p map[string]any) { p["id"] = "urn:uuid:1" },
		"previousProof":          func(p map[string]any) { p["previousProof"] = "urn:uuid:2" },
		"proofValue":             func(p map[string]any) { p["proofValue"] = "z1" },
		"cryptosuite other":      func(p map[string]any) { p["cryptosuite"] = "eddsa-jcs-2022" },
		"created number":         func(p map[string]any) { p["created"] = json.Number("1") },
		"type other":             func(p map[string]any) { p["type"] = "Ed25519Signature2020" },
		"type list":              func(p map[string]any) { p["type"] = []any{ProofType} },
		"context vocab": func(p map[string]any) {
			p["@context"] = []any{ldcontext.CredentialsV2, map[string]any{"@vocab": "https://a.example/ns#"}}
		},
		"no context":  func(p map[string]any) { delete(p, "@context") },
		"extra claim": func(p map[string]any) { p["address"] = "x" },
	}
	for name, m := range cases {
		p := base()
		m(p)
		d, err := toDocument(p)
		if err != nil {
			t.Fatal(err)
		}
		compareFast(t, name, d)
	}
}

// TestPlainCopyIsMarshalAndParse: toDocument's direct copy of a map equals what marshalling
// and strict parsing make of it.
func TestPlainCopyIsMarshalAndParse(t *testing.T) {
	r := testRand(t)
	var value func(depth int) any
	value = func(depth int) any {
		switch k := r.IntN(14); {
		case k < 3 && depth < 5:
			m := map[string]any{}
			for n := r.IntN(5); n > 0; n-- {
				m[randString(r)] = value(depth + 1)
			}
			return m
		case k < 4 && depth < 5:
			a := []any{}
			for n := r.IntN(4); n > 0; n-- {
				a = append(a, value(depth+1))
			}
			return a
		case k == 4:
			return randNumber(r)
		case k == 5:
			return math.Float64frombits(r.Uint64())
		case k == 6:
			return []any{int8(-3), uint16(7), int32(-1 << 30), uint64(math.MaxUint64), uint(5), int(r.Int64())}
		case k == 7:
			return json.Number([]string{"", "0", "-0.0e+00", "1.5E-3", "01", "1.", "+1", "NaN", "1e", "-"}[r.IntN(10)])
		case k == 8:
			return r.IntN(2) == 0
		case k == 9:
			return nil
		case k == 10:
			return "\xff" + randString(r) // invalid UTF-8: json.Marshal replaces it
		case k == 11:
			return float32(1.5)
		case k == 12:
			return map[string]string{"a": "b"}
		default:
			return randString(r)
		}
	}
	copied := 0
	for i := 0; i < iterations(2000); i++ {
		m := map[string]any{}
		for n := r.IntN(6); n > 0; n-- {
			m[randString(r)] = value(0)
		}
		size := 0
		got, ok := plainCopy(m, 0, &size)
		b, merr := json.Marshal(m)
		var want map[string]any
		var perr error
		if merr == nil {
			want, perr = toDocumentBytes(b)
		}
		if !ok {
			continue // the slow path decides
		}
		if merr != nil || perr != nil {
			t.Fatalf("plainCopy accepted what marshal/parse refuse (%v / %v): %#v", merr, perr, m)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("plainCopy differs:\n got %#v\nwant %#v", got, want)
		}
		copied++
	}
	if copied < iterations(2000)/10 {
		t.Fatalf("only %d documents copied directly", copied)
	}
	t.Logf("%d documents copied directly, all equal to marshal and parse", copied)
	for _, f := range []float64{0, math.Copysign(0, -1), 1e-7, 1e-6, 9.999999e-7, 1e20, 1e21, 123456789.125, 5e-324, math.MaxFloat64, -1e-9} {
		b, _ := json.Marshal(f)
		if s := formatJSONFloat(f); s != string(b) {
			t.Errorf("%v: %s, json.Marshal %s", f, s, b)
		}
	}
}

func toDocumentBytes(b []byte) (map[string]any, error) { return toDocument(b) }

// TestIRIChecksMatchJSONGold: the shortcuts for json-gold's IRI checks agree with them.
func TestIRIChecksMatchJSONGold(t *testing.T) {
	r := testRand(t)
	const chars = "abcXYZ019-._~:/?#@!$&'()*+,;=%"
	for i := 0; i < iterations(20000); i++ {
		var b strings.Builder
		for n := r.IntN(12); n > 0; n-- {
			b.WriteByte(chars[r.IntN(len(chars))])
		}
		rest := b.String()
		for _, scheme := range []string{"urn", "did"} {
			v := scheme + ":" + rest
			if len(rest) > 0 && opaqueIRI(v, scheme) != ld.IsAbsoluteIri(v) {
				t.Fatalf("opaqueIRI(%q) = %v, json-gold %v", v, opaqueIRI(v, scheme), ld.IsAbsoluteIri(v))
			}
		}
		hosts := []string{"a.example", "a_b.example", "-a.example", "a.example:8443", "a.example:99999", "localhost", "1.2.3.4", "a..b", "中.example"}
		v := "https://" + hosts[r.IntN(len(hosts))] + "/" + rest
		want := ld.IsAbsoluteIri(v) && ld.IsURL(v)
		if got := httpIRI(v); got != want {
			t.Fatalf("httpIRI(%q) = %v, json-gold %v", v, got, want)
		}
		// The fragment rule: <L>#<index> is decided by <L>#0.
		if !strings.Contains(v, "#") {
			w := v + "#" + strconv.Itoa(r.IntN(1<<20))
			if got, want := httpIRI(w), ld.IsAbsoluteIri(w) && ld.IsURL(w); got != want {
				t.Fatalf("httpIRI(%q) = %v, json-gold %v", w, got, want)
			}
		}
	}
}

// FuzzRDFCFastPath: for any JSON document the fast path answers, the general path gives
// the same bytes. Seeds: our credentials in both forms, a status list credential, proof
// configurations, and hostile variants. Each new shape costs a few runs of the general
// path, so keep minimisation short:
//
//	go test -run XXX -fuzz FuzzRDFCFastPath -fuzzminimizetime 2s ./credential/dataintegrity/
func FuzzRDFCFastPath(f *testing.F) {
	add := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	add(testCredential(f))
	add(testCredentialVocab(f, "https://fuzz.example/ns/credentials/v1#"))
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 4; i++ {
		c, _, _ := randCredential(r, numberType)
		add(c)
	}
	l, _ := statuslist.New(131072, 1)
	sl, _ := l.W3CCredential(statuslist.W3CCredentialConfig{ID: "https://fuzz.example/status/x/0/revocation", Issuer: "did:lz:x",
		Purpose: statuslist.PurposeRevocation, ValidFrom: time.Unix(1_700_000_000, 0), TTL: time.Minute})
	add(sl)
	add(map[string]any{"type": ProofType, "cryptosuite": CryptosuiteRDFC, "created": "2025-01-01T00:00:00Z",
		"verificationMethod": "did:lz:gongan#key-1", "proofPurpose": PurposeAssertion,
		"@context": []any{ldcontext.CredentialsV2, map[string]any{"@vocab": "https://fuzz.example/ns/credentials/v1#"}}})
	f.Add(testvectors.Read(f, "w3c-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json"))
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2",{"@vocab":"https://a.example/#"}],"id":"urn:a:1","type":["VerifiableCredential","X"],"credentialSubject":{"id":"urn:a:1","p":1.5,"q":true,"r":"urn:a:1"},"credentialStatus":[{"id":"urn:s:1","type":"BitstringStatusListEntry","statusListIndex":"1"},{"id":"urn:s:1","type":"BitstringStatusListEntry","statusListIndex":1}]}`))
	f.Fuzz(func(t *testing.T, text []byte) {
		doc, err := toDocument(text)
		if err != nil {
			return
		}
		fast, used := fastFor(doc)
		if !used {
			return
		}
		gen, err := canonicalizeRDFCGeneral(doc)
		if err != nil {
			t.Fatalf("the fast path answered where the general path refuses (%v):\n%s", err, fast)
		}
		if !bytes.Equal(fast, gen) {
			t.Fatalf("fast and general differ\nfast:\n%s\ngeneral:\n%s", fast, gen)
		}
	})
}

// TestFastRDFCContextAssumptions: template.sameValue relies on the contexts the grammar
// accepts giving a value object nothing its N-Quads line does not show: no @index,
// @language or @direction, and no coercion to xsd:string (printed like a plain string).
// Accepting another context means revisiting sameValue.
func TestFastRDFCContextAssumptions(t *testing.T) {
	for _, u := range []string{ldcontext.CredentialsV2, ldcontext.LianZhengV1, ldcontext.CredentialsExamplesV2} {
		raw, ok := ldcontext.Raw(u)
		if !ok {
			t.Fatalf("%s not embedded", u)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if k == "@index" || k == "@language" || k == "@direction" || e == "@index" || e == "@language" {
						t.Errorf("%s: %s %v", u, k, e)
					}
					if k == "@type" && (e == ld.XSDString || e == "xsd:string") {
						t.Errorf("%s: a term coerced to xsd:string", u)
					}
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(v)
	}
}
