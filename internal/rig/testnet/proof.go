package testnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"

	"lianzheng/ledger"
	"lianzheng/ledger/chain"
	"lianzheng/ledgerclient"
)

// ProvedValue is a value read from the ledger with its proof checked.
type ProvedValue struct {
	Key    []byte
	Value  []byte // nil: proven absent
	Height int64  // state version read
	// Header is header Height+1, whose AppHash the proof was checked against and whose
	// commit was checked to carry more than 2/3 of the voting power of the validator set.
	Header *cmttypes.Header
}

// QueryProved reads key at height (0: latest) with an ICS23 proof and checks it against the
// AppHash of header Height+1, after checking that header's commit against the validator set
// the node reports for that height. (A verifier that does not trust the node gets the
// validator set from a light client instead; here the node is ours.) It waits for block
// Height+1 (and for block height) if the node has not committed it yet.
func QueryProved(ctx context.Context, c *rpchttp.HTTP, chainID string, key []byte, height int64) (*ProvedValue, error) {
	if height > 0 { // another node may not have committed that block yet
		if err := WaitForHeight(ctx, c, height); err != nil {
			return nil, err
		}
	}
	var r abci.ResponseQuery
	for {
		res, err := c.ABCIQueryWithOptions(ctx, ledger.QueryKey, key, rpcclient.ABCIQueryOptions{Height: height, Prove: true})
		if err != nil {
			return nil, fmt.Errorf("testnet: query: %w", err)
		}
		r = res.Response
		// The block store runs a few milliseconds ahead of the application's commit.
		if r.Code != ledger.CodeNotFound || height == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("testnet: query %q at %d: %s: %w", key, height, r.Log, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if r.Code != ledger.CodeOK {
		return nil, fmt.Errorf("testnet: query %q: code %d: %s", key, r.Code, r.Log)
	}
	if !bytes.Equal(r.Key, key) {
		return nil, errors.New("testnet: query answered for another key")
	}
	h1 := r.Height + 1
	if err := WaitForHeight(ctx, c, h1); err != nil {
		return nil, err
	}
	hdr, err := VerifiedHeader(ctx, c, chainID, h1)
	if err != nil {
		return nil, err
	}
	if err := verifyProofOps(hdr.AppHash, key, r.Value, r.ProofOps); err != nil {
		return nil, err
	}
	pv := &ProvedValue{Key: key, Height: r.Height, Header: hdr}
	if len(r.Value) > 0 {
		pv.Value = r.Value
	}
	return pv, nil
}

// verifyProofOps checks the proof of a QueryKey answer (chain.ProofFromOps, then
// ledgerclient.VerifyProof): under appHash (of header H+1 for state H) key has exactly
// value, or, when value is empty, key is absent.
func verifyProofOps(appHash, key, value []byte, ops *cmtcrypto.ProofOps) error {
	p, err := chain.ProofFromOps(ops, key)
	if err != nil {
		return err
	}
	return ledgerclient.VerifyProof(appHash, key, value, p)
}

// VerifiedHeader fetches header h and checks its commit: the header hashes to the committed
// block id, and validators holding more than 2/3 of the power of the set at h signed it.
func VerifiedHeader(ctx context.Context, c *rpchttp.HTTP, chainID string, h int64) (*cmttypes.Header, error) {
	cm, err := c.Commit(ctx, &h)
	if err != nil {
		return nil, fmt.Errorf("testnet: commit %d: %w", h, err)
	}
	sh := cm.SignedHeader
	if err := sh.ValidateBasic(chainID); err != nil {
		return nil, fmt.Errorf("testnet: header %d: %w", h, err)
	}
	var vals []*cmttypes.Validator
	for page := 1; ; page++ {
		p, pp := page, 100
		vs, err := c.Validators(ctx, &h, &p, &pp)
		if err != nil {
			return nil, fmt.Errorf("testnet: validators %d: %w", h, err)
		}
		vals = append(vals, vs.Validators...)
		if len(vals) >= vs.Total || len(vs.Validators) == 0 {
			break
		}
	}
	set := cmttypes.NewValidatorSet(vals)
	if !bytes.Equal(set.Hash(), sh.ValidatorsHash) {
		return nil, fmt.Errorf("testnet: header %d: validator set does not match the header", h)
	}
	if err := set.VerifyCommitLight(chainID, sh.Commit.BlockID, h, sh.Commit); err != nil {
		return nil, fmt.Errorf("testnet: header %d: %w", h, err)
	}
	return sh.Header, nil
}
