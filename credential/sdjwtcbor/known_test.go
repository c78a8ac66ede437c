package sdjwtcbor

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

// bruteRef and bruteLookup are the definitions the sorted index must agree with.
func bruteRef(list []string, s string) []byte {
	h := sha256.Sum256([]byte(s))
	found := false
	for _, o := range list {
		found = found || o == s
	}
	if !found {
		return nil
	}
	for n := 2; n <= 8; n++ {
		unique := true
		for _, o := range list {
			if oh := sha256.Sum256([]byte(o)); o != s && bytes.Equal(oh[:n], h[:n]) {
				unique = false
			}
		}
		if unique {
			return h[:n]
		}
	}
	return nil
}

func bruteLookup(list []string, ref []byte) (string, int) {
	seen := map[string]bool{}
	found, n := "", 0
	for _, s := range list {
		if seen[s] {
			continue
		}
		seen[s] = true
		if h := sha256.Sum256([]byte(s)); bytes.Equal(h[:len(ref)], ref) {
			found, n = s, n+1
		}
	}
	return found, n
}

func TestKnownIndexMatchesDefinition(t *testing.T) {
	// 3,000 strings: many 2-byte and some 3-byte prefix collisions; plus duplicates.
	var list []string
	for i := 0; i < 3000; i++ {
		list = append(list, fmt.Sprintf("did:lz:member-%d#key-%d", i, i%7))
	}
	list = append(list, list[5], list[17])
	k := NewKnownIndex(list).k
	for _, s := range list {
		if got, want := k.ref(s), bruteRef(list, s); !bytes.Equal(got, want) {
			t.Fatalf("ref(%q) = %x, want %x", s, got, want)
		}
	}
	if k.ref("not in the list") != nil {
		t.Fatal("ref of an unknown string")
	}
	// Every 2- and 3-byte prefix that occurs, and a few that do not.
	for _, s := range list[:400] {
		h := sha256.Sum256([]byte(s))
		for n := 2; n <= 4; n++ {
			for _, ref := range [][]byte{h[:n], []byte{h[0], h[1] ^ 0xff, 0, 0}[:n]} {
				want, cnt := bruteLookup(list, ref)
				got, err := k.lookup(ref)
				switch {
				case cnt == 1 && (err != nil || got != want):
					t.Fatalf("lookup(%x) = %q, %v; want %q", ref, got, err, want)
				case cnt != 1 && err == nil:
					t.Fatalf("lookup(%x) = %q; want an error (%d matches)", ref, got, cnt)
				}
			}
		}
	}
	if _, err := k.lookup([]byte{1}); err == nil {
		t.Fatal("1-byte reference accepted")
	}
}

// An Index gives the same encoding and decoding as the Known list it was made from.
func TestCompactContextIndex(t *testing.T) {
	ctx := &Context{Nonce: "n", Audience: "did:lz:window-1",
		Known: []string{"did:lz:demo-dept", "did:lz:demo-dept#key-1", "urn:lz:vct:test", "claim_7", "did:lz:window-1"}}
	ix := &Context{Nonce: ctx.Nonce, Audience: ctx.Audience, Index: NewKnownIndex(ctx.Known)}
	a, b := ctx.knownIndex(), ix.knownIndex()
	for _, s := range ctx.Known {
		if !bytes.Equal(a.ref(s), b.ref(s)) {
			t.Fatalf("ref(%q) differs", s)
		}
	}
}
