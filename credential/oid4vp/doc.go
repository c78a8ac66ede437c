// Package oid4vp is the one home of OpenID for Verifiable Presentations 1.0 (final) as
// LianZheng speaks it: the online-service portal (verifier side, package portal over the
// verifier core) and the citizen's wallet (wallet.(*Wallet).PlanOpenID4VP) both use it, so
// the two sides cannot drift. It holds the shapes only, no policy about who may ask what:
// that is the ledger registration's job, checked by the wallet and the verifier core.
//
//   - Link: the authorisation request by reference,
//     `openid4vp://?client_id=decentralized_identifier:did:lz:…&request_uri=https://…`
//     (the QR of the cross-device flow, the link of the same-device flow).
//   - Request: the signed request object (JAR, RFC 9101): JWS header
//     `typ: oauth-authz-req+jwt`, `kid` an absolute DID URL of the portal's did:lz key;
//     `response_type=vp_token`, `response_mode=direct_post.jwt`, `response_uri`, `nonce`,
//     `state`, a DCQL query, `client_metadata` (the per-request encryption key in `jwks`,
//     first, `use: enc`, `alg: ECDH-ES`; `vp_formats_supported["dc+sd-jwt"]`) and
//     `verifier_info` carrying the portal's ledger registration (Registration).
//   - Query: DCQL, parsed strictly; the portal builds it from exactly the registered fields
//     (QueryFor), the wallet matches it against what it holds (Match, Fields).
//   - JWE: the encrypted authorisation response (ECDH-ES on P-256, A128GCM or A256GCM,
//     compact form), `apv` = base64url(nonce) entering the key derivation (Concat KDF), as
//     the OWF @openid4vc/openid4vp library does; plaintext
//     `{"vp_token":{"<query id>":["<sd-jwt~…~kb-jwt>"]},"state":…}` (Response).
//
// Threats and limits. Everything parsed here comes from the network: a request object is at
// most MaxJAR bytes, a JWE MaxJWE, a DCQL query MaxQuery, a link MaxLink; JSON goes through
// internal/strictjson (duplicate members, invalid UTF-8, depth refused); the JWS alg is an
// allow-list (credential/jws: EdDSA, ES256; never none); the JWE accepts only ECDH-ES with
// AES-GCM and no `zip` (no decompression bombs); the request's validity is checked against
// the caller's clock. Each parser has a fuzz target (fuzz_test.go). Errors are typed
// (errors.Is with the Err* values); none of them carries a disclosed value.
package oid4vp
