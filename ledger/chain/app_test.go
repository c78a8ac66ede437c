package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"

	"lianzheng/did"
	"lianzheng/ledger"
)

const (
	gaj = "did:lz:gaj#key-1"
	mzj = "did:lz:mzj#key-1"
	bdc = "did:lz:bdc#key-1"
	w1  = "did:lz:bdc-w1#key-1"
)

func TestGenesisLoadedAndQueryable(t *testing.T) {
	h := newHarness(t)
	if r := h.query(ledger.QueryKey, ledger.KeyParams(), 0, false); r.Code != ledger.CodeNotFound {
		t.Fatalf("query before the first block: code %d", r.Code)
	}
	h.mustOK()
	var p ledger.Params
	if !h.getJSON(ledger.KeyParams(), &p) || p.Approvals != 2 {
		t.Fatalf("params = %+v", p)
	}
	var m ledger.Member
	if !h.getJSON(ledger.KeyMember("mzj"), &m) || m.Name.Zh != "测试民政局" {
		t.Fatalf("member = %+v", m)
	}
	if hs := h.history("did:lz:bdc-w1"); hs == nil || hs.Controller != "did:lz:bdc" {
		t.Fatalf("window DID = %+v", hs)
	}
	r := h.query(ledger.QueryKeys, []byte(ledger.PrefixMember), 0, false)
	var keys []string
	if err := json.Unmarshal(r.Value, &keys); err != nil || strings.Join(keys, ",") != "member/bdc,member/gaj,member/mzj" {
		t.Fatalf("keys = %v (%v)", keys, err)
	}
	if r := h.query("/nope", nil, 0, false); r.Code != ledger.CodeInvalid {
		t.Errorf("unknown path: code %d", r.Code)
	}
	if r := h.query(ledger.QueryKey, ledger.KeyParams(), 99, false); r.Code != ledger.CodeNotFound {
		t.Errorf("future height: code %d", r.Code)
	}
}

func TestInitChainValidators(t *testing.T) {
	app, _ := NewApp(dbm.NewMemDB())
	g := testGenesis()
	b, _ := json.Marshal(g)
	res, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: b})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Validators) != 3 || res.Validators[0].Power != defaultPower {
		t.Fatalf("validators = %v", res.Validators)
	}
	// Members without validator keys: the genesis document's validators stand.
	for i := range g.Members {
		g.Members[i].Validator = ""
	}
	b, _ = json.Marshal(g)
	app2, _ := NewApp(dbm.NewMemDB())
	res, err = app2.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: b,
		Validators: []abci.ValidatorUpdate{abci.Ed25519ValidatorUpdate(make([]byte, 32), 10)}})
	if err != nil || len(res.Validators) != 0 {
		t.Fatalf("validators = %v, %v", res.Validators, err)
	}
}

func TestRestartFromSameDB(t *testing.T) {
	dir := t.TempDir()
	app, err := NewPersistentApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWithApp(t, app, testGenesis())
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 5, Value: 1}}}))
	h.mustOK(h.tx(w1, ledger.TxAnchorPost, ledger.AnchorPost{Root: strings.Repeat("ab", 32), Count: 3}))
	height, hash, tm := app.LastCommit()
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	app2, err := NewPersistentApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer app2.Close()
	info, _ := app2.Info(context.Background(), &abci.RequestInfo{})
	if info.LastBlockHeight != height || !bytes.Equal(info.LastBlockAppHash, hash) {
		t.Fatalf("after restart Info = %d %x, want %d %x", info.LastBlockHeight, info.LastBlockAppHash, height, hash)
	}
	if _, _, tm2 := app2.LastCommit(); !tm2.Equal(tm) || app2.ChainID() != testChain {
		t.Fatalf("after restart time %v chain %q", tm2, app2.ChainID())
	}
	h.app = app2
	// CheckTx works against the reloaded state, and the chain continues.
	tx := h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 6, Value: 2}}})
	if r := h.check(tx); r.Code != ledger.CodeOK {
		t.Fatalf("CheckTx after restart: %d %s", r.Code, r.Log)
	}
	h.mustOK(tx)
	if r := h.check(tx); r.Code != ledger.CodeReplay {
		t.Fatalf("replay after restart: %d %s", r.Code, r.Log)
	}
	// Historical versions survive the restart.
	if r := h.query(ledger.QueryKey, ledger.KeyStatusChunk("gaj", 0, 0), 1, true); r.Code != ledger.CodeOK || r.Value == nil {
		t.Fatalf("historical query: %d %s", r.Code, r.Log)
	}
}

