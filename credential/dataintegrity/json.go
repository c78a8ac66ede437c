package dataintegrity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"lianzheng/credential"
	"lianzheng/credential/ldcontext"
)

// Limits on untrusted JSON input.
const (
	// MaxDocumentBytes bounds the size of a JSON document given to Verify.
	MaxDocumentBytes = 1 << 20
	// MaxDepth bounds the nesting of objects and arrays.
	MaxDepth = 64
)

// parseJSON decodes b strictly: valid UTF-8, one value, no duplicate object keys, bounded
// size and depth. Numbers come back as json.Number so JCS can format them exactly.
func parseJSON(b []byte) (any, error) {
	if len(b) > MaxDocumentBytes {
		return nil, credential.Errorf(credential.CodeOversized, "document is %d bytes, limit %d", len(b), MaxDocumentBytes)
	}
	if !utf8.Valid(b) {
		return nil, credential.Errorf(credential.CodeMalformed, "document is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, credential.Errorf(credential.CodeMalformed, "trailing data after JSON document")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return nil, credential.Errorf(credential.CodeOversized, "JSON nested deeper than %d", MaxDepth)
		}
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, credential.Errorf(credential.CodeMalformed, "invalid JSON: %w", err)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, credential.Errorf(credential.CodeMalformed, "invalid JSON object key")
				}
				if _, dup := m[k]; dup {
					return nil, credential.Errorf(credential.CodeMalformed, "duplicate JSON object key %q", k)
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, credential.Errorf(credential.CodeMalformed, "invalid JSON: %w", err)
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, credential.Errorf(credential.CodeMalformed, "invalid JSON: %w", err)
			}
			return a, nil
		}
		return nil, credential.Errorf(credential.CodeMalformed, "unexpected JSON delimiter %q", t)
	default:
		return tok, nil // string, bool, nil, json.Number
	}
}

// toDocument turns the accepted document forms into a freshly decoded JSON object:
// []byte / json.RawMessage / string hold JSON text; anything else is marshalled first.
// The result never aliases the caller's data.
func toDocument(doc any) (map[string]any, error) {
	var b []byte
	switch d := doc.(type) {
	case []byte:
		b = d
	case json.RawMessage:
		b = d
	case string:
		b = []byte(d)
	default:
		var err error
		if b, err = json.Marshal(doc); err != nil {
			return nil, credential.Errorf(credential.CodeMalformed, "document cannot be encoded as JSON: %w", err)
		}
	}
	v, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, credential.Errorf(credential.CodeMalformed, "document is not a JSON object")
	}
	return m, nil
}

// forJSONLD returns a deep copy of v with json.Number turned into float64, the form the
// JSON-LD processor understands (the same as encoding/json's default decoding).
func forJSONLD(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			c, err := forJSONLD(e)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			c, err := forJSONLD(e)
			if err != nil {
				return nil, err
			}
			a[i] = c
		}
		return a, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, credential.Errorf(credential.CodeMalformed, "number %s out of range", t)
		}
		return f, nil
	default:
		return v, nil
	}
}

// copyMap is a shallow copy of a JSON object.
func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// jsonLDKeywords are the JSON-LD 1.1 keywords. Any other "@..." key is ignored by JSON-LD
// processors, so it would not be signed: we reject it instead.
var jsonLDKeywords = map[string]bool{
	"@base": true, "@container": true, "@context": true, "@direction": true, "@graph": true,
	"@id": true, "@import": true, "@included": true, "@index": true, "@json": true,
	"@language": true, "@list": true, "@nest": true, "@none": true, "@prefix": true,
	"@propagate": true, "@protected": true, "@reverse": true, "@set": true, "@type": true,
	"@value": true, "@version": true, "@vocab": true,
}

// checkKeywords rejects unknown @-keywords anywhere outside @context values.
func checkKeywords(v any) error {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if len(k) > 0 && k[0] == '@' && !jsonLDKeywords[k] {
				return fmt.Errorf("unknown JSON-LD keyword %q would be ignored", k)
			}
			if k == "@context" {
				if err := checkContextRefs(e); err != nil {
					return err
				}
				continue
			}
			if err := checkKeywords(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range t {
			if err := checkKeywords(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkContextRefs requires every context referenced by URL (anywhere inside an @context
// value, including scoped contexts) to be one our loader serves without a network (embedded,
// or a consortium context built from its URL), before the JSON-LD processor sees it.
func checkContextRefs(v any) error {
	switch t := v.(type) {
	case string:
		if !ldcontext.Served(t) {
			return fmt.Errorf("context %q is not embedded", shortString(t))
		}
	case []any:
		for _, e := range t {
			if err := checkContextRefs(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range t {
			switch k {
			case "@context", "@import":
				if err := checkContextRefs(e); err != nil {
					return err
				}
			default:
				if m, ok := e.(map[string]any); ok {
					if c, ok := m["@context"]; ok {
						if err := checkContextRefs(c); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

func shortString(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
