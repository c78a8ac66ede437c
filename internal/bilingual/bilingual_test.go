package bilingual

import (
	"encoding/json"
	"testing"
)

func TestText(t *testing.T) {
	cases := []struct {
		t      Text
		lang   string
		want   string
		wantJS string
	}{
		{Text{"有效", "valid"}, "zh", "有效", `{"zh":"有效","en":"valid"}`},
		{Text{"有效", "valid"}, "en", "valid", `{"zh":"有效","en":"valid"}`},
		{Text{"仅中文", ""}, "en", "仅中文", `{"zh":"仅中文","en":""}`},
		{Text{"有效", "valid"}, "fr", "有效", `{"zh":"有效","en":"valid"}`},
	}
	for _, c := range cases {
		if got := c.t.In(c.lang); got != c.want {
			t.Errorf("%v.In(%s) = %q, want %q", c.t, c.lang, got, c.want)
		}
		b, _ := json.Marshal(c.t)
		if string(b) != c.wantJS {
			t.Errorf("JSON %s, want %s", b, c.wantJS)
		}
	}
	// Records written before the one type existed used Go field names; they still read.
	var old Text
	if err := json.Unmarshal([]byte(`{"Zh":"有效","En":"valid"}`), &old); err != nil || old != (Text{"有效", "valid"}) {
		t.Fatalf("old record: %+v %v", old, err)
	}
	if s := (Text{"有效", "valid"}).String(); s != "有效 / valid" {
		t.Fatal(s)
	}
}
