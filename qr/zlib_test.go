package qr

import (
	"bytes"
	"compress/zlib"
	"errors"
	"math"
	"math/rand"
	"runtime"
	"testing"
	"time"
)

func TestInflateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, n := range []int{0, 1, 2, 100, 1000, 65536} {
		b := make([]byte, n)
		rng.Read(b)
		for _, max := range []int{n, n + 1, math.MaxInt} {
			got, err := Inflate(Deflate(b), max)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("n=%d max=%d: err=%v equal=%v", n, max, err, bytes.Equal(got, b))
			}
		}
		if n > 0 {
			if _, err := Inflate(Deflate(b), n-1); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("n=%d max=%d: err=%v, want ErrTooLarge", n, n-1, err)
			}
		}
	}
}

func TestInflateBomb(t *testing.T) {
	bomb := Deflate(make([]byte, 10<<20))
	t.Logf("10 MiB of zeros deflate to %d bytes", len(bomb))
	if len(bomb) > 16<<10 {
		t.Fatalf("bomb is %d bytes, expected ~10 KB", len(bomb))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	out, err := Inflate(bomb, 64<<10)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Inflate(bomb, 64 KiB) = %d bytes, %v; want ErrTooLarge", len(out), err)
	}
	if errors.Is(err, ErrMalformed) {
		t.Fatalf("bomb error %v should not also be ErrMalformed", err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("bomb rejected in %v after allocating %d bytes: %v", elapsed, allocated, err)
	if allocated > 1<<20 {
		t.Errorf("allocated %d bytes inflating a bomb with a 64 KiB cap", allocated)
	}
	if elapsed > 2*time.Second { // generous for -race; it is well under 10 ms normally
		t.Errorf("took %v", elapsed)
	}
}

func TestInflateRejects(t *testing.T) {
	good := Deflate([]byte("hello, window 3"))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	var dict bytes.Buffer
	w, _ := zlib.NewWriterLevelDict(&dict, 9, []byte("dictionary"))
	w.Write([]byte("hello"))
	w.Close()
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"one byte", good[:1]},
		{"header only", good[:2]},
		{"truncated stream", good[:len(good)-6]},
		{"truncated checksum", good[:len(good)-1]},
		{"bad checksum", flip(len(good) - 1)},
		{"bad header check", flip(1)},
		{"not deflate", append([]byte{0x79, 0x9c}, good[2:]...)},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"trailing stream", append(bytes.Clone(good), good...)},
		{"preset dictionary", dict.Bytes()},
		{"raw deflate", good[2 : len(good)-4]},
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		got, err := Inflate(tc.in, 1<<16)
		if err == nil {
			t.Errorf("%s: Inflate = %q, want error", tc.name, got)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v does not wrap ErrMalformed", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, err)
	}
	if _, err := Inflate(good, -1); !errors.Is(err, ErrMalformed) {
		t.Errorf("negative max: %v", err)
	}
}

func FuzzInflate(f *testing.F) {
	f.Add(Deflate([]byte("LZ1R test")), 1024)
	f.Add(Deflate(make([]byte, 100000)), 4096)
	f.Add(Deflate(nil), 0)
	f.Add([]byte{0x78, 0x9c}, 10)
	f.Add([]byte{}, 10)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 0 || max > 1<<20 {
			max = 1 << 20 // the fuzzer may choose any limit, but not an unbounded one
		}
		out, err := Inflate(data, max)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(out) > max {
			t.Fatalf("%d bytes out with max %d", len(out), max)
		}
	})
}
