package ledgerclient

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
	"github.com/cosmos/iavl"
	iavldb "github.com/cosmos/iavl/db"

	"lianzheng/ledger"
)

// fakeChain is an in-memory chain for tests and benchmarks: a real IAVL tree for state
// (state height h = IAVL version h, proven against header h+1's AppHash), real signed
// headers and commits by ed25519 validator keys, and the RPC interface over them. It is
// not a consensus engine: blocks are made when mine is called (or automatically on
// Status/Tx calls when autoMine is set).
type fakeChain struct {
	t       testing.TB
	chainID string

	mu       sync.Mutex
	tree     *iavl.MutableTree
	keys     []crypto.PrivKey // current validator keys
	vals     *types.ValidatorSet
	nextKeys []crypto.PrivKey
	nextVals *types.ValidatorSet
	headers  map[int64]*types.SignedHeader
	valsAt   map[int64]*types.ValidatorSet
	blocks   map[int64][]types.Tx
	results  map[int64][]*abci.ExecTxResult
	txAt     map[string]txLoc
	height   int64 // latest block
	genTime  time.Time
	lastID   types.BlockID
	mempool  []types.Tx
	nonces   map[string]bool
	autoMine bool

	// failure injection
	dropNext     int  // silently drop the next n broadcasts
	hideTxUntil2 bool // Tx lookups fail until a second broadcast of the same tx
	broadcasts   map[string]int
	signers      func(h int64, n int) []int // which validator indexes sign header h (nil: all)
}

type txLoc struct {
	height int64
	index  int
}

func genKeys(n int) []crypto.PrivKey {
	ks := make([]crypto.PrivKey, n)
	for i := range ks {
		ks[i] = ed25519.GenPrivKey()
	}
	return ks
}

func valSet(keys []crypto.PrivKey) *types.ValidatorSet {
	vs := make([]*types.Validator, len(keys))
	for i, k := range keys {
		vs[i] = types.NewValidator(k.PubKey(), 10)
	}
	return types.NewValidatorSet(vs)
}

// newFakeChain builds a chain whose genesis state is seed (written as state version 1,
// proven by header 2).
func newFakeChain(t testing.TB, nvals int, seed map[string][]byte) *fakeChain {
	return newFakeChainWith(t, "lz-test", genKeys(nvals), seed)
}

// newFakeChainWith is newFakeChain with a chain id and validator keys of the caller's.
func newFakeChainWith(t testing.TB, chainID string, keys []crypto.PrivKey, seed map[string][]byte) *fakeChain {
	tree := iavl.NewMutableTree(iavldb.NewMemDB(), 10000, true, iavl.NewNopLogger())
	c := &fakeChain{
		t: t, chainID: chainID, tree: tree, keys: keys, vals: valSet(keys),
		headers: map[int64]*types.SignedHeader{}, valsAt: map[int64]*types.ValidatorSet{},
		blocks: map[int64][]types.Tx{}, results: map[int64][]*abci.ExecTxResult{},
		txAt: map[string]txLoc{}, nonces: map[string]bool{}, broadcasts: map[string]int{},
		genTime: time.Now().Add(-time.Hour).Truncate(time.Millisecond),
	}
	c.nextKeys, c.nextVals = keys, c.vals
	for k, v := range seed {
		if _, err := tree.Set([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	c.mine() // block 1: genesis state becomes version 1
	return c
}

// root is the genesis trust root.
func (c *fakeChain) root() TrustRoot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return TrustRoot{ChainID: c.chainID, GenesisValidators: c.valsAt[1].Copy(), InitialHeight: 1}
}

// set writes state to be committed by the next block.
func (c *fakeChain) set(k string, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.tree.Set([]byte(k), v); err != nil {
		c.t.Fatal(err)
	}
}

// changeValidators makes the block after the next one use a new set of keys.
func (c *fakeChain) changeValidators(keys []crypto.PrivKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextKeys, c.nextVals = keys, valSet(keys)
}

// mine executes the mempool into block height+1 and signs its header.
func (c *fakeChain) mine() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mineLocked()
}

func (c *fakeChain) mineLocked() {
	h := c.height + 1
	txs := c.mempool
	c.mempool = nil
	var res []*abci.ExecTxResult
	for i, tx := range txs {
		res = append(res, c.exec(tx))
		c.txAt[ledger.TxHash(tx)] = txLoc{h, i}
	}
	var appHash []byte
	if h > 1 {
		// header h carries the state after block h-1
		imm, err := c.tree.GetImmutable(h - 1)
		if err != nil {
			c.t.Fatal(err)
		}
		appHash = imm.Hash()
	} else {
		appHash = sha256.New().Sum(nil)
	}
	if _, _, err := c.tree.SaveVersion(); err != nil {
		c.t.Fatal(err)
	}
	var lastResults []byte
	if h > 1 {
		lastResults = types.NewResults(c.results[h-1]).Hash()
	}
	// Validator set rotation: header h uses c.vals; the next set becomes current.
	hdr := &types.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol},
		ChainID:            c.chainID,
		Height:             h,
		Time:               c.genTime.Add(time.Duration(h) * time.Second),
		LastBlockID:        c.lastID,
		DataHash:           types.Txs(txs).Hash(),
		ValidatorsHash:     c.vals.Hash(),
		NextValidatorsHash: c.nextVals.Hash(),
		ConsensusHash:      sha256.New().Sum(nil),
		AppHash:            appHash,
		LastResultsHash:    lastResults,
		ProposerAddress:    c.vals.Validators[0].Address,
	}
	signers := allIdx(len(c.keys))
	if c.signers != nil {
		signers = c.signers(h, len(c.keys))
	}
	sh := &types.SignedHeader{Header: hdr, Commit: signCommit(c.chainID, hdr, c.vals, c.keys, signers)}
	c.headers[h] = sh
	c.valsAt[h] = c.vals.Copy()
	c.blocks[h] = txs
	c.results[h] = res
	c.lastID = sh.Commit.BlockID
	c.height = h
	c.keys, c.vals = c.nextKeys, c.nextVals
}

