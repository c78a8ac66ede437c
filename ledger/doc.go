// Package ledger is the consortium ledger's data model: what every party that reads or
// writes the ledger shares, and nothing that runs it. It imports no CometBFT code, so a
// wallet, a window or an issuer links the model and ledgerclient, never a validator.
//
// Design. State holds no personal data: member records, did:lz DID key histories, the
// credential-type catalogue, registered windows, proposals, 2-bit status lists (chunked)
// and receipt anchors. This package defines them (types.go), the state keys and query
// paths, the result codes, the limits, the status values and the one reading and writing
// of a 2-bit entry (status.go), lookups over the model (lookup.go), the genesis state and
// its validation (genesis.go), and the signed transaction Envelope: its construction by a
// Signer (a DID URL and a signing function, so a sealed key store signs without handing
// out its key; envelope.go) and its strict decoding (decode.go). The ABCI++ state machine
// over IAVL is ledger/chain; the CometBFT node runner and node homes are ledger/node.
//
// Threats addressed. Forged or replayed transactions: Ed25519 signatures over a domain-
// tagged canonical envelope bound to the chain id (SigDomain), with a fresh random 128-bit
// nonce per envelope (the state machine stores every nonce forever). Malleability: only the
// canonical wire form decodes (DecodeEnvelope), so one signed envelope has one transaction
// hash. Parser confusion: bodies and genesis are decoded strictly (DecodeStrict: exact
// member names, no duplicates or unknown members, bounded depth and size). Untrusted text
// in messages is quoted and truncated (Quote). Validation of members, types and windows is
// one set of functions used by genesis and by governance, so the two cannot disagree.
package ledger