func newHarnessWithApp(t testing.TB, app *App, g *ledger.GenesisState) *harness {
	h := newHarnessWith(t, dbm.NewMemDB(), g)
	appState, _ := json.Marshal(g)
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: appState, InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}
	h.app = app
	return h
}

// blocks is a fixed scenario touching every transaction type.
func scenario(h *harness) [][][]byte {
	newKey := testKey("did:lz:mzj#key-2")
	h.keys["did:lz:mzj#key-2"] = newKey
	h.keys["did:lz:mzj-w2#key-1"] = testKey("did:lz:mzj-w2#key-1")
	return [][][]byte{
		{h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 1, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}, {Index: 70000, Value: 2}}}),
			h.tx(mzj, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:mzj", Key: keyRecord("key-2", newKey, genesisTime)})},
		{h.tx(w1, ledger.TxAnchorPost, ledger.AnchorPost{Root: strings.Repeat("0f", 32), Count: 10}),
			h.tx(mzj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:mzj-w2", Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:mzj-w2#key-1"), genesisTime)}})},
		{h.tx("did:lz:mzj#key-2", ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-1"}),
			h.tx("did:lz:bdc#key-1", ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 0, Value: 1}}})},
		{},
		{h.tx(gaj, ledger.TxProposalCreate, ledger.ProposalCreate{Action: ledger.ActionParamsSet, Payload: mustRaw(ledger.Params{Approvals: 3})})},
	}
}

func mustRaw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestDeterministicAppHash(t *testing.T) {
	a, b := newHarness(t), newHarness(t)
	ba, bb := scenario(a), scenario(b)
	for i := range ba {
		ra := a.block(ba[i]...)
		rb := b.block(bb[i]...)
		for j := range ra {
			if ra[j].Code != ledger.CodeOK || rb[j].Code != ledger.CodeOK {
				t.Fatalf("block %d tx %d: %s / %s", i, j, ra[j].Log, rb[j].Log)
			}
		}
		if !bytes.Equal(a.hashes[i], b.hashes[i]) {
			t.Fatalf("height %d: app hashes differ: %x vs %x", i+1, a.hashes[i], b.hashes[i])
		}
	}
	// A block without transactions leaves the hash as it was.
	if !bytes.Equal(a.hashes[3], a.hashes[2]) {
		t.Errorf("empty block changed the app hash")
	}
}

func TestBlockOfInvalidTxsChangesNothing(t *testing.T) {
	h := newHarness(t)
	valid := h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}}})
	h.mustOK(valid)
	before := h.appHash()
	keysBefore := h.query(ledger.QueryKeys, nil, 0, false).Value
	bad := [][]byte{
		valid, // replay
		h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: ledger.MaxStatusLists, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}}}),
		h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}}}, func(e *ledger.Envelope) { e.Chain = "other" }),
		h.tx(w1, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}}}),
		[]byte("garbage"),
	}
	res := h.block(bad...)
	for i, r := range res {
		if r.Code == ledger.CodeOK || r.Codespace != ledger.Codespace || r.Log == "" {
			t.Errorf("tx %d: code %d codespace %q log %q", i, r.Code, r.Codespace, r.Log)
		}
	}
	if !bytes.Equal(h.appHash(), before) {
		t.Fatalf("app hash changed after a block of invalid transactions")
	}
	if after := h.query(ledger.QueryKeys, nil, 0, false).Value; !bytes.Equal(after, keysBefore) {
		t.Fatalf("keys changed:\n%s\n%s", keysBefore, after)
	}
}
