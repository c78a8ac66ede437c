// Package chain is the consortium ledger's state machine: a CometBFT v0.38 ABCI++
// application (App) whose state lives in an IAVL tree (every committed version kept), so
// that every query can carry an ICS23 existence or non-existence proof against a block's
// AppHash. Only node processes link it (through ledger/node); clients use the model
// (package ledger) and ledgerclient.
//
// Design. The departments (members) run the validators. The state is the model's (package
// ledger: keys, values, limits); every change is a signed ledger.Envelope. A transaction
// is executed against an overlay of the state and reaches the tree only if it succeeds, in
// sorted key order, so the AppHash is a deterministic function of genesis and the blocks.
// Governance (members, catalogue, windows, params) needs k-of-n member approvals and
// applies atomically at the k-th one; it validates payloads with the same model functions
// as genesis (Member.Validate, CredentialType.Validate, Window.Validate, CheckFields).
// CheckTx runs the same code as FinalizeBlock against the last committed state and time.
// Query answers QueryKey with the proof in one ProofOp (ProofFromOps reads it back).
//
// Threats addressed. Forged or replayed transactions: the Ed25519 signature is checked
// against a key of the signer's DID valid at the block time (never a compromised one), and
// a per-signer nonce is stored forever. Malleability: only the canonical wire form decodes.
// A single member cannot change the consortium, deactivate another department, or write
// another member's status lists. Invalid input never panics the node: handlers recover
// per transaction and per ABCI call, and answer with a stable result code and an English
// message. Caches (signature checks, key resolutions) memoise pure functions only, so they
// never change a result. Proofs for state at height H verify against header H+1, whose
// AppHash is signed by more than 2/3 of the validators.
package chain
