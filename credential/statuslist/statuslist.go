// Package statuslist holds revocation and suspension bitstrings and their two standard
// encodings: the W3C Bitstring Status List (for W3C VCs) and the IETF Token Status List
// (draft-ietf-oauth-status-list, for SD-JWT VCs).
//
// # Bit order
//
// The two standards number the entries of a byte in opposite directions:
//
//   - W3C Bitstring Status List: index 0 is the MOST significant bit of byte 0. An entry
//     of statusSize bits occupies bits [index×size, index×size+size) counting from the most
//     significant bit of byte 0, read as a big-endian integer.
//   - IETF Token Status List: index 0 is in the LEAST significant bits of byte 0. With
//     bits=1, index 0 is bit 0 (value 0x01) of byte 0 and index 7 is bit 7 (0x80); with
//     bits=2, index 0 is the two least significant bits (mask 0x03), index 3 the two most
//     significant (mask 0xC0).
//
// A List stores its entries in the W3C order (index 0 = most significant bits of byte 0),
// which is what Bytes returns and EncodeW3C compresses unchanged. EncodeIETF and DecodeIETF
// convert: within every byte the order of the entries is reversed (for bits=8 the two
// orders coincide). Get and Set take entry indices and hide all of this.
//
// # Untrusted input
//
// DecodeW3C and DecodeIETF bound the inflated size (MaxInflatedBytes) and reject anything
// malformed with an error; they never panic (fuzz targets FuzzDecodeW3C, FuzzDecodeIETF).
package statuslist

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

const (
	// MinSize is the minimum number of entries of a list made by New (W3C: 131,072, i.e.
	// 16 KiB at one bit per entry, for group privacy).
	MinSize = 131072
	// MaxInflatedBytes bounds the decompressed bitstring accepted from untrusted input.
	MaxInflatedBytes = 16 << 20
	// MaxEncodedChars bounds the compressed, base64url text accepted from untrusted input.
	MaxEncodedChars = 4 << 20
)

// Status purposes (W3C statusPurpose).
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// IETF Token Status List status values.
const (
	StatusValid     = 0x00
	StatusInvalid   = 0x01
	StatusSuspended = 0x02
)

// IETFTokenType is the JWT typ header of an IETF status list token.
const IETFTokenType = "statuslist+jwt"

// Errors returned by the decoders and accessors (wrapped with detail).
var (
	ErrMalformed = errors.New("statuslist: malformed encoded list")
	ErrTooLarge  = errors.New("statuslist: encoded list too large")
	ErrRange     = errors.New("statuslist: index or value out of range")
)

// List is a bitstring of Size entries of Bits bits each (1, 2, 4 or 8).
// It is not safe for concurrent mutation.
type List struct {
	bits int
	size int
	data []byte // W3C order: entry 0 in the most significant bits of data[0]
}

func validBits(bits int) bool { return bits == 1 || bits == 2 || bits == 4 || bits == 8 }

// New returns an all-zero list of size entries of bits bits. size must be at least MinSize;
// bits must be 1 or 2 (the status widths we issue; decoders also accept 4 and 8).
func New(size, bits int) (*List, error) {
	if bits != 1 && bits != 2 {
		return nil, fmt.Errorf("statuslist: %d bits per entry, want 1 or 2", bits)
	}
	if size < MinSize {
		return nil, fmt.Errorf("statuslist: %d entries, minimum %d", size, MinSize)
	}
	if int64(size)*int64(bits) > int64(MaxInflatedBytes)*8 {
		return nil, fmt.Errorf("%w: %d entries of %d bits", ErrTooLarge, size, bits)
	}
	return &List{bits: bits, size: size, data: make([]byte, (size*bits+7)/8)}, nil
}

// fromBytes wraps a W3C-order bitstring (taking ownership).
func fromBytes(data []byte, bits int) *List {
	return &List{bits: bits, size: len(data) * 8 / bits, data: data}
}

// FromBytes reads a list held in W3C order (entry 0 = most significant bits of byte 0), as
// the ledger stores it, with entries of bits bits (1 or 2); data is copied.
func FromBytes(data []byte, bits int) (*List, error) {
	if bits != 1 && bits != 2 {
		return nil, fmt.Errorf("statuslist: %d bits per entry, want 1 or 2", bits)
	}
	if len(data)*8/bits < MinSize {
		return nil, fmt.Errorf("statuslist: %d entries, minimum %d", len(data)*8/bits, MinSize)
	}
	return fromBytes(bytes.Clone(data), bits), nil
}

