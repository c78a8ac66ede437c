package chain

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"lianzheng/did"
	"lianzheng/ledger"
)

func propose(h *harness, signer, action string, payload any) []byte {
	return h.tx(signer, ledger.TxProposalCreate, ledger.ProposalCreate{Action: action, Payload: mustRaw(payload)})
}

func approve(h *harness, signer, id string) []byte {
	return h.tx(signer, ledger.TxProposalApprove, ledger.ProposalApprove{ID: id})
}

func (h *harness) proposal(id string) *ledger.Proposal {
	var p ledger.Proposal
	if !h.getJSON(ledger.KeyProposal(id), &p) {
		return nil
	}
	return &p
}

func TestGovernanceKofN(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	ptx := propose(h, gaj, ledger.ActionParamsSet, ledger.Params{Approvals: 3})
	id := ledger.ProposalID(ptx)
	res := h.mustOK(ptx)
	var p ledger.Proposal
	if err := json.Unmarshal(res[0].Data, &p); err != nil || p.ID != id {
		t.Fatalf("result data %s", res[0].Data)
	}
	// Below k: pending, nothing applied.
	if p := h.proposal(id); p.Status != "pending" || len(p.Approvals) != 1 || p.Proposer != "gaj" {
		t.Fatalf("after create %+v", p)
	}
	var params ledger.Params
	h.getJSON(ledger.KeyParams(), &params)
	if params.Approvals != 2 {
		t.Fatal("applied below k")
	}
	expectBoth(t, h, "proposer approves again", approve(h, gaj, id), ledger.CodeConflict)
	expectBoth(t, h, "non-member approves", approve(h, w1, id), ledger.CodeUnauthorized)
	expectBoth(t, h, "unknown proposal", approve(h, mzj, "00112233445566778899aabbccddeeff"), ledger.CodeNotFound)
	// At k: applied in that block.
	expectBoth(t, h, "second approval", approve(h, mzj, id), ledger.CodeOK)
	p = *h.proposal(id)
	if p.Status != "applied" || len(p.Approvals) != 2 || p.Approvals[0] != "gaj" || p.Approvals[1] != "mzj" {
		t.Fatalf("after k %+v", p)
	}
	h.getJSON(ledger.KeyParams(), &params)
	if params.Approvals != 3 {
		t.Fatalf("params not applied: %+v", params)
	}
	expectBoth(t, h, "approval of applied proposal", approve(h, bdc, id), ledger.CodeConflict)

	// Now 3-of-3; two approvals in the same block as the creation.
	p2 := propose(h, bdc, ledger.ActionParamsSet, ledger.Params{Approvals: 2})
	res = h.block(p2, approve(h, gaj, ledger.ProposalID(p2)), approve(h, gaj, ledger.ProposalID(p2)), approve(h, mzj, ledger.ProposalID(p2)))
	if res[0].Code != 0 || res[1].Code != 0 || res[2].Code != ledger.CodeConflict || res[3].Code != 0 {
		t.Fatalf("codes %d %d %d %d: %s", res[0].Code, res[1].Code, res[2].Code, res[3].Code, res[2].Log)
	}
	if h.proposal(ledger.ProposalID(p2)).Status != "applied" {
		t.Fatal("3-of-3 not applied")
	}
}

