package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	ics23 "github.com/cosmos/ics23/go"
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
			resp, err = qerr(CodeInternal, "internal error: %v", r), nil
		}
	}()
	if a.meta.Height == 0 {
		return qerr(CodeNotFound, "no block has been committed yet"), nil
	}
	h := req.Height
	if h == 0 {
		h = a.meta.Height
	}
	if h < 0 || h > a.meta.Height || !a.tree.VersionExists(h) {
		return qerr(CodeNotFound, "height %d is not available (latest is %d)", req.Height, a.meta.Height), nil
	}
	t, err := a.tree.GetImmutable(h)
	if err != nil {
		return qerr(CodeInternal, "internal error: load version %d: %v", h, err), nil
	}
	switch req.Path {
	case QueryKey:
		if len(req.Data) == 0 || len(req.Data) > 1024 {
			return qerr(CodeInvalid, "query %s: the key must be 1-1024 bytes", QueryKey), nil
		}
		v, err := t.Get(req.Data)
		if err != nil {
			return qerr(CodeInternal, "internal error: read: %v", err), nil
		}
		out := &abci.ResponseQuery{Code: CodeOK, Key: req.Data, Value: v, Height: h, Log: "exists"}
		if v == nil {
			out.Log = "does not exist"
		}
		if req.Prove {
			p, err := t.GetProof(req.Data)
			if err != nil {
				return qerr(CodeInternal, "internal error: proof: %v", err), nil
			}
			data, err := p.Marshal()
			if err != nil {
				return qerr(CodeInternal, "internal error: proof: %v", err), nil
			}
			out.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ProofOpType, Key: req.Data, Data: data}}}
		}
		return out, nil
	case QueryKeys:
		if len(req.Data) > 1024 {
			return qerr(CodeInvalid, "query %s: the prefix must be at most 1024 bytes", QueryKeys), nil
		}
		ks, err := treeReader{t}.keys(req.Data, MaxQueryKeys)
		if err != nil {
			return qerr(CodeInternal, "internal error: list: %v", err), nil
		}
		names := make([]string, len(ks))
		for i, k := range ks {
			names[i] = string(k)
		}
		b, _ := json.Marshal(names)
		return &abci.ResponseQuery{Code: CodeOK, Key: req.Data, Value: b, Height: h, Log: fmt.Sprintf("%d keys", len(ks))}, nil
	}
	return qerr(CodeInvalid, "unknown query path %s (want %s or %s)", quote(req.Path), QueryKey, QueryKeys), nil
}

func qerr(code uint32, format string, args ...any) *abci.ResponseQuery {
	return &abci.ResponseQuery{Code: code, Codespace: Codespace, Log: fmt.Sprintf(format, args...)}
}

// VerifyProof checks a QueryKey proof: that under appHash (the AppHash of header H+1 for a
// response at height H) key has exactly value, or, when value is empty, that key is absent.
// op must be the response's single ProofOp of type ProofOpType for this key.
func VerifyProof(appHash, key, value []byte, op cmtcrypto.ProofOp) error {
	if op.Type != ProofOpType {
		return fmt.Errorf("ledger: proof type %q, want %q", op.Type, ProofOpType)
	}
	if !bytes.Equal(op.Key, key) {
		return errors.New("ledger: proof is for another key")
	}
	return VerifyCommitmentProof(appHash, key, value, op.Data)
}

// VerifyProofOps is VerifyProof for a response's ProofOps, which must hold exactly one op.
func VerifyProofOps(appHash, key, value []byte, ops *cmtcrypto.ProofOps) error {
	if ops == nil || len(ops.Ops) != 1 {
		return errors.New("ledger: want exactly one proof op")
	}
	return VerifyProof(appHash, key, value, ops.Ops[0])
}

// VerifyCommitmentProof checks a marshalled ics23.CommitmentProof over the IAVL tree:
// existence of key=value when value is non-empty, non-existence of key otherwise.
func VerifyCommitmentProof(appHash, key, value, proof []byte) error {
	if len(appHash) != 32 {
		return errors.New("ledger: app hash must be 32 bytes")
	}
	if len(key) == 0 {
		return errors.New("ledger: empty key")
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(proof); err != nil {
		return fmt.Errorf("ledger: undecodable proof: %w", err)
	}
	if len(value) > 0 {
		if p.GetExist() == nil {
			return errors.New("ledger: not an existence proof")
		}
		if !ics23.VerifyMembership(ics23.IavlSpec, appHash, &p, key, value) {
			return errors.New("ledger: existence proof does not verify against the app hash")
		}
		return nil
	}
	if p.GetNonexist() == nil {
		return errors.New("ledger: not a non-existence proof")
	}
	if !ics23.VerifyNonMembership(ics23.IavlSpec, appHash, &p, key) {
		return errors.New("ledger: non-existence proof does not verify against the app hash")
	}
	return nil
}
