package sdjwtcbor

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"
	"unicode/utf8"

	"lianzheng/credential/jws"
)

func randJSONString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", "<", ">", "&", "\"", "\\", "/", "\n", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
		"é", "中", "证", "\u2028", "\u2029", "\ufffd", "\U0001F600", "\xff", "\xc3", "\xed\xa0\x80", "_sd", "..."}
	n := r.Intn(6)
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, pieces[r.Intn(len(pieces))]...)
	}
	return string(b)
}

func randJSONValue(r *rand.Rand, depth int) any {
	k := r.Intn(10)
	if depth > 3 && k >= 7 {
		k = r.Intn(7)
	}
	switch k {
	case 0, 1:
		return randJSONString(r)
	case 2:
		return json.Number([]string{"0", "-1", "42", "1700000000", "18446744073709551615", "-9223372036854775808", "1.5", "1e3", "01", "-0"}[r.Intn(10)])
	case 3:
		return r.Intn(2) == 0
	case 4:
		return nil
	case 5:
		return []float64{0, 1.5, -2.25, 1e21, 1e-7, 3}[r.Intn(6)]
	case 6:
		if r.Intn(2) == 0 {
			return uint64(r.Int63())
		}
		return -r.Int63()
	case 7:
		out := make([]any, r.Intn(4))
		for i := range out {
			out[i] = randJSONValue(r, depth+1)
		}
		return out
	default:
		m := map[string]any{}
		for i := r.Intn(5); i > 0; i-- {
			m[randJSONString(r)] = randJSONValue(r, depth+1)
		}
		return m
	}
}

// appendJSON writes exactly what jws.Marshal (canonical JSON) writes.
func TestAppendJSONMatchesCanonical(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 20000; i++ {
		v := randJSONValue(r, 0)
		want, err1 := jws.Marshal(v)
		got, err2 := appendJSON(nil, v)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%#v: errors differ: %v / %v", v, err1, err2)
		}
		if err1 == nil && !bytes.Equal(got, want) {
			t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
		}
	}
}

// singlePass is encoding/json without HTML escaping, the serialisation this codec once kept
// a private copy of.
func singlePass(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func validKeys(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if !utf8.ValidString(k) || !validKeys(x) {
				return false
			}
		}
	case []any:
		for _, x := range t {
			if !validKeys(x) {
				return false
			}
		}
	}
	return true
}

// jws.Marshal's round trip through generic values changes nothing for values whose object
// keys are valid UTF-8 — every value this codec serialises — so using it instead of a
// single encoding/json pass keeps the wire format byte for byte.
func TestMarshalIsSinglePass(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	checked := 0
	for i := 0; i < 20000; i++ {
		v := randJSONValue(r, 0)
		if !validKeys(v) {
			continue
		}
		checked++
		want, err1 := singlePass(v)
		got, err2 := jws.Marshal(v)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%#v: errors differ: %v / %v", v, err1, err2)
		}
		if err1 == nil && !bytes.Equal(got, want) {
			t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
		}
	}
	if checked < 5000 {
		t.Fatalf("only %d values checked", checked)
	}
}
