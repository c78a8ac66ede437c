package ledger

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"lianzheng/did"
)

func propose(h *harness, signer, action string, payload any) []byte {
	return h.tx(signer, TxProposalCreate, ProposalCreate{Action: action, Payload: mustRaw(payload)})
}

func approve(h *harness, signer, id string) []byte {
	return h.tx(signer, TxProposalApprove, ProposalApprove{ID: id})
}

func (h *harness) proposal(id string) *Proposal {
	var p Proposal
	if !h.getJSON(KeyProposal(id), &p) {
		return nil
	}
	return &p
}

func TestGovernanceKofN(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	ptx := propose(h, gaj, ActionParamsSet, Params{Approvals: 3})
	id := ProposalID(ptx)
	res := h.mustOK(ptx)
	var p Proposal
	if err := json.Unmarshal(res[0].Data, &p); err != nil || p.ID != id {
		t.Fatalf("result data %s", res[0].Data)
	}
	// Below k: pending, nothing applied.
	if p := h.proposal(id); p.Status != "pending" || len(p.Approvals) != 1 || p.Proposer != "gaj" {
		t.Fatalf("after create %+v", p)
	}
	var params Params
	h.getJSON(KeyParams(), &params)
	if params.Approvals != 2 {
		t.Fatal("applied below k")
	}
	expectBoth(t, h, "proposer approves again", approve(h, gaj, id), CodeConflict)
	expectBoth(t, h, "non-member approves", approve(h, w1, id), CodeUnauthorized)
	expectBoth(t, h, "unknown proposal", approve(h, mzj, "00112233445566778899aabbccddeeff"), CodeNotFound)
	// At k: applied in that block.
	expectBoth(t, h, "second approval", approve(h, mzj, id), CodeOK)
	p = *h.proposal(id)
	if p.Status != "applied" || len(p.Approvals) != 2 || p.Approvals[0] != "gaj" || p.Approvals[1] != "mzj" {
		t.Fatalf("after k %+v", p)
	}
	h.getJSON(KeyParams(), &params)
	if params.Approvals != 3 {
		t.Fatalf("params not applied: %+v", params)
	}
	expectBoth(t, h, "approval of applied proposal", approve(h, bdc, id), CodeConflict)

	// Now 3-of-3; two approvals in the same block as the creation.
	p2 := propose(h, bdc, ActionParamsSet, Params{Approvals: 2})
	res = h.block(p2, approve(h, gaj, ProposalID(p2)), approve(h, gaj, ProposalID(p2)), approve(h, mzj, ProposalID(p2)))
	if res[0].Code != 0 || res[1].Code != 0 || res[2].Code != CodeConflict || res[3].Code != 0 {
		t.Fatalf("codes %d %d %d %d: %s", res[0].Code, res[1].Code, res[2].Code, res[3].Code, res[2].Log)
	}
	if h.proposal(ProposalID(p2)).Status != "applied" {
		t.Fatal("3-of-3 not applied")
	}
}

