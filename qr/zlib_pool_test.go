package qr

import (
	"bytes"
	"errors"
	"testing"
)

// Pooled readers: a stream that fails (bad header, corruption, truncation, too large) leaves
// nothing behind for the next one.
func TestInflateReuseAfterErrors(t *testing.T) {
	good := bytes.Repeat([]byte("LianZheng 链证通 "), 200)
	z := Deflate(good)
	corrupt := append([]byte{}, z...)
	corrupt[len(corrupt)/2] ^= 0x55
	bad := [][]byte{{0x00, 0x00}, corrupt, z[:len(z)/2], append(append([]byte{}, z...), 0)}
	for i := 0; i < 50; i++ {
		in := bad[i%len(bad)]
		if _, err := Inflate(in, 1<<20); !errors.Is(err, ErrMalformed) {
			t.Fatalf("round %d: bad stream gave %v", i, err)
		}
		if _, err := Inflate(z, 100); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("round %d: limit gave %v", i, err)
		}
		out, err := Inflate(z, 1<<20)
		if err != nil || !bytes.Equal(out, good) {
			t.Fatalf("round %d: good stream: %v", i, err)
		}
	}
}
