package strictjson

import (
	"encoding/json"
	"testing"
)

func TestStrict(t *testing.T) {
	deep := ""
	for i := 0; i < MaxDepth+1; i++ {
		deep += "["
	}
	for i := 0; i < MaxDepth+1; i++ {
		deep += "]"
	}
	cases := []struct {
		in string
		ok bool
	}{
		{`{"a":1,"b":{"a":2}}`, true},
		{`{"a":1,"a":2}`, false},
		{`{"a":{"b":1,"b":2}}`, false},
		{`[{"a":1},{"a":1}]`, true},
		{`{"a":[1,{"c":1,"c":1}]}`, false},
		{`{} {}`, false},
		{`{"a":1}x`, false},
		{``, false},
		{deep, false},
		{`"s"`, true},
		{`{"a":1.5e300}`, true},
	}
	for _, c := range cases {
		_, err := Value([]byte(c.in))
		if (err == nil) != c.ok {
			t.Errorf("Value(%q) err=%v, want ok=%v", c.in, err, c.ok)
		}
	}
}

// FuzzValue: Value never panics, and Check (no values built) accepts exactly what Value
// accepts at the same depth bound.
func FuzzValue(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":null}]}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, verr := Value(b)
		cerr := Check(b, MaxDepth)
		if (verr == nil) != (cerr == nil) {
			t.Fatalf("Value: %v, Check: %v", verr, cerr)
		}
	})
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in    string
		depth int
		ok    bool
	}{
		{`{"a":[1,{"b":null}],"c":"测"}`, 3, true},
		{`{"a":[1,{"b":null}]}`, 2, false}, // three levels
		{`[[[]]]`, 3, true},
		{`[[[]]]`, 2, false},
		{`"just a string"`, 0, true},
		{`{"a":1,"a":2}`, 8, false},       // duplicate member
		{`{"a":{"b":1,"b":1}}`, 8, false}, // nested duplicate
		{"{\"a\":\"\xff\"}", 8, false},    // invalid UTF-8
		{`{"a":1} {"b":2}`, 8, false},     // trailing value
		{`{"a":1}x`, 8, false},            // trailing garbage
		{``, 8, false},                    // nothing
		{`{"a":1`, 8, false},              // truncated
	} {
		err := Check([]byte(tc.in), tc.depth)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%q, %d) = %v, want ok=%v", tc.in, tc.depth, err, tc.ok)
		}
	}
}

func TestNumbersAndStrings(t *testing.T) {
	v, err := Object([]byte(`{"n":12345678901234567890,"f":-1.5e3,"s":"\u6d4b\"","b":true,"z":null,"a":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if v["n"] != json.Number("12345678901234567890") || v["f"] != json.Number("-1.5e3") || v["s"] != "测\"" || v["b"] != true || v["z"] != nil {
		t.Fatalf("%#v", v)
	}
	if a, ok := v["a"].([]any); !ok || len(a) != 0 {
		t.Fatalf("empty array: %#v", v["a"])
	}
	for _, bad := range []string{"{\"a\":\"\xff\"}", `{"a":1,}`, `[1 2]`, `{"a"}`, `nul`} {
		if _, err := Value([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
