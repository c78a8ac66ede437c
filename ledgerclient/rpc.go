package ledgerclient

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/types"
)

// RPC is the part of a CometBFT node's RPC the ledger client uses, with only the fields
// it reads. HTTPRPC implements it over CometBFT v0.38's JSON-RPC; tests use in-memory
// fakes. Nothing it returns is trusted: headers, validator sets, query results and
// transaction results are all verified.
type RPC interface {
	// Status is the node's chain id and latest block height (RPC "status").
	Status(ctx context.Context) (*NodeStatus, error)
	// ABCIQuery queries the application at state height with or without a proof
	// (RPC "abci_query").
	ABCIQuery(ctx context.Context, path string, data []byte, height int64, prove bool) (*QueryResult, error)
	// BroadcastTxSync submits tx and returns its CheckTx result (RPC "broadcast_tx_sync").
	// A transaction the node already holds is an error matching ErrTxInCache.
	BroadcastTxSync(ctx context.Context, tx []byte) (*BroadcastResult, error)
	// Tx looks a committed transaction up by hash (RPC "tx"); an error if not found.
	Tx(ctx context.Context, hash []byte, prove bool) (*TxLookup, error)
	// Commit is the signed header at height (RPC "commit").
	Commit(ctx context.Context, height int64) (*types.SignedHeader, error)
	// Validators is one page (from 1) of the validator set at height (RPC "validators").
	Validators(ctx context.Context, height int64, page, perPage int) (*ValidatorPage, error)
	// BlockResults is the execution results of block height (RPC "block_results").
	BlockResults(ctx context.Context, height int64) (*BlockResults, error)
}

// NodeStatus is what the client reads of a node's status.
type NodeStatus struct {
	Network           string // chain id (node_info.network)
	LatestBlockHeight int64  // sync_info.latest_block_height
}

// QueryResult is an ABCI query response.
type QueryResult struct {
	Code      uint32
	Codespace string
	Log       string
	Key       []byte
	Value     []byte
	Height    int64
	ProofOps  []ProofOp
}

// ProofOp is one proof operation of a query response (for this ledger: one ICS23
// CommitmentProof of type ledger.ProofOpType).
type ProofOp struct {
	Type string
	Key  []byte
	Data []byte
}

// BroadcastResult is the CheckTx result of a broadcast transaction.
type BroadcastResult struct {
	Code      uint32
	Codespace string
	Log       string
	Hash      []byte
}

// TxLookup is a committed transaction found by hash, with its inclusion proof against
// the block's DataHash.
type TxLookup struct {
	Hash   []byte
	Height int64
	Index  uint32
	Tx     []byte
	Proof  types.TxProof
}

// ValidatorPage is one page of a validator set.
type ValidatorPage struct {
	Validators []*types.Validator
	Total      int // validators in the whole set
}

// BlockResults are the execution results of one block's transactions, in block order
// (committed to by the next header's LastResultsHash).
type BlockResults struct {
	Height     int64
	TxsResults []*abci.ExecTxResult
}

// rpcSource fetches unverified light blocks from a node.
type rpcSource struct{ rpc RPC }

// maxValidators bounds the validator set a node may make us download.
const maxValidators = 1000

func (s rpcSource) lightBlock(ctx context.Context, h int64) (*lightBlock, error) {
	sh, err := s.rpc.Commit(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: fetch header %d: %w", h, err)
	}
	if sh == nil || sh.Header == nil || sh.Commit == nil {
		return nil, fmt.Errorf("%w: node returned an empty header %d", ErrUnverified, h)
	}
	if sh.Height != h {
		return nil, fmt.Errorf("%w: asked header %d, node returned %d", ErrUnverified, h, sh.Height)
	}
	vals, err := s.validators(ctx, h)
	if err != nil {
		return nil, err
	}
	return &lightBlock{SH: sh, Vals: vals}, nil
}

func (s rpcSource) validators(ctx context.Context, h int64) (*types.ValidatorSet, error) {
	var all []*types.Validator
	perPage := 100
	for page := 1; ; page++ {
		r, err := s.rpc.Validators(ctx, h, page, perPage)
		if err != nil {
			return nil, fmt.Errorf("ledgerclient: fetch validators %d: %w", h, err)
		}
		all = append(all, r.Validators...)
		if r.Total > maxValidators || len(all) > maxValidators {
			return nil, fmt.Errorf("%w: validator set of %d exceeds %d", ErrUnverified, r.Total, maxValidators)
		}
		if len(all) >= r.Total || len(r.Validators) == 0 {
			break
		}
	}
	vs, err := types.ValidatorSetFromExistingValidators(all)
	if err != nil {
		return nil, fmt.Errorf("%w: validator set %d: %v", ErrUnverified, h, err)
	}
	return vs, nil
}
