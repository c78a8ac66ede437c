package ledgerclient

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto"
	cmted "github.com/cometbft/cometbft/crypto/ed25519"

	"lianzheng/ledger"
)

// recognitionOf is a recognition record naming fc's chain and genesis validators.
func recognitionOf(t *testing.T, fc *fakeChain) *ledger.Recognition {
	t.Helper()
	r := &ledger.Recognition{Region: "region-b", Name: ledger.Text{Zh: "示例乙市", En: "Example City B"},
		ChainID: fc.chainID, GenesisSHA256: strings.Repeat("0f", 32), InitialHeight: 1, Nodes: []string{"http://127.0.0.1:26657"},
		Types:     []ledger.RecognisedType{{Type: "household-register", AcceptedAs: "household-register", ServiceItems: []string{"real-estate"}}},
		ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2030-01-01T00:00:00Z", MaxAgeSeconds: 3600}
	for _, v := range fc.root().GenesisValidators.Validators {
		r.Validators = append(r.Validators, ledger.RootValidator{PubKey: ledger.ValidatorKeyString(v.PubKey.(cmted.PubKey)), Power: v.VotingPower})
	}
	return r
}

// TestRecognitionRoot: a light client rooted in a recognition record (region A's record of
// region B) reads B's ledger with proofs and follows B's validator-set changes by the
// light-client rules; a record naming other validators or another chain id reads nothing.
// Region A's own ledger serves its recognition records, proven like any other record.
func TestRecognitionRoot(t *testing.T) {
	b := newTestState(t, 3)
	fb, _ := newTestClient(t, 4, b)
	rec := recognitionOf(t, fb)
	root, err := RecognitionRoot(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := root.GenesisValidators.Hash(), fb.root().GenesisValidators.Hash(); string(got) != string(want) {
		t.Fatal("the recognition root's validator set is not B's genesis set")
	}
	cl, err := New(fb, root, Config{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := cl.Member(bg, deptID(2)); err != nil || m.ID != deptID(2) {
		t.Fatalf("B's member through the recognition root: %+v %v", m, err)
	}
	// B changes its validators; the client follows (more than 2/3 of the old set sign).
	fb.changeValidators(genKeys(5))
	for range 4 {
		fb.mine()
	}
	if _, err := cl.Member(bg, deptID(0)); err != nil {
		t.Fatalf("after B's validator change: %v", err)
	}

	forged := recognitionOf(t, fb)
	other := newFakeChain(t, 4, b.seed) // same chain id and state, other validators
	forged.Validators = recognitionOf(t, other).Validators
	fr, err := RecognitionRoot(forged)
	if err != nil {
		t.Fatal(err)
	}
	fcl, err := New(fb, fr, Config{PollInterval: time.Millisecond})
	if err == nil {
		_, err = fcl.Member(bg, deptID(0))
	}
	if err == nil {
		t.Fatal("a root with validators B never had read B's ledger")
	}
	wrongChain := recognitionOf(t, fb)
	wrongChain.ChainID = "lz-other-region"
	wr, _ := RecognitionRoot(wrongChain)
	wcl, err := New(fb, wr, Config{PollInterval: time.Millisecond})
	if err == nil {
		_, err = wcl.Member(bg, deptID(0))
	}
	if err == nil {
		t.Fatal("a root for another chain id read B's ledger")
	}

	// A's ledger holds the record.
	a := newTestState(t, 3)
	a.seed[string(ledger.KeyRecognition("region-b"))] = mustJSON(t, rec)
	_, acl := newTestClient(t, 4, a)
	got, err := acl.Recognition(bg, "region-b")
	if err != nil || got.ChainID != fb.chainID || len(got.Validators) != 4 {
		t.Fatalf("A's record of B: %+v %v", got, err)
	}
	if _, err := acl.Recognition(bg, "region-z"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown region: %v", err)
	}
	all, err := acl.Recognitions(bg)
	if err != nil || len(all) != 1 {
		t.Fatalf("A's records: %d %v", len(all), err)
	}
	// A malformed record cannot be a root.
	bad := *rec
	bad.Validators = nil
	if _, err := RecognitionRoot(&bad); err == nil {
		t.Fatal("a record without validators made a root")
	}
}

// TestRecognitionFromGenesis: the chain part filled from a genesis document matches
// GenesisRoot's reading of the same document.
func TestRecognitionFromGenesis(t *testing.T) {
	k := cmted.GenPrivKey().PubKey().(cmted.PubKey)
	doc := []byte(`{"genesis_time":"2026-01-01T00:00:00Z","chain_id":"lz-region-b","initial_height":"1",
"validators":[{"address":"` + k.Address().String() + `","pub_key":{"type":"tendermint/PubKeyEd25519","value":"` + ledger.ValidatorKeyString(k) + `"},"power":"10","name":"b1"}],
"app_hash":""}`)
	var r ledger.Recognition
	if err := RecognitionFromGenesis(&r, doc); err != nil {
		t.Fatal(err)
	}
	gr, err := GenesisRoot(doc)
	if err != nil {
		t.Fatal(err)
	}
	r.Region, r.Name = "region-b", ledger.Text{Zh: "乙", En: "B"}
	r.Types = []ledger.RecognisedType{{Type: "x", AcceptedAs: "x", ServiceItems: []string{"x"}}}
	r.ValidFrom, r.ValidUntil, r.MaxAgeSeconds, r.Nodes = "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 3600, []string{"https://b.example"}
	rr, err := RecognitionRoot(&r)
	if err != nil {
		t.Fatal(err)
	}
	if rr.ChainID != gr.ChainID || string(rr.GenesisValidators.Hash()) != string(gr.GenesisValidators.Hash()) || r.GenesisSHA256 != ledger.GenesisSHA256(doc) {
		t.Fatalf("recognition %+v, genesis root %+v", rr, gr)
	}
}

// TestRecognisedIn: where a credential of the home region is recognised — read from the home
// ledger's agreements and, through each one's light client, the other region's agreement
// about home: listed when B's agreement is in force, names home's chain and genesis
// validators, and lists the type; left out when B lists another type, when B's agreement has
// expired or names other validators, or when home has no agreement with B; an unreachable
// region is reported beside what could be read.
func TestRecognisedIn(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	aKeys, bKeys := genKeys(4), genKeys(4)
	record := func(region, chainID string, keys []crypto.PrivKey) *ledger.Recognition {
		r := &ledger.Recognition{Region: region, Name: ledger.Text{Zh: region, En: region}, ChainID: chainID,
			GenesisSHA256: strings.Repeat("0f", 32), InitialHeight: 1, Nodes: []string{"https://ledger." + region + ".example"},
			Types:     []ledger.RecognisedType{{Type: "household-register", AcceptedAs: "hukou", ServiceItems: []string{"settle"}}},
			ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2030-01-01T00:00:00Z", MaxAgeSeconds: 3600}
		for _, v := range valSet(keys).Validators {
			r.Validators = append(r.Validators, ledger.RootValidator{PubKey: ledger.ValidatorKeyString(v.PubKey.(cmted.PubKey)), Power: v.VotingPower})
		}
		return r
	}
	aOfB := record("region-b", "lz-region-b", bKeys) // home (A) about B
	bOfA := record("region-a", "lz-region-a", aKeys) // B about A

	run := func(t *testing.T, a, b *ledger.Recognition, reachable bool) ([]Recognised, error) {
		t.Helper()
		aState, bState := newTestState(t, 3), newTestState(t, 3)
		if a != nil {
			aState.seed[string(ledger.KeyRecognition(a.Region))] = mustJSON(t, a)
		}
		if b != nil {
			bState.seed[string(ledger.KeyRecognition(b.Region))] = mustJSON(t, b)
		}
		ha, hb := newFakeChainWith(t, "lz-region-a", aKeys, aState.seed), newFakeChainWith(t, "lz-region-b", bKeys, bState.seed)
		ha.mine()
		hb.mine()
		ha.autoMine, hb.autoMine = true, true
		home, err := New(ha, ha.root(), Config{PollInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return RecognisedIn(bg, home, "household-register", now, func(rec *ledger.Recognition) (*Client, error) {
			return Foreign(rec, Config{PollInterval: time.Millisecond}, func(node string) (RPC, error) {
				switch {
				case !reachable:
					return nil, errors.New("unreachable")
				case node == "https://down.region-b.example":
					return newDownRPC(), nil
				case node != "https://ledger.region-b.example":
					return nil, errors.New("unreachable")
				}
				return hb, nil
			})
		})
	}
	got, err := run(t, aOfB, bOfA, true)
	if err != nil || len(got) != 1 || got[0].Region != "region-b" || got[0].Name.En != "region-b" ||
		got[0].AcceptedAs != "hukou" || got[0].ServiceItems[0] != "settle" || got[0].ValidUntil != bOfA.ValidUntil {
		t.Fatalf("recognised in: %+v %v", got, err)
	}
	other := *bOfA
	other.Types = []ledger.RecognisedType{{Type: "marriage-certificate", AcceptedAs: "marriage", ServiceItems: []string{"settle"}}}
	expired := *bOfA
	expired.ValidUntil = "2026-06-01T00:00:00Z"
	forged := *bOfA
	forged.Validators = aOfB.Validators
	for name, c := range map[string]struct {
		a, b *ledger.Recognition
	}{
		"B lists another type":     {aOfB, &other},
		"B's agreement expired":    {aOfB, &expired},
		"B names other validators": {aOfB, &forged},
		"no agreement at home":     {nil, bOfA},
	} {
		if got, err := run(t, c.a, c.b, true); err != nil || len(got) != 0 {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	if got, err := run(t, aOfB, bOfA, false); err == nil || len(got) != 0 {
		t.Errorf("B unreachable: %+v %v", got, err)
	}
	// B's first node is down: Foreign reads B through its second.
	twoNodes := *aOfB
	twoNodes.Nodes = []string{"https://down.region-b.example", "https://ledger.region-b.example"}
	if got, err := run(t, &twoNodes, bOfA, true); err != nil || len(got) != 1 || got[0].Region != "region-b" {
		t.Errorf("B's first node down: %+v %v", got, err)
	}
}

// downRPC is a node that cannot be reached.
type downRPC struct{ stubRPC }

func newDownRPC() *downRPC {
	return &downRPC{stubRPC{err: fmt.Errorf("%w: connection refused", ErrRPC)}}
}
