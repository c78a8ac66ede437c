// Package did implements the decentralised identifiers LianZheng uses: did:key for citizens'
// holder keys (Ed25519, multicodec 0xed; P-256, multicodec 0x1200 with a compressed point) and
// the ledger method did:lz for departments and windows, plus the key encodings around them
// (Multikey publicKeyMultibase, base58btc 'z' multibase, JWK for SD-JWT cnf.jwk).
//
// did:lz syntax (validated strictly, nothing is normalised):
//
//	did-lz     = "did:lz:" lz-id
//	lz-id      = 1*64( %x61-7A / DIGIT / "-" )   ; lowercase a-z, 0-9, "-"
//	                                              ; must not start or end with "-"
//
// A did:lz DID is never percent-encoded and never carries a path, query or fragment; a DID URL
// (did:lz:x#key-1, did:key:z…#z…) is parsed separately by ParseDIDURL and only a fragment of
// [A-Za-z0-9._~-] is accepted. A did:lz DID's keys form a History of KeyRecords, each valid on
// the half-open interval [ValidFrom, ValidUntil); deactivation ends every key. The ledger
// client implements Resolver; MultiResolver sends did:key to the local KeyResolver.
//
// Threats addressed: every parser here sees untrusted input (QR codes, issuer headers), so
// inputs are length-capped before any super-linear decoding (base58), every accepted
// encoding must re-encode to exactly the input (no second spelling of one key or DID, no
// lowercase/uppercase ambiguity), keys are checked when parsed (P-256 points on the curve;
// Ed25519 encodings canonical, on the curve and not of small order, since anyone can forge
// signatures for a small-order key) and every parser has a fuzz target. A resolver's answer is checked against the DID that was asked for. The time T
// given to AssertionKeyAt is usually claimed by the signer (iat), so a compromised key could
// backdate: a KeyRecord marked Compromised is never valid, and a deactivated DID yields no
// assertion key at any time; callers that have a ledger-anchored time should pass that.
package did
