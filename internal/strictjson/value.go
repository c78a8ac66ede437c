package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Value parses one JSON value strictly: duplicate member names (compared after unescaping),
// invalid UTF-8, lone surrogate escapes, control characters in strings, nesting deeper than
// MaxDepth and trailing data are errors; numbers are kept as json.Number; arrays are never
// nil. One pass over the bytes, without a token decoder: it is the hot path of every
// verification (JWS headers and payloads, every disclosure, KB-JWTs). FuzzValueMatchesReference
// checks it against a reference built on encoding/json/jsontext's token stream.
func Value(b []byte) (any, error) {
	// One copy of the input; every string without escapes is a substring of it.
	sp := stackPool.Get().(*[]any)
	p := jsonParser{s: string(b), stack: (*sp)[:0]}
	defer func() {
		if cap(p.stack) > 1024 {
			return // a rare huge array: let its stack go
		}
		clear(p.stack[:cap(p.stack)]) // hold on to no parsed value
		*sp = p.stack[:0]
		stackPool.Put(sp)
	}()
	p.ws()
	if p.i >= len(p.s) {
		return nil, errors.New("no JSON value")
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, errors.New("trailing data after JSON value")
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
		return nil, errors.New("not a JSON object")
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
		return nil, errors.New("not a JSON array")
	}
	return a, nil
}

var stackPool = sync.Pool{New: func() any { s := make([]any, 0, 32); return &s }}

type jsonParser struct {
	s string
	i int
	// stack holds the elements of the arrays being read, so that each array is allocated
	// once, at its final size.
	stack []any
}

var errJSONEOF = errors.New("unexpected end of JSON input")

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) errAt(what string) error {
	if p.i >= len(p.s) {
		return errJSONEOF
	}
	return fmt.Errorf("invalid character %q %s at offset %d", p.s[p.i], what, p.i)
}

// value parses the value starting at p.i (whitespace already skipped).
func (p *jsonParser) value(depth int) (any, error) {
	if p.i >= len(p.s) {
		return nil, errJSONEOF
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if depth >= MaxDepth {
			return nil, fmt.Errorf("JSON nested deeper than %d", MaxDepth)
		}
		p.i++
		m := map[string]any{}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return m, nil
		}
		for {
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, p.errAt("looking for beginning of object key string")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.errAt("after object key")
			}
			p.i++
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n := len(m)
			if m[k] = v; len(m) == n {
				return nil, fmt.Errorf("duplicate object member name %q", k)
			}
			p.ws()
			if p.i >= len(p.s) {
				return nil, errJSONEOF
			}
			switch p.s[p.i] {
			case ',':
				p.i++
				p.ws()
			case '}':
				p.i++
				return m, nil
			default:
				return nil, p.errAt("after object value")
			}
		}
	case c == '[':
		if depth >= MaxDepth {
			return nil, fmt.Errorf("JSON nested deeper than %d", MaxDepth)
		}
		p.i++
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return []any{}, nil
		}
		base := len(p.stack)
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			p.stack = append(p.stack, v)
			p.ws()
			if p.i >= len(p.s) {
				return nil, errJSONEOF
			}
			switch p.s[p.i] {
			case ',':
				p.i++
				p.ws()
			case ']':
				p.i++
				a := append(make([]any, 0, len(p.stack)-base), p.stack[base:]...)
				p.stack = p.stack[:base]
				return a, nil
			default:
				return nil, p.errAt("after array element")
			}
		}
	case c == '"':
		return p.str()
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	default:
		return nil, p.errAt("looking for beginning of value")
	}
}

func (p *jsonParser) literal(lit string, v any) (any, error) {
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return nil, fmt.Errorf("invalid literal at offset %d", p.i)
	}
	p.i += len(lit)
	return v, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (RFC 8259 §6).
func (p *jsonParser) number() (any, error) {
	s, start := p.s, p.i
	i := p.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i >= len(s):
		return nil, errJSONEOF
	case s[i] == '0':
		i++
	case '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return nil, fmt.Errorf("invalid number at offset %d", start)
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return nil, fmt.Errorf("invalid number at offset %d", start)
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return nil, fmt.Errorf("invalid number at offset %d", start)
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	p.i = i
	return json.Number(s[start:i]), nil
}

func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// str consumes a string at p.i (which is '"') and returns it unescaped.
func (p *jsonParser) str() (string, error) {
	s := p.s
	start := p.i + 1
	i := start
	// Fast path: printable ASCII and valid multi-byte UTF-8 without escapes is a substring.
	for i < len(s) {
		c := s[i]
		if c == '"' {
			p.i = i + 1
			return s[start:i], nil
		}
		if c == '\\' {
			break
		}
		if c < ' ' {
			return "", fmt.Errorf("invalid control character in string at offset %d", i)
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		if n == 1 {
			return "", fmt.Errorf("invalid UTF-8 in string at offset %d", i)
		}
		i += n
	}
	if i >= len(s) {
		return "", errJSONEOF
	}
	buf := make([]byte, 0, len(s)-start)
	buf = append(buf, s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", errJSONEOF
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				i += 2
			case 'b':
				buf = append(buf, '\b')
				i += 2
			case 'f':
				buf = append(buf, '\f')
				i += 2
			case 'n':
				buf = append(buf, '\n')
				i += 2
			case 'r':
				buf = append(buf, '\r')
				i += 2
			case 't':
				buf = append(buf, '\t')
				i += 2
			case 'u':
				if i+6 > len(s) {
					return "", fmt.Errorf("invalid escape sequence at offset %d", i)
				}
				r, ok := hex4(s[i+2 : i+6])
				if !ok {
					return "", fmt.Errorf("invalid escape sequence at offset %d", i)
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
						return "", fmt.Errorf("invalid surrogate escape at offset %d", i-6)
					}
					r2, ok := hex4(s[i+2 : i+6])
					if !ok {
						return "", fmt.Errorf("invalid surrogate escape at offset %d", i-6)
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						return "", fmt.Errorf("invalid surrogate escape at offset %d", i-6)
					}
					i += 6
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", fmt.Errorf("invalid escape sequence at offset %d", i)
			}
		case c < ' ':
			return "", fmt.Errorf("invalid control character in string at offset %d", i)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			if n == 1 {
				return "", fmt.Errorf("invalid UTF-8 in string at offset %d", i)
			}
			buf = append(buf, s[i:i+n]...)
			i += n
		}
	}
	return "", errJSONEOF
}
