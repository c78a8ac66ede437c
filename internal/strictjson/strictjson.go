// Package strictjson parses untrusted JSON the way a verifier must: duplicate object keys are
// an error (RFC 7515 §5.2 and RFC 9901 require rejecting or not trusting them), invalid
// UTF-8 is an error, nesting is bounded, and numbers are kept as json.Number so nothing is
// rounded. It is a single pass over encoding/json/jsontext's token stream (which enforces
// unique names and valid UTF-8 itself). Check validates without building values, with a
// caller's depth bound. It is the one strict reader of the module: credential (JWS, SD-JWT,
// receipts) and did (documents) use it.
package strictjson

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"fmt"
	"io"
)

// MaxDepth bounds nesting of arrays and objects.
const MaxDepth = 32

// Value parses one JSON value strictly; trailing data is an error.
func Value(b []byte) (any, error) {
	d := jsontext.NewDecoder(bytes.NewReader(b))
	v, err := read(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// Check validates one JSON value strictly — duplicate member names, invalid UTF-8, nesting
// deeper than maxDepth and trailing data are errors — without building it.
func Check(b []byte, maxDepth int) error {
	d := jsontext.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.ReadToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("no JSON value")
			}
			return err
		}
		if k := tok.Kind(); (k == '{' || k == '[') && d.StackDepth() > maxDepth {
			return fmt.Errorf("JSON nested deeper than %d", maxDepth)
		}
		if d.StackDepth() == 0 {
			break
		}
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// Object parses a JSON object strictly.
func Object(b []byte) (map[string]any, error) {
	v, err := Value(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// Array parses a JSON array strictly.
func Array(b []byte) ([]any, error) {
	v, err := Value(b)
	if err != nil {
		return nil, err
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON array")
	}
	return a, nil
}

func read(d *jsontext.Decoder, depth int) (any, error) {
	tok, err := d.ReadToken()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no JSON value")
		}
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		if depth >= MaxDepth {
			return nil, fmt.Errorf("JSON nested deeper than %d", MaxDepth)
		}
		m := map[string]any{}
		for d.PeekKind() != '}' {
			kt, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			k := kt.String() // the token is only valid until the next decoder call
			v, err := read(d, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		if depth >= MaxDepth {
			return nil, fmt.Errorf("JSON nested deeper than %d", MaxDepth)
		}
		a := []any{}
		for d.PeekKind() != ']' {
			v, err := read(d, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return a, nil
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case 't', 'f':
		return tok.Bool(), nil
	case 'n':
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok.Kind())
}
