package qr

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"
)

// toFullWidth maps printable ASCII to its full-width form, as a Chinese input
// method in full-width mode types it; space becomes the ideographic space.
func scanFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			b.WriteRune(0x3000)
		case r >= 0x21 && r <= 0x7E:
			b.WriteRune(r + 0xFEE0)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestEncodeDecode(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for i := 0; i < 200; i++ {
		body := make([]byte, rng.Intn(1200))
		rng.Read(body)
		s := Encode("LZ1R", body)
		if !strings.HasPrefix(s, "LZ1R:") || !IsAlphanumeric(s) {
			t.Fatalf("Encode gave %q", s)
		}
		p, got, err := Decode(s, len(body))
		if err != nil || p != "LZ1R" || !bytes.Equal(got, body) {
			t.Fatalf("Decode: %q %v (equal %v)", p, err, bytes.Equal(got, body))
		}
	}
}

func TestEncodePanicsOnBadPrefix(t *testing.T) {
	for _, p := range []string{"", "L", "lz1q", "LZ1Q:", "ABCDEFGHI", "LZ 1", "链证"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Encode(%q, ...) did not panic", p)
				}
			}()
			Encode(p, []byte("x"))
		}()
	}
}

func TestDecodeScannerNormalisation(t *testing.T) {
	body := []byte("real-estate registration: household register + marriage certificate")
	canon := Encode("LZ1Q", body)
	i := strings.IndexByte(canon, ':')
	data := canon[i+1:]
	// A payload whose Base45 contains a space, '$', '.', ':' and starts with a
	// space, to exercise the mappings that touch the data itself.
	var special []byte
	var tricky string
	for n := 0; ; n++ {
		b := append(bytes.Clone(body), byte(n), byte(n>>8))
		s := Encode("LZ1Q", b)
		d := s[5:]
		if strings.ContainsAny(d, " ") && strings.Contains(d, ".") && strings.Contains(d, "$") && strings.Contains(d, ":") {
			tricky, special = s, b
			break
		}
	}
	tests := []struct {
		name string
		in   string
		want []byte // nil: use body
	}{
		{"canonical", canon, nil},
		{"trailing LF", canon + "\n", nil},
		{"trailing CR", canon + "\r", nil},
		{"trailing CRLF", canon + "\r\n", nil},
		{"trailing tab", canon + "\t", nil},
		{"surrounding spaces", "  " + canon + "  ", nil},
		{"leading newline", "\n" + canon, nil},
		{"lower-case prefix", "lz1q:" + data, nil},
		{"mixed-case prefix", "Lz1Q:" + data, nil},
		{"all lower case (Caps Lock)", strings.ToLower(canon), nil},
		{"full-width colon", "LZ1Q：" + data, nil},
		{"full-width prefix and colon", "ＬＺ１Ｑ：" + data, nil},
		{"full-width lower-case prefix", "ｌｚ１ｑ：" + data, nil},
		{"everything full-width", scanFullWidth(canon), nil},
		{"ideographic spaces around", "\u3000" + canon + "\u3000\r\n", nil},
		{"tricky canonical", tricky, special},
		{"tricky full-width", scanFullWidth(tricky), special},
		{"tricky ideographic full stop", strings.ReplaceAll(tricky, ".", "。"), special},
		{"tricky yuan sign", strings.ReplaceAll(tricky, "$", "￥"), special},
		{"tricky full-width colon in data", strings.ReplaceAll(tricky, ":", "："), special},
		{"tricky lower case + LF", strings.ToLower(tricky) + "\n", special},
	}
	for _, tc := range tests {
		p, got, err := Decode(tc.in, 1<<16)
		want := tc.want
		if want == nil {
			want = body
		}
		if err != nil {
			t.Errorf("%s: Decode(%q): %v", tc.name, tc.in, err)
			continue
		}
		if p != "LZ1Q" || !bytes.Equal(got, want) {
			t.Errorf("%s: got prefix %q body %q", tc.name, p, got)
		}
	}

	rejects := []struct {
		name string
		in   string
		kind error
	}{
		{"empty", "", ErrMalformed},
		{"only whitespace", " \r\n", ErrMalformed},
		{"no colon", "LZ1Q" + data, ErrMalformed},
		{"empty prefix", ":" + data, ErrMalformed},
		{"one-character prefix", "L:" + data, ErrMalformed},
		{"nine-character prefix", "LZ1QLZ1QL:" + data, ErrMalformed},
		{"space in prefix", "LZ 1Q:" + data, ErrMalformed},
		{"space before colon", "LZ1Q :" + data, ErrMalformed},
		{"punctuation in prefix", "LZ-1:" + data, ErrMalformed},
		{"no data", "LZ1Q:", ErrMalformed},
		{"no data, trailing space", "LZ1Q: ", ErrMalformed},
		{"interior LF", canon[:20] + "\n" + canon[20:], ErrMalformed},
		{"interior CRLF", canon[:20] + "\r\n" + canon[20:], ErrMalformed},
		{"interior tab", canon[:20] + "\t" + canon[20:], ErrMalformed},
		{"NUL", canon + "\x00", ErrMalformed},
		{"base64 character", canon[:20] + "=" + canon[21:], ErrMalformed},
		{"underscore", canon[:20] + "_" + canon[21:], ErrMalformed},
		{"Chinese character", canon + "证", ErrMalformed},
		{"ideographic comma", canon[:20] + "、" + canon[21:], ErrMalformed},
		{"full-width backslash-like U+FF3C", canon[:20] + "＼" + canon[21:], ErrMalformed},
		{"non-breaking space", "\u00a0" + canon, ErrMalformed},
		{"zero-width space", canon[:20] + "\u200b" + canon[20:], ErrMalformed},
		{"BOM", "\ufeff" + canon, ErrMalformed},
		{"invalid UTF-8", canon + "\xff", ErrMalformed},
		{"truncated", canon[:len(canon)-3], ErrMalformed},
		{"Base45 length 3k+1", canon + "0", ErrMalformed},
		{"Base45 triplet overflow", canon + "GGW", ErrMalformed},
		{"character flipped (checksum)", canon[:30] + string("0123456789"[(strings.IndexByte(base45Alphabet, canon[30])+1)%10]) + canon[31:], ErrMalformed},
		{"not zlib", "LZ1Q:" + Base45Encode(body), ErrMalformed},
		{"too long", "LZ1Q:" + strings.Repeat("0", MaxScannedLen), ErrTooLarge},
		{"bomb", Encode("LZ1Q", make([]byte, 1<<20)), ErrTooLarge},
	}
	for _, tc := range rejects {
		p, got, err := Decode(tc.in, 1<<16)
		if err == nil {
			t.Errorf("%s: Decode accepted it: %q %q", tc.name, p, got)
			continue
		}
		if !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
		}
		t.Logf("%s: %v", tc.name, err)
	}
}

