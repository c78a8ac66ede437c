package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lianzheng/qr"
)

// TestReadLimited: `lz verify check --file` reads at most one byte past the verifier's
// limit, however large the file (a 200 MB file once took seconds; issue 16.7).
func TestReadLimited(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(200 << 20); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	b, err := readLimited(huge, nil, qr.MaxScannedLen)
	if err != nil || len(b) != qr.MaxScannedLen+1 {
		t.Fatalf("read %d bytes (%v), want %d", len(b), err, qr.MaxScannedLen+1)
	}
	b, err = readLimited("", strings.NewReader("LZ1R:ABC"), qr.MaxScannedLen)
	if err != nil || string(b) != "LZ1R:ABC" {
		t.Fatalf("stdin: %q %v", b, err)
	}
	if _, err := readLimited(filepath.Join(t.TempDir(), "missing"), nil, 10); err == nil {
		t.Fatal("a missing file read without error")
	}
}
