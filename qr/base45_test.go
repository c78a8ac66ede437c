package qr

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"testing"

	"lianzheng/internal/testvectors"
)

type base45Vectors struct {
	Examples []struct {
		Bytes  string `json:"bytes_utf8"`
		Base45 string `json:"base45"`
	} `json:"examples"`
	Invalid []string `json:"invalid"`
}

func TestBase45RFC9285Vectors(t *testing.T) {
	var v base45Vectors
	if err := json.Unmarshal(testvectors.Read(t, "base45/rfc9285.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Examples) == 0 || len(v.Invalid) == 0 {
		t.Fatal("vector file has no examples or no invalid inputs")
	}
	for _, ex := range v.Examples {
		if got := Base45Encode([]byte(ex.Bytes)); got != ex.Base45 {
			t.Errorf("Base45Encode(%q) = %q, want %q", ex.Bytes, got, ex.Base45)
		}
		got, err := Base45Decode(ex.Base45)
		if err != nil {
			t.Errorf("Base45Decode(%q): %v", ex.Base45, err)
		} else if string(got) != ex.Bytes {
			t.Errorf("Base45Decode(%q) = %q, want %q", ex.Base45, got, ex.Bytes)
		}
	}
	for _, in := range v.Invalid {
		if got, err := Base45Decode(in); err == nil {
			t.Errorf("Base45Decode(%q) = %x, want error", in, got)
		} else if !errors.Is(err, ErrMalformed) {
			t.Errorf("Base45Decode(%q) error %v does not wrap ErrMalformed", in, err)
		}
	}
}

func TestBase45Invalid(t *testing.T) {
	for _, tc := range []struct {
		in, why string
	}{
		{"A", "length 1"},
		{"BB8A", "length 4"},
		{"GGW", "triplet 65536+"},
		{"ZZZ", "triplet 72485"},
		{"ZZ", "final pair 1610 > 255"},
		{"U6", "final pair 30+6*45 = 300 > 255"},
		{"bb8", "lower case"},
		{"BB#", "character outside the alphabet"},
		{"BB\x00", "NUL"},
		{"BB\xff", "high byte"},
		{"BB8\n", "trailing newline (not Base45)"},
	} {
		if got, err := Base45Decode(tc.in); err == nil {
			t.Errorf("%s: Base45Decode(%q) = %x, want error", tc.why, tc.in, got)
		} else if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v does not wrap ErrMalformed", tc.why, err)
		} else {
			t.Logf("%s: %v", tc.why, err)
		}
	}
	// Boundary values that are valid.
	for _, tc := range []struct {
		in   string
		want []byte
	}{
		{"", []byte{}},
		{"FGW", []byte{0xFF, 0xFF}},
		{"000", []byte{0, 0}},
		{"U5", []byte{0xFF}},
		{"00", []byte{0}},
	} {
		got, err := Base45Decode(tc.in)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("Base45Decode(%q) = %x, %v; want %x", tc.in, got, err, tc.want)
		}
	}
}

func TestBase45RoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(45))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(300))
		rng.Read(b)
		s := Base45Encode(b)
		if len(s) != Base45EncodedLen(len(b)) {
			t.Fatalf("encoded length %d, want %d", len(s), Base45EncodedLen(len(b)))
		}
		if !IsAlphanumeric(s) {
			t.Fatalf("encoding %q is not QR alphanumeric", s)
		}
		if len(s) > 0 && s[len(s)-1] == ' ' {
			t.Fatalf("encoding %q ends with a space", s)
		}
		got, err := Base45Decode(s)
		if err != nil {
			t.Fatalf("Base45Decode(Base45Encode(%x)): %v", b, err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("round trip of %x gave %x", b, got)
		}
	}
}

// TestBase45NeverEndsWithSpace checks, exhaustively, the property Decode relies on
// when it trims trailing whitespace.
func TestBase45NeverEndsWithSpace(t *testing.T) {
	for n := 0; n <= 0xFFFF; n++ {
		if s := Base45Encode([]byte{byte(n >> 8), byte(n)}); s[2] == ' ' {
			t.Fatalf("%04x encodes to %q", n, s)
		}
	}
	for n := 0; n <= 0xFF; n++ {
		if s := Base45Encode([]byte{byte(n)}); s[1] == ' ' {
			t.Fatalf("%02x encodes to %q", n, s)
		}
	}
}

func FuzzBase45Decode(f *testing.F) {
	for _, s := range []string{"BB8", "%69 VD92EX0", "UJCLQE7W581", "QED8WEX0", "GGW", "ZZZ", "A", "", "FGW", "U5", "ZZ", "bb8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Base45Decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(b) > len(s)*2/3+1 {
			t.Fatalf("%d bytes from %d characters", len(b), len(s))
		}
		// A valid encoding is canonical: re-encoding gives it back.
		if again := Base45Encode(b); again != s {
			t.Fatalf("Base45Encode(Base45Decode(%q)) = %q", s, again)
		}
	})
}

func BenchmarkBase45Encode600(b *testing.B) {
	data := make([]byte, 600)
	rand.New(rand.NewSource(1)).Read(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Base45Encode(data)
	}
}

func BenchmarkBase45Decode600(b *testing.B) {
	data := make([]byte, 600)
	rand.New(rand.NewSource(1)).Read(data)
	s := Base45Encode(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Base45Decode(s); err != nil {
			b.Fatal(err)
		}
	}
}
