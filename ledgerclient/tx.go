package ledgerclient

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/types"

	"lianzheng/did"
	"lianzheng/ledger"
)

// Signer signs transactions: an Ed25519 key and the DID URL naming it on the ledger
// (e.g. "did:lz:civil-affairs#key-1"). It is the ledger model's KeySigner.
type Signer = ledger.KeySigner

// TxResult is a committed transaction.
type TxResult struct {
	Type       string
	Hash       string // hex upper case
	Height     int64  // block that includes it; its effects are in state Height
	Code       uint32 // ledger.CodeOK
	Log        string
	Submits    int    // broadcasts made (1 + resubmissions)
	ProposalID string // for proposal.create: the id of the new proposal
}

// Submit signs and broadcasts a transaction of txType with body, then waits until it is
// committed and returns its result. A transaction the ledger refuses is a *TxError
// (errors.Is with ErrTxUnauthorized etc.).
func (c *Client) Submit(ctx context.Context, s Signer, txType string, body any) (*TxResult, error) {
	_, tx, err := ledger.NewEnvelope(c.root.ChainID, txType, body, s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTxMalformed, err)
	}
	return c.SubmitRaw(ctx, txType, tx)
}

// SubmitRaw broadcasts already-signed envelope bytes and confirms them by hash:
// broadcast_tx_sync can accept a transaction the mempool later drops, so the client polls
// for the hash and rebroadcasts the same bytes (same nonce: the ledger applies it at most
// once) every ResubmitAfter, at most MaxResubmits times, within ConfirmTimeout. A
// resubmission refused as a replay means an earlier copy committed; its result is then
// looked up by hash. Inclusion is verified against the verified header's DataHash and
// the result code against the next header's LastResultsHash.
func (c *Client) SubmitRaw(ctx context.Context, txType string, tx []byte) (*TxResult, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.ConfirmTimeout)
		defer cancel()
	}
	hash := ledger.TxHash(tx)
	hb, _ := hex.DecodeString(hash)
	res := &TxResult{Type: txType, Hash: hash}
	if txType == ledger.TxProposalCreate {
		res.ProposalID = ledger.ProposalID(tx)
	}

	replayed := false
	broadcast := func() error {
		res.Submits++
		r, err := c.rpc.BroadcastTxSync(ctx, tx)
		if err != nil {
			if errors.Is(err, ErrTxInCache) {
				return nil // an earlier copy is in the mempool (or was, recently)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil // transport error: the poll/resubmit loop will try again
		}
		switch {
		case r.Code == ledger.CodeOK:
			return nil
		case r.Code == ledger.CodeReplay && r.Codespace == ledger.Codespace && res.Submits > 1:
			replayed = true // an earlier copy committed: find it by hash
			return nil
		default:
			return &TxError{Type: txType, Hash: hash, Code: r.Code, Codespace: r.Codespace, Log: r.Log}
		}
	}
	if err := broadcast(); err != nil {
		return nil, err
	}
	last := time.Now()
	for {
		r, err := c.rpc.Tx(ctx, hb, true)
		if err == nil && r != nil {
			return c.confirmed(ctx, res, tx, r)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s tx %.12s after %d broadcasts: %v", ErrTxNotConfirmed, txType, hash, res.Submits, ctx.Err())
		}
		if !replayed && time.Since(last) >= c.cfg.ResubmitAfter {
			if res.Submits > c.cfg.MaxResubmits {
				return nil, fmt.Errorf("%w: %s tx %.12s not committed after %d broadcasts", ErrTxNotConfirmed, txType, hash, res.Submits)
			}
			if err := broadcast(); err != nil {
				var te *TxError
				if errors.As(err, &te) {
					// A copy refused now (e.g. the key was rotated meanwhile) may still
					// have committed earlier: give the lookup one more chance.
					if r, err2 := c.rpc.Tx(ctx, hb, true); err2 == nil && r != nil {
						return c.confirmed(ctx, res, tx, r)
					}
				}
				return nil, err
			}
			last = time.Now()
		}
		t := time.NewTimer(c.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// confirmed verifies a found transaction and turns it into the result: inclusion
// against the verified header's DataHash, the result code against the next verified
// header's LastResultsHash (which commits to each result's code, data and gas).
func (c *Client) confirmed(ctx context.Context, res *TxResult, tx []byte, r *TxLookup) (*TxResult, error) {
	if !bytes.Equal(r.Tx, tx) || !bytes.Equal(r.Proof.Data, tx) {
		return nil, fmt.Errorf("%w: node returned another transaction for hash %.12s", ErrUnverified, res.Hash)
	}
	lb, err := c.header(ctx, r.Height)
	if err != nil {
		return nil, err
	}
	if err := r.Proof.Validate(lb.SH.DataHash); err != nil {
		return nil, fmt.Errorf("%w: inclusion of tx %.12s in block %d: %v", ErrUnverified, res.Hash, r.Height, err)
	}
	next, err := c.header(ctx, r.Height+1)
	if err != nil {
		return nil, err
	}
	h := r.Height
	br, err := c.rpc.BlockResults(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: results of block %d: %w", h, err)
	}
	if !bytes.Equal(types.NewResults(br.TxsResults).Hash(), next.SH.LastResultsHash) {
		return nil, fmt.Errorf("%w: results of block %d do not match header %d", ErrUnverified, h, h+1)
	}
	idx := r.Proof.Proof.Index
	if idx < 0 || idx >= int64(len(br.TxsResults)) || int64(r.Index) != idx {
		return nil, fmt.Errorf("%w: tx index %d of block %d", ErrUnverified, idx, h)
	}
	er := br.TxsResults[idx]
	res.Height, res.Code, res.Log = h, er.Code, er.Log
	if er.Code != ledger.CodeOK {
		return nil, &TxError{Type: res.Type, Hash: res.Hash, Height: h, Code: er.Code, Codespace: er.Codespace, Log: er.Log}
	}
	for {
		m := c.minState.Load()
		if m >= h || c.minState.CompareAndSwap(m, h) {
			break
		}
	}
	return res, nil
}

// ProposalCreate proposes a governance action (payload: the action's body, e.g. a
// ledger.Member for member.add). The result carries the new proposal's id.
func (c *Client) ProposalCreate(ctx context.Context, s Signer, action string, payload any) (*TxResult, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: proposal payload: %w", err)
	}
	return c.Submit(ctx, s, ledger.TxProposalCreate, ledger.ProposalCreate{Action: action, Payload: p})
}

// ProposalApprove approves a pending proposal.
func (c *Client) ProposalApprove(ctx context.Context, s Signer, id string) (*TxResult, error) {
	return c.Submit(ctx, s, ledger.TxProposalApprove, ledger.ProposalApprove{ID: id})
}

// DIDCreate creates a did:lz DID controlled by the signer's DID.
func (c *Client) DIDCreate(ctx context.Context, s Signer, d string, keys []did.KeyRecord) (*TxResult, error) {
	return c.Submit(ctx, s, ledger.TxDIDCreate, ledger.DIDCreate{DID: d, Keys: keys})
}

// DIDAddKey adds a key to a DID (rotation: add the new key, then revoke the old one).
func (c *Client) DIDAddKey(ctx context.Context, s Signer, d string, key did.KeyRecord) (*TxResult, error) {
	return c.Submit(ctx, s, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: d, Key: key})
}

// DIDRevokeKey ends a key's validity now; compromised marks it never valid.
func (c *Client) DIDRevokeKey(ctx context.Context, s Signer, d, keyID string, compromised bool) (*TxResult, error) {
	return c.Submit(ctx, s, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: d, KeyID: keyID, Compromised: compromised})
}

// DIDDeactivate deactivates a DID for good.
func (c *Client) DIDDeactivate(ctx context.Context, s Signer, d string) (*TxResult, error) {
	return c.Submit(ctx, s, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: d})
}

// StatusSet updates entries of the signer member's status list.
func (c *Client) StatusSet(ctx context.Context, s Signer, list int, updates ...ledger.StatusUpdate) (*TxResult, error) {
	return c.Submit(ctx, s, ledger.TxStatusSet, ledger.StatusSet{List: list, Updates: updates})
}

// AnchorPost anchors the Merkle root (hex SHA-256) of a batch of receipts.
func (c *Client) AnchorPost(ctx context.Context, s Signer, root string, count int) (*TxResult, error) {
	return c.Submit(ctx, s, ledger.TxAnchorPost, ledger.AnchorPost{Root: root, Count: count})
}
