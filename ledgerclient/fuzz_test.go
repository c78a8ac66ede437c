package ledgerclient

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzVerifySnapshot: a snapshot file is untrusted input. Whatever the bytes, verification
// must not panic, and anything but the genuine content is ErrSnapshotForged.
func FuzzVerifySnapshot(f *testing.F) {
	st := newTestState(f, 2)
	fc, cl := newTestClient(f, 4, st) // no status written: a small seed mutates faster
	var buf bytes.Buffer
	orig, err := cl.Export(bg, &buf, 0)
	if err != nil {
		f.Fatal(err)
	}
	root, now := fc.root(), time.Now()
	f.Add(buf.Bytes())
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := VerifySnapshot(data, root, now, 0)
		if err != nil {
			if !errors.Is(err, ErrSnapshotForged) {
				t.Fatalf("error not ErrSnapshotForged: %v", err)
			}
			return
		}
		if !sameContent(orig, s) {
			t.Fatal("verified snapshot with different content")
		}
	})
}

// FuzzVerifyProof: proof bytes from a node are untrusted; only the genuine proof of the
// genuine value verifies.
func FuzzVerifyProof(f *testing.F) {
	root, imm := testTree(f, 50, 16)
	val := bytes.Repeat([]byte{7}, 16)
	good := proofBytes(f, imm, "k007")
	f.Add(good, []byte("k007"), val)
	f.Add(proofBytes(f, imm, "k008"), []byte("k008"), []byte(nil))
	f.Fuzz(func(t *testing.T, proof, key, value []byte) {
		err := VerifyProof(root, key, value, proof)
		if err == nil {
			gv, _ := imm.Get(key)
			if !bytes.Equal(gv, value) && !(gv == nil && len(value) == 0) {
				t.Fatalf("proof verified a false value for %q", key)
			}
			return
		}
		if !errors.Is(err, ErrUnverified) {
			t.Fatalf("error not ErrUnverified: %v", err)
		}
	})
}
