package strictjson

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"fmt"
	"io"
)

// referenceValue is the first implementation of Value, a walk over encoding/json/jsontext's
// token stream (which enforces unique names and valid UTF-8 itself). It is kept as the
// reference the one-pass parser is fuzzed against.
func referenceValue(b []byte) (any, error) {
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
