package ldcontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"

	"lianzheng/internal/testvectors"
)

// sharedCopies lists the contexts that must be byte-identical to testdata/vectors/contexts.
var sharedCopies = map[string]string{
	CredentialsV1:         "credentials-v1.jsonld",
	CredentialsV2:         "credentials-v2.jsonld",
	CredentialsExamplesV1: "credentials-examples-v1.jsonld",
	CredentialsExamplesV2: "credentials-examples-v2.jsonld",
	DIDV1:                 "did-v1.jsonld",
	Ed25519Signature2020:  "ed25519-signature-2020-v1.jsonld",
	BitstringStatusListV1: "vc-bitstring-status-list-v1.jsonld",
}

func TestEmbeddedMatchSharedVectors(t *testing.T) {
	dir := filepath.Join(testvectors.Dir(t), "contexts")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Name()] = true
	}
	for url, name := range sharedCopies {
		if !seen[name] {
			t.Errorf("%s: %s missing from testdata/vectors", url, name)
			continue
		}
		want := testvectors.Read(t, "contexts/"+name)
		got, ok := Raw(url)
		if !ok {
			t.Errorf("%s not embedded", url)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: embedded copy differs from testdata/vectors/contexts/%s", url, name)
		}
		if f, _ := FileName(url); f != name {
			t.Errorf("%s mapped to %s, want %s", url, f, name)
		}
	}
	// Every shared context must be served by some URL.
	served := map[string]bool{}
	for _, u := range URLs() {
		f, _ := FileName(u)
		served[f] = true
	}
	for name := range seen {
		if strings.HasSuffix(name, ".jsonld") && !served[name] {
			t.Errorf("shared context %s is not served by the loader", name)
		}
	}
}

func TestLoaderServesEveryURL(t *testing.T) {
	var l ld.DocumentLoader = NewDocumentLoader()
	for _, u := range URLs() {
		rd, err := l.LoadDocument(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		m, ok := rd.Document.(map[string]any)
		if !ok || m["@context"] == nil {
			t.Fatalf("%s: no @context in document", u)
		}
		if rd.DocumentURL != u {
			t.Fatalf("DocumentURL %q, want %q", rd.DocumentURL, u)
		}
	}
}

func TestLoaderReturnsCopies(t *testing.T) {
	l := NewDocumentLoader()
	a, _ := l.LoadDocument(CredentialsV2)
	a.Document.(map[string]any)["@context"] = "tampered"
	b, _ := l.LoadDocument(CredentialsV2)
	if _, ok := b.Document.(map[string]any)["@context"].(map[string]any); !ok {
		t.Fatal("a caller's change leaked into the shared context")
	}
}

// noNetwork fails the test if anything tries an HTTP request while it is installed.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.t.Errorf("network access attempted: %s", r.URL)
	return nil, errors.New("network forbidden in tests")
}

func TestLoaderRejectsUnknownURLs(t *testing.T) {
	old := http.DefaultTransport
	http.DefaultTransport = noNetwork{t}
	defer func() { http.DefaultTransport = old }()

	l := NewDocumentLoader()
	for _, u := range []string{
		"https://example.com/unknown/v1",
		"https://www.w3.org/ns/credentials/v2/", // near miss: trailing slash
		"http://www.w3.org/ns/credentials/v2",   // near miss: http
		"https://www.w3.org/ns/credentials/v99", // unknown version
		"https://w3id.org/security/v2",          // not embedded on purpose
		"file:///etc/passwd",
		"",
	} {
		rd, err := l.LoadDocument(u)
		if err == nil || rd != nil {
			t.Errorf("%q: loaded, want error", u)
			continue
		}
		if !errors.Is(err, ErrUnknownContext) {
			t.Errorf("%q: error %v is not ErrUnknownContext", u, err)
		}
	}

	// Through the JSON-LD processor too: a document with an unknown context fails, offline.
	proc := ld.NewJsonLdProcessor()
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = l
	doc := map[string]any{
		"@context": []any{CredentialsV2, "https://attacker.example/ctx.jsonld"},
		"id":       "urn:x",
	}
	if _, err := proc.Expand(doc, opts); err == nil {
		t.Fatal("expansion with an unknown context succeeded")
	}
}

func TestExpandWithEmbeddedContexts(t *testing.T) {
	proc := ld.NewJsonLdProcessor()
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = NewDocumentLoader()
	doc := map[string]any{
		"@context":          []any{CredentialsV2, LianZhengV1},
		"type":              []any{"VerifiableCredential"},
		"issuer":            "did:lz:gongan",
		"credentialSubject": map[string]any{"id": "did:key:z6Mk", "householdNumber": "110101"},
	}
	out, err := proc.Expand(doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := func(v any) string { b, _ := json.Marshal(v); return string(b) }(out)
	if !strings.Contains(s, LianZhengVocab+"householdNumber") {
		t.Fatalf("claim not expanded under the LianZheng vocabulary: %s", s)
	}
}

// TestConsortiumContext: a consortium context is built from its URL alone, for exactly the
// URLs a consortium can publish it at.
func TestConsortiumContext(t *testing.T) {
	for _, u := range []string{"https://gw.example/ns/credentials/v1", "https://gw.example/lz/ns/credentials/v1",
		"http://127.0.0.1:8480/ns/credentials/v1", "http://localhost/ns/credentials/v1"} {
		doc, ok := ConsortiumContext(u)
		if !ok {
			t.Errorf("%s refused", u)
			continue
		}
		rd, err := NewDocumentLoader().LoadDocument(u)
		if err != nil || fmt.Sprint(rd.Document) != fmt.Sprint(doc) ||
			fmt.Sprint(doc) != fmt.Sprint(map[string]any{"@context": map[string]any{"@vocab": u + "#"}}) {
			t.Errorf("%s: %v %v", u, rd, err)
		}
	}
	for _, u := range []string{"http://gw.example/ns/credentials/v1", "https://gw.example/ns/credentials/v2",
		"https://gw.example/ns/credentials/v1?x", "https://gw.example/ns/credentials/v1#x", "https://u@gw.example/ns/credentials/v1",
		"ftp://gw.example/ns/credentials/v1", "https:///ns/credentials/v1", "https://gw.example/ns/credentials/v1/", "/ns/credentials/v1",
		"https://gw.example/a%20b/ns/credentials/v1"} {
		if _, ok := ConsortiumContext(u); ok {
			t.Errorf("%s accepted", u)
		}
		if _, err := NewDocumentLoader().LoadDocument(u); err == nil {
			t.Errorf("%s loaded", u)
		}
	}
}
