package issuer

// Governance: a department is a consortium member, and the consortium's rules change only by
// k-of-n governance on the ledger (proposal.create, proposal.approve: docs/consortium.md). A
// department proposes and approves with its own signing key — the key store's signer, as for
// issuance — so governance needs no raw key and no separate tool: `lz issuer propose` and
// `lz issuer approve`, also through the control socket while the service runs. The ledger
// decides: it refuses a non-member, an unknown action, a malformed or inconsistent payload
// (each action's own checks), a second approval by the same member.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// ErrProposal: a proposal or approval the department could not even send (empty action,
// payload not a JSON object, bad proposal id). What the ledger refuses comes back as the
// ledger client's typed error (ledgerclient.ErrTxRejected).
var ErrProposal = errors.New("issuer: governance proposal")

// Propose creates a governance proposal (its id in the result's ProposalID); the
// department's approval is implied.
func (d *Department) Propose(ctx context.Context, action string, payload json.RawMessage) (*ledgerclient.TxResult, error) {
	if action == "" || len(action) > 64 {
		return nil, fmt.Errorf("%w: the action must be 1-64 characters", ErrProposal)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return nil, fmt.Errorf("%w: the payload must be a JSON object: %v", ErrProposal, err)
	}
	signer, kid := d.key()
	return d.submit(ctx, signer, kid, ledger.TxProposalCreate, ledger.ProposalCreate{Action: action, Payload: payload})
}

// Approve approves a pending proposal.
func (d *Department) Approve(ctx context.Context, id string) (*ledgerclient.TxResult, error) {
	if len(id) != 32 {
		return nil, fmt.Errorf("%w: a proposal id is 32 hex digits", ErrProposal)
	}
	signer, kid := d.key()
	return d.submit(ctx, signer, kid, ledger.TxProposalApprove, ledger.ProposalApprove{ID: id})
}
