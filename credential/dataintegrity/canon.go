package dataintegrity

import (
	"bytes"
	"errors"
	"sync/atomic"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"

	"lianzheng/credential"
	"lianzheng/credential/ldcontext"
)

// rdfc is aries' JSON-LD processor with URDNA2015, which is RDFC-1.0 (the W3C
// standard is the same algorithm under its final name).
var rdfc = jsonld.NewProcessor("URDNA2015")

// Sentinels for strict JSON-LD processing. json-gold (v0.4.2, used by aries) has no "safe
// mode": a term the contexts do not define, a type name that is not an IRI, or a relative
// IRI as a node id is silently dropped from the RDF, so it would be neither signed nor
// verified while still showing up in the JSON. We prepend a context that sends every such
// term to an IRI of our own and reject any output that mentions one. Later contexts (the
// document's own) override @vocab/@base as usual, so a document that defines its terms
// (or sets its own @vocab, as our LianZheng and the W3C examples contexts do) canonicalises
// to exactly what it would without the sentinel context.
const (
	undefinedTermVocab = "urn:lianzheng:undefined-term#"
	relativeIRIBase    = "https://relative-iri.lianzheng.invalid/"
)

var strictContext = map[string]any{
	"@vocab": undefinedTermVocab,
	"@base":  relativeIRIBase,
}

// CanonicalizeRDFC returns the RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD object,
// using only the embedded contexts. It is strict: unknown @-keywords, terms not defined by
// any context, and relative IRIs are errors (CodeMalformed), never silently dropped.
// doc is any form Sign accepts (a map, a struct, or JSON text).
func CanonicalizeRDFC(doc any) ([]byte, error) {
	m, err := toDocument(doc)
	if err != nil {
		return nil, err
	}
	return canonicalizeRDFC(m)
}

// canonicalizeRDFC is the fast path (fastcanon.go) when doc is of a known shape, the
// general path otherwise; both give the same bytes or the fast path is not taken.
func canonicalizeRDFC(doc map[string]any) ([]byte, error) {
	if generalOnly.Load() {
		return canonicalizeRDFCGeneral(doc)
	}
	out, ok, sh := fastCanonical(doc)
	if ok {
		return out, nil
	}
	out, err := canonicalizeRDFCGeneral(doc)
	if sh != nil {
		if err == nil {
			templates.learn(sh, doc, out)
		}
		sh.release()
	}
	return out, err
}

// generalOnly switches the fast path off (benchmarks of the general path, tests).
var generalOnly atomic.Bool

// canonicalizeRDFCGeneral runs aries' JSON-LD processor (json-gold) on doc, strictly.
func canonicalizeRDFCGeneral(doc map[string]any) (out []byte, err error) {
	// json-gold v0.4.2 panics on some hostile input (for example "@context": "%": it
	// ignores a url.Parse error and dereferences nil). Never let that reach a verifier.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, credential.Errorf(credential.CodeMalformed, "json-ld: processor failed on this input")
		}
	}()
	if err := checkKeywords(doc); err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "json-ld: %w", err)
	}
	c, err := forJSONLD(doc)
	if err != nil {
		return nil, err
	}
	d := c.(map[string]any)
	switch ctx := d["@context"].(type) {
	case nil:
		d["@context"] = []any{strictContext}
	case []any:
		d["@context"] = append([]any{strictContext}, ctx...)
	default:
		d["@context"] = []any{strictContext, ctx}
	}
	out, err = rdfc.GetCanonicalDocument(d,
		jsonld.WithDocumentLoader(ldcontext.NewDocumentLoader()),
		jsonld.WithValidateRDF())
	if err != nil {
		if errors.Is(err, jsonld.ErrInvalidRDFFound) {
			return nil, credential.Errorf(credential.CodeMalformed, "json-ld: document has a term or type that is not an IRI: %w", err)
		}
		return nil, credential.Errorf(credential.CodeMalformed, "json-ld: %w", err)
	}
	if i := bytes.Index(out, []byte("<"+undefinedTermVocab)); i >= 0 {
		return nil, credential.Errorf(credential.CodeMalformed, "json-ld: term %q is not defined by any context", sentinelName(out[i+1+len(undefinedTermVocab):]))
	}
	if i := bytes.Index(out, []byte("<"+relativeIRIBase)); i >= 0 {
		return nil, credential.Errorf(credential.CodeMalformed, "json-ld: relative IRI %q (ids and IRI values must be absolute)", sentinelName(out[i+1+len(relativeIRIBase):]))
	}
	return out, nil
}

// sentinelName returns the rest of an IRI up to '>' (bounded, for error messages).
func sentinelName(b []byte) string {
	if i := bytes.IndexByte(b, '>'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}
