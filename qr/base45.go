package qr

import "strings"

// base45Alphabet is the RFC 9285 alphabet. It is exactly the QR Code alphanumeric
// character set (ISO/IEC 18004 table 5), in the same order.
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// base45Value maps a byte to its Base45 value, or -1 when it is not in the alphabet.
var base45Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base45Alphabet); i++ {
		t[base45Alphabet[i]] = int8(i)
	}
	return t
}()

// Base45Encode encodes src as Base45 (RFC 9285): every two bytes become three
// characters, a final odd byte becomes two.
func Base45Encode(src []byte) string {
	var b strings.Builder
	b.Grow(Base45EncodedLen(len(src)))
	for i := 0; i+1 < len(src); i += 2 {
		n := int(src[i])<<8 | int(src[i+1])
		b.WriteByte(base45Alphabet[n%45])
		b.WriteByte(base45Alphabet[(n/45)%45])
		b.WriteByte(base45Alphabet[n/(45*45)])
	}
	if len(src)%2 == 1 {
		n := int(src[len(src)-1])
		b.WriteByte(base45Alphabet[n%45])
		b.WriteByte(base45Alphabet[n/45])
	}
	return b.String()
}

// Base45EncodedLen returns the length of the Base45 encoding of n bytes.
func Base45EncodedLen(n int) int { return n/2*3 + n%2*2 }

// Base45Decode decodes a Base45 string (RFC 9285). It rejects, with an error
// wrapping ErrMalformed, any character outside the alphabet (including lower-case
// letters: normalising scanner input is Decode's job, not this function's), a
// length that leaves a single character over (len%3 == 1), a triplet whose value
// exceeds 65535 (for example "GGW") and a final pair whose value exceeds 255.
// The output is never larger than two thirds of the input, so memory use is
// bounded by the caller's input.
func Base45Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, malformed("base45", "invalid length %d: a length of 3k+1 cannot be produced by the encoder", len(s))
	}
	out := make([]byte, 0, len(s)/3*2+len(s)%3/2)
	for i := 0; i < len(s); i += 3 {
		end := i + 3
		if end > len(s) {
			end = len(s)
		}
		n := 0
		mul := 1
		for j := i; j < end; j++ {
			v := base45Value[s[j]]
			if v < 0 {
				return nil, malformed("base45", "invalid character %q at offset %d", rune(s[j]), j)
			}
			n += int(v) * mul
			mul *= 45
		}
		if end-i == 3 {
			if n > 0xFFFF {
				return nil, malformed("base45", "triplet %q at offset %d has value %d > 65535", s[i:end], i, n)
			}
			out = append(out, byte(n>>8), byte(n))
		} else {
			if n > 0xFF {
				return nil, malformed("base45", "final pair %q at offset %d has value %d > 255", s[i:end], i, n)
			}
			out = append(out, byte(n))
		}
	}
	return out, nil
}
