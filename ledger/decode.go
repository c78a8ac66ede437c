package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxJSONDepth bounds the nesting of every JSON document the ledger decodes.
const maxJSONDepth = 16

var (
	rawMessageType = reflect.TypeOf(json.RawMessage(nil))
	timeType       = reflect.TypeOf(time.Time{})
)

// DecodeEnvelope parses the wire form of a transaction. It accepts only the canonical
// encoding (exactly what Envelope.Bytes produces): no whitespace, no unknown, repeated,
// reordered or differently cased members, so one signed envelope has one transaction hash.
// It checks the size and version, not the signature or the chain.
func DecodeEnvelope(tx []byte) (*Envelope, error) {
	if len(tx) == 0 {
		return nil, errors.New("empty transaction")
	}
	if len(tx) > MaxTxBytes {
		return nil, fmt.Errorf("transaction is %d bytes, the limit is %d", len(tx), MaxTxBytes)
	}
	// Fast path: an envelope that encodes back to exactly its own bytes has no unknown,
	// repeated or differently cased member and no trailing data, which is what the strict
	// walk checks; only the nesting bound is left to check. Anything else takes the strict
	// path, which accepts nothing more and explains the refusal.
	if e := decodeCanonical(tx); e != nil {
		if e.V != TxVersion {
			return nil, fmt.Errorf("envelope version %d is not supported (want %d)", e.V, TxVersion)
		}
		return e, nil
	}
	return decodeEnvelopeStrict(tx)
}

// decodeCanonical returns the envelope tx encodes if tx is exactly its canonical encoding
// nested at most maxJSONDepth deep, else nil.
func decodeCanonical(tx []byte) *Envelope {
	var e Envelope
	if json.Unmarshal(tx, &e) != nil || !jsonDepthOK(tx) {
		return nil
	}
	if canon, err := json.Marshal(&e); err != nil || !bytes.Equal(canon, tx) {
		return nil
	}
	return &e
}

// decodeEnvelopeStrict is DecodeEnvelope by the strict walk alone.
func decodeEnvelopeStrict(tx []byte) (*Envelope, error) {
	var e Envelope
	if err := DecodeStrict(tx, &e); err != nil {
		return nil, fmt.Errorf("envelope: %v", err)
	}
	canon, err := json.Marshal(&e)
	if err != nil || !bytes.Equal(canon, tx) {
		return nil, errors.New("envelope is not in canonical form (compact JSON of the Envelope struct, fields in order)")
	}
	if e.V != TxVersion {
		return nil, fmt.Errorf("envelope version %d is not supported (want %d)", e.V, TxVersion)
	}
	return &e, nil
}

// DecodeStrict decodes one JSON value into v, refusing duplicate members, members that
// are not spelled exactly as a json tag of v's type (encoding/json would match them
// case-insensitively or ignore them), nesting beyond maxJSONDepth and trailing data.
// json.RawMessage fields are checked for well-formedness only; decode them strictly later.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkStrict(dec, reflect.TypeOf(v), 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return cleanJSONError(err)
	}
	return nil
}

func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("member %q must be of JSON type %s, not %s", te.Field, jsonKind(te.Type), te.Value)
	}
	return err
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64, reflect.Uint32, reflect.Uint:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array"
	case reflect.Struct:
		return "object"
	}
	return t.String()
}

// walkStrict reads one value from dec, checking object members against type t.
func walkStrict(dec *json.Decoder, t reflect.Type, depth int) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil // scalars: json.Unmarshal checks the type
	}
	if depth >= maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	if t == rawMessageType || t == timeType {
		t = nil // contents checked later (or by the type's own decoder)
	}
	switch delim {
	case '{':
		var fields map[string]reflect.Type
		if t != nil {
			if t.Kind() != reflect.Struct {
				return fmt.Errorf("unexpected JSON object where %s is expected", jsonKind(t))
			}
			fields = jsonFields(t)
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			if seen[k] {
				return fmt.Errorf("duplicate member %s", Quote(k))
			}
			seen[k] = true
			var ft reflect.Type
			if t != nil {
				var ok bool
				if ft, ok = fields[k]; !ok {
					return fmt.Errorf("unknown member %s", Quote(k))
				}
			}
			if err := walkStrict(dec, ft, depth+1); err != nil {
				return err
			}
		}
	case '[':
		var et reflect.Type
		if t != nil {
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return fmt.Errorf("unexpected JSON array where %s is expected", jsonKind(t))
			}
			et = t.Elem()
		}
		for dec.More() {
			if err := walkStrict(dec, et, depth+1); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // closing delimiter
	return err
}

// jsonDepthOK reports whether well-formed JSON nests arrays and objects at most
// maxJSONDepth deep, the bound walkStrict enforces.
func jsonDepthOK(data []byte) bool {
	depth, inString := 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > maxJSONDepth {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

var jsonFieldsCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the exact json names of a struct's exported fields to their types. The
// map is shared: do not modify it.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := jsonFieldsCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := computeJSONFields(t)
	jsonFieldsCache.Store(t, m)
	return m
}

func computeJSONFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		out[name] = f.Type
	}
	return out
}

// Quote quotes untrusted text for a log or error message, truncated to 80 bytes.
func Quote(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "…"
	}
	return strconv.Quote(s)
}
