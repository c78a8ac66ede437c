package chain

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"

	"lianzheng/did"
	"lianzheng/ledger"
)

func TestGenesisRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func(g *ledger.GenesisState)
		want string
	}{
		{"no members", func(g *ledger.GenesisState) { g.Members = nil }, "no members"},
		{"approvals 0", func(g *ledger.GenesisState) { g.Params.Approvals = 0 }, "approvals"},
		{"approvals > members", func(g *ledger.GenesisState) { g.Params.Approvals = 4 }, "approvals"},
		{"invalid history", func(g *ledger.GenesisState) { g.DIDs[0].Keys[0].Purposes = []string{"x"} }, "purpose"},
		{"null history", func(g *ledger.GenesisState) { g.DIDs[1] = nil }, "null"},
		{"did:key history", func(g *ledger.GenesisState) {
			k := multikey(testKey("k"))
			g.DIDs = append(g.DIDs, &did.History{DID: "did:key:" + k, Created: genesisTime})
		}, "did:lz"},
		{"duplicate history", func(g *ledger.GenesisState) { g.DIDs = append(g.DIDs, g.DIDs[0]) }, "twice"},
		{"unknown controller", func(g *ledger.GenesisState) { g.DIDs[3].Controller = "did:lz:ghost" }, "controller"},
		{"member without history", func(g *ledger.GenesisState) { g.DIDs = g.DIDs[1:] }, "no history"},
		{"member did mismatch", func(g *ledger.GenesisState) { g.Members[0].DID = "did:lz:mzj" }, "did must be"},
		{"member bad id", func(g *ledger.GenesisState) { g.Members[0].ID = "GAJ" }, "member id"},
		{"member no name", func(g *ledger.GenesisState) { g.Members[0].Name = ledger.Text{} }, "name"},
		{"member duplicate", func(g *ledger.GenesisState) { g.Members = append(g.Members, g.Members[0]) }, "twice"},
		{"bad validator key", func(g *ledger.GenesisState) { g.Members[0].Validator = "xyz" }, "validator"},
		{"shared validator key", func(g *ledger.GenesisState) { g.Members[1].Validator = g.Members[0].Validator }, "same validator"},
		{"power without validator", func(g *ledger.GenesisState) { g.Members[0].Validator = ""; g.Members[0].Power = 5 }, "power"},
		{"deactivated member DID", func(g *ledger.GenesisState) { d := genesisTime; g.DIDs[0].Deactivated = &d }, "deactivated"},
		{"issuer not member", func(g *ledger.GenesisState) { g.Types[0].Issuers = []string{"ghost"} }, "not a member"},
		{"no issuers", func(g *ledger.GenesisState) { g.Types[0].Issuers = nil }, "no issuers"},
		{"duplicate type", func(g *ledger.GenesisState) { g.Types = append(g.Types, g.Types[0]) }, "twice"},
		{"bad claim type", func(g *ledger.GenesisState) { g.Types[0].Claims[0].Type = "blob" }, "type"},
		{"duplicate claim", func(g *ledger.GenesisState) { g.Types[0].Claims[1].Name = g.Types[0].Claims[0].Name }, "repeated"},
		{"disclosable not a claim", func(g *ledger.GenesisState) { g.Types[0].Disclosable = []string{"nope"} }, "not a claim"},
		{"bad validity", func(g *ledger.GenesisState) { g.Types[0].MaxValidityDays = 0 }, "max_validity_days"},
		{"window department not member", func(g *ledger.GenesisState) { g.Windows[0].Department = "ghost" }, "not a member"},
		{"window DID missing", func(g *ledger.GenesisState) { g.Windows[0].DID = "did:lz:ghost" }, "no history"},
		{"window DID of other department", func(g *ledger.GenesisState) { g.DIDs[3].Controller = "did:lz:gaj" }, "controlled by"},
		{"window field not a claim", func(g *ledger.GenesisState) { g.Windows[0].ServiceItems[0].Requests[0].Fields = []string{"colour"} }, "not a claim"},
		{"window field not disclosable", func(g *ledger.GenesisState) { g.Windows[0].ServiceItems[0].Requests[0].Fields = []string{"secret"} }, "not disclosable"},
		{"window unknown type", func(g *ledger.GenesisState) { g.Windows[0].ServiceItems[0].Requests[0].Type = "ghost" }, "no credential type"},
		{"window duplicate", func(g *ledger.GenesisState) { g.Windows = append(g.Windows, g.Windows[0]) }, "twice"},
	}
	for _, c := range cases {
		g := testGenesis()
		c.mod(g)
		b, _ := json.Marshal(g)
		app, _ := NewApp(dbm.NewMemDB())
		_, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: b})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	good, _ := json.Marshal(testGenesis())
	for name, raw := range map[string]string{
		"unknown member":   strings.Replace(string(good), `{"params":`, `{"extra":1,"params":`, 1),
		"case-folded name": strings.Replace(string(good), `"approvals"`, `"Approvals"`, 1),
		"duplicate member": strings.Replace(string(good), `{"params":{"approvals":2}`, `{"params":{"approvals":2,"approvals":3}`, 1),
		"not json":         `{`,
	} {
		if _, err := ledger.ParseGenesis([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	app, _ := NewApp(dbm.NewMemDB())
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{Time: genesisTime, AppStateBytes: good}); err == nil {
		t.Error("empty chain id accepted")
	}
}

// A node that crashed after InitChain, before block 1, gets InitChain again.
func TestInitChainTwice(t *testing.T) {
	db := dbm.NewMemDB()
	h := newHarnessWith(t, db, testGenesis())
	b, _ := json.Marshal(testGenesis())
	res, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: b})
	if err != nil {
		t.Fatal(err)
	}
	fresh := newHarness(t)
	h.mustOK()
	fresh.mustOK()
	if string(h.appHash()) != string(fresh.appHash()) || len(res.AppHash) != 32 {
		t.Fatalf("repeated InitChain gives another state")
	}
	if _, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: b}); err == nil {
		t.Fatal("InitChain accepted after block 1")
	}
}

