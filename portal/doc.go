// Package portal is a department's online-service portal (网上服务平台): the web pages an
// applicant opens to apply online, and the OpenID4VP 1.0 verifier endpoints a citizen's
// wallet talks to. It is a thin HTTP layer over the verifier core (package verifier): the
// portal is a window of the ledger whose registration is marked online, with its own did:lz
// key; its requests, checks, reason codes, receipts and anchors are the window's. See
// docs/portal.md for the flow.
//
// For each online service item registered on the ledger for the portal's DID, a page (zh-Hans,
// English with ?lang=en) starts an application: a session with a fresh verifier request
// (nonce, expiry), a state, and a per-request P-256 encryption key. The page shows the
// request as a QR code (cross-device) and as an openid4vp:// link (same device); the wallet
// fetches the signed request object (credential/oid4vp: JAR with the DCQL query built from
// exactly the registered fields and the registration in verifier_info), and posts the
// encrypted response (direct_post.jwt) to the session's response URI. The portal decrypts
// it with the session's key, checks the state, and hands the presentations to
// verifier.VerifyOpenID4VP. The page polls the session's status and then shows the verdict
// in the window's words and the application form, the verified fields filled in read-only
// (the submitted form takes them from the verdict, never from the browser).
//
// Threats and limits: every endpoint is rate-limited per client (internal/ratelimit); bodies
// and query strings are capped (the response form at MaxResponseBody); the server has read,
// write and idle timeouts; sessions are unguessable (128 bits), capped in number
// (MaxSessions) and expire (Config.SessionTTL), after which the disclosed values are
// dropped — they live only in memory, in the session, and are never logged (log lines carry
// session-free codes, item ids and receipt ids). An answer that does not decrypt under the
// session's key, names another session's key or nonce, or carries another state is refused
// with its code (response_tampered, wrong_session, state_mismatch) before anything in it is
// read; an accepted verdict is never replaced by a later answer. The pages load nothing from
// elsewhere: no external script, font or stylesheet (Content-Security-Policy 'self').
package portal
