package qr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Errors returned by this package wrap one of these sentinels, so that callers
// can map them to stable reason codes with errors.Is; the wrapping *Error carries
// the human-readable detail.
var (
	// ErrMalformed: the input is not what it claims to be (bad Base45, corrupt
	// or truncated zlib, bad prefix, characters a scanner cannot have produced,
	// an undecodable image).
	ErrMalformed = errors.New("malformed input")
	// ErrTooLarge: the input, or what it expands to, exceeds a limit.
	ErrTooLarge = errors.New("input too large")
	// ErrNoCode: an image was decoded but no QR code could be read from it.
	ErrNoCode = errors.New("no readable QR code")
)

// Error is the concrete error type of this package.
type Error struct {
	Kind   error  // ErrMalformed, ErrTooLarge or ErrNoCode
	Op     string // "base45", "zlib", "payload", "image", "render"
	Detail string // what exactly was wrong, for logs and developers
}

func (e *Error) Error() string {
	return "qr: " + e.Op + ": " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns the sentinel (ErrMalformed, ErrTooLarge or ErrNoCode).
func (e *Error) Unwrap() error { return e.Kind }

func malformed(op, format string, a ...any) error {
	return &Error{Kind: ErrMalformed, Op: op, Detail: fmt.Sprintf(format, a...)}
}

func tooLarge(op, format string, a ...any) error {
	return &Error{Kind: ErrTooLarge, Op: op, Detail: fmt.Sprintf(format, a...)}
}

// MaxScannedLen is the largest scanned text, in bytes of UTF-8, that Decode
// looks at. A version-40 QR code holds at most 4,296 alphanumeric characters;
// our payloads are planned to fit version 20-M (861 characters) and are rarely
// beyond ~1,500, so 8 KiB leaves room for a full-width (3 bytes per character)
// rendering of any realistic payload while refusing absurd input before any work
// is done.
const MaxScannedLen = 8 << 10

// Prefix length bounds. A prefix is 2 to 8 upper-case ASCII letters or digits,
// for example "LZ1Q" (request) or "LZ1R" (response); the digit is the format
// version.
const (
	MinPrefixLen = 2
	MaxPrefixLen = 8
)

// ValidPrefix reports whether p is a well-formed payload prefix.
func ValidPrefix(p string) bool {
	if len(p) < MinPrefixLen || len(p) > MaxPrefixLen {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Encode frames body for a QR code: prefix + ":" + Base45(zlib(body)). The
// result uses only the QR alphanumeric character set. Encode panics if prefix is
// not valid (see ValidPrefix): prefixes are constants of the program, and a bad
// one is a programming error.
func Encode(prefix string, body []byte) string {
	if !ValidPrefix(prefix) {
		panic(fmt.Sprintf("qr: invalid payload prefix %q (want 2-8 characters A-Z 0-9)", prefix))
	}
	return prefix + ":" + Base45Encode(Deflate(body))
}

// Decode parses scanned text produced by Encode, as typed by a keyboard-wedge
// scanner or read from a camera image, and returns its prefix and inflated body
// (at most max bytes, else an error wrapping ErrTooLarge).
//
// Before decoding it refuses text longer than MaxScannedLen bytes, then
// normalises what scanners and input methods are known to do to the text:
//
//   - full-width ASCII variants U+FF01–U+FF5E (for example '：' U+FF1A, '％',
//     'Ａ') become their ASCII counterparts, the ideographic space U+3000 becomes
//     a space, the ideographic full stop '。' U+3002 becomes '.', and the
//     full-width yen/yuan sign '￥' U+FFE5 (what Shift+4 types under a Chinese
//     input method) becomes '$';
//   - surrounding whitespace (space, tab, CR, LF, after the mapping above) is
//     removed: a Base45 encoding never ends with a space (its last character
//     encodes at most 65535/2025 = 32), and the prefix never begins with one,
//     so trimming never removes data;
//   - lower-case ASCII letters become upper case, anywhere: Caps Lock or a
//     scanner's case setting flips the case of every letter, and since neither the
//     prefix nor the Base45 alphabet contains lower-case letters, this is lossless.
//
// Anything else is rejected with an error wrapping ErrMalformed that says what
// and where: invalid UTF-8, any other character outside the QR alphanumeric set
// (including interior line breaks), a missing ':', a prefix that is not 2 to 8
// letters or digits, an empty body, invalid Base45, or a corrupt zlib stream
// (bad checksum, truncation, trailing bytes).
func Decode(scanned string, max int) (prefix string, body []byte, err error) {
	if len(scanned) > MaxScannedLen {
		return "", nil, tooLarge("payload", "scanned text is %d bytes, more than the %d accepted", len(scanned), MaxScannedLen)
	}
	text, err := normalizeScanned(scanned)
	if err != nil {
		return "", nil, err
	}
	i := strings.IndexByte(text, ':')
	if i < 0 {
		return "", nil, malformed("payload", "no ':' separating the prefix from the data")
	}
	prefix, data := text[:i], text[i+1:]
	if !ValidPrefix(prefix) {
		return "", nil, malformed("payload", "invalid prefix %q (want 2-8 characters A-Z 0-9)", prefix)
	}
	if data == "" {
		return "", nil, malformed("payload", "no data after the prefix %q", prefix)
	}
	compressed, err := Base45Decode(data)
	if err != nil {
		return "", nil, err
	}
	body, err = Inflate(compressed, max)
	if err != nil {
		return "", nil, err
	}
	return prefix, body, nil
}

// normalizeScanned applies the tolerances documented on Decode and checks that
// what is left is in the QR alphanumeric set. Its output is never longer than its
// input.
func normalizeScanned(s string) (string, error) {
	// What a scanner normally types needs no change: Base45 characters (':' included) only,
	// no space at either end.
	clean := s != "" && s[0] != ' ' && s[len(s)-1] != ' '
	for i := 0; clean && i < len(s); i++ {
		clean = s[i] < utf8.RuneSelf && base45Value[s[i]] >= 0
	}
	if clean {
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if r == utf8.RuneError && size <= 1 {
			return "", malformed("payload", "invalid UTF-8 at byte offset %d", i)
		}
		orig := r
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFF01 - 0x21
		case r == 0x3000:
			r = ' '
		case r == 0x3002:
			r = '.'
		case r == 0xFFE5:
			r = '$'
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		switch {
		case r == '\t' || r == '\r' || r == '\n':
			out = append(out, byte(r)) // allowed only at the ends; checked below
		case r < utf8.RuneSelf && base45Value[r] >= 0:
			out = append(out, byte(r))
		default:
			return "", malformed("payload", "character %U %q at byte offset %d is not a QR alphanumeric character", orig, orig, i)
		}
		i += size
	}
	t := strings.Trim(string(out), " \t\r\n")
	if j := strings.IndexAny(t, "\t\r\n"); j >= 0 {
		return "", malformed("payload", "line break or tab inside the scanned text (after normalisation, offset %d)", j)
	}
	if t == "" {
		return "", malformed("payload", "empty scanned text")
	}
	return t, nil
}
