package wire

import (
	"encoding/base64"
	"errors"
)

// QR prefixes of the in-person protocol (qr.Encode frames a body under one of them).
const (
	PrefixRequest  = "LZ1Q" // window → wallet: signed Request
	PrefixResponse = "LZ1R" // wallet → window: compact answer bound to a request (EncodeResponse)
	PrefixOneWay   = "LZ1W" // wallet → window without a request: OneWay body (weaker)
	PrefixReceipt  = "LZ1E" // window → wallet: ReceiptBundle
)

// Caps on inflated bodies (qr.Decode's max): a zlib bomb costs at most this much.
const (
	MaxRequestBody = 4096     // LZ1Q
	MaxBody        = 64 << 10 // LZ1R, LZ1W, LZ1E
)

// ErrMalformed is wrapped by every error about a message that is not what it claims to be.
var ErrMalformed = errors.New("malformed")

// NonceString is the KB-JWT nonce for a request's (or a one-way answer's) nonce bytes:
// their base64url.
func NonceString(nonce []byte) string { return base64.RawURLEncoding.EncodeToString(nonce) }