func allIdx(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// signCommit makes a commit for hdr signed by the keys at the given indexes of keys
// (looked up in vals by address; keys not in vals sign at the index given).
func signCommit(chainID string, hdr *types.Header, vals *types.ValidatorSet, keys []crypto.PrivKey, signers []int) *types.Commit {
	blockID := types.BlockID{Hash: hdr.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: hdr.Hash()}}
	sigs := make([]types.CommitSig, vals.Size())
	for i := range sigs {
		sigs[i] = types.NewCommitSigAbsent()
	}
	for _, i := range signers {
		k := keys[i]
		idx, _ := vals.GetByAddress(k.PubKey().Address())
		if idx < 0 {
			idx = int32(i)
		}
		vote := &types.Vote{
			Type: cmtproto.PrecommitType, Height: hdr.Height, Round: 0, BlockID: blockID,
			Timestamp: hdr.Time.Add(500 * time.Millisecond), ValidatorAddress: k.PubKey().Address(), ValidatorIndex: idx,
		}
		sig, err := k.Sign(types.VoteSignBytes(chainID, vote.ToProto()))
		if err != nil {
			panic(err)
		}
		vote.Signature = sig
		sigs[idx] = vote.CommitSig()
	}
	return &types.Commit{Height: hdr.Height, Round: 0, BlockID: blockID, Signatures: sigs}
}

// exec is a tiny state machine for write tests: it checks the envelope framing and nonce,
// and applies status.set to the signer member's list (no signature check).
func (c *fakeChain) exec(tx types.Tx) *abci.ExecTxResult {
	var env ledger.Envelope
	if err := json.Unmarshal(tx, &env); err != nil || env.Chain != c.chainID {
		return &abci.ExecTxResult{Code: ledger.CodeMalformed, Codespace: ledger.Codespace, Log: "bad envelope"}
	}
	nk := env.Signer + "/" + env.Nonce
	if c.nonces[nk] {
		return &abci.ExecTxResult{Code: ledger.CodeReplay, Codespace: ledger.Codespace, Log: "replay"}
	}
	c.nonces[nk] = true
	switch env.Type {
	case ledger.TxStatusSet:
		var b ledger.StatusSet
		if err := json.Unmarshal(env.Body, &b); err != nil {
			return &abci.ExecTxResult{Code: ledger.CodeMalformed, Codespace: ledger.Codespace}
		}
		member := strings.TrimPrefix(strings.SplitN(env.Signer, "#", 2)[0], "did:lz:")
		for _, u := range b.Updates {
			chunk := u.Index * 2 / 8 / ledger.StatusChunkBytes
			key := ledger.KeyStatusChunk(member, b.List, chunk)
			cur, _ := c.tree.Get(key)
			buf := make([]byte, ledger.StatusChunkBytes)
			copy(buf, cur)
			off := (u.Index * 2 / 8) % ledger.StatusChunkBytes
			shift := 6 - 2*(u.Index%4)
			buf[off] = buf[off]&^(3<<shift) | byte(u.Value)<<shift
			if _, err := c.tree.Set(key, buf); err != nil {
				c.t.Fatal(err)
			}
		}
		return &abci.ExecTxResult{Code: 0}
	case "test.unauthorized":
		return &abci.ExecTxResult{Code: ledger.CodeUnauthorized, Codespace: ledger.Codespace, Log: "signer may not"}
	}
	return &abci.ExecTxResult{Code: 0}
}