func TestGovernanceActions(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	// passK creates the proposal with gaj and approves it with mzj (k=2).
	passK := func(name, action string, payload any) *Proposal {
		t.Helper()
		ptx := propose(h, gaj, action, payload)
		res := h.block(ptx, approve(h, mzj, ProposalID(ptx)))
		if res[0].Code != CodeOK || res[1].Code != CodeOK {
			t.Fatalf("%s: codes %d %d: %s %s", name, res[0].Code, res[1].Code, res[0].Log, res[1].Log)
		}
		return h.proposal(ProposalID(ptx))
	}
	claim := Claim{Name: "plate", Type: "string", Required: true, Label: Text{"号牌", "Plate"}}
	newType := CredentialType{ID: "driving-licence", VCT: "urn:lz:vct:driving-licence", Name: Text{"驾驶证", "Driving licence"},
		Issuers: []string{"gaj"}, MaxValidityDays: 3650, Claims: []Claim{claim}, Disclosable: []string{"plate"}}
	badIssuer := newType
	badIssuer.Issuers = []string{"nobody"}
	badDisclosable := newType
	badDisclosable.Disclosable = []string{"colour"}
	win := Window{DID: "did:lz:bdc-w1", Department: "bdc", Name: Text{"窗口", "Window"},
		ServiceItems: []ServiceItem{{ID: "x", Name: Text{"x", "x"}, Purpose: Text{"x", "x"}, Requests: []FieldRequest{{Type: "household-register", Fields: []string{"secret"}}}}}}
	wrongDept := win
	wrongDept.Department = "gaj"
	wrongDept.ServiceItems = nil
	unknownType := win
	unknownType.ServiceItems = []ServiceItem{{ID: "x", Name: Text{"x", "x"}, Purpose: Text{"x", "x"}, Requests: []FieldRequest{{Type: "nope", Fields: []string{"a"}}}}}
	cases := []struct {
		name    string
		signer  string
		action  string
		payload any
		code    uint32
	}{
		{"non-member proposes", w1, ActionParamsSet, Params{Approvals: 1}, CodeUnauthorized},
		{"unknown action", gaj, "chain.halt", Params{Approvals: 1}, CodeInvalid},
		{"payload unknown field", gaj, ActionParamsSet, map[string]int{"approvals": 1, "quorum": 2}, CodeMalformed},
		{"approvals 0", gaj, ActionParamsSet, Params{Approvals: 0}, CodeInvalid},
		{"approvals > members", gaj, ActionParamsSet, Params{Approvals: 4}, CodeInvalid},
		{"type with unknown issuer", gaj, ActionCataloguePut, badIssuer, CodeNotFound},
		{"type disclosable not a claim", gaj, ActionCataloguePut, badDisclosable, CodeInvalid},
		{"remove unknown type", gaj, ActionCatalogueRemove, idPayload{ID: "nope"}, CodeNotFound},
		{"remove type a window uses", gaj, ActionCatalogueRemove, idPayload{ID: "marriage-certificate"}, CodeConflict},
		{"window asks undisclosable field", gaj, ActionWindowPut, win, CodeInvalid},
		{"window of another department", gaj, ActionWindowPut, wrongDept, CodeUnauthorized},
		{"window unknown type", gaj, ActionWindowPut, unknownType, CodeNotFound},
		{"window DID missing", gaj, ActionWindowPut, Window{DID: "did:lz:none", Department: "bdc", Name: Text{"x", "x"}}, CodeNotFound},
		{"remove unknown window", gaj, ActionWindowRemove, didPayload{DID: "did:lz:none"}, CodeNotFound},
		{"remove unknown member", gaj, ActionMemberRemove, idPayload{ID: "nobody"}, CodeNotFound},
		{"remove issuing member", gaj, ActionMemberRemove, idPayload{ID: "gaj"}, CodeConflict},
		{"add existing member", gaj, ActionMemberAdd, Member{ID: "mzj", DID: "did:lz:mzj", Name: Text{"x", "x"}}, CodeConflict},
		{"add member without DID", gaj, ActionMemberAdd, Member{ID: "new", DID: "did:lz:new", Name: Text{"x", "x"}}, CodeNotFound},
		{"add member wrong DID", gaj, ActionMemberAdd, Member{ID: "new", DID: "did:lz:other", Name: Text{"x", "x"}}, CodeInvalid},
		{"add member bad validator", gaj, ActionMemberAdd, Member{ID: "new", DID: "did:lz:new", Name: Text{"x", "x"}, Validator: "AAAA"}, CodeInvalid},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, propose(h, c.signer, c.action, c.payload), c.code)
	}

	// catalogue.put / window.put / window.remove / catalogue.remove.
	passK("catalogue.put", ActionCataloguePut, newType)
	var ct CredentialType
	if !h.getJSON(KeyType("driving-licence"), &ct) || ct.Claims[0].Label.Zh != "号牌" {
		t.Fatalf("type = %+v", ct)
	}
	h.keys["did:lz:gaj-w2#key-1"] = testKey("did:lz:gaj-w2#key-1")
	h.mustOK(h.tx(gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w2", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:gaj-w2#key-1"), time.Time{})}}))
	w2 := Window{DID: "did:lz:gaj-w2", Department: "gaj", Name: Text{"车管窗口", "Vehicle window"},
		ServiceItems: []ServiceItem{{ID: "check", Name: Text{"查验", "Check"}, Purpose: Text{"核验", "Verify"}, Requests: []FieldRequest{{Type: "driving-licence", Fields: []string{"plate"}}}}}}
	passK("window.put", ActionWindowPut, w2)
	if r := h.check(h.tx("did:lz:gaj-w2#key-1", TxAnchorPost, AnchorPost{Root: strings.Repeat("01", 32), Count: 1})); r.Code != CodeOK {
		t.Fatalf("new window anchors: %d %s", r.Code, r.Log)
	}
	shrunk := newType
	shrunk.Disclosable = nil
	expectBoth(t, h, "type change breaking a window", propose(h, gaj, ActionCataloguePut, shrunk), CodeConflict)
	passK("window.remove", ActionWindowRemove, didPayload{DID: "did:lz:gaj-w2"})
	if r := h.check(h.tx("did:lz:gaj-w2#key-1", TxAnchorPost, AnchorPost{Root: strings.Repeat("11", 32), Count: 1})); r.Code != CodeUnauthorized {
		t.Fatalf("removed window anchors: %d %s", r.Code, r.Log)
	}
	passK("catalogue.remove", ActionCatalogueRemove, idPayload{ID: "driving-licence"})
	if h.get(KeyType("driving-licence")) != nil {
		t.Fatal("type not removed")
	}

	// member.add: the DID, created by a sponsor, becomes self-controlled; validator joins.
	h.keys["did:lz:swj#key-1"] = testKey("did:lz:swj#key-1")
	h.mustOK(h.tx(bdc, TxDIDCreate, DIDCreate{DID: "did:lz:swj", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:swj#key-1"), time.Time{})}}))
	newMember := Member{ID: "swj", DID: "did:lz:swj", Name: Text{"测试税务局", "Test Tax Bureau"}, Validator: validatorKey("swj"), Power: 5}
	passK("member.add", ActionMemberAdd, newMember)
	if len(h.lastVals) != 1 || h.lastVals[0].Power != 5 {
		t.Fatalf("validator updates %v", h.lastVals)
	}
	if hs := h.history("did:lz:swj"); hs.Controller != "" {
		t.Fatalf("member DID still controlled by %s", hs.Controller)
	}
	if r := h.check(h.tx("did:lz:swj#key-1", TxStatusSet, statusBody(1, 1))); r.Code != CodeOK {
		t.Fatalf("new member status.set: %d %s", r.Code, r.Log)
	}
	expectBoth(t, h, "sponsor no longer controls", h.tx(bdc, TxDIDAddKey, DIDAddKey{DID: "did:lz:swj", Key: keyRecord("key-9", testKey("k9"), time.Time{})}), CodeUnauthorized)
	// member.remove: validator power 0, the DID can no longer act as a member.
	passK("member.remove", ActionMemberRemove, idPayload{ID: "swj"})
	if len(h.lastVals) != 1 || h.lastVals[0].Power != 0 {
		t.Fatalf("validator updates %v", h.lastVals)
	}
	expectBoth(t, h, "removed member writes status", h.tx("did:lz:swj#key-1", TxStatusSet, statusBody(2, 1)), CodeUnauthorized)
}

// An action that can no longer apply when its k-th approval arrives marks the proposal
// failed; the approving transaction succeeds and nothing else changes.
func TestGovernanceFailedAction(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	h.keys["did:lz:bdc-w2#key-1"] = testKey("did:lz:bdc-w2#key-1")
	h.mustOK(h.tx(bdc, TxDIDCreate, DIDCreate{DID: "did:lz:bdc-w2", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:bdc-w2#key-1"), time.Time{})}}))
	ptx := propose(h, bdc, ActionWindowPut, Window{DID: "did:lz:bdc-w2", Department: "bdc", Name: Text{"二号窗口", "Window 2"}})
	h.mustOK(ptx)
	h.mustOK(h.tx(bdc, TxDIDDeactivate, DIDDeactivate{DID: "did:lz:bdc-w2"}))
	h.mustOK(approve(h, gaj, ProposalID(ptx)))
	p := h.proposal(ProposalID(ptx))
	if p.Status != "failed" || p.Error == "" {
		t.Fatalf("proposal %+v", p)
	}
	if h.get(KeyWindow("did:lz:bdc-w2")) != nil {
		t.Fatal("failed action was applied")
	}
	expectBoth(t, h, "approve failed proposal", approve(h, mzj, ProposalID(ptx)), CodeConflict)
}

// Validator updates: a key added and removed in one block is dropped; each key appears once.
func TestValidatorUpdatesMerge(t *testing.T) {
	v := newValUpdates()
	a, b := make([]byte, 32), make([]byte, 32)
	a[0], b[0] = 1, 2
	v.set(a, 10, false)
	v.set(a, 0, true)
	v.set(b, 0, true)
	v.set(b, 7, false)
	got := v.list()
	want := []abci.ValidatorUpdate{abci.Ed25519ValidatorUpdate(b, 7)}
	if len(got) != 1 || got[0].Power != want[0].Power || !got[0].PubKey.Equal(want[0].PubKey) {
		t.Fatalf("updates %v", got)
	}
}
