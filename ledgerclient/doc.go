// Package ledgerclient is the typed, proof-checking client of the LianZheng consortium
// ledger: reads with ICS23 proofs, signed writes confirmed by hash, the did:lz resolver,
// and offline trust snapshots.
//
// Trust model. A node's word is never trusted:
//
//   - Trust root: the genesis validator set (from the genesis document the consortium
//     distributed out of band) or a pinned header (height + hash). See TrustRoot.
//   - Verified headers: signed headers and validator sets are fetched over the node's RPC
//     and verified here with CometBFT's light-client rules (lightverify.go, a port of
//     light/verifier.go checked against it by tests, and ValidatorSet.VerifyCommitLight
//     for the root: the first header must be signed by more than 2/3 of the genesis set
//     and carry its hash). Later headers are verified from the highest verified one below
//     them by skipping verification (trust level 1/3), bisecting when the trusted set
//     cannot vouch for the target.
//   - Verified reads: state at height H is read with an ABCI query with Prove and its ICS23
//     proof (existence, or absence for a missing key) is checked against the AppHash of the
//     verified header H+1. Listings (QueryKeys) are unproven hints: the keys are re-read
//     through a chain of absence proofs between neighbours, which also proves that none was
//     left out.
//   - Writes: envelopes signed with Ed25519 and a random 128-bit nonce, broadcast with
//     broadcast_tx_sync, confirmed by hash and rebroadcast (same bytes) if the mempool lost
//     them; inclusion is checked against the verified header's DataHash and the result code
//     against the next header's LastResultsHash.
//   - Trust snapshots: one file carrying the registries and status lists at height H, each
//     range proven complete, header H+1 and the header chain to the trust root; verified
//     fully offline by VerifySnapshot (ErrSnapshotForged, ErrSnapshotStale). Format:
//     docs/trust-snapshot.md.
//
// Transport. The client speaks to a node through the narrow RPC interface (seven calls);
// HTTPRPC implements it over CometBFT v0.38's JSON-RPC with bounded responses and
// deadlines. The package links CometBFT's types and codecs only, never its node, p2p,
// RPC or light packages, so the phone wallet and the window carry no validator code.
//
// The online Client and a verified Snapshot both implement TrustView, the interface the
// verifier and the wallet decide with; both implement did.Resolver for did:lz.
package ledgerclient