func TestProposalChecks(t *testing.T) {
	h := newHarness(t)
	good := h.tx(gaj, ledger.TxStatusSet, statusBody(1, 1))
	big := make([]byte, ledger.MaxTxBytes+1)
	ctx := context.Background()
	for name, c := range map[string]struct {
		txs  [][]byte
		want abci.ResponseProcessProposal_ProposalStatus
	}{
		"good":         {[][]byte{good}, abci.ResponseProcessProposal_ACCEPT},
		"empty":        {nil, abci.ResponseProcessProposal_ACCEPT},
		"undecodable":  {[][]byte{good, []byte("{")}, abci.ResponseProcessProposal_REJECT},
		"oversized":    {[][]byte{big}, abci.ResponseProcessProposal_REJECT},
		"noncanonical": {[][]byte{append(good, ' ')}, abci.ResponseProcessProposal_REJECT},
	} {
		r, err := h.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: c.txs, Height: 1})
		if err != nil || r.Status != c.want {
			t.Errorf("%s: %v %v", name, r.Status, err)
		}
	}
	r, _ := h.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{Txs: [][]byte{[]byte("x"), good, big}, MaxTxBytes: 1 << 20})
	if len(r.Txs) != 1 || string(r.Txs[0]) != string(good) {
		t.Errorf("PrepareProposal kept %d txs", len(r.Txs))
	}
	// FinalizeBlock for the wrong height is an error, not a panic.
	if _, err := h.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 5, Time: time.Now()}); err == nil {
		t.Error("FinalizeBlock at the wrong height accepted")
	}
	if _, err := h.app.Commit(ctx, &abci.RequestCommit{}); err == nil {
		t.Error("Commit without FinalizeBlock accepted")
	}
}

func TestInitialHeight(t *testing.T) {
	app, _ := NewApp(dbm.NewMemDB())
	b, _ := json.Marshal(testGenesis())
	ctx := context.Background()
	init, err := app.InitChain(ctx, &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: b, InitialHeight: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 1, Time: genesisTime}); err == nil {
		t.Fatal("height 1 accepted on a chain starting at 10")
	}
	res, err := app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 10, Time: genesisTime.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.AppHash) != string(init.AppHash) {
		t.Error("empty first block changed the genesis app hash")
	}
	if _, err := app.Commit(ctx, &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := app.LastCommit(); h != 10 {
		t.Fatalf("height %d", h)
	}
	if r, _ := app.Query(ctx, &abci.RequestQuery{Path: ledger.QueryKey, Data: ledger.KeyParams(), Prove: true}); r.Height != 10 ||
		verifyOps(res.AppHash, ledger.KeyParams(), r.Value, r.ProofOps) != nil {
		t.Fatalf("query at 10: %d %s", r.Height, r.Log)
	}
}
