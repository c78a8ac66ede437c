// Package ledger is the consortium ledger's state machine: a CometBFT v0.38 ABCI++
// application whose state lives in an IAVL tree (every committed version kept), so that
// every query can carry an ICS23 existence or non-existence proof against a block's AppHash.
//
// Design. The departments (members) run the validators. State holds no personal data:
// member records, did:lz DID key histories, the credential-type catalogue, registered
// windows, proposals, 2-bit status lists (chunked, written lazily) and receipt anchors. Every
// change is a signed Envelope (types.go). A transaction is executed against an overlay of
// the state and reaches the tree only if it succeeds, in sorted key order, so the AppHash
// is a deterministic function of genesis and the blocks. Governance (members, catalogue,
// windows, params) needs k-of-n member approvals and applies atomically at the k-th one.
// CheckTx runs the same code as FinalizeBlock against the last committed state and time.
//
// Threats addressed. Forged or replayed transactions: Ed25519 signatures over a domain-tagged
// canonical envelope bound to the chain id, by a key valid at the block time (never a
// compromised one), and a per-signer nonce stored forever. Malleability: only the canonical
// wire form is accepted, so one signed envelope has one transaction hash. Parser confusion:
// bodies are decoded strictly (exact member names, no duplicates or unknown members,
// bounded depth and size). A single member cannot change the consortium, deactivate
// another department, or write another member's status lists. Invalid input never panics
// the node: handlers recover per transaction and per ABCI call, and answer with a stable
// result code and an English message. Proofs for state at height H verify against header
// H+1, whose AppHash is signed by more than 2/3 of the validators.
package ledger
