package statuslist

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// small builds a list of n entries without New's minimum, for the IETF draft's examples.
func small(n, bits int) *List {
	return &List{bits: bits, size: n, data: make([]byte, (n*bits+7)/8)}
}

func TestBitOrderTable(t *testing.T) {
	// Hand-computed: W3C puts index 0 in the most significant bits of byte 0,
	// IETF in the least significant bits.
	cases := []struct {
		bits     int
		index    int
		value    uint8
		byteAt   int
		w3c      byte
		ietfByte byte
	}{
		{1, 0, 1, 0, 0x80, 0x01},
		{1, 1, 1, 0, 0x40, 0x02},
		{1, 7, 1, 0, 0x01, 0x80},
		{1, 8, 1, 1, 0x80, 0x01},
		{1, 9, 1, 1, 0x40, 0x02},
		{1, 131071, 1, 16383, 0x01, 0x80},
		{2, 0, 1, 0, 0x40, 0x01},
		{2, 0, 2, 0, 0x80, 0x02},
		{2, 0, 3, 0, 0xC0, 0x03},
		{2, 1, 1, 0, 0x10, 0x04},
		{2, 3, 2, 0, 0x02, 0x80},
		{2, 3, 3, 0, 0x03, 0xC0},
		{2, 5, 1, 1, 0x10, 0x04},
		{2, 131071, 3, 32767, 0x03, 0xC0},
	}
	for _, c := range cases {
		l, err := New(MinSize, c.bits)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Set(c.index, c.value); err != nil {
			t.Fatal(err)
		}
		w := l.Bytes()
		for i, b := range w {
			want := byte(0)
			if i == c.byteAt {
				want = c.w3c
			}
			if b != want {
				t.Fatalf("bits=%d index=%d value=%d: W3C byte %d = %#02x, want %#02x", c.bits, c.index, c.value, i, b, want)
			}
		}
		ietf := reverseEntries(w, c.bits)
		if ietf[c.byteAt] != c.ietfByte {
			t.Fatalf("bits=%d index=%d value=%d: IETF byte = %#02x, want %#02x", c.bits, c.index, c.value, ietf[c.byteAt], c.ietfByte)
		}
		// Through the real encodings and back.
		enc := l.EncodeIETF()
		raw := inflateB64(t, enc.Lst, false)
		if raw[c.byteAt] != c.ietfByte {
			t.Fatalf("encoded IETF byte %#02x, want %#02x", raw[c.byteAt], c.ietfByte)
		}
		s, err := l.EncodeW3C()
		if err != nil {
			t.Fatal(err)
		}
		if raw := inflateB64(t, s[1:], true); raw[c.byteAt] != c.w3c {
			t.Fatalf("encoded W3C byte %#02x, want %#02x", raw[c.byteAt], c.w3c)
		}
		for _, dec := range []func() (*List, error){
			func() (*List, error) { return DecodeIETF(enc) },
			func() (*List, error) { return DecodeW3C(s, c.bits) },
		} {
			d, err := dec()
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := d.Get(c.index); v != c.value {
				t.Fatalf("decoded Get(%d) = %d, want %d", c.index, v, c.value)
			}
			if !bytes.Equal(d.Bytes(), w) {
				t.Fatal("round trip changed the bitstring")
			}
		}
	}
}

