// Package interop drives independent implementations — pinned npm packages in the
// repository's interop/ folder (OWF sd-jwt-js, OpenID4VC and dcql, Digital Bazaar vc and
// vc-bitstring-status-list) — against LianZheng's live services on 127.0.0.1. Its tests carry
// the build tag "interop" and run under `make interop` (scripts/interop.sh), never under
// `make test`: they need Node.js and the npm packages installed.
//
// Design: each case is a Go test that starts real services (an embedded CometBFT ledger, the
// department's issuance service, the public gateway), prepares what the outside party is
// given (an offer, a credential, a public base URL), and runs one Node script with that as
// JSON on stdin. The script uses only the library's public API, prints one JSON object of
// what it observed, and exits non-zero when the library disagrees with what the case
// expects; the Go test asserts the observations too. Where the outside party must stay up
// while our code answers it (an outside OpenID4VP verifier serving its request_uri and
// response_uri), the script runs as a Session instead: one JSON command per line on its
// stdin, one JSON reply per line on its stdout. Nothing here is shipped or imported by
// production code.
//
// Threats it guards against: a format or endpoint that only our own code accepts (the
// 数据割据 the project exists to end) passing `make test` unnoticed.
package interop
