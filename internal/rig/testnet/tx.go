package testnet

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/mempool"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"

	"lianzheng/home/demonet"
	"lianzheng/ledger"
)

// NewTx builds and signs a ledger transaction of k's DID key with a fresh random nonce
// (ledger.NewEnvelope).
func NewTx(chainID string, k *demonet.DemoKey, typ string, body any) ([]byte, error) {
	_, tx, err := ledger.NewEnvelope(chainID, typ, body, ledger.KeySigner{KeyID: k.KeyID, Key: k.PrivateKey()})
	return tx, err
}

// txInCache reports the node's mempool-cache refusal: a JSON-RPC error whose data is
// mempool.ErrTxInCache's (the node sends it as protocol data; we compare that field, not
// the text of a Go error).
func txInCache(err error) bool {
	var re *rpctypes.RPCError
	return errors.As(err, &re) && re.Data == mempool.ErrTxInCache.Error()
}

// TxError is a transaction the ledger refused (in CheckTx or in its block).
type TxError struct {
	Code  uint32
	Log   string
	Phase string // "check" or "deliver"
}

func (e *TxError) Error() string {
	return fmt.Sprintf("ledger refused the transaction (%s, code %d): %s", e.Phase, e.Code, e.Log)
}

// SubmitOptions tune Submit.
type SubmitOptions struct {
	Poll     time.Duration // how often to look the hash up (default 50 ms)
	Resubmit time.Duration // resubmit when not committed after this long (default 3 s)
}

// Submit sends tx with broadcast_tx_sync and confirms it by hash: broadcast_tx_sync only
// reports CheckTx, and under burst load the mempool may later drop a transaction it
// accepted (DESIGN §4), so Submit polls /tx until the transaction is in a block and
// resubmits it when it has not appeared after a while. A transaction refused in CheckTx or
// in its block is a *TxError. A replay refusal on resubmission means the first submission
// was committed meanwhile: Submit then keeps looking it up.
func Submit(ctx context.Context, c *rpchttp.HTTP, tx []byte, opt SubmitOptions) (*coretypes.ResultTx, error) {
	if opt.Poll <= 0 {
		opt.Poll = 50 * time.Millisecond
	}
	if opt.Resubmit <= 0 {
		opt.Resubmit = 3 * time.Second
	}
	hash, _ := hex.DecodeString(ledger.TxHash(tx))
	submitted := false
	for {
		res, err := c.BroadcastTxSync(ctx, tx)
		switch {
		case txInCache(err):
			// still in the mempool (or was recently): wait for it
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// transient RPC error (node restarting, mempool full): retry after a pause
		case res.Code == ledger.CodeReplay && submitted:
			// committed meanwhile; find it below
		case res.Code != ledger.CodeOK:
			return nil, &TxError{Code: res.Code, Log: res.Log, Phase: "check"}
		}
		submitted = true
		deadline := time.Now().Add(opt.Resubmit)
		for time.Now().Before(deadline) {
			r, err := c.Tx(ctx, hash, false)
			if err == nil {
				if r.TxResult.Code != ledger.CodeOK {
					return r, &TxError{Code: r.TxResult.Code, Log: r.TxResult.Log, Phase: "deliver"}
				}
				return r, nil
			}
			// "not found" (not yet in a block) or RPC trouble: keep polling until the deadline
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("testnet: tx %X not committed: %w", hash, ctx.Err())
			case <-time.After(opt.Poll):
			}
		}
	}
}

// WaitForHeight polls the node's /status until it has committed block h.
func WaitForHeight(ctx context.Context, c *rpchttp.HTTP, h int64) error {
	for {
		st, err := c.Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New("too slow")
			}
			return fmt.Errorf("testnet: waiting for height %d: %w (%v)", h, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
