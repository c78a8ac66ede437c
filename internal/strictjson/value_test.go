package strictjson

import (
	"reflect"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	``, ` `, `{}`, `[]`, ` {"a":1} `, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":1,}`, `[1,]`,
	`[1 2]`, `{"a" 1}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":}`, `{`, `[`, `"`, `"abc`, `"\`,
	`"\u00e9\/\b\f\n\r\t\"\\"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83dx"`,
	`"\ud83d\u0041"`, `"\uD83D\uDE00"`, `"\u12"`, `"\x"`, "\"\x01\"", "\"\x7f\"", "\"\xff\"",
	"\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", "\"é中😀\"", `0`, `-0`, `01`, `-`, `1.`, `.5`,
	`1e`, `1e+`, `1E-5`, `-1.25e10`, `+1`, `1x`, `{}x`, `{} {}`, `1 2`, `true`, `tru`,
	`truex`, `false`, `null`, `nul`, `[null,true,false,"x",{"b":[]}]`, "\t\r\n[ 1 , 2 ]\n",
	"\ufeff{}", `{"_sd":["a","b"],"x":{"...":"d"}}`, `"a\u0000b"`, `{"":1}`, `{"a":{"a":1}}`,
	strings.Repeat("[", 32) + strings.Repeat("]", 32),
	strings.Repeat("[", 33) + strings.Repeat("]", 33),
	strings.Repeat(`{"a":`, 32) + "1" + strings.Repeat("}", 32),
	strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33),
}

// checkJSON compares Value with referenceValue: the same inputs are accepted, and to the
// same values.
func checkJSON(t *testing.T, in []byte) {
	want, werr := referenceValue(in)
	got, gerr := Value(in)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: reference error %v, Value error %v", in, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%q: reference %#v, Value %#v", in, want, got)
	}
}

func TestValueMatchesReference(t *testing.T) {
	for _, s := range jsonSeeds {
		checkJSON(t, []byte(s))
	}
}

func FuzzValueMatchesReference(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkJSON(t, in)
	})
}
