package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/bits"
)

// Status values of a 2-bit entry of a member's status list. The fourth value, 3, is not
// defined: a reader treats it as unknown.
const (
	StatusValid     = 0
	StatusRevoked   = 1
	StatusSuspended = 2
)

// StatusListSize is the number of 2-bit entries in each status list; StatusChunkBytes is
// how the list is split into state keys (each chunk proven separately).
const (
	StatusListSize   = 131072
	StatusListBytes  = StatusListSize * 2 / 8
	StatusChunkBytes = 8192
	StatusChunks     = StatusListBytes / StatusChunkBytes
	// StatusChunkEntries is the number of entries in one chunk.
	StatusChunkEntries = StatusChunkBytes * 4
)

// ErrStatusIndex: a status entry index (or value) outside the list (or the 2 bits).
var ErrStatusIndex = errors.New("ledger: status entry out of range")

// Status lists (and their chunks) are stored in W3C bit order: entry 0 is the two most
// significant bits of byte 0. StatusAt and SetStatus are the one place that knows it.

// StatusAt returns entry index of a status list's bytes (a whole list, or one chunk with
// index relative to it): StatusValid, StatusRevoked, StatusSuspended, or 3 (undefined).
// An index outside list is ErrStatusIndex.
func StatusAt(list []byte, index int) (int, error) {
	if index < 0 || index/4 >= len(list) {
		return 0, fmt.Errorf("%w: index %d of %d entries", ErrStatusIndex, index, len(list)*4)
	}
	return int(list[index/4]>>(6-2*(index%4))) & 3, nil
}

// SetStatus writes value (0-3) into entry index of a status list's bytes (a whole list,
// or one chunk with index relative to it).
func SetStatus(list []byte, index, value int) error {
	if index < 0 || index/4 >= len(list) {
		return fmt.Errorf("%w: index %d of %d entries", ErrStatusIndex, index, len(list)*4)
	}
	if value < 0 || value > 3 {
		return fmt.Errorf("%w: value %d does not fit 2 bits", ErrStatusIndex, value)
	}
	shift := 6 - 2*uint(index%4)
	list[index/4] = list[index/4]&^(3<<shift) | byte(value)<<shift
	return nil
}

// StatusBitmapBytes is the size of a StatusBulk bitmap: one bit per entry of a list.
const StatusBitmapBytes = StatusListSize / 8

// ErrStatusBitmap: a StatusBulk bitmap that is not unpadded base64url of StatusBitmapBytes
// bytes with at least one bit set.
var ErrStatusBitmap = errors.New("ledger: malformed status bitmap")

// SetBitmap marks entry index in a StatusBitmapBytes bitmap (W3C order).
func SetBitmap(bm []byte, index int) error {
	if index < 0 || index/8 >= len(bm) {
		return fmt.Errorf("%w: index %d of %d entries", ErrStatusIndex, index, len(bm)*8)
	}
	bm[index/8] |= 0x80 >> (index % 8)
	return nil
}

// EncodeStatusBitmap is a StatusBulk's Bitmap for bm (StatusBitmapBytes bytes).
func EncodeStatusBitmap(bm []byte) string { return base64.RawURLEncoding.EncodeToString(bm) }

// DecodeStatusBitmap reads a StatusBulk's Bitmap (untrusted: a transaction body): strict
// unpadded base64url of exactly StatusBitmapBytes bytes, at least one bit set. It returns
// the bitmap and the number of entries it marks.
func DecodeStatusBitmap(s string) ([]byte, int, error) {
	if base64.RawURLEncoding.EncodedLen(StatusBitmapBytes) != len(s) {
		return nil, 0, fmt.Errorf("%w: %d characters, want %d", ErrStatusBitmap, len(s), base64.RawURLEncoding.EncodedLen(StatusBitmapBytes))
	}
	bm, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(bm) != StatusBitmapBytes {
		return nil, 0, fmt.Errorf("%w: not base64url", ErrStatusBitmap)
	}
	n := 0
	for _, b := range bm {
		n += bits.OnesCount8(b)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("%w: no entry marked", ErrStatusBitmap)
	}
	return bm, n, nil
}
