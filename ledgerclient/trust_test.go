package ledgerclient

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"
)

func chainOf(t *testing.T, nvals, blocks int) *fakeChain {
	c := newFakeChain(t, nvals, map[string][]byte{"params": []byte(`{"approvals":1}`)})
	for i := 0; i < blocks; i++ {
		c.mine()
	}
	return c
}

func storeFor(c *fakeChain, root TrustRoot) *verifiedStore {
	o, _ := Options{}.withDefaults()
	return newVerifiedStore(root, o)
}

func TestHeaderVerificationFromGenesis(t *testing.T) {
	c := chainOf(t, 4, 20)
	s := storeFor(c, c.root())
	src := rpcSource{rpc: c}
	for _, h := range []int64{1, 2, 15, 7, 21} {
		lb, err := s.verifyTo(bg, src, h, nil)
		if err != nil {
			t.Fatalf("header %d: %v", h, err)
		}
		if lb.height() != h {
			t.Fatalf("got %d want %d", lb.height(), h)
		}
	}
}

// The consortium replaces its whole validator set: the old set cannot vouch for headers
// after the change, so the client bisects down to the adjacent step.
func TestHeaderVerificationBisection(t *testing.T) {
	c := chainOf(t, 4, 4)
	c.changeValidators(genKeys(5)) // header 6 signed by the new set
	for i := 0; i < 10; i++ {
		c.mine()
	}
	s := storeFor(c, c.root())
	var hops []*lightBlock
	if _, err := s.verifyTo(bg, rpcSource{rpc: c}, 14, &hops); err != nil {
		t.Fatal(err)
	}
	var hs []int64
	for _, h := range hops {
		hs = append(hs, h.height())
	}
	if len(hops) < 2 {
		t.Fatalf("expected bisection, got hops %v", hs)
	}
	t.Logf("hops %v", hs)
	path, err := s.pathTo(bg, rpcSource{rpc: c}, 14)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyChain(c.root(), s.opts, path, time.Now()); err != nil {
		t.Fatal(err)
	}
}

type swapSource struct {
	src headerSource
	at  int64
	lb  *lightBlock
}

func (s swapSource) lightBlock(ctx context.Context, h int64) (*lightBlock, error) {
	if h == s.at {
		return s.lb, nil
	}
	return s.src.lightBlock(ctx, h)
}

// resign returns a copy of header h re-signed by the given keys (at the indexes of vals).
func resign(c *fakeChain, h int64, vals *types.ValidatorSet, keys []crypto.PrivKey, signers []int, mutate func(*types.Header)) *lightBlock {
	sh := c.headers[h]
	hdr := *sh.Header
	if mutate != nil {
		mutate(&hdr)
	}
	return &lightBlock{SH: &types.SignedHeader{Header: &hdr, Commit: signCommit(c.chainID, &hdr, vals, keys, signers)}, Vals: vals}
}

func TestHeaderVerificationForgeries(t *testing.T) {
	c := chainOf(t, 4, 10)
	root := c.root()
	honestKeys := c.keys
	honestVals := c.valsAt[1]
	attackers := genKeys(4)
	attackVals := valSet(attackers)
	evilApp := func(h *types.Header) { h.AppHash = []byte("evil state root, 32 bytes long!!") }

	cases := []struct {
		name string
		at   int64
		lb   *lightBlock
	}{
		{"root signed by 2 of 4 (insufficient power)", 1, resign(c, 1, honestVals, honestKeys, []int{0, 1}, nil)},
		{"root with another app hash signed by 2 of 4", 1, resign(c, 1, honestVals, honestKeys, []int{0, 1}, evilApp)},
		{"root signed by keys not in the set (wrong signers)", 1, resign(c, 1, honestVals, attackers, []int{0, 1, 2, 3}, nil)},
		{"root from a different validator set", 1, resign(c, 1, attackVals, attackers, []int{0, 1, 2, 3}, func(h *types.Header) {
			h.ValidatorsHash, h.NextValidatorsHash = attackVals.Hash(), attackVals.Hash()
		})},
		{"later header with forged state signed by 2 of 4", 8, resign(c, 8, honestVals, honestKeys, []int{2, 3}, evilApp)},
		{"later header signed by a different validator set", 8, resign(c, 8, attackVals, attackers, []int{0, 1, 2, 3}, func(h *types.Header) {
			h.ValidatorsHash, h.NextValidatorsHash = attackVals.Hash(), attackVals.Hash()
			evilApp(h)
		})},
		{"later header whose commit signatures are by wrong keys", 8, resign(c, 8, honestVals, attackers, []int{0, 1, 2, 3}, evilApp)},
		{"later header with validator set swapped for the attackers'", 8, &lightBlock{SH: c.headers[8], Vals: attackVals}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := storeFor(c, root)
			src := swapSource{src: rpcSource{rpc: c}, at: tc.at, lb: tc.lb}
			_, err := s.verifyTo(bg, src, 9, nil)
			if tc.at == 8 && err == nil {
				_, err = s.verifyTo(bg, src, 8, nil)
			}
			if !errors.Is(err, ErrUnverified) {
				t.Fatalf("got %v, want ErrUnverified", err)
			}
		})
	}
	// A forged root also fails the offline chain check.
	o, _ := Options{}.withDefaults()
	if err := verifyChain(root, o, []*lightBlock{cases[0].lb}, time.Now()); !errors.Is(err, ErrUnverified) {
		t.Fatal(err)
	}
}

func TestPinnedRoot(t *testing.T) {
	c := chainOf(t, 4, 10)
	hash := fmt.Sprintf("%X", c.headers[5].Hash())
	root, err := PinnedRoot(c.chainID, 5, hash)
	if err != nil {
		t.Fatal(err)
	}
	s := storeFor(c, root)
	if _, err := s.verifyTo(bg, rpcSource{rpc: c}, 9, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.verifyTo(bg, rpcSource{rpc: c}, 3, nil); !errors.Is(err, ErrBeforeTrustRoot) {
		t.Fatalf("before root: %v", err)
	}
	wrong, _ := PinnedRoot(c.chainID, 5, fmt.Sprintf("%X", c.headers[4].Hash()))
	if _, err := storeFor(c, wrong).verifyTo(bg, rpcSource{rpc: c}, 9, nil); !errors.Is(err, ErrUnverified) {
		t.Fatalf("wrong pin: %v", err)
	}
	if _, err := PinnedRoot(c.chainID, 5, "abc"); err == nil {
		t.Fatal("short hash accepted")
	}
}

func TestGenesisRootFromDocument(t *testing.T) {
	keys := genKeys(3)
	doc := types.GenesisDoc{ChainID: "lz-test", GenesisTime: time.Now().Add(-time.Hour)}
	for i, k := range keys {
		doc.Validators = append(doc.Validators, types.GenesisValidator{PubKey: k.PubKey(), Power: 10, Name: fmt.Sprint(i)})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		t.Fatal(err)
	}
	b, err := cmtjson.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := GenesisRoot(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.GenesisValidators.Hash()) != string(doc.ValidatorHash()) || r.ChainID != "lz-test" || r.RootHeight() != 1 {
		t.Fatalf("root %+v", r)
	}
	if _, err := GenesisRoot([]byte(`{"chain_id":"x"}`)); err == nil {
		t.Fatal("genesis without validators accepted")
	}
}
