// Package wire is LianZheng's own wire protocol for in-person presentation: the one place
// that says which messages exist, what their bodies are, and which strings of the ledger
// both sides may leave out. The wallet and the window both use it, so the two sides cannot
// drift apart.
//
// Every message is a QR payload PREFIX ":" Base45(zlib(body)), framed by package qr:
//
//	LZ1Q  window → wallet  signed request (Request, Sign/Verify; CBOR)
//	LZ1R  wallet → window  answer bound to a request: SD-JWT+KB presentations in the
//	                       compact form of credential/sdjwtcbor (EncodeResponse)
//	LZ1W  wallet → window  one-way answer without a request, weaker (OneWay; CBOR)
//	LZ1E  window → wallet  receipt bundle: signed receipt, Merkle proof, anchor (ReceiptBundle; JSON)
//
// The compact form replaces strings the window holds from the ledger by short hash
// prefixes; Known builds that dictionary from plain ledger data, for the wallet (from the
// credentials it presents) and for the window (from its trust view) alike. Status-list URIs
// (urn:lz:status:<member>:<list>) are named by the ledger model (ledger.StatusListURI,
// ledger.ParseStatusListURI), since the ledger itself emits them and may import nothing of
// ours; this package carries them as plain strings.
//
// # Threats
//
// Every parser here reads what the other side's screen or a scanner produced: a hostile
// phone, a replaced scanner, a forged file. Parsers bound their input before work (caps on
// the inflated body, CBOR nesting, array and map sizes), accept one encoding of each value
// (deterministic CBOR for requests, no indefinite lengths or duplicate keys), and report
// errors wrapping ErrMalformed (or the request's ErrSignature, ErrExpired, ErrNotYet), so
// callers map them to reason codes with errors.Is. Well-formed is not authentic: requests
// are checked against the window key on the ledger (Verify), answers by the SD-JWT verifier
// with the window's own nonce and DID, receipts by credential/receipt. Each parser of
// untrusted input has a fuzz target: FuzzParse (request), FuzzParseOneWay,
// FuzzParseReceiptBundle (and FuzzDecodeCompact in credential/sdjwtcbor).
package wire
