package verifier

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// oldCandidates is the definition: every stored request, open ones (most recent first) then
// closed ones (most recent first), at most max.
func oldCandidates(reqs []*storedRequest, now time.Time, skew time.Duration, max int) []*storedRequest {
	var open, shut []*storedRequest
	for i := len(reqs) - 1; i >= 0; i-- {
		if closed(reqs[i], now, skew) {
			shut = append(shut, reqs[i])
		} else {
			open = append(open, reqs[i])
		}
	}
	out := append(open, shut...)
	if len(out) > max {
		out = out[:max]
	}
	return out
}

func TestCandidatesMatchDefinition(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	now := time.Unix(1_800_000_000, 0)
	skew := 2 * time.Minute
	for round := 0; round < 300; round++ {
		s, _ := openStore("")
		n := r.Intn(120)
		for i := 0; i < n; i++ {
			sr := &storedRequest{Nonce: fmt.Sprint(round, "-", i), Expires: now.Unix() + int64(r.Intn(900)) - 450}
			if r.Intn(20) == 0 { // behind the store's back, as a test may do
				s.st.Requests = append(s.st.Requests, sr)
				s.st.byNonce[sr.Nonce] = sr
			} else {
				s.addRequest(sr)
			}
			if r.Intn(3) == 0 && len(s.st.Requests) > 0 {
				s.markUsed(s.st.Requests[r.Intn(len(s.st.Requests))])
			}
		}
		if r.Intn(4) == 0 {
			s.prune(now.Add(time.Duration(r.Intn(600))*time.Second), 5*time.Minute)
		}
		at := now.Add(time.Duration(r.Intn(600)-300) * time.Second)
		max := 1 + r.Intn(40)
		got, want := s.candidates(at, skew, max), oldCandidates(s.st.Requests, at, skew, max)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d candidates, want %d", round, len(got), len(want))
		}
	}
}

func TestMarkUsed(t *testing.T) {
	s, _ := openStore("")
	a, b := &storedRequest{Nonce: "a", Expires: 10}, &storedRequest{Nonce: "b", Expires: 10}
	s.addRequest(a)
	s.addRequest(b)
	if s.markUsed(a) || !s.markUsed(a) || !a.Used || len(s.st.unused) != 1 || s.st.unused[0] != b {
		t.Fatal("markUsed")
	}
}

// near returns the requests expiring in [from, to], most recent first; find, by nonce. Both
// see what another connection on the same directory added.
func TestStoreNearAndFind(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	dir := t.TempDir()
	for _, name := range []string{"memory", "directory"} {
		t.Run(name, func(t *testing.T) {
			var a, b *store
			if name == "memory" {
				a, _ = openStore("")
				b = a
			} else {
				a, b = openTestStore(t, dir), openTestStore(t, dir)
			}
			exp := []int64{100, 300, 200, 500, 300, 400}
			for i, e := range exp {
				r := &storedRequest{Nonce: fmt.Sprint("n", i), Text: fmt.Sprint("LZ1Q:", i), Expires: now.Unix() + e}
				if err := a.newRequest(r, now, keepRequests); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range []struct {
				from, to int64
				want     []string
			}{
				{200, 300, []string{"n4", "n2", "n1"}},
				{0, 1000, []string{"n5", "n4", "n3", "n2", "n1", "n0"}},
				{301, 399, nil},
				{500, 500, []string{"n3"}},
			} {
				got, err := b.near(now.Unix()+k.from, now.Unix()+k.to)
				if err != nil {
					t.Fatal(err)
				}
				var ns []string
				for _, r := range got {
					ns = append(ns, r.Nonce)
				}
				if !slices.Equal(ns, k.want) {
					t.Fatalf("near [%d, %d]: %v, want %v", k.from, k.to, ns, k.want)
				}
			}
			if r, err := b.find("n3"); err != nil || r == nil || r.Expires != now.Unix()+500 {
				t.Fatalf("find n3: %v %v", r, err)
			}
			if r, _ := b.find("nope"); r != nil {
				t.Fatalf("find nope: %v", r)
			}
		})
	}
}
