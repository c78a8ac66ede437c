package dataintegrity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JCS returns the RFC 8785 JSON Canonicalization Scheme serialisation of v.
//
// v is a decoded JSON value: nil, bool, string, json.Number, any Go integer or float type,
// map[string]any and []any. Numbers are serialised as IEEE 754 doubles formatted the way
// ECMAScript's Number.prototype.toString does (RFC 8785 §3.2.2.3); a number that is not
// exactly representable as a double (such as a Go int64 above 2^53) is an error rather
// than silently rounded. Object members are sorted by their names as UTF-16 code units
// (§3.2.3). Strings are escaped as ECMAScript's JSON.stringify does (§3.2.2.2).
func JCS(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := jcsValue(&buf, v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CanonicalizeJSON parses JSON text strictly (no duplicate keys, valid UTF-8, bounded size
// and depth) and returns its JCS form.
func CanonicalizeJSON(b []byte) ([]byte, error) {
	v, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	return JCS(v)
}

func jcsValue(buf *bytes.Buffer, v any, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("jcs: nested deeper than %d", MaxDepth)
	}
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if t {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case string:
		return jcsString(buf, t)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return fmt.Errorf("jcs: number %s: %w", t, err)
		}
		return jcsNumber(buf, f)
	case float64:
		return jcsNumber(buf, t)
	case float32:
		return jcsNumber(buf, float64(t))
	case int, int8, int16, int32, int64:
		i := reflect.ValueOf(t).Int()
		f := float64(i)
		if f >= 0x1p63 || int64(f) != i {
			return fmt.Errorf("jcs: integer %d is not exactly representable as a double", i)
		}
		return jcsNumber(buf, f)
	case uint, uint8, uint16, uint32, uint64, uintptr:
		u := reflect.ValueOf(t).Uint()
		f := float64(u)
		if f >= 0x1p64 || uint64(f) != u {
			return fmt.Errorf("jcs: integer %d is not exactly representable as a double", u)
		}
		return jcsNumber(buf, f)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			if !utf8.ValidString(k) {
				return fmt.Errorf("jcs: object key is not valid UTF-8")
			}
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := jcsString(buf, k); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := jcsValue(buf, t[k], depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := jcsValue(buf, e, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		return fmt.Errorf("jcs: unsupported type %T", v)
	}
	return nil
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785 §3.2.3 requires.
// (Go compares strings by UTF-8 bytes, which orders U+E000..U+FFFF after supplementary
// characters; UTF-16 puts surrogates 0xD800.. before 0xE000..)
func compareUTF16(a, b string) int {
	ua := utf16.Encode([]rune(a))
	ub := utf16.Encode([]rune(b))
	return slices.Compare(ua, ub)
}

const hexDigits = "0123456789abcdef"

// jcsString writes s as a JSON string the way ECMAScript JSON.stringify does: only '"',
// '\\' and the C0 controls are escaped; \b \t \n \f \r use their short forms, the other
// controls \u00xx with lowercase hex. Everything else (including U+2028/U+2029 and
// non-ASCII) is written as UTF-8.
func jcsString(buf *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("jcs: string is not valid UTF-8")
	}
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			buf.WriteString(`\"`)
		case c == '\\':
			buf.WriteString(`\\`)
		case c == '\b':
			buf.WriteString(`\b`)
		case c == '\t':
			buf.WriteString(`\t`)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '\f':
			buf.WriteString(`\f`)
		case c == '\r':
			buf.WriteString(`\r`)
		case c < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hexDigits[c>>4])
			buf.WriteByte(hexDigits[c&0xf])
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte('"')
	return nil
}

// jcsNumber writes f as ECMAScript Number.prototype.toString(10) does (ECMA-262
// Number::toString): the shortest digit string that round-trips, in plain notation for
// decimal exponents -7 < n <= 21 and in exponential notation otherwise.
func jcsNumber(buf *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("jcs: %v is not a JSON number", f)
	}
	if f == 0 { // +0 and -0 both serialise as 0
		buf.WriteByte('0')
		return nil
	}
	if f < 0 {
		buf.WriteByte('-')
		f = -f
	}
	// Shortest round-trip digits d1.d2d3...e±x; in ECMA-262 terms s = digits, k = len(s),
	// and the value is s × 10^(n−k).
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	digits := make([]byte, 0, len(mant))
	for i := 0; i < len(mant); i++ {
		if mant[i] != '.' {
			digits = append(digits, mant[i])
		}
	}
	x, err := strconv.Atoi(exp)
	if err != nil {
		return fmt.Errorf("jcs: formatting %v: %w", f, err)
	}
	k := len(digits)
	n := x + 1
	switch {
	case k <= n && n <= 21:
		buf.Write(digits)
		for i := 0; i < n-k; i++ {
			buf.WriteByte('0')
		}
	case 0 < n && n <= 21:
		buf.Write(digits[:n])
		buf.WriteByte('.')
		buf.Write(digits[n:])
	case -6 < n && n <= 0:
		buf.WriteString("0.")
		for i := 0; i < -n; i++ {
			buf.WriteByte('0')
		}
		buf.Write(digits)
	default:
		buf.WriteByte(digits[0])
		if k > 1 {
			buf.WriteByte('.')
			buf.Write(digits[1:])
		}
		buf.WriteByte('e')
		if e := n - 1; e >= 0 {
			buf.WriteByte('+')
			buf.WriteString(strconv.Itoa(e))
		} else {
			buf.WriteByte('-')
			buf.WriteString(strconv.Itoa(-e))
		}
	}
	return nil
}