func FuzzDecodePayload(f *testing.F) {
	canon := Encode("LZ1Q", []byte("seed body"))
	for _, s := range []string{
		canon, canon + "\r\n", strings.ToLower(canon), scanFullWidth(canon),
		"LZ1Q：" + canon[5:], "LZ1Q:", ":", "", "LZ1Q:GGW", "\u3000",
		Encode("LZ1R", make([]byte, 5000)),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const max = 4096
		p, body, err := Decode(s, max)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !ValidPrefix(p) || len(body) > max {
			t.Fatalf("accepted prefix %q, %d bytes", p, len(body))
		}
		// Whatever was accepted re-encodes to something that decodes the same.
		p2, body2, err := Decode(Encode(p, body), max)
		if err != nil || p2 != p || !bytes.Equal(body, body2) {
			t.Fatalf("re-encoding did not round-trip: %v", err)
		}
	})
}

func BenchmarkEncodePayload600(b *testing.B) {
	body := make([]byte, 600)
	rand.New(rand.NewSource(1)).Read(body)
	b.ReportAllocs()
	for b.Loop() {
		_ = Encode("LZ1R", body)
	}
}

func BenchmarkDecodePayload600(b *testing.B) {
	body := make([]byte, 600)
	rand.New(rand.NewSource(1)).Read(body)
	s := Encode("LZ1R", body) + "\r\n"
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(s, 4096); err != nil {
			b.Fatal(err)
		}
	}
}