func TestGovernanceActions(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	// passK creates the proposal with gaj and approves it with mzj (k=2).
	passK := func(name, action string, payload any) *ledger.Proposal {
		t.Helper()
		ptx := propose(h, gaj, action, payload)
		res := h.block(ptx, approve(h, mzj, ledger.ProposalID(ptx)))
		if res[0].Code != ledger.CodeOK || res[1].Code != ledger.CodeOK {
			t.Fatalf("%s: codes %d %d: %s %s", name, res[0].Code, res[1].Code, res[0].Log, res[1].Log)
		}
		return h.proposal(ledger.ProposalID(ptx))
	}
	claim := ledger.Claim{Name: "plate", Type: "string", Required: true, Label: ledger.Text{Zh: "号牌", En: "Plate"}}
	newType := ledger.CredentialType{ID: "driving-licence", VCT: "urn:lz:vct:driving-licence", Name: ledger.Text{Zh: "驾驶证", En: "Driving licence"},
		Issuers: []string{"gaj"}, MaxValidityDays: 3650, Claims: []ledger.Claim{claim}, Disclosable: []string{"plate"}}
	badIssuer := newType
	badIssuer.Issuers = []string{"nobody"}
	badDisclosable := newType
	badDisclosable.Disclosable = []string{"colour"}
	win := ledger.Window{DID: "did:lz:bdc-w1", Department: "bdc", Name: ledger.Text{Zh: "窗口", En: "Window"},
		ServiceItems: []ledger.ServiceItem{{ID: "x", Name: ledger.Text{Zh: "x", En: "x"}, Purpose: ledger.Text{Zh: "x", En: "x"}, Requests: []ledger.FieldRequest{{Type: "household-register", Fields: []string{"secret"}}}}}}
	wrongDept := win
	wrongDept.Department = "gaj"
	wrongDept.ServiceItems = nil
	unknownType := win
	unknownType.ServiceItems = []ledger.ServiceItem{{ID: "x", Name: ledger.Text{Zh: "x", En: "x"}, Purpose: ledger.Text{Zh: "x", En: "x"}, Requests: []ledger.FieldRequest{{Type: "nope", Fields: []string{"a"}}}}}
	badChannel := wrongDept
	badChannel.Department, badChannel.Channel = "bdc", "kiosk"
	hallURL := wrongDept
	hallURL.Department, hallURL.URL = "bdc", "https://portal.example"
	portalHTTP := hallURL
	portalHTTP.Channel, portalHTTP.URL = ledger.ChannelOnline, "http://portal.example"
	cases := []struct {
		name    string
		signer  string
		action  string
		payload any
		code    uint32
	}{
		{"non-member proposes", w1, ledger.ActionParamsSet, ledger.Params{Approvals: 1}, ledger.CodeUnauthorized},
		{"unknown action", gaj, "chain.halt", ledger.Params{Approvals: 1}, ledger.CodeInvalid},
		{"payload unknown field", gaj, ledger.ActionParamsSet, map[string]int{"approvals": 1, "quorum": 2}, ledger.CodeMalformed},
		{"approvals 0", gaj, ledger.ActionParamsSet, ledger.Params{Approvals: 0}, ledger.CodeInvalid},
		{"approvals > members", gaj, ledger.ActionParamsSet, ledger.Params{Approvals: 4}, ledger.CodeInvalid},
		{"type with unknown issuer", gaj, ledger.ActionCataloguePut, badIssuer, ledger.CodeNotFound},
		{"type disclosable not a claim", gaj, ledger.ActionCataloguePut, badDisclosable, ledger.CodeInvalid},
		{"remove unknown type", gaj, ledger.ActionCatalogueRemove, idPayload{ID: "nope"}, ledger.CodeNotFound},
		{"remove type a window uses", gaj, ledger.ActionCatalogueRemove, idPayload{ID: "marriage-certificate"}, ledger.CodeConflict},
		{"window asks undisclosable field", gaj, ledger.ActionWindowPut, win, ledger.CodeInvalid},
		{"window of another department", gaj, ledger.ActionWindowPut, wrongDept, ledger.CodeUnauthorized},
		{"window unknown type", gaj, ledger.ActionWindowPut, unknownType, ledger.CodeNotFound},
		{"window DID missing", gaj, ledger.ActionWindowPut, ledger.Window{DID: "did:lz:none", Department: "bdc", Name: ledger.Text{Zh: "x", En: "x"}}, ledger.CodeNotFound},
		{"window unknown channel", gaj, ledger.ActionWindowPut, badChannel, ledger.CodeInvalid},
		{"hall window with a URL", gaj, ledger.ActionWindowPut, hallURL, ledger.CodeInvalid},
		{"online service with an http URL", gaj, ledger.ActionWindowPut, portalHTTP, ledger.CodeInvalid},
		{"remove unknown window", gaj, ledger.ActionWindowRemove, didPayload{DID: "did:lz:none"}, ledger.CodeNotFound},
		{"remove unknown member", gaj, ledger.ActionMemberRemove, idPayload{ID: "nobody"}, ledger.CodeNotFound},
		{"remove issuing member", gaj, ledger.ActionMemberRemove, idPayload{ID: "gaj"}, ledger.CodeConflict},
		{"add existing member", gaj, ledger.ActionMemberAdd, ledger.Member{ID: "mzj", DID: "did:lz:mzj", Name: ledger.Text{Zh: "x", En: "x"}}, ledger.CodeConflict},
		{"add member without DID", gaj, ledger.ActionMemberAdd, ledger.Member{ID: "new", DID: "did:lz:new", Name: ledger.Text{Zh: "x", En: "x"}}, ledger.CodeNotFound},
		{"add member wrong DID", gaj, ledger.ActionMemberAdd, ledger.Member{ID: "new", DID: "did:lz:other", Name: ledger.Text{Zh: "x", En: "x"}}, ledger.CodeInvalid},
		{"add member bad validator", gaj, ledger.ActionMemberAdd, ledger.Member{ID: "new", DID: "did:lz:new", Name: ledger.Text{Zh: "x", En: "x"}, Validator: "AAAA"}, ledger.CodeInvalid},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, propose(h, c.signer, c.action, c.payload), c.code)
	}

	// catalogue.put / window.put / window.remove / catalogue.remove.
	passK("catalogue.put", ledger.ActionCataloguePut, newType)
	var ct ledger.CredentialType
	if !h.getJSON(ledger.KeyType("driving-licence"), &ct) || ct.Claims[0].Label.Zh != "号牌" {
		t.Fatalf("type = %+v", ct)
	}
	h.keys["did:lz:gaj-w2#key-1"] = testKey("did:lz:gaj-w2#key-1")
	h.mustOK(h.tx(gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w2", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:gaj-w2#key-1"), time.Time{})}}))
	w2 := ledger.Window{DID: "did:lz:gaj-w2", Department: "gaj", Name: ledger.Text{Zh: "车管窗口", En: "Vehicle window"},
		ServiceItems: []ledger.ServiceItem{{ID: "check", Name: ledger.Text{Zh: "查验", En: "Check"}, Purpose: ledger.Text{Zh: "核验", En: "Verify"}, Requests: []ledger.FieldRequest{{Type: "driving-licence", Fields: []string{"plate"}}}}}}
	passK("window.put", ledger.ActionWindowPut, w2)
	// An online service item is registered by the same governance, with its own DID key and
	// the channel marker (docs/portal.md); a hall window's record does not name a channel.
	h.keys["did:lz:gaj-portal#key-1"] = testKey("did:lz:gaj-portal#key-1")
	h.mustOK(h.tx(gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-portal", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:gaj-portal#key-1"), time.Time{})}}))
	portal := w2
	portal.DID, portal.Channel, portal.URL = "did:lz:gaj-portal", ledger.ChannelOnline, "https://portal.gaj.example"
	passK("window.put online", ledger.ActionWindowPut, portal)
	var gotPortal ledger.Window
	if !h.getJSON(ledger.KeyWindow("did:lz:gaj-portal"), &gotPortal) || !gotPortal.Online() || gotPortal.URL != portal.URL {
		t.Fatalf("online service = %+v", gotPortal)
	}
	if raw := string(h.get(ledger.KeyWindow("did:lz:gaj-w2"))); strings.Contains(raw, "channel") || strings.Contains(raw, "url") {
		t.Fatalf("hall window record names a channel: %s", raw)
	}
	passK("window.remove online", ledger.ActionWindowRemove, didPayload{DID: "did:lz:gaj-portal"})
	if r := h.check(h.tx("did:lz:gaj-w2#key-1", ledger.TxAnchorPost, ledger.AnchorPost{Root: strings.Repeat("01", 32), Count: 1})); r.Code != ledger.CodeOK {
		t.Fatalf("new window anchors: %d %s", r.Code, r.Log)
	}
	shrunk := newType
	shrunk.Disclosable = nil
	expectBoth(t, h, "type change breaking a window", propose(h, gaj, ledger.ActionCataloguePut, shrunk), ledger.CodeConflict)
	passK("window.remove", ledger.ActionWindowRemove, didPayload{DID: "did:lz:gaj-w2"})
	if r := h.check(h.tx("did:lz:gaj-w2#key-1", ledger.TxAnchorPost, ledger.AnchorPost{Root: strings.Repeat("11", 32), Count: 1})); r.Code != ledger.CodeUnauthorized {
		t.Fatalf("removed window anchors: %d %s", r.Code, r.Log)
	}
	passK("catalogue.remove", ledger.ActionCatalogueRemove, idPayload{ID: "driving-licence"})
	if h.get(ledger.KeyType("driving-licence")) != nil {
		t.Fatal("type not removed")
	}

	// member.add: the DID, created by a sponsor, becomes self-controlled; validator joins.
	h.keys["did:lz:swj#key-1"] = testKey("did:lz:swj#key-1")
	h.mustOK(h.tx(bdc, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:swj", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:swj#key-1"), time.Time{})}}))
	newMember := ledger.Member{ID: "swj", DID: "did:lz:swj", Name: ledger.Text{Zh: "测试税务局", En: "Test Tax Bureau"}, Validator: validatorKey("swj"), Power: 5}
	passK("member.add", ledger.ActionMemberAdd, newMember)
	if len(h.lastVals) != 1 || h.lastVals[0].Power != 5 {
		t.Fatalf("validator updates %v", h.lastVals)
	}
	if hs := h.history("did:lz:swj"); hs.Controller != "" {
		t.Fatalf("member DID still controlled by %s", hs.Controller)
	}
	if r := h.check(h.tx("did:lz:swj#key-1", ledger.TxStatusSet, statusBody(1, 1))); r.Code != ledger.CodeOK {
		t.Fatalf("new member status.set: %d %s", r.Code, r.Log)
	}
	expectBoth(t, h, "sponsor no longer controls", h.tx(bdc, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:swj", Key: keyRecord("key-9", testKey("k9"), time.Time{})}), ledger.CodeUnauthorized)
	// member.remove: validator power 0, the DID can no longer act as a member.
	passK("member.remove", ledger.ActionMemberRemove, idPayload{ID: "swj"})
	if len(h.lastVals) != 1 || h.lastVals[0].Power != 0 {
		t.Fatalf("validator updates %v", h.lastVals)
	}
	expectBoth(t, h, "removed member writes status", h.tx("did:lz:swj#key-1", ledger.TxStatusSet, statusBody(2, 1)), ledger.CodeUnauthorized)
}

// An action that can no longer apply when its k-th approval arrives marks the proposal
// failed; the approving transaction succeeds and nothing else changes.
func TestGovernanceFailedAction(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	h.keys["did:lz:bdc-w2#key-1"] = testKey("did:lz:bdc-w2#key-1")
	h.mustOK(h.tx(bdc, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:bdc-w2", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:bdc-w2#key-1"), time.Time{})}}))
	ptx := propose(h, bdc, ledger.ActionWindowPut, ledger.Window{DID: "did:lz:bdc-w2", Department: "bdc", Name: ledger.Text{Zh: "二号窗口", En: "Window 2"}})
	h.mustOK(ptx)
	h.mustOK(h.tx(bdc, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:bdc-w2"}))
	h.mustOK(approve(h, gaj, ledger.ProposalID(ptx)))
	p := h.proposal(ledger.ProposalID(ptx))
	if p.Status != "failed" || p.Error == "" {
		t.Fatalf("proposal %+v", p)
	}
	if h.get(ledger.KeyWindow("did:lz:bdc-w2")) != nil {
		t.Fatal("failed action was applied")
	}
	expectBoth(t, h, "approve failed proposal", approve(h, mzj, ledger.ProposalID(ptx)), ledger.CodeConflict)
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
