package ledgerclient

import (
	"context"
	"errors"
	"sync"

	"github.com/cometbft/cometbft/types"
)

// Failover is an RPC over several nodes of one chain: each call goes to the node that last
// answered, and on a node failure (an error wrapping ErrRPC: unreachable, HTTP error, an
// error the node reported) to the next, until one answers or all have failed (the joined
// errors, still ErrRPC). Which node answers changes nothing that is believed — the client
// verifies every answer against its trust root — so a region whose first node is down is
// still read through its others. A mempool duplicate (ErrTxInCache) and a cancelled or
// expired context are returned at once.
func Failover(rpcs ...RPC) RPC {
	if len(rpcs) == 1 {
		return rpcs[0]
	}
	return &failover{rpcs: rpcs}
}

type failover struct {
	rpcs []RPC
	mu   sync.Mutex
	cur  int // the node that last answered
}

// try runs call against the nodes, from the one that last answered.
func try[T any](ctx context.Context, f *failover, call func(RPC) (T, error)) (T, error) {
	f.mu.Lock()
	start := f.cur
	f.mu.Unlock()
	var zero T
	var errs []error
	for i := range f.rpcs {
		n := (start + i) % len(f.rpcs)
		v, err := call(f.rpcs[n])
		if err == nil {
			f.mu.Lock()
			f.cur = n
			f.mu.Unlock()
			return v, nil
		}
		if !errors.Is(err, ErrRPC) || errors.Is(err, ErrTxInCache) || ctx.Err() != nil {
			return zero, err
		}
		errs = append(errs, err)
	}
	return zero, errors.Join(errs...)
}

func (f *failover) Status(ctx context.Context) (*NodeStatus, error) {
	return try(ctx, f, func(r RPC) (*NodeStatus, error) { return r.Status(ctx) })
}

func (f *failover) ABCIQuery(ctx context.Context, path string, data []byte, height int64, prove bool) (*QueryResult, error) {
	return try(ctx, f, func(r RPC) (*QueryResult, error) { return r.ABCIQuery(ctx, path, data, height, prove) })
}

func (f *failover) BroadcastTxSync(ctx context.Context, tx []byte) (*BroadcastResult, error) {
	return try(ctx, f, func(r RPC) (*BroadcastResult, error) { return r.BroadcastTxSync(ctx, tx) })
}

func (f *failover) Tx(ctx context.Context, hash []byte, prove bool) (*TxLookup, error) {
	return try(ctx, f, func(r RPC) (*TxLookup, error) { return r.Tx(ctx, hash, prove) })
}

func (f *failover) Commit(ctx context.Context, height int64) (*types.SignedHeader, error) {
	return try(ctx, f, func(r RPC) (*types.SignedHeader, error) { return r.Commit(ctx, height) })
}

func (f *failover) Validators(ctx context.Context, height int64, page, perPage int) (*ValidatorPage, error) {
	return try(ctx, f, func(r RPC) (*ValidatorPage, error) { return r.Validators(ctx, height, page, perPage) })
}

func (f *failover) BlockResults(ctx context.Context, height int64) (*BlockResults, error) {
	return try(ctx, f, func(r RPC) (*BlockResults, error) { return r.BlockResults(ctx, height) })
}
