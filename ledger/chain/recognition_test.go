package chain

import (
	"strings"
	"testing"

	"lianzheng/ledger"
)

// testRecognition: region B's household register recognised at the transfer item, its claim
// "full_name" renamed to our "name".
func testRecognition() ledger.Recognition {
	return ledger.Recognition{Region: "region-b", Name: ledger.Text{Zh: "示例乙市", En: "Example City B"},
		ChainID: "lz-region-b", GenesisSHA256: strings.Repeat("ab", 32), InitialHeight: 1, Nodes: []string{"https://ledger.region-b.example"},
		Validators: []ledger.RootValidator{{PubKey: validatorKey("b1"), Power: 10}, {PubKey: validatorKey("b2"), Power: 10}},
		Types: []ledger.RecognisedType{{Type: "hukou", AcceptedAs: "household-register", ServiceItems: []string{"transfer"},
			Claims: []ledger.ClaimRename{{Theirs: "full_name", Ours: "name"}}}},
		ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2031-01-01T00:00:00Z", MaxAgeSeconds: 86400}
}

// TestRecognitionGovernance: recognition.put and recognition.remove pass by k-of-n like any
// governance action; a malformed record, our own chain, a type or claim not in our catalogue
// and a service item no window registers are refused with
// their codes; removing an unknown region is not found.
func TestRecognitionGovernance(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	mod := func(f func(r *ledger.Recognition)) ledger.Recognition {
		r := testRecognition()
		r.Types = append([]ledger.RecognisedType(nil), r.Types...)
		f(&r)
		return r
	}
	cases := []struct {
		name string
		r    ledger.Recognition
		code uint32
	}{
		{"bad region id", mod(func(r *ledger.Recognition) { r.Region = "Region B" }), ledger.CodeInvalid},
		{"no validators", mod(func(r *ledger.Recognition) { r.Validators = nil }), ledger.CodeInvalid},
		{"validator twice", mod(func(r *ledger.Recognition) { r.Validators[1] = r.Validators[0] }), ledger.CodeInvalid},
		{"bad validator key", mod(func(r *ledger.Recognition) { r.Validators = []ledger.RootValidator{{PubKey: "AAAA", Power: 1}} }), ledger.CodeInvalid},
		{"genesis hash upper case", mod(func(r *ledger.Recognition) { r.GenesisSHA256 = strings.Repeat("AB", 32) }), ledger.CodeInvalid},
		{"no nodes", mod(func(r *ledger.Recognition) { r.Nodes = nil }), ledger.CodeInvalid},
		{"plain http node", mod(func(r *ledger.Recognition) { r.Nodes = []string{"http://ledger.region-b.example"} }), ledger.CodeInvalid},
		{"no types", mod(func(r *ledger.Recognition) { r.Types = nil }), ledger.CodeInvalid},
		{"until before from", mod(func(r *ledger.Recognition) { r.ValidUntil = "2025-01-01T00:00:00Z" }), ledger.CodeInvalid},
		{"eleven years", mod(func(r *ledger.Recognition) { r.ValidUntil = "2037-01-02T00:00:00Z" }), ledger.CodeInvalid},
		{"max age too short", mod(func(r *ledger.Recognition) { r.MaxAgeSeconds = 5 }), ledger.CodeInvalid},
		{"two claims to one", mod(func(r *ledger.Recognition) {
			r.Types[0].Claims = []ledger.ClaimRename{{Theirs: "full_name", Ours: "name"}, {Theirs: "nm", Ours: "name"}}
		}), ledger.CodeInvalid},
		{"our own chain", mod(func(r *ledger.Recognition) { r.ChainID = testChain }), ledger.CodeInvalid},
		{"accepted as unknown type", mod(func(r *ledger.Recognition) { r.Types[0].AcceptedAs = "passport" }), ledger.CodeNotFound},
		{"renamed to unknown claim", mod(func(r *ledger.Recognition) {
			r.Types[0].Claims = []ledger.ClaimRename{{Theirs: "full_name", Ours: "nick"}}
		}), ledger.CodeInvalid},
		{"unregistered service item", mod(func(r *ledger.Recognition) { r.Types[0].ServiceItems = []string{"nothing"} }), ledger.CodeNotFound},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, propose(h, gaj, ledger.ActionRecognitionPut, c.r), c.code)
	}
	expectBoth(t, h, "remove unknown region", propose(h, gaj, ledger.ActionRecognitionRemove, regionPayload{Region: "region-z"}), ledger.CodeNotFound)

	// k-of-n: pending after the proposer, applied at the second approval.
	r := testRecognition()
	ptx := propose(h, gaj, ledger.ActionRecognitionPut, r)
	h.mustOK(ptx)
	if h.get(ledger.KeyRecognition("region-b")) != nil {
		t.Fatal("applied below k")
	}
	h.mustOK(approve(h, mzj, ledger.ProposalID(ptx)))
	var got ledger.Recognition
	if !h.getJSON(ledger.KeyRecognition("region-b"), &got) || got.ChainID != "lz-region-b" || got.Types[0].Ours("full_name") != "name" {
		t.Fatalf("recognition = %+v", got)
	}
	// Withdrawn by governance again.
	rtx := propose(h, mzj, ledger.ActionRecognitionRemove, regionPayload{Region: "region-b"})
	h.mustOK(rtx)
	h.mustOK(approve(h, bdc, ledger.ProposalID(rtx)))
	if h.get(ledger.KeyRecognition("region-b")) != nil {
		t.Fatal("recognition not withdrawn")
	}
}
