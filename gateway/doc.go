// Package gateway is the consortium's public face for outside verifiers and wallets: it serves,
// under the public base URL the consortium records on its ledger (ledger.Params.PublicBaseURL),
// every URL a LianZheng credential names, in the standard forms their libraries read
// (the layout is ledger/publicurl.go):
//
//   - IETF Token Status List JWTs of each department's lists (typ statuslist+jwt, 2-bit
//     entries, sub = its URL, iat/exp/ttl), signed by the department;
//   - W3C BitstringStatusListCredentials, one 1-bit list per purpose (revocation, suspension)
//     derived from the same ledger list, signed eddsa-rdfc-2022 by the department;
//   - did:lz DID documents through the DID Resolution 1.0 HTTP(S) GET binding
//     (GET /1.0/identifiers/{did}, the DID as it is or percent-encoded; ?versionTime= for the
//     document as it stood then, from the key history; application/did-resolution results,
//     the bare document for Accept application/did; error objects typed
//     https://www.w3.org/ns/did#…);
//   - SD-JWT VC type metadata for each catalogue vct (names, descriptions, claim labels in
//     zh-CN and en), and the W3C form's claims context (<base>/ns/credentials/v1: @vocab only,
//     with the terms' labels for people).
//
// Design: everything is built from one proof-checked view of the ledger (ledgerclient
// StateView: every read verified against a light-client header) and kept in memory as
// ready bytes with their ETag; Run follows the ledger and rebuilds when the height changes,
// re-signing a list only when its bits changed or half its validity has passed. A request
// is a map lookup: no ledger read, no signature on the request path. The same bytes are
// written as files by Export, so a ministry can publish a static copy on any web server.
// A process signs only the lists of departments whose signers it holds (a department's own
// issuance service, or the demo home holding every key); any member can serve the unsigned
// rest.
//
// Threats: hostile clients (bounded paths and queries, GET/HEAD only, per-client rate limit,
// server timeouts set by the caller's http.Server); stale status (lists are rebuilt at each
// new height; ttl and exp bound how long a copy may be trusted; a gateway that loses the
// ledger keeps serving the last lists until they expire, then answers 503); personal data
// (none exists here: the ledger holds none, and nothing of a request is logged but its
// path's kind, status and the client's address).
package gateway
