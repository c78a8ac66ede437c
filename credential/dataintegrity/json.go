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
	case map[string]any:
		// The common case (a credential built in memory): copy it directly when that
		// gives exactly what marshalling and parsing would (plainCopy). Marshalling and
		// parsing a credential cost about one Ed25519 signature; the copy a tenth of it.
		if d != nil {
			size := 0
			if m, ok := plainCopy(d, 0, &size); ok {
				return m.(map[string]any), nil
			}
		}
		var err error
		if b, err = json.Marshal(doc); err != nil {
			return nil, credential.Errorf(credential.CodeMalformed, "document cannot be encoded as JSON: %w", err)
		}
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

// plainCopy returns what json.Marshal followed by parseJSON would make of v, if v is made
// of values whose encoding it can reproduce exactly: map[string]any, []any, valid UTF-8
// strings, bools, nil, Go integers, finite float64 and valid json.Number. ok is false for
// anything else (or a document that may be too deep or too large): the caller then
// marshals and parses. size accumulates an upper bound of the encoded length.
func plainCopy(v any, depth int, size *int) (any, bool) {
	if depth >= 32 || *size > MaxDocumentBytes {
		return nil, false
	}
	switch t := v.(type) {
	case nil:
		*size += 5
		return nil, true
	case string:
		if !utf8.ValidString(t) {
			return nil, false // json.Marshal would replace the invalid bytes
		}
		*size += 6*len(t) + 3
		return t, true
	case bool:
		*size += 6
		return t, true
	case json.Number:
		if t == "" {
			t = "0" // as json.Marshal writes it
		}
		if !validJSONNumber(string(t)) {
			return nil, false
		}
		*size += len(t) + 1
		return t, true
	case int:
		return plainInt(int64(t), size), true
	case int8:
		return plainInt(int64(t), size), true
	case int16:
		return plainInt(int64(t), size), true
	case int32:
		return plainInt(int64(t), size), true
	case int64:
		return plainInt(t, size), true
	case uint:
		return plainUint(uint64(t), size), true
	case uint8:
		return plainUint(uint64(t), size), true
	case uint16:
		return plainUint(uint64(t), size), true
	case uint32:
		return plainUint(uint64(t), size), true
	case uint64:
		return plainUint(t, size), true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		n := json.Number(formatJSONFloat(t))
		*size += len(n) + 1
		return n, true
	case map[string]any:
		if t == nil {
			*size += 5
			return nil, true
		}
		m := make(map[string]any, len(t))
		*size += 2
		for k, e := range t {
			if !utf8.ValidString(k) {
				return nil, false
			}
			*size += 6*len(k) + 4
			c, ok := plainCopy(e, depth+1, size)
			if !ok {
				return nil, false
			}
			m[k] = c
		}
		return m, *size <= MaxDocumentBytes
	case []any:
		if t == nil {
			*size += 5
			return nil, true
		}
		a := make([]any, len(t))
		*size += 2
		for i, e := range t {
			*size++
			c, ok := plainCopy(e, depth+1, size)
			if !ok {
				return nil, false
			}
			a[i] = c
		}
		return a, *size <= MaxDocumentBytes
	}
	return nil, false
}

func plainInt(i int64, size *int) json.Number {
	n := json.Number(strconv.FormatInt(i, 10))
	*size += len(n) + 1
	return n
}

func plainUint(u uint64, size *int) json.Number {
	n := json.Number(strconv.FormatUint(u, 10))
	*size += len(n) + 1
	return n
}

// formatJSONFloat formats a finite float64 as encoding/json does: the shortest
// representation, exponent form below 1e-6 and from 1e21, "e-09" written "e-9".
func formatJSONFloat(f float64) string {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(make([]byte, 0, 24), f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return string(b)
}

// validJSONNumber is the JSON number grammar (what json.Marshal accepts in a json.Number).
func validJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		if s = s[1:]; s == "" {
			return false
		}
	}
	digits := func() {
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		digits()
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		digits()
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			if s = s[1:]; s == "" {
				return false
			}
		}
		if s[0] < '0' || s[0] > '9' {
			return false
		}
		digits()
	}
	return s == ""
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
