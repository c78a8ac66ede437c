package ledgerclient

import (
	"context"
	"fmt"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
)

// RPC is the part of a CometBFT RPC client the ledger client uses. The HTTP client of
// github.com/cometbft/cometbft/rpc/client/http and the in-process local client satisfy it.
// Nothing it returns is trusted: headers, validator sets, query results and transaction
// results are all verified.
type RPC interface {
	Status(ctx context.Context) (*coretypes.ResultStatus, error)
	ABCIQueryWithOptions(ctx context.Context, path string, data cmtbytes.HexBytes, opts rpcclient.ABCIQueryOptions) (*coretypes.ResultABCIQuery, error)
	BroadcastTxSync(ctx context.Context, tx types.Tx) (*coretypes.ResultBroadcastTx, error)
	Tx(ctx context.Context, hash []byte, prove bool) (*coretypes.ResultTx, error)
	Commit(ctx context.Context, height *int64) (*coretypes.ResultCommit, error)
	Validators(ctx context.Context, height *int64, page, perPage *int) (*coretypes.ResultValidators, error)
	BlockResults(ctx context.Context, height *int64) (*coretypes.ResultBlockResults, error)
}

// rpcSource fetches unverified light blocks from a node.
type rpcSource struct{ rpc RPC }

// maxValidators bounds the validator set a node may make us download.
const maxValidators = 1000

func (s rpcSource) lightBlock(ctx context.Context, h int64) (*lightBlock, error) {
	c, err := s.rpc.Commit(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: fetch header %d: %w", h, err)
	}
	if c.Header == nil || c.Commit == nil {
		return nil, fmt.Errorf("%w: node returned an empty header %d", ErrUnverified, h)
	}
	if c.Header.Height != h {
		return nil, fmt.Errorf("%w: asked header %d, node returned %d", ErrUnverified, h, c.Header.Height)
	}
	vals, err := s.validators(ctx, h)
	if err != nil {
		return nil, err
	}
	sh := c.SignedHeader
	return &lightBlock{SH: &sh, Vals: vals}, nil
}

func (s rpcSource) validators(ctx context.Context, h int64) (*types.ValidatorSet, error) {
	var all []*types.Validator
	perPage := 100
	for page := 1; ; page++ {
		p := page
		r, err := s.rpc.Validators(ctx, &h, &p, &perPage)
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
