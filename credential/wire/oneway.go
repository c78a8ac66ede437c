package wire

import (
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"lianzheng/qr"
)

// The wallet-initiated mode (LZ1W): no request QR, so the wallet chooses the nonce and the
// window must detect replays itself; weaker, and valid for a short time only.
const (
	OneWayVersion  = 1
	OneWayAudience = "urn:lz:one-way" // the KB-JWT aud of a one-way answer
	OneWayValidity = 60 * time.Second // expires is at most this long after the answer is made
	OneWayNonceLen = 16
)

// OneWay is the LZ1W body, CBOR [1, nonce bstr(16), expires int, compact response bytes].
// The KB-JWTs inside Response are bound to NonceString(Nonce) and OneWayAudience.
type OneWay struct {
	_        struct{} `cbor:",toarray"`
	Version  int
	Nonce    []byte
	Expires  int64  // Unix seconds
	Response []byte // sdjwtcbor.Encode body
}

// NonceString is the KB-JWT nonce of the answer.
func (o *OneWay) NonceString() string { return NonceString(o.Nonce) }

var oneWayDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16, IndefLength: cbor.IndefLengthForbidden}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// EncodeOneWay makes the LZ1W text of a one-way answer made at iat: nonce (OneWayNonceLen
// random bytes) and the compact body of presentations bound to it.
func EncodeOneWay(nonce []byte, iat time.Time, compact []byte) (string, error) {
	if len(nonce) != OneWayNonceLen {
		return "", fmt.Errorf("one-way answer: nonce of %d bytes", len(nonce))
	}
	b, err := cbor.Marshal(OneWay{Version: OneWayVersion, Nonce: nonce, Expires: iat.Add(OneWayValidity).Unix(), Response: compact})
	if err != nil {
		return "", fmt.Errorf("one-way answer: %w", err)
	}
	return qr.Encode(PrefixOneWay, b), nil
}

// ParseOneWay reads an LZ1W body (after qr.Decode). It checks the form only: the expiry
// against the window's clock, the nonce against replays and the presentations are the
// window's to check.
func ParseOneWay(body []byte) (*OneWay, error) {
	var ow OneWay
	if err := oneWayDec.Unmarshal(body, &ow); err != nil {
		return nil, fmt.Errorf("one-way answer: %w: %v", ErrMalformed, err)
	}
	if ow.Version != OneWayVersion || len(ow.Nonce) != OneWayNonceLen {
		return nil, fmt.Errorf("one-way answer: %w: version %d, nonce of %d bytes", ErrMalformed, ow.Version, len(ow.Nonce))
	}
	return &ow, nil
}