func inflateB64(t *testing.T, s string, gz bool) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	var r interface{ Read([]byte) (int, error) }
	if gz {
		r, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		r, err = zlib.NewReader(bytes.NewReader(b))
	}
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// The examples of draft-ietf-oauth-status-list (§ "Status List"): statuses by index, the
// resulting bytes in IETF order, and the lst the draft prints.
var ietfExamples = []struct {
	bits     int
	statuses []uint8
	bytes    []byte
	lst      string
}{
	{1, []uint8{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, []byte{0xB9, 0xA3}, "eNrbuRgAAhcBXQ"},
	{2, []uint8{1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3}, []byte{0xC9, 0x44, 0xF9}, "eNo76fITAAPfAgc"},
}

func TestIETFDraftExamples(t *testing.T) {
	for _, ex := range ietfExamples {
		l := small(len(ex.statuses), ex.bits)
		for i, s := range ex.statuses {
			if err := l.Set(i, s); err != nil {
				t.Fatal(err)
			}
		}
		if got := reverseEntries(l.Bytes(), ex.bits); !bytes.Equal(got, ex.bytes) {
			t.Errorf("bits=%d: IETF bytes % x, want % x", ex.bits, got, ex.bytes)
		}
		if got := l.EncodeIETF(); got.Lst != ex.lst || got.Bits != ex.bits {
			t.Errorf("bits=%d: lst %q, want %q", ex.bits, got.Lst, ex.lst)
		}
		d, err := DecodeIETF(IETFStatusList{Bits: ex.bits, Lst: ex.lst})
		if err != nil {
			t.Fatal(err)
		}
		if d.Size() != len(ex.bytes)*8/ex.bits {
			t.Errorf("decoded size %d", d.Size())
		}
		for i, s := range ex.statuses {
			if v, _ := d.Get(i); v != s {
				t.Errorf("bits=%d: decoded status[%d] = %d, want %d", ex.bits, i, v, s)
			}
		}
		js, _ := json.Marshal(map[string]any{"bits": ex.bits, "lst": ex.lst})
		if _, err := DecodeIETFJSON(js); err != nil {
			t.Error(err)
		}
	}
}

func TestDeflateFixedRoundTrips(t *testing.T) {
	inputs := [][]byte{
		{}, {0}, {0xff}, bytes.Repeat([]byte{0}, 16384), bytes.Repeat([]byte{0xAB, 0xCD}, 70000),
		[]byte(strings.Repeat("status list ", 5000)),
	}
	rnd := make([]byte, 100000)
	x := uint32(1)
	for i := range rnd {
		x = x*1664525 + 1013904223
		rnd[i] = byte(x >> 24)
	}
	inputs = append(inputs, rnd)
	sparse := make([]byte, 1<<17)
	for i := 0; i < 300; i++ {
		sparse[(i*7919)%len(sparse)] = 1 << (i % 8)
	}
	inputs = append(inputs, sparse)
	for i, in := range inputs {
		for _, z := range [][]byte{zlibFixed(in), zlibCompress(in)} {
			r, err := zlib.NewReader(bytes.NewReader(z))
			if err != nil {
				t.Fatalf("input %d: %v", i, err)
			}
			var out bytes.Buffer
			if _, err := out.ReadFrom(r); err != nil {
				t.Fatalf("input %d: %v", i, err)
			}
			if !bytes.Equal(out.Bytes(), in) {
				t.Fatalf("input %d: round trip differs", i)
			}
		}
	}
	if z := zlibCompress(make([]byte, 16384)); len(z) > 100 {
		t.Errorf("16 KiB of zeros compressed to %d bytes", len(z))
	}
}

// The W3C Bitstring Status List specification's example encodedList: 131,072 zero entries.
const w3cSpecExample = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

func TestW3CSpecExample(t *testing.T) {
	l, err := DecodeW3C(w3cSpecExample, 1)
	if err != nil {
		t.Fatal(err)
	}
	if l.Size() != MinSize {
		t.Fatalf("size %d", l.Size())
	}
	if !bytes.Equal(l.Bytes(), make([]byte, MinSize/8)) {
		t.Fatal("example list is not all zero")
	}
}

func TestRoundTripsRandom(t *testing.T) {
	for _, bits := range []int{1, 2} {
		l, _ := New(MinSize*2, bits)
		a, _ := NewAllocator(l.Size())
		want := map[int]uint8{}
		for i := 0; i < 2000; i++ {
			idx, err := a.Allocate()
			if err != nil {
				t.Fatal(err)
			}
			v := uint8(1 + i%(1<<bits-1))
			if err := l.Set(idx, v); err != nil {
				t.Fatal(err)
			}
			want[idx] = v
		}
		s, err := l.EncodeW3C()
		if err != nil {
			t.Fatal(err)
		}
		dw, err := DecodeW3C(s, bits)
		if err != nil {
			t.Fatal(err)
		}
		di, err := DecodeIETF(l.EncodeIETF())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []*List{dw, di} {
			if !bytes.Equal(d.Bytes(), l.Bytes()) || d.Size() != l.Size() || d.Bits() != bits {
				t.Fatal("round trip differs")
			}
			for idx, v := range want {
				if got, _ := d.Get(idx); got != v {
					t.Fatalf("Get(%d) = %d, want %d", idx, got, v)
				}
			}
		}
	}
}

func TestNewAndAccessorsReject(t *testing.T) {
	for _, c := range []struct{ size, bits int }{{MinSize - 1, 1}, {MinSize, 3}, {MinSize, 0}, {MinSize, 4}, {-1, 1}, {MaxInflatedBytes*8 + 8, 1}} {
		if _, err := New(c.size, c.bits); err == nil {
			t.Errorf("New(%d, %d) accepted", c.size, c.bits)
		}
	}
	l, _ := New(MinSize, 1)
	for _, i := range []int{-1, MinSize} {
		if _, err := l.Get(i); !errors.Is(err, ErrRange) {
			t.Errorf("Get(%d): %v", i, err)
		}
		if err := l.Set(i, 1); !errors.Is(err, ErrRange) {
			t.Errorf("Set(%d): %v", i, err)
		}
	}
	if err := l.Set(0, 2); !errors.Is(err, ErrRange) {
		t.Errorf("Set value 2 in a 1-bit list: %v", err)
	}
}

func gzipB64(b []byte) string {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func zlibB64(b []byte) string {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestMalformedW3C(t *testing.T) {
	valid := gzipB64(make([]byte, MinSize/8))
	bomb := gzipB64(make([]byte, MaxInflatedBytes+1))
	gzBytes, _ := base64.RawURLEncoding.DecodeString(valid[1:])
	cases := map[string]string{
		"empty":             "",
		"no multibase":      valid[1:],
		"base58 prefix":     "z" + valid[1:],
		"padding":           valid + "=",
		"std base64 chars":  "u" + strings.ReplaceAll(strings.ReplaceAll(valid[1:], "-", "+"), "_", "/") + "+/",
		"not gzip":          "u" + base64.RawURLEncoding.EncodeToString([]byte("hello world")),
		"truncated gzip":    "u" + base64.RawURLEncoding.EncodeToString(gzBytes[:len(gzBytes)-3]),
		"bad crc":           "u" + base64.RawURLEncoding.EncodeToString(append(append([]byte{}, gzBytes[:len(gzBytes)-8]...), 0, 0, 0, 0, 0, 0x40, 0, 0)),
		"trailing garbage":  "u" + base64.RawURLEncoding.EncodeToString(append(append([]byte{}, gzBytes...), 1, 2, 3)),
		"two members":       "u" + base64.RawURLEncoding.EncodeToString(append(append([]byte{}, gzBytes...), gzBytes...)),
		"too short list":    gzipB64(make([]byte, 100)),
		"zip bomb":          bomb,
		"zlib not gzip":     "u" + zlibB64(make([]byte, MinSize/8)),
		"oversized encoded": "u" + strings.Repeat("A", MaxEncodedChars),
	}
	if _, err := DecodeW3C(valid, 1); err != nil {
		t.Fatalf("valid list rejected: %v", err)
	}
	for name, s := range cases {
		if _, err := DecodeW3C(s, 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := DecodeW3C(valid, 3); err == nil {
		t.Error("statusSize 3 accepted")
	}
	if _, err := DecodeW3C(bomb, 1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("bomb: %v, want ErrTooLarge", err)
	}
}

func TestMalformedIETF(t *testing.T) {
	valid := zlibB64([]byte{0xB9, 0xA3})
	zb, _ := base64.RawURLEncoding.DecodeString(valid)
	cases := []IETFStatusList{
		{Bits: 1, Lst: ""},
		{Bits: 3, Lst: valid},
		{Bits: 0, Lst: valid},
		{Bits: 16, Lst: valid},
		{Bits: 1, Lst: valid + "="},
		{Bits: 1, Lst: "!!!!"},
		{Bits: 1, Lst: gzipB64([]byte{1})[1:]},
		{Bits: 1, Lst: base64.RawURLEncoding.EncodeToString(zb[:len(zb)-1])},
		{Bits: 1, Lst: base64.RawURLEncoding.EncodeToString(append(append([]byte{}, zb[:len(zb)-4]...), 0, 0, 0, 0))},
		{Bits: 1, Lst: base64.RawURLEncoding.EncodeToString(append(append([]byte{}, zb...), 0))},
		{Bits: 1, Lst: zlibB64(nil)},
		{Bits: 1, Lst: zlibB64(make([]byte, MaxInflatedBytes+1))},
	}
	if _, err := DecodeIETF(IETFStatusList{Bits: 1, Lst: valid}); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if _, err := DecodeIETF(c); err == nil {
			t.Errorf("case %d (%+v): accepted", i, c.Bits)
		}
	}
	for _, js := range []string{``, `[]`, `{"bits":1}x`, `{"bits":"1","lst":"eNrbuRgAAhcBXQ"}`, `{"bits":1,"lst":"eNrbuRgAAhcBXQ","evil":1}`, `{"bits":1,"lst":"eNrbuRgAAhcBXQ"} {}`} {
		if _, err := DecodeIETFJSON([]byte(js)); err == nil {
			t.Errorf("%s: accepted", js)
		}
	}
}

func TestAllocatorNeverRepeats(t *testing.T) {
	a, err := NewAllocator(MinSize)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[int]bool, 10000)
	lowHalf := 0
	for i := 0; i < 10000; i++ {
		idx, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if idx < 0 || idx >= MinSize {
			t.Fatalf("index %d out of range", idx)
		}
		if seen[idx] {
			t.Fatalf("index %d handed out twice (draw %d)", idx, i)
		}
		seen[idx] = true
		if idx < MinSize/2 {
			lowHalf++
		}
	}
	if a.Remaining() != MinSize-10000 {
		t.Fatalf("remaining %d", a.Remaining())
	}
	// Uniformity, coarsely: half the draws should land in each half (±5 sigma = ±250).
	if lowHalf < 4750 || lowHalf > 5250 {
		t.Errorf("%d of 10000 draws in the lower half", lowHalf)
	}

	// Persist, restore, keep drawing: still no repeats.
	state, _ := a.MarshalBinary()
	var b Allocator
	if err := b.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if b.Remaining() != a.Remaining() || b.Size() != MinSize {
		t.Fatal("restored allocator differs")
	}
	for i := 0; i < 1000; i++ {
		idx, err := b.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if seen[idx] {
			t.Fatalf("restored allocator reused %d", idx)
		}
		seen[idx] = true
	}
	if err := b.MarkUsed(0); err != nil && !seen[0] {
		t.Fatal(err)
	}
	if err := b.MarkUsed(0); err == nil {
		t.Fatal("MarkUsed twice accepted")
	}
}

func TestAllocatorExhaustion(t *testing.T) {
	a, _ := NewAllocator(70) // not a multiple of 64: the tail word must be masked
	seen := map[int]bool{}
	for i := 0; i < 70; i++ {
		idx, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if idx >= 70 || seen[idx] {
			t.Fatalf("bad index %d", idx)
		}
		seen[idx] = true
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrFull) {
		t.Fatalf("full allocator: %v", err)
	}
	state, _ := a.MarshalBinary()
	var b Allocator
	if err := b.UnmarshalBinary(state); err != nil || b.Remaining() != 0 {
		t.Fatal("restore of a full allocator", err)
	}
	for _, bad := range [][]byte{nil, []byte("LZSA"), append(state[:len(state):len(state)], 0), state[:len(state)-1],
		append(append([]byte{}, state[:len(state)-1]...), 0xFF)} {
		var c Allocator
		if err := c.UnmarshalBinary(bad); err == nil {
			t.Errorf("bad state % x accepted", bad)
		}
	}
}

func TestDocuments(t *testing.T) {
	l, _ := New(MinSize, 1)
	l.Set(94567, 1)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	doc, err := l.W3CCredential(W3CCredentialConfig{
		ID: "https://status.lianzheng.example/gongan/revocation/1", Issuer: "did:lz:gongan",
		Purpose: PurposeRevocation, ValidFrom: now, ValidUntil: now.Add(24 * time.Hour), TTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	sub := doc["credentialSubject"].(map[string]any)
	if sub["type"] != "BitstringStatusList" || sub["statusPurpose"] != PurposeRevocation || doc["validFrom"] != "2025-01-02T03:04:05Z" || sub["ttl"] != int64(3600000) {
		t.Fatalf("%v", doc)
	}
	d, err := DecodeW3C(sub["encodedList"].(string), 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Get(94567); v != 1 {
		t.Fatal("status not in the credential's list")
	}
	if _, err := l.W3CCredential(W3CCredentialConfig{ID: "x", Issuer: "did:lz:a", Purpose: "message"}); err == nil {
		t.Error("unknown purpose accepted")
	}
	e := W3CEntry("https://status.lianzheng.example/gongan/revocation/1", 94567, PurposeRevocation)
	if e["statusListIndex"] != "94567" || e["type"] != "BitstringStatusListEntry" {
		t.Fatalf("%v", e)
	}

	claims, err := l.IETFTokenClaims(IETFTokenConfig{Subject: "https://status.lianzheng.example/gongan/1", IssuedAt: now, TTL: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "https://status.lianzheng.example/gongan/1" || claims["iat"] != now.Unix() || claims["ttl"] != int64(43200) {
		t.Fatalf("%v", claims)
	}
	sl := claims["status_list"].(map[string]any)
	di, err := DecodeIETF(IETFStatusList{Bits: sl["bits"].(int), Lst: sl["lst"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := di.Get(94567); v != 1 {
		t.Fatal("status not in the token's list")
	}
}

// TestSelect: the 1-bit list of one purpose derived from a 2-bit list has exactly the
// entries of that value set, in W3C order, and reads back through the W3C encoding.
func TestSelect(t *testing.T) {
	l, err := New(MinSize, 2)
	if err != nil {
		t.Fatal(err)
	}
	set := map[int]uint8{0: 1, 1: 2, 5: 3, 94567: 1, 94568: 2, MinSize - 1: 1}
	for i, v := range set {
		if err := l.Set(i, v); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := FromBytes(l.Bytes(), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		keep func(uint8) bool
	}{{"revoked", func(v uint8) bool { return v == 1 || v == 3 }}, {"suspended", func(v uint8) bool { return v == 2 || v == 3 }},
		{"valid", func(v uint8) bool { return v == 0 }}} {
		one := raw.Select(c.keep)
		enc, err := one.EncodeW3C()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeW3C(enc, 1)
		if err != nil || back.Size() != MinSize {
			t.Fatal(err)
		}
		for i := 0; i < MinSize; i++ {
			v, _ := back.Get(i)
			if want := c.keep(set[i]); (v == 1) != want {
				t.Fatalf("%s: entry %d = %d, want %v", c.name, i, v, want)
			}
		}
	}
}
