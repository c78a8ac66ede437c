// Package strictjson parses untrusted JSON the way a verifier must: duplicate object keys are
// an error (RFC 7515 §5.2 and RFC 9901 require rejecting or not trusting them), nesting is
// bounded, and numbers are kept as json.Number so nothing is rounded.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxDepth bounds nesting of arrays and objects.
const MaxDepth = 32

// Value parses any JSON value strictly.
func Value(b []byte) (any, error) {
	if err := check(b); err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
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

type frame struct {
	obj    bool
	keys   map[string]struct{}
	expKey bool
}

// check walks the token stream: one value, no trailing data, no duplicate keys, bounded depth.
func check(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var stack []*frame
	values := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expKey {
			if dl, ok := tok.(json.Delim); ok && dl == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k, ok := tok.(string)
			if !ok {
				return fmt.Errorf("object key is not a string")
			}
			if _, dup := top.keys[k]; dup {
				return fmt.Errorf("duplicate key %q", k)
			}
			top.keys[k] = struct{}{}
			top.expKey = false
			continue
		}
		if top == nil {
			values++
			if values > 1 {
				return fmt.Errorf("trailing data after JSON value")
			}
		}
		if dl, ok := tok.(json.Delim); ok {
			switch dl {
			case '{', '[':
				if len(stack) >= MaxDepth {
					return fmt.Errorf("JSON nested deeper than %d", MaxDepth)
				}
				if top != nil && top.obj {
					top.expKey = true
				}
				stack = append(stack, &frame{obj: dl == '{', keys: map[string]struct{}{}, expKey: dl == '{'})
				continue
			case ']':
				stack = stack[:len(stack)-1]
				continue
			}
		}
		if top != nil && top.obj {
			top.expKey = true
		}
	}
	if values != 1 {
		return fmt.Errorf("no JSON value")
	}
	return nil
}
