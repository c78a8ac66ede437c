package ledger

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestFieldRequestOptional (issue 14.1): a registration says which asked fields the item can
// do without. One written before "optional" existed decodes strictly and re-encodes byte for
// byte (its fields all required); one with "optional" round-trips; Validate refuses an
// optional field that is not asked, or is listed twice.
func TestFieldRequestOptional(t *testing.T) {
	old := []byte(`{"id":"x","name":{"zh":"事项","en":"item"},"purpose":{"zh":"目的","en":"purpose"},"requests":[{"type":"t1","fields":["a","b"]}]}`)
	var si ServiceItem
	if err := DecodeStrict(old, &si); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(si); !bytes.Equal(b, old) {
		t.Fatalf("old registration re-encodes as %s", b)
	}
	if !si.Required("t1", "a") || !si.Required("t1", "b") || si.Required("t1", "c") || si.Required("t2", "a") || len(si.Optional()) != 0 {
		t.Fatalf("old registration: required %v, optional %v", si.Required("t1", "a"), si.Optional())
	}
	withOpt := []byte(`{"id":"x","name":{"zh":"事项","en":"item"},"purpose":{"zh":"目的","en":"purpose"},"requests":[{"type":"t1","fields":["a","b"],"optional":["b"]}]}`)
	si = ServiceItem{}
	if err := DecodeStrict(withOpt, &si); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(si); !bytes.Equal(b, withOpt) {
		t.Fatalf("registration re-encodes as %s", b)
	}
	if !si.Required("t1", "a") || si.Required("t1", "b") || !reflect.DeepEqual(si.Optional(), map[string][]string{"t1": {"b"}}) {
		t.Fatalf("required a %v b %v, optional %v", si.Required("t1", "a"), si.Required("t1", "b"), si.Optional())
	}
	si.Optional()["t1"][0] = "changed"
	if si.Requests[0].Optional[0] != "b" {
		t.Fatal("Optional shares the item's slices")
	}

	win := func(opt ...string) *Window {
		return &Window{DID: "did:lz:w-1", Department: "dept", Name: Text{Zh: "窗口", En: "window"},
			ServiceItems: []ServiceItem{{ID: "x", Name: Text{Zh: "事项", En: "item"}, Purpose: Text{Zh: "目的", En: "purpose"},
				Requests: []FieldRequest{{Type: "t1", Fields: []string{"a", "b"}, Optional: opt}}}}}
	}
	if err := win().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := win("b").Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"c"}, {"b", "b"}} {
		if err := win(bad...).Validate(); err == nil || !strings.Contains(err.Error(), "optional") {
			t.Errorf("optional %v: %v", bad, err)
		}
	}
}
