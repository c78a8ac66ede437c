// Package testvectors locates the public test vectors kept inside the module, in
// testdata/vectors at the module root (each set with a SOURCE note), for tests. The directory
// can be overridden with LZ_VECTORS. Tests fail, never skip, when the vectors are missing: a
// vector that is not checked is not a vector. Nothing outside the repository is read.
package testvectors

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the vectors directory or fails the test.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("LZ_VECTORS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("testvectors: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			v := filepath.Join(d, "testdata", "vectors")
			if _, err := os.Stat(v); err != nil {
				t.Fatalf("testvectors: %s not found (set LZ_VECTORS): %v", v, err)
			}
			return v
		}
		if filepath.Dir(d) == d {
			t.Fatalf("testvectors: no go.mod above %s", wd)
		}
	}
}

// Read returns the bytes of a vector file, path relative to the vectors directory.
func Read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("testvectors: %v", err)
	}
	return b
}