// Select returns a 1-bit list of the same size whose entry i is set when keep(entry i) is
// true: one W3C list per purpose derived from a 2-bit list (revoked = 1, suspended = 2).
func (l *List) Select(keep func(v uint8) bool) *List {
	out := &List{bits: 1, size: l.size, data: make([]byte, (l.size+7)/8)}
	mask := byte(1<<l.bits - 1)
	skipZero := !keep(0)
	per := 8 / l.bits // entries per byte
	for i := 0; i < l.size; i++ {
		b, s := l.pos(i)
		if skipZero && i%per == 0 && l.data[b] == 0 { // most of a list is zero
			i += per - 1
			continue
		}
		if keep((l.data[b] >> s) & mask) {
			out.data[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

// Size is the number of entries.
func (l *List) Size() int { return l.size }

// Bits is the width of each entry.
func (l *List) Bits() int { return l.bits }

// Bytes returns a copy of the bitstring in W3C order (entry 0 = most significant bits of
// byte 0).
func (l *List) Bytes() []byte { return bytes.Clone(l.data) }

// pos returns the byte and the right shift of entry i in W3C order.
func (l *List) pos(i int) (int, uint) {
	bit := i * l.bits
	return bit / 8, uint(8 - l.bits - bit%8)
}

// Get returns the status of entry i.
func (l *List) Get(i int) (uint8, error) {
	if i < 0 || i >= l.size {
		return 0, fmt.Errorf("%w: index %d of %d", ErrRange, i, l.size)
	}
	b, s := l.pos(i)
	return (l.data[b] >> s) & byte(1<<l.bits-1), nil
}

// Set sets the status of entry i to v (< 2^Bits).
func (l *List) Set(i int, v uint8) error {
	if i < 0 || i >= l.size {
		return fmt.Errorf("%w: index %d of %d", ErrRange, i, l.size)
	}
	mask := byte(1<<l.bits - 1)
	if v > mask {
		return fmt.Errorf("%w: value %d does not fit %d bits", ErrRange, v, l.bits)
	}
	b, s := l.pos(i)
	l.data[b] = l.data[b]&^(mask<<s) | v<<s
	return nil
}

// reverseEntries reverses the order of the bits-wide entries inside every byte; it maps
// W3C order to IETF order and back.
func reverseEntries(src []byte, bits int) []byte {
	out := make([]byte, len(src))
	if bits == 8 {
		copy(out, src)
		return out
	}
	var table [256]byte
	n := 8 / bits
	mask := byte(1<<bits - 1)
	for v := 0; v < 256; v++ {
		var r byte
		for k := 0; k < n; k++ {
			e := byte(v>>(k*bits)) & mask
			r |= e << ((n - 1 - k) * bits)
		}
		table[v] = r
	}
	for i, b := range src {
		out[i] = table[b]
	}
	return out
}

// inflate decompresses r with a bound on the output.
func inflate(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxInflatedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(b) > MaxInflatedBytes {
		return nil, fmt.Errorf("%w: inflates beyond %d bytes", ErrTooLarge, MaxInflatedBytes)
	}
	return b, nil
}

// ---- W3C Bitstring Status List ----

// EncodeW3C returns the W3C encodedList: "u" (multibase base64url, no padding) followed by
// the base64url of the GZIP-compressed bitstring.
func (l *List) EncodeW3C() (string, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(l.data); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(b.Bytes()), nil
}

// DecodeW3C decodes a W3C encodedList whose entries are statusSize bits wide (1 for the
// revocation and suspension purposes). The list must hold at least MinSize entries, as the
// W3C specification requires; it may not inflate beyond MaxInflatedBytes.
func DecodeW3C(encodedList string, statusSize int) (*List, error) {
	if !validBits(statusSize) {
		return nil, fmt.Errorf("%w: statusSize %d", ErrMalformed, statusSize)
	}
	if len(encodedList) > MaxEncodedChars {
		return nil, fmt.Errorf("%w: %d characters", ErrTooLarge, len(encodedList))
	}
	if len(encodedList) < 2 || encodedList[0] != 'u' {
		return nil, fmt.Errorf("%w: encodedList must be multibase base64url ('u')", ErrMalformed)
	}
	gz, err := base64.RawURLEncoding.Strict().DecodeString(encodedList[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: base64url: %v", ErrMalformed, err)
	}
	br := bytes.NewReader(gz)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %v", ErrMalformed, err)
	}
	zr.Multistream(false)
	data, err := inflate(zr)
	if err != nil {
		return nil, err
	}
	if br.Len() != 0 { // bytes.Reader is read byte-exactly by gzip (no extra buffering)
		return nil, fmt.Errorf("%w: trailing data after the gzip member", ErrMalformed)
	}
	if len(data)*8/statusSize < MinSize {
		return nil, fmt.Errorf("%w: %d entries, minimum %d", ErrMalformed, len(data)*8/statusSize, MinSize)
	}
	return fromBytes(data, statusSize), nil
}

// ---- IETF Token Status List ----

// IETFStatusList is the status_list object of an IETF status list token.
type IETFStatusList struct {
	Bits int    `json:"bits"`
	Lst  string `json:"lst"`
	// AggregationURI is optional.
	AggregationURI string `json:"aggregation_uri,omitempty"`
}

// EncodeIETF returns the IETF status_list: bits and lst = base64url (no padding) of the
// zlib-compressed bitstring in IETF bit order.
func (l *List) EncodeIETF() IETFStatusList {
	return IETFStatusList{
		Bits: l.bits,
		Lst:  base64.RawURLEncoding.EncodeToString(zlibCompress(reverseEntries(l.data, l.bits))),
	}
}

// DecodeIETF decodes an IETF status_list object.
func DecodeIETF(sl IETFStatusList) (*List, error) {
	if !validBits(sl.Bits) {
		return nil, fmt.Errorf("%w: bits %d (want 1, 2, 4 or 8)", ErrMalformed, sl.Bits)
	}
	if len(sl.Lst) > MaxEncodedChars {
		return nil, fmt.Errorf("%w: %d characters", ErrTooLarge, len(sl.Lst))
	}
	z, err := base64.RawURLEncoding.Strict().DecodeString(sl.Lst)
	if err != nil {
		return nil, fmt.Errorf("%w: base64url: %v", ErrMalformed, err)
	}
	br := bytes.NewReader(z)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
	}
	data, err := inflate(zr)
	if err != nil {
		return nil, err
	}
	if br.Len() != 0 {
		return nil, fmt.Errorf("%w: trailing data after the zlib stream", ErrMalformed)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty list", ErrMalformed)
	}
	return fromBytes(reverseEntries(data, sl.Bits), sl.Bits), nil
}

// DecodeIETFJSON decodes the JSON of a status_list object.
func DecodeIETFJSON(b []byte) (*List, error) {
	if len(b) > MaxEncodedChars+1024 {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	var sl IETFStatusList
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sl); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	return DecodeIETF(sl)
}

// ---- documents ----

// W3CCredentialConfig describes a BitstringStatusListCredential.
type W3CCredentialConfig struct {
	// ID is the URL the list credential is published at (statusListCredential in entries).
	ID string
	// Issuer is the issuing department's DID (did:lz:...).
	Issuer string
	// Purpose is PurposeRevocation or PurposeSuspension.
	Purpose string
	// ValidFrom defaults to now; ValidUntil is optional.
	ValidFrom, ValidUntil time.Time
	// TTL, if set, is how long verifiers may cache the list (written in milliseconds).
	TTL time.Duration
}

// W3CCredential builds the unsigned BitstringStatusListCredential for l (sign it with
// package dataintegrity).
func (l *List) W3CCredential(c W3CCredentialConfig) (map[string]any, error) {
	if c.ID == "" || c.Issuer == "" {
		return nil, errors.New("statuslist: credential needs an id and an issuer")
	}
	if c.Purpose != PurposeRevocation && c.Purpose != PurposeSuspension {
		return nil, fmt.Errorf("statuslist: purpose %q, want %q or %q", c.Purpose, PurposeRevocation, PurposeSuspension)
	}
	if l.bits != 1 {
		return nil, fmt.Errorf("statuslist: %s lists have 1-bit entries, this one has %d", c.Purpose, l.bits)
	}
	enc, err := l.EncodeW3C()
	if err != nil {
		return nil, err
	}
	if c.ValidFrom.IsZero() {
		c.ValidFrom = time.Now()
	}
	subject := map[string]any{
		"id":            c.ID + "#list",
		"type":          "BitstringStatusList",
		"statusPurpose": c.Purpose,
		"encodedList":   enc,
	}
	if c.TTL > 0 {
		subject["ttl"] = c.TTL.Milliseconds()
	}
	doc := map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2"},
		"id":                c.ID,
		"type":              []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":            c.Issuer,
		"validFrom":         c.ValidFrom.UTC().Format(time.RFC3339),
		"credentialSubject": subject,
	}
	if !c.ValidUntil.IsZero() {
		doc["validUntil"] = c.ValidUntil.UTC().Format(time.RFC3339)
	}
	return doc, nil
}

// W3CEntry returns a BitstringStatusListEntry (the credentialStatus of a credential) for
// index in the list credential at listURL.
func W3CEntry(listURL string, index int, purpose string) map[string]any {
	return map[string]any{
		"id":                   listURL + "#" + strconv.Itoa(index),
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        purpose,
		"statusListIndex":      strconv.Itoa(index),
		"statusListCredential": listURL,
	}
}

// IETFTokenConfig describes an IETF status list token.
type IETFTokenConfig struct {
	// Subject is the URI of the status list token (must equal the uri in the
	// Referenced Tokens' status claim).
	Subject string
	// IssuedAt defaults to now. Expires is optional.
	IssuedAt, Expires time.Time
	// TTL, if set, is the maximum time in seconds a fetched token may be cached.
	TTL time.Duration
}

// IETFTokenClaims returns the JWT claims of an IETF status list token for l: sub, iat,
// optional exp and ttl, and status_list. Sign it with typ IETFTokenType.
func (l *List) IETFTokenClaims(c IETFTokenConfig) (map[string]any, error) {
	if c.Subject == "" {
		return nil, errors.New("statuslist: token needs a sub")
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	sl := l.EncodeIETF()
	claims := map[string]any{
		"sub":         c.Subject,
		"iat":         c.IssuedAt.Unix(),
		"status_list": map[string]any{"bits": sl.Bits, "lst": sl.Lst},
	}
	if !c.Expires.IsZero() {
		claims["exp"] = c.Expires.Unix()
	}
	if c.TTL > 0 {
		claims["ttl"] = int64(c.TTL / time.Second)
	}
	return claims, nil
}
