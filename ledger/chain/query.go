package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"lianzheng/ledger"
)

// MaxQueryKeys bounds the answer of a QueryKeys query.
const MaxQueryKeys = 10_000

// Query serves QueryKey (one key, optionally with an ICS23 proof) and QueryKeys (the keys
// under a prefix) from the committed version Height (0: the latest). The response's Height
// is the version read; its proof verifies against the AppHash in header Height+1.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (resp *abci.ResponseQuery, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			resp, err = qerr(ledger.CodeInternal, "internal error: %v", r), nil
		}
	}()
	if a.meta.Height == 0 {
		return qerr(ledger.CodeNotFound, "no block has been committed yet"), nil
	}
	h := req.Height
	if h == 0 {
		h = a.meta.Height
	}
	if h < 0 || h > a.meta.Height || !a.tree.VersionExists(h) {
		return qerr(ledger.CodeNotFound, "height %d is not available (latest is %d)", req.Height, a.meta.Height), nil
	}
	t, err := a.tree.GetImmutable(h)
	if err != nil {
		return qerr(ledger.CodeInternal, "internal error: load version %d: %v", h, err), nil
	}
	switch req.Path {
	case ledger.QueryKey:
		if len(req.Data) == 0 || len(req.Data) > 1024 {
			return qerr(ledger.CodeInvalid, "query %s: the key must be 1-1024 bytes", ledger.QueryKey), nil
		}
		v, err := t.Get(req.Data)
		if err != nil {
			return qerr(ledger.CodeInternal, "internal error: read: %v", err), nil
		}
		out := &abci.ResponseQuery{Code: ledger.CodeOK, Key: req.Data, Value: v, Height: h, Log: "exists"}
		if v == nil {
			out.Log = "does not exist"
		}
		if req.Prove {
			p, err := t.GetProof(req.Data)
			if err != nil {
				return qerr(ledger.CodeInternal, "internal error: proof: %v", err), nil
			}
			data, err := p.Marshal()
			if err != nil {
				return qerr(ledger.CodeInternal, "internal error: proof: %v", err), nil
			}
			out.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ledger.ProofOpType, Key: req.Data, Data: data}}}
		}
		return out, nil
	case ledger.QueryKeys:
		if len(req.Data) > 1024 {
			return qerr(ledger.CodeInvalid, "query %s: the prefix must be at most 1024 bytes", ledger.QueryKeys), nil
		}
		ks, err := treeReader{t}.keys(req.Data, MaxQueryKeys)
		if err != nil {
			return qerr(ledger.CodeInternal, "internal error: list: %v", err), nil
		}
		names := make([]string, len(ks))
		for i, k := range ks {
			names[i] = string(k)
		}
		b, _ := json.Marshal(names)
		return &abci.ResponseQuery{Code: ledger.CodeOK, Key: req.Data, Value: b, Height: h, Log: fmt.Sprintf("%d keys", len(ks))}, nil
	}
	return qerr(ledger.CodeInvalid, "unknown query path %s (want %s or %s)", ledger.Quote(req.Path), ledger.QueryKey, ledger.QueryKeys), nil
}

func qerr(code uint32, format string, args ...any) *abci.ResponseQuery {
	return &abci.ResponseQuery{Code: code, Codespace: ledger.Codespace, Log: fmt.Sprintf(format, args...)}
}

// ProofFromOps returns the ICS23 proof of key that a QueryKey answer with Prove carries (the
// encoding Query writes): exactly one op, of type ledger.ProofOpType, for key. Its Data is a
// marshalled ics23.CommitmentProof; verify it with ledgerclient.VerifyProof against the
// AppHash of header Height+1.
func ProofFromOps(ops *cmtcrypto.ProofOps, key []byte) ([]byte, error) {
	if ops == nil || len(ops.Ops) != 1 {
		return nil, errors.New("ledger: want exactly one proof op")
	}
	op := ops.Ops[0]
	if op.Type != ledger.ProofOpType {
		return nil, fmt.Errorf("ledger: proof type %q, want %q", op.Type, ledger.ProofOpType)
	}
	if !bytes.Equal(op.Key, key) {
		return nil, errors.New("ledger: proof is for another key")
	}
	return op.Data, nil
}
