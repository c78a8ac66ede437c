package home

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	cmted "github.com/cometbft/cometbft/crypto/ed25519"

	"lianzheng/home/demonet"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// TestGovernanceAsDepartment: on the embedded demo ledger (3 of 5 approvals), departments
// record a mutual-recognition agreement by governance — proposed by one (pending, its own
// approval implied), approved by two more (applied), read back with proofs — then withdraw
// it the same way. A second approval by the same department, an agreement the ledger finds
// inconsistent with our catalogue, and a payload that is not a JSON object are refused with
// their typed errors; nothing changes.
func TestGovernanceAsDepartment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "lz-gov-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	o := testOptions
	h, err := OpenDemo(ctx, dir, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	depts := h.Departments()
	dept := func(i int) *Department { d, _ := h.Issuer(depts[i]); return d }

	k := cmted.GenPrivKey().PubKey().(cmted.PubKey)
	rec := ledger.Recognition{Region: "region-b", Name: ledger.Text{Zh: "示例乙市", En: "Example City B"},
		ChainID: "lz-region-b", GenesisSHA256: ledger.GenesisSHA256([]byte("region b genesis")), InitialHeight: 1,
		Validators: []ledger.RootValidator{{PubKey: ledger.ValidatorKeyString(k), Power: 10}},
		Nodes:      []string{"https://ledger.region-b.example"},
		Types: []ledger.RecognisedType{{Type: "household-register", AcceptedAs: "household-register",
			ServiceItems: []string{"property-transfer", "property-transfer-online"}}},
		ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2031-01-01T00:00:00Z", MaxAgeSeconds: 86400}
	payload, _ := json.Marshal(rec)

	bad := rec
	bad.Types = []ledger.RecognisedType{{Type: "household-register", AcceptedAs: "household-register", ServiceItems: []string{"no-such-item"}}}
	badPayload, _ := json.Marshal(bad)
	if _, err := dept(0).Propose(ctx, ledger.ActionRecognitionPut, badPayload); !errors.Is(err, ledgerclient.ErrTxNotFound) {
		t.Fatalf("an agreement naming no registered item: %v", err)
	}
	if _, err := dept(0).Propose(ctx, ledger.ActionRecognitionPut, json.RawMessage(`[1]`)); !errors.Is(err, issuer.ErrProposal) {
		t.Fatalf("a payload that is not an object: %v", err)
	}

	g, err := dept(0).Propose(ctx, ledger.ActionRecognitionPut, payload)
	if err != nil {
		t.Fatal(err)
	}
	if g.Proposal == nil || g.Proposal.Status != "pending" || len(g.Proposal.Approvals) != 1 {
		t.Fatalf("after the proposal: %+v", g.Proposal)
	}
	if _, err := dept(0).Approve(ctx, g.ProposalID); !errors.Is(err, ledgerclient.ErrTxConflict) {
		t.Fatalf("the proposer approving again: %v", err)
	}
	for i := 1; i < demonet.DemoApprovals; i++ {
		if g, err = dept(i).Approve(ctx, g.ProposalID); err != nil {
			t.Fatal(err)
		}
	}
	if g.Proposal == nil || g.Proposal.Status != "applied" {
		t.Fatalf("after %d approvals: %+v", demonet.DemoApprovals, g.Proposal)
	}
	got, err := h.Ledger().Recognition(ctx, "region-b")
	if err != nil || got.ChainID != "lz-region-b" || len(got.Types[0].ServiceItems) != 2 {
		t.Fatalf("recorded agreement: %+v %v", got, err)
	}

	// Withdrawn by governance again.
	w, err := dept(1).Propose(ctx, ledger.ActionRecognitionRemove, json.RawMessage(`{"region":"region-b"}`))
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < demonet.DemoApprovals+1; i++ {
		if w, err = dept(i).Approve(ctx, w.ProposalID); err != nil {
			t.Fatal(err)
		}
	}
	if w.Proposal == nil || w.Proposal.Status != "applied" {
		t.Fatalf("withdrawal: %+v", w.Proposal)
	}
	if _, err := h.Ledger().Recognition(ctx, "region-b"); !errors.Is(err, ledgerclient.ErrNotFound) {
		t.Fatalf("after the withdrawal: %v", err)
	}
}
