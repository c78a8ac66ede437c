package strictjson

import "testing"

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
