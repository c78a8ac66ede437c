// Package qr is LianZheng's compact transport for in-person presentation: it
// turns bytes (in practice CBOR) into the text of a QR code and back, and renders
// and reads the QR images themselves. It imports no other package of the project.
//
// # Format
//
// A payload is
//
//	PREFIX ":" Base45(zlib(body))
//
// the approach of the EU Digital COVID Certificate. PREFIX is 2 to 8 upper-case
// ASCII letters or digits naming the message and its format version ("LZ1Q" for
// the window's request, "LZ1R" for the wallet's response); body is compressed with
// zlib (RFC 1950) and encoded in Base45 (RFC 9285). Every character of the result
// — prefix, colon and Base45 alphabet — belongs to the QR alphanumeric set
// (0-9 A-Z space $ % * + - . / :), so the code is rendered in alphanumeric mode
// at 5.5 bits per character: version 20 at error-correction level M holds 970
// characters (a payload of 861 characters already fits version 19-M; see
// Version). Base45 costs 1.5 characters per byte, which in
// alphanumeric mode is 8.25 bits per byte, against 10.7 for base64 in byte mode.
//
// # Why Base45 survives a keyboard-wedge scanner
//
// A window's USB hand-held scanner "types" the code as keystrokes into whatever
// has focus. Any encoding that relies on letter case (base64, base64url) is
// corrupted by Caps Lock, a scanner's case setting, or an input method; Base45 has
// no lower-case letters, so Decode can upper-case everything losslessly. A
// Chinese input method in full-width mode substitutes '：' for ':', full-width
// letters and digits, '。' for '.', '￥' for '$' and the ideographic space for a
// space; Decode maps these back. Scanners append CR, LF or a tab; Decode trims
// surrounding whitespace, which is safe because a Base45 string never ends in a
// space. Everything else is rejected: the tolerance is a fixed, documented list,
// not a best-effort guess.
//
// # Threats and defences
//
// All input to the decoding side — scanned text, camera images, PNG files — is
// untrusted: it comes from whoever holds the phone at the window, or from a
// scanner that could be replaced by a programmable keyboard. The package
// therefore:
//
//   - bounds every allocation by a limit fixed before work starts: scanned text
//     beyond MaxScannedLen is refused before decoding; Base45 output is at most
//     two thirds of its input; Inflate stops after max+1 bytes of output and
//     reports ErrTooLarge, so a zlib bomb (10 MB of zeros is ~10 KB compressed)
//     costs no more than the caller's limit; images beyond MaxImageDim pixels a
//     side, PNGs beyond MaxPNGLen bytes, and PNGs that declare more pixels than
//     their compressed data could hold are refused before pixels are decoded;
//   - accepts exactly one encoding of each value: Base45 triplets above 65535,
//     pairs above 255 and lengths of 3k+1 are rejected, and so are zlib streams
//     with bad checksums, preset dictionaries or trailing bytes, so nothing can be
//     smuggled beside the signed data;
//   - bounds work on hostile images (a fixed number of decode attempts) and turns
//     a panic in the third-party decoder into an error;
//   - reports failures as *Error values wrapping ErrMalformed, ErrTooLarge or
//     ErrNoCode, so that callers map them to stable reason codes with errors.Is,
//     while the detail (what, and at which offset) goes to logs.
//
// This package gives no authenticity: a well-formed payload is not a valid one.
// Signatures, nonces and holder binding are checked by the layers above.
//
// Every parser here has a fuzz target (FuzzBase45Decode, FuzzInflate,
// FuzzDecodePayload, FuzzDecodePNG).
package qr
