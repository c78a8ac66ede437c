package home

import (
	"context"
	"encoding/json"

	"lianzheng/ledger"
)

// Governance is what a proposal or an approval did: the transaction and, when the home reads
// the ledger itself (a department's own home), the proposal as it stands after it — pending
// until the consortium's approvals are in, then applied, or failed (with why).
type Governance struct {
	ProposalID string           `json:"proposal_id"`
	TxHash     string           `json:"tx_hash"`
	Height     int64            `json:"height"`
	Proposal   *ledger.Proposal `json:"proposal,omitempty"`
}

// Propose proposes a governance action as this department (issuer.Department.Propose).
func (d *Department) Propose(ctx context.Context, action string, payload json.RawMessage) (*Governance, error) {
	res, err := d.core.Propose(ctx, action, payload)
	if err != nil {
		return nil, err
	}
	return d.governance(ctx, res.ProposalID, res.Hash, res.Height), nil
}

// Approve approves a pending proposal as this department.
func (d *Department) Approve(ctx context.Context, id string) (*Governance, error) {
	res, err := d.core.Approve(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.governance(ctx, id, res.Hash, res.Height), nil
}

func (d *Department) governance(ctx context.Context, id, hash string, height int64) *Governance {
	g := &Governance{ProposalID: id, TxHash: hash, Height: height}
	if d.reads != nil {
		if p, err := d.reads.Proposal(ctx, id); err == nil {
			g.Proposal = p
		}
	}
	return g
}

// Agreements are the mutual-recognition agreements on the consortium's ledger (none when the
// department reads no ledger).
func (d *Department) Agreements(ctx context.Context) ([]ledger.Recognition, error) {
	if d.reads == nil {
		return nil, nil
	}
	return d.reads.Recognitions(ctx)
}
