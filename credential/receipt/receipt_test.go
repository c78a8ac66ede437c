package receipt

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"
)

const win = "did:lz:realestate-window-01"

func TestSignVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keyAt := func(kid string, at time.Time) (crypto.PublicKey, error) {
		if kid != win+"#key-1" {
			return nil, fmt.Errorf("unknown")
		}
		return pub, nil
	}
	r := &Receipt{ID: NewID(), Window: win, Department: "realestate", Item: "property-transfer", Purpose: "核实身份",
		Types: []string{"household-register"}, Fields: map[string][]string{"household-register": {"name", "address"}},
		Time: time.Now().Unix(), Result: ResultAccepted, PresentationHash: HashPresentation("LZ1R", []byte("body"))}
	tok, err := Sign(r, win+"#key-1", priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(tok, keyAt)
	if err != nil || got.ID != r.ID || got.Fields["household-register"][0] != "address" {
		t.Fatalf("%+v %v", got, err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	bad, _ := Sign(r, win+"#key-1", other)
	if _, err := Verify(bad, keyAt); err == nil {
		t.Error("receipt signed by another key accepted")
	}
	otherKid, _ := Sign(r, "did:lz:other#key-1", priv)
	if _, err := Verify(otherKid, keyAt); err == nil {
		t.Error("kid of another DID accepted")
	}
	if strings.Contains(tok, "测试") {
		t.Error("receipt carries values")
	}
}

func TestMerkle(t *testing.T) {
	for n := 1; n <= 33; n++ {
		var toks []string
		var leaves [][32]byte
		for i := 0; i < n; i++ {
			toks = append(toks, fmt.Sprintf("receipt-%d", i))
			leaves = append(leaves, LeafHash(toks[i]))
		}
		root, err := RootHex(leaves)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			p, err := Prove(leaves, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(toks[i], p, root); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
			if err := VerifyInclusion(toks[(i+1)%n]+"x", p, root); err == nil {
				t.Fatalf("n=%d i=%d: other receipt accepted", n, i)
			}
			if n > 1 {
				q := *p
				q.Index = (i + 1) % n
				if VerifyInclusion(toks[i], &q, root) == nil && toks[i] != toks[q.Index] {
					t.Fatalf("n=%d i=%d: wrong index accepted", n, i)
				}
			}
		}
	}
}

func FuzzVerifyInclusion(f *testing.F) {
	f.Add("tok", 0, 1, "")
	f.Fuzz(func(t *testing.T, tok string, idx, count int, path string) {
		_ = VerifyInclusion(tok, &Proof{Index: idx, Count: count, Path: strings.Split(path, ",")}, "00")
	})
}