// --- RPC ---

var _ RPC = (*fakeChain)(nil)

func (c *fakeChain) Status(context.Context) (*NodeStatus, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.autoMine {
		c.mineLocked()
	}
	return &NodeStatus{LatestBlockHeight: c.height}, nil
}

func (c *fakeChain) ABCIQuery(_ context.Context, path string, data []byte, height int64, prove bool) (*QueryResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	imm, err := c.tree.GetImmutable(height)
	if err != nil {
		return &QueryResult{Code: 5, Log: err.Error()}, nil
	}
	switch path {
	case ledger.QueryKeys:
		var keys []string
		_, err := imm.Iterate(func(k, _ []byte) bool {
			if strings.HasPrefix(string(k), string(data)) {
				keys = append(keys, string(k))
			}
			return false
		})
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(keys)
		return &QueryResult{Value: b, Height: height}, nil
	case ledger.QueryKey:
		v, err := imm.Get(data)
		if err != nil {
			return nil, err
		}
		r := &QueryResult{Key: data, Value: v, Height: height}
		if prove {
			p, err := imm.GetProof(data)
			if err != nil {
				return nil, err
			}
			pb, err := p.Marshal()
			if err != nil {
				return nil, err
			}
			r.ProofOps = []ProofOp{{Type: ledger.ProofOpType, Key: data, Data: pb}}
		}
		return r, nil
	}
	return nil, fmt.Errorf("unknown path %s", path)
}

func (c *fakeChain) BroadcastTxSync(_ context.Context, txb []byte) (*BroadcastResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx := types.Tx(txb)
	h := ledger.TxHash(tx)
	c.broadcasts[h]++
	var env ledger.Envelope
	if err := json.Unmarshal(tx, &env); err != nil {
		return &BroadcastResult{Code: ledger.CodeMalformed, Codespace: ledger.Codespace, Hash: tx.Hash()}, nil
	}
	if c.nonces[env.Signer+"/"+env.Nonce] {
		return &BroadcastResult{Code: ledger.CodeReplay, Codespace: ledger.Codespace, Log: "nonce used", Hash: tx.Hash()}, nil
	}
	if env.Type == "test.badsig" {
		return &BroadcastResult{Code: ledger.CodeBadSignature, Codespace: ledger.Codespace, Log: "signature invalid", Hash: tx.Hash()}, nil
	}
	if c.dropNext > 0 {
		c.dropNext--
		return &BroadcastResult{Code: 0, Hash: tx.Hash()}, nil // accepted, then lost
	}
	c.mempool = append(c.mempool, tx)
	return &BroadcastResult{Code: 0, Hash: tx.Hash()}, nil
}

var errTxNotFound = errors.New("tx not found")

func (c *fakeChain) Tx(_ context.Context, hash []byte, prove bool) (*TxLookup, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.autoMine {
		c.mineLocked()
	}
	h := fmt.Sprintf("%X", hash)
	loc, ok := c.txAt[h]
	if !ok || (c.hideTxUntil2 && c.broadcasts[h] < 2) {
		return nil, errTxNotFound
	}
	txs := types.Txs(c.blocks[loc.height])
	return &TxLookup{Hash: hash, Height: loc.height, Index: uint32(loc.index), Tx: txs[loc.index], Proof: txs.Proof(loc.index)}, nil
}

func (c *fakeChain) Commit(_ context.Context, height int64) (*types.SignedHeader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sh, ok := c.headers[height]
	if !ok {
		return nil, fmt.Errorf("no header %d", height)
	}
	return &types.SignedHeader{Header: sh.Header, Commit: sh.Commit}, nil
}

func (c *fakeChain) Validators(_ context.Context, height int64, page, perPage int) (*ValidatorPage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs, ok := c.valsAt[height]
	if !ok {
		return nil, fmt.Errorf("no validators %d", height)
	}
	from := (page - 1) * perPage
	to := min(from+perPage, vs.Size())
	return &ValidatorPage{Validators: vs.Copy().Validators[from:to], Total: vs.Size()}, nil
}

func (c *fakeChain) BlockResults(_ context.Context, height int64) (*BlockResults, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &BlockResults{Height: height, TxsResults: c.results[height]}, nil
}
