package chain

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"

	"lianzheng/did"
	"lianzheng/ledger"
)

const testChain = "lz-test-1"

var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// testKey derives a deterministic Ed25519 key from a name (test data only).
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("ledger-test-key/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func multikey(k ed25519.PrivateKey) string {
	return strings.TrimPrefix(did.KeyFromEd25519(k.Public().(ed25519.PublicKey)), "did:key:")
}

func keyRecord(id string, k ed25519.PrivateKey, from time.Time) did.KeyRecord {
	return did.KeyRecord{ID: id, PublicKeyMultibase: multikey(k), ValidFrom: from,
		Purposes: []string{did.PurposeAuthentication, did.PurposeAssertion}}
}

func validatorKey(name string) string {
	return base64.StdEncoding.EncodeToString(testKey("validator/" + name).Public().(ed25519.PublicKey))
}

// testGenesis: three fake departments (2-of-3), one window of 测试不动产中心, two types.
func testGenesis() *ledger.GenesisState {
	g := &ledger.GenesisState{Params: ledger.Params{Approvals: 2}}
	for _, m := range []struct{ id, zh, en string }{
		{"gaj", "测试公安局", "Test Public Security"},
		{"mzj", "测试民政局", "Test Civil Affairs"},
		{"bdc", "测试不动产中心", "Test Real Estate Centre"},
	} {
		d := "did:lz:" + m.id
		g.Members = append(g.Members, ledger.Member{ID: m.id, DID: d, Name: ledger.Text{Zh: m.zh, En: m.en}, Validator: validatorKey(m.id)})
		g.DIDs = append(g.DIDs, &did.History{DID: d, Created: genesisTime,
			Keys: []did.KeyRecord{keyRecord("key-1", testKey(d+"#key-1"), genesisTime)}})
	}
	g.DIDs = append(g.DIDs, &did.History{DID: "did:lz:bdc-w1", Controller: "did:lz:bdc", Created: genesisTime,
		Keys: []did.KeyRecord{keyRecord("key-1", testKey("did:lz:bdc-w1#key-1"), genesisTime)}})
	claim := func(n string) ledger.Claim {
		return ledger.Claim{Name: n, Type: "string", Required: true, Label: ledger.Text{Zh: n, En: n}}
	}
	g.Types = []ledger.CredentialType{
		{ID: "household-register", VCT: "urn:lz:vct:household-register", Name: ledger.Text{Zh: "户口簿", En: "Household register"},
			Issuers: []string{"gaj"}, MaxValidityDays: 3650, Claims: []ledger.Claim{claim("name"), claim("address"), claim("secret")},
			Disclosable: []string{"name", "address"}},
		{ID: "marriage-certificate", VCT: "urn:lz:vct:marriage-certificate", Name: ledger.Text{Zh: "结婚证", En: "Marriage certificate"},
			Issuers: []string{"mzj"}, MaxValidityDays: 36500, Claims: []ledger.Claim{claim("holder_name"), claim("spouse_name")},
			Disclosable: []string{"holder_name", "spouse_name"}},
	}
	g.Windows = []ledger.Window{{DID: "did:lz:bdc-w1", Department: "bdc", Name: ledger.Text{Zh: "测试窗口", En: "Test window"},
		ServiceItems: []ledger.ServiceItem{{ID: "transfer", Name: ledger.Text{Zh: "转移登记", En: "Transfer"}, Purpose: ledger.Text{Zh: "核验", En: "Verify"},
			Requests: []ledger.FieldRequest{{Type: "household-register", Fields: []string{"name"}}, {Type: "marriage-certificate", Fields: []string{"holder_name", "spouse_name"}}}}}}}
	return g
}

type harness struct {
	t        testing.TB
	app      *App
	db       dbm.DB
	height   int64
	now      time.Time
	keys     map[string]ed25519.PrivateKey // DID URL -> key
	nonce    int
	hashes   [][]byte
	lastVals []abci.ValidatorUpdate
}

func newHarness(t testing.TB) *harness {
	return newHarnessWith(t, dbm.NewMemDB(), testGenesis())
}

