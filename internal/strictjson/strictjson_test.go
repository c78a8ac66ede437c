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

func FuzzValue(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = Value(b) })
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
