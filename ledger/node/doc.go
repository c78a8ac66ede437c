// Package node runs a CometBFT v0.38 node of the consortium ledger in this process, over
// the state machine of ledger/chain through a local ABCI client, and manages node homes:
// config.toml (with timing profiles), node and validator keys, the genesis document built
// from a ledger.GenesisState (validators = the members' validator keys), and the home's
// file layout (home.go). Only node processes (lz ledger, the embedded demo, tests) import
// it; wallets, windows and issuers never do.
//
// Design. StartNode starts a node over any ABCI application; StartHomeNode opens the
// ledger application's persistent state in the home and starts the node over it, and its
// Stop waits for everything the node started (consensus, p2p, RPC, stores, ABCI client
// connections) so a node can be restarted in the same process.
//
// Threats addressed. Key material: the validator and node key files are written with
// private modes, and a corrupt key or state file is an error, not a process exit or panic
// (CometBFT's own loaders exit or panic; they are wrapped). Peer exchange is off: a
// consortium names its validators in persistent_peers. Configuration and genesis are
// validated before use (ValidateBasic, ValidateAndComplete), and app_state is checked
// strictly by the state machine at InitChain.
package node