func newHarnessWith(t testing.TB, db dbm.DB, g *ledger.GenesisState) *harness {
	t.Helper()
	app, err := NewApp(db)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, app: app, db: db, now: genesisTime, keys: map[string]ed25519.PrivateKey{}}
	for _, d := range []string{"did:lz:gaj", "did:lz:mzj", "did:lz:bdc", "did:lz:bdc-w1"} {
		h.keys[d+"#key-1"] = testKey(d + "#key-1")
	}
	appState, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, Time: genesisTime, AppStateBytes: appState, InitialHeight: 1})
	if err != nil {
		t.Fatalf("InitChain: %v", err)
	}
	if len(res.AppHash) != 32 {
		t.Fatalf("InitChain app hash %x", res.AppHash)
	}
	return h
}

// signWith signs e with k under the DID URL e names (which k need not be the key of).
func signWith(e *ledger.Envelope, k ed25519.PrivateKey) error {
	return e.Sign(ledger.KeySigner{KeyID: e.Signer, Key: k})
}

// env builds a signed envelope; mods run before signing.
func (h *harness) env(signer, typ string, body any, mods ...func(*ledger.Envelope)) *ledger.Envelope {
	h.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.nonce++
	e := &ledger.Envelope{V: ledger.TxVersion, Chain: testChain, Type: typ, Signer: signer, Nonce: fmt.Sprintf("nonce-%012d", h.nonce), Body: b}
	for _, m := range mods {
		m(e)
	}
	k, ok := h.keys[signer]
	if !ok {
		k = testKey(signer)
	}
	if err := signWith(e, k); err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *harness) tx(signer, typ string, body any, mods ...func(*ledger.Envelope)) []byte {
	h.t.Helper()
	b, err := h.env(signer, typ, body, mods...).Bytes()
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// block finalizes and commits one block one minute after the previous one.
func (h *harness) block(txs ...[]byte) []*abci.ExecTxResult {
	h.t.Helper()
	return h.blockAt(h.now.Add(time.Minute), txs...)
}

func (h *harness) blockAt(t time.Time, txs ...[]byte) []*abci.ExecTxResult {
	h.t.Helper()
	h.height++
	h.now = t
	res, err := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: h.height, Time: t, Txs: txs})
	if err != nil {
		h.t.Fatalf("FinalizeBlock %d: %v", h.height, err)
	}
	if _, err := h.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		h.t.Fatalf("Commit %d: %v", h.height, err)
	}
	info, _ := h.app.Info(context.Background(), &abci.RequestInfo{})
	if info.LastBlockHeight != h.height || string(info.LastBlockAppHash) != string(res.AppHash) {
		h.t.Fatalf("Info after commit: height %d hash %x, want %d %x", info.LastBlockHeight, info.LastBlockAppHash, h.height, res.AppHash)
	}
	h.hashes = append(h.hashes, res.AppHash)
	h.lastVals = res.ValidatorUpdates
	return res.TxResults
}

// mustOK runs txs in one block and fails unless all succeed.
func (h *harness) mustOK(txs ...[]byte) []*abci.ExecTxResult {
	h.t.Helper()
	res := h.block(txs...)
	for i, r := range res {
		if r.Code != ledger.CodeOK {
			h.t.Fatalf("tx %d: code %d: %s", i, r.Code, r.Log)
		}
	}
	return res
}

func (h *harness) check(tx []byte) *abci.ResponseCheckTx {
	h.t.Helper()
	r, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) query(path string, data []byte, height int64, prove bool) *abci.ResponseQuery {
	h.t.Helper()
	r, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: path, Data: data, Height: height, Prove: prove})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) get(key []byte) []byte {
	h.t.Helper()
	r := h.query(ledger.QueryKey, key, 0, false)
	if r.Code != ledger.CodeOK {
		h.t.Fatalf("query %s: %d %s", key, r.Code, r.Log)
	}
	return r.Value
}

func (h *harness) getJSON(key []byte, v any) bool {
	h.t.Helper()
	b := h.get(key)
	if b == nil {
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		h.t.Fatal(err)
	}
	return true
}

func (h *harness) history(d string) *did.History {
	h.t.Helper()
	var hs did.History
	if !h.getJSON(ledger.KeyDID(d), &hs) {
		return nil
	}
	return &hs
}

func (h *harness) appHash() []byte {
	_, hash, _ := h.app.LastCommit()
	return hash
}
