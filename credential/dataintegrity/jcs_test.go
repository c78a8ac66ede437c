package dataintegrity

import (
	"encoding/json"
	"math"
	"testing"
)

// RFC 8785 Appendix B: IEEE 754 doubles and their canonical JSON numbers.
func TestJCSNumbersRFC8785(t *testing.T) {
	cases := []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"},
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
	}
	for _, c := range cases {
		got, err := JCS(math.Float64frombits(c.bits))
		if err != nil {
			t.Fatalf("%#x: %v", c.bits, err)
		}
		if string(got) != c.want {
			t.Errorf("%#x: %s, want %s", c.bits, got, c.want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), math.Inf(-1), int64(1<<53 + 1), uint64(math.MaxUint64), struct{}{}} {
		if b, err := JCS(bad); err == nil {
			t.Errorf("%v: serialised as %s", bad, b)
		}
	}
	for v, want := range map[any]string{int(42): "42", int64(-7): "-7", uint8(255): "255", float32(0.5): "0.5", json.Number("1E2"): "100", json.Number("-0.0"): "0"} {
		if got, err := JCS(v); err != nil || string(got) != want {
			t.Errorf("%T %v: %s %v, want %s", v, v, got, err, want)
		}
	}
}

// RFC 8785 §3.2.3: property sorting by UTF-16 code units.
func TestJCSSortingRFC8785(t *testing.T) {
	in := `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`
	want := "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"
	got, err := CanonicalizeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// RFC 8785 §3.2.4: the worked example.
func TestJCSExampleRFC8785(t *testing.T) {
	in := `{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`
	want := `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`
	got, err := CanonicalizeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestStrictJSONRejects(t *testing.T) {
	deep := ""
	for i := 0; i < MaxDepth+1; i++ {
		deep += "["
	}
	for i := 0; i < MaxDepth+1; i++ {
		deep += "]"
	}
	for name, in := range map[string]string{
		"duplicate key":  `{"a":1,"a":2}`,
		"nested dup":     `{"a":{"b":1,"b":1}}`,
		"trailing":       `{"a":1} {}`,
		"invalid utf-8":  "{\"a\":\"\xff\"}",
		"not an object":  `[1]`,
		"too deep":       `{"a":` + deep + `}`,
		"truncated":      `{"a":`,
		"bare value":     `"x"`,
		"number garbage": `{"a":1.}`,
	} {
		if _, err := CanonicalizeJSON([]byte(in)); err == nil && name != "not an object" && name != "bare value" {
			t.Errorf("%s: accepted", name)
		}
		if _, err := toDocument([]byte(in)); err == nil {
			t.Errorf("%s: accepted as document", name)
		}
	}
}
