package wire

import (
	"slices"
	"testing"
)

func TestKnown(t *testing.T) {
	got := Known([]KnownParty{
		{DID: "did:lz:w"},
		{DID: "did:lz:a", KeyIDs: []string{"did:lz:a#k1", "did:lz:a#k2"}, StatusLists: []string{"urn:lz:status:a:0"}},
		{StatusLists: []string{"urn:lz:status:a:0", "urn:lz:status:b:1"}},
		{DID: "did:lz:w", KeyIDs: []string{""}},
	}, []KnownType{
		{VCT: "urn:vct:x", Claims: []string{"name", "birth_date"}},
		{VCT: "urn:vct:y", Claims: []string{"name"}},
	})
	want := []string{"did:lz:w", "did:lz:a", "did:lz:a#k1", "did:lz:a#k2", "urn:lz:status:a:0", "urn:lz:status:b:1",
		"urn:vct:x", "name", "birth_date", "urn:vct:y"}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if Known(nil, nil) != nil {
		t.Fatal("empty dictionary not empty")
	}
}
