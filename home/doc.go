// Package home assembles a home's services: the one wiring that the app, the lz command and
// the headless demo share, so that none of them starts a node, an HTTP server or a key store
// itself. The app holds screens over what it returns; the lz commands are flags over it.
//
// A demo home (OpenDemo) is one directory:
//
//	<dir>/node     the embedded single-validator ledger of the demo consortium (home/demonet:
//	               genesis, config, the unsealed demo keys in node/demo-keys)
//	<dir>/issuer   every demo department's issuer records (<id>.db)
//	<dir>/window   the real-estate window's receipts and its saved trust snapshot
//	<dir>/wallet   the citizen's wallet (sealed key store, credentials, access history)
//
// OpenDemo starts the node in-process and connects one ledger client to it; opens each demo
// department's issuer core with its OpenID4VCI service on 127.0.0.1, the window's verifier and
// the citizen's wallet; Close stops them in reverse order and waits for every server and the
// node. The same pieces serve other layouts for the lz command: a department's own home
// (InitIssuer, OpenIssuer: issuer.json and a sealed key store), a window on a ledger home
// (OpenWindow), a wallet directory (NewCitizen). Every service reads the consortium's ledger
// through Ledger, the one place a ledger client is made.
//
// Threats, and what holds them:
//   - Nothing trusts the node. The ledger client and the trust snapshots check every answer
//     with proofs against the consortium's genesis (the trust root), so a wrong or hostile
//     node address makes reads fail; it cannot make them lie.
//   - Demo keys lie unsealed on disk (mode 0600, marked DEMO KEY) and exist only in demo
//     homes. A department's own home keeps its DID key in a sealed key store (Argon2id + AEAD)
//     that only the passphrase given to OpenIssuer unlocks; InitIssuer seals the key it is
//     given and never writes it in the clear.
//   - The demo's services listen on loopback only; every HTTP server has header, read and
//     write timeouts (a slow client cannot pin it) and stops on Close. Only the demo's wallet
//     accepts http:// issuers, because they are on loopback.
//   - Logs (Options.Log, IssuerOptions.Log) are operational: the services log failures,
//     addresses, DIDs and heights, never personal data, claims, PINs, offer codes or tokens.
//     Every server started here logs through them, failures with their cause kind
//     (issuer.Kind: records, sign_sd_jwt, catalogue, …; never the error's text where it could
//     quote input), so that a citizen's "server_error" has its cause on record. A nil logger
//     discards; the app gives its demo home a log file (OpenLogFile: 0600, turned over at
//     MaxLogBytes, warnings echoed to stderr), lz demo logs warnings to stderr.
package home
