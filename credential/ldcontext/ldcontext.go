// Package ldcontext serves the JSON-LD contexts LianZheng uses, embedded in the binary.
// Nothing is ever fetched from the network: DocumentLoader answers only the URLs listed
// below and returns an error for every other URL.
//
// Provenance of the embedded files (contexts/):
//
//   - credentials-v1, credentials-v2, credentials-examples-v1, credentials-examples-v2,
//     did-v1, ed25519-signature-2020-v1, vc-bitstring-status-list-v1: byte-identical copies
//     of testdata/vectors/contexts (a test asserts this).
//   - odrl.jsonld: the W3C ODRL context, imported by credentials-examples-v1; copied from
//     the copy aries-framework-go embeds.
//   - multikey-v1.jsonld and data-integrity-v2.jsonld: not in the public vectors; written
//     from the published W3C contexts (Controlled Identifiers / Data Integrity). The term
//     definitions are the published ones; the byte layout is ours (JSON-LD does not care).
//     The data-integrity-v2 DataIntegrityProof definition is taken verbatim from
//     credentials-v2, which carries the same definition.
//   - lianzheng-credentials-v1.jsonld: our own context until December 2026. It only sets
//     @vocab, so every claim name a department defines maps to
//     https://lianzheng.example/ns/credentials#<name> and is never dropped by JSON-LD
//     expansion. Its URL never resolved outside this loader; credentials issued since name
//     a consortium context instead (below).
//
// Consortium contexts: a consortium with a public base URL publishes its claims' context at
// <base>/ns/credentials/v1 (ConsortiumContextURL); its whole content is
// {"@context": {"@vocab": "<that URL>#"}}, so it follows from the URL alone. The loader
// answers any such URL (https, or http on a loopback host) with that document, built, not
// fetched — the same document the consortium's gateway serves to everyone else.
package ldcontext

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// Context URLs served by the loader.
const (
	CredentialsV1         = "https://www.w3.org/2018/credentials/v1"
	CredentialsV2         = "https://www.w3.org/ns/credentials/v2"
	CredentialsExamplesV1 = "https://www.w3.org/2018/credentials/examples/v1"
	CredentialsExamplesV2 = "https://www.w3.org/ns/credentials/examples/v2"
	DIDV1                 = "https://www.w3.org/ns/did/v1"
	Ed25519Signature2020  = "https://w3id.org/security/suites/ed25519-2020/v1"
	BitstringStatusListV1 = "https://www.w3.org/ns/credentials/status/v1"
	MultikeyV1            = "https://w3id.org/security/multikey/v1"
	DataIntegrityV2       = "https://w3id.org/security/data-integrity/v2"
	ODRL                  = "https://www.w3.org/ns/odrl.jsonld"
	// LianZhengV1 is our claims context: @vocab https://lianzheng.example/ns/credentials#.
	LianZhengV1 = "https://lianzheng.example/ns/credentials/v1"
	// LianZhengVocab is the IRI prefix every LianZheng claim name expands to.
	LianZhengVocab = "https://lianzheng.example/ns/credentials#"
)

//go:embed contexts/*.jsonld
var files embed.FS

// fileByURL maps each served URL to its embedded file.
var fileByURL = map[string]string{
	CredentialsV1:         "credentials-v1.jsonld",
	CredentialsV2:         "credentials-v2.jsonld",
	CredentialsExamplesV1: "credentials-examples-v1.jsonld",
	CredentialsExamplesV2: "credentials-examples-v2.jsonld",
	DIDV1:                 "did-v1.jsonld",
	Ed25519Signature2020:  "ed25519-signature-2020-v1.jsonld",
	BitstringStatusListV1: "vc-bitstring-status-list-v1.jsonld",
	MultikeyV1:            "multikey-v1.jsonld",
	DataIntegrityV2:       "data-integrity-v2.jsonld",
	ODRL:                  "odrl.jsonld",
	LianZhengV1:           "lianzheng-credentials-v1.jsonld",
}

// parsed holds each context decoded once; LoadDocument hands out deep copies.
var parsed = func() map[string]any {
	m := make(map[string]any, len(fileByURL))
	for u, f := range fileByURL {
		b, err := files.ReadFile("contexts/" + f)
		if err != nil {
			panic("ldcontext: missing embedded " + f + ": " + err.Error())
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			panic("ldcontext: embedded " + f + " is not JSON: " + err.Error())
		}
		m[u] = v
	}
	return m
}()

// URLs returns every context URL the loader serves, sorted.
func URLs() []string {
	out := make([]string, 0, len(fileByURL))
	for u := range fileByURL {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// Raw returns the embedded bytes of the context at url.
func Raw(url string) ([]byte, bool) {
	f, ok := fileByURL[url]
	if !ok {
		return nil, false
	}
	b, err := files.ReadFile("contexts/" + f)
	if err != nil {
		return nil, false
	}
	return b, true
}

// FileName returns the embedded file name for url (for tests that compare with the vectors).
func FileName(url string) (string, bool) {
	f, ok := fileByURL[url]
	return f, ok
}

// ErrUnknownContext is returned (wrapped) for any URL that is not embedded.
var ErrUnknownContext = errors.New("ldcontext: context not embedded (network access is never used)")

// DocumentLoader implements ld.DocumentLoader from embedded contexts only.
// The zero value is ready to use and safe for concurrent use.
type DocumentLoader struct{}

var _ ld.DocumentLoader = DocumentLoader{}

// NewDocumentLoader returns the embedded-only loader.
func NewDocumentLoader() DocumentLoader { return DocumentLoader{} }

// LoadDocument returns the embedded context for u, a consortium context (see the package
// doc), or an error for any other URL.
func (DocumentLoader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	v, ok := parsed[u]
	if !ok {
		if doc, ok := ConsortiumContext(u); ok {
			return &ld.RemoteDocument{DocumentURL: u, Document: doc}, nil
		}
		return nil, fmt.Errorf("%w: %q", ErrUnknownContext, u)
	}
	return &ld.RemoteDocument{DocumentURL: u, Document: deepCopy(v)}, nil
}

// Served reports whether the loader answers u (an embedded context or a consortium context).
func Served(u string) bool {
	if _, ok := parsed[u]; ok {
		return true
	}
	_, ok := ConsortiumContext(u)
	return ok
}

// consortiumContextPath ends every consortium context URL.
const consortiumContextPath = "/ns/credentials/v1"

// ConsortiumContextURL is the claims' context of a consortium whose public base URL is base.
func ConsortiumContextURL(base string) string { return base + consortiumContextPath }

// ConsortiumContext returns the document of a consortium context URL
// ({"@context": {"@vocab": u + "#"}}), or false if u is not one: https (or http on a loopback
// host), a host, a path ending in /ns/credentials/v1, no query, fragment or user.
func ConsortiumContext(u string) (map[string]any, bool) {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || p.RawQuery != "" || p.Fragment != "" || p.Opaque != "" ||
		!strings.HasSuffix(p.Path, consortiumContextPath) || p.String() != u || strings.ContainsAny(u, "%# ") {
		return nil, false
	}
	switch p.Scheme {
	case "https":
	case "http":
		h := p.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, false
		}
	default:
		return nil, false
	}
	return map[string]any{"@context": map[string]any{"@vocab": u + "#"}}, true
}

// deepCopy copies a decoded JSON value so callers can never alter the shared original.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}
