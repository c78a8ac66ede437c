package verifier

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/receipt"
	"lianzheng/credential/wire"
	"lianzheng/ledgerclient"
)

func openTestStore(t *testing.T, dir string) *store {
	t.Helper()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

// Two stores on one directory stand for two processes (each has its own connection): what
// one commits, the other's request index sees, and parsed bindings survive the reload.
func TestStoreSharedDirectory(t *testing.T) {
	dir := t.TempDir()
	a, b := openTestStore(t, dir), openTestStore(t, dir)
	now := time.Unix(1_800_000_000, 0)
	r1 := &storedRequest{Nonce: "n1", Text: "LZ1Q:1", Item: "x", Expires: now.Unix() + 180, cache: &bindingCache{}}
	if err := a.newRequest(r1, now, keepRequests); err != nil {
		t.Fatal(err)
	}
	cb, err := b.lookup(now, time.Minute, 32)
	if err != nil || len(cb) != 1 || cb[0].Nonce != "n1" || cb[0].Text != "LZ1Q:1" || cb[0].Used {
		t.Fatalf("b sees %v, %v", cb, err)
	}
	if was, err := b.claim(cb[0], "h1", now, nil); was || err != nil {
		t.Fatalf("first claim: %v %v", was, err)
	}
	if was, err := a.claim(r1, "h2", now, nil); !was || err != nil {
		t.Fatalf("claim of a request answered by the other process: %v %v", was, err)
	}
	if seen, err := a.seen("h1"); !seen || err != nil {
		t.Fatalf("hash seen by the other process: %v %v", seen, err)
	}
	// b adds a request: a reloads, keeping its own request object (and binding cache).
	r2 := &storedRequest{Nonce: "n2", Text: "LZ1Q:2", Item: "x", Expires: now.Unix() + 200}
	if err := b.newRequest(r2, now, keepRequests); err != nil {
		t.Fatal(err)
	}
	ca, err := a.lookup(now, time.Minute, 32)
	if err != nil || len(ca) != 2 || ca[0].Nonce != "n2" || ca[1] != r1 || r1.cache == nil || !r1.Used {
		t.Fatalf("a after b's request: %v %v", ca, err)
	}
	// Nothing committed elsewhere: no reload (same objects, same index).
	if again, _ := a.lookup(now, time.Minute, 32); !slices.Equal(again, ca) {
		t.Fatal("index changed without a commit elsewhere")
	}
	// One-way nonces are single use across processes.
	if rep, err := a.claimOneWay("ow", "h3", now); rep || err != nil {
		t.Fatalf("one-way: %v %v", rep, err)
	}
	if rep, err := b.claimOneWay("ow", "h4", now); !rep || err != nil {
		t.Fatalf("one-way replay elsewhere: %v %v", rep, err)
	}
	if seen, _ := b.seen("h4"); seen {
		t.Fatal("a refused one-way answer recorded its hash")
	}
	// Pruning: a day after expiry the requests and one-way nonces are gone from both.
	later := now.Add(keepRequests + time.Hour)
	if err := a.newRequest(&storedRequest{Nonce: "n3", Text: "LZ1Q:3", Expires: later.Unix() + 180}, later, keepRequests); err != nil {
		t.Fatal(err)
	}
	if cb, _ := b.lookup(later, time.Minute, 32); len(cb) != 1 || cb[0].Nonce != "n3" {
		t.Fatalf("after pruning: %d requests", len(cb))
	}
	if rep, _ := b.claimOneWay("ow", "h5", later); rep {
		t.Fatal("one-way nonce not pruned")
	}
}

// Claims of one request (and of one one-way nonce) racing from separate connections: exactly
// one wins.
func TestStoreClaimIsAtomic(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	first := openTestStore(t, dir)
	if err := first.newRequest(&storedRequest{Nonce: "n", Text: "LZ1Q:n", Expires: now.Unix() + 180}, now, keepRequests); err != nil {
		t.Fatal(err)
	}
	const n = 6
	stores := make([]*store, n)
	for i := range stores {
		stores[i] = openTestStore(t, dir)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, wonOW := 0, 0
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs, err := s.lookup(now, time.Minute, 32)
			if err != nil || len(cs) != 1 {
				t.Errorf("lookup: %v %v", cs, err)
				return
			}
			was, err := s.claim(cs[0], fmt.Sprint("h", i), now, &storedReceipt{ID: fmt.Sprint("r", i), JWS: "x", Time: now.Unix()})
			rep, err2 := s.claimOneWay("ow", fmt.Sprint("o", i), now)
			if err != nil || err2 != nil {
				t.Errorf("claim: %v %v", err, err2)
			}
			mu.Lock()
			if !was {
				won++
			}
			if !rep {
				wonOW++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if won != 1 || wonOW != 1 {
		t.Fatalf("%d claims of one request and %d of one one-way nonce succeeded", won, wonOW)
	}
	// Only the winning claim stored its receipt.
	if n, err := first.pending(); n != 1 || err != nil {
		t.Fatalf("%d receipts stored by the racing claims (%v), want 1", n, err)
	}
}

// A claim and its receipt commit together: a receipt that cannot be stored (here an id
// already taken) rolls the claim back — the request stays open and the hash unseen — and a
// claim of an answered request stores no receipt.
func TestStoreClaimWithReceiptIsOneTransaction(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		s := openTestStore(t, dir)
		now := time.Unix(1_800_000_000, 0)
		r := &storedRequest{Nonce: "n", Text: "LZ1Q:n", Expires: now.Unix() + 180}
		if err := s.newRequest(r, now, keepRequests); err != nil {
			t.Fatal(err)
		}
		if dir != "" {
			if err := s.addReceipt(&storedReceipt{ID: "taken", JWS: "x", Time: now.Unix()}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.claim(r, "h1", now, &storedReceipt{ID: "taken", JWS: "y", Time: now.Unix()}); err == nil {
				t.Fatal("claim succeeded although its receipt was not stored")
			}
			if cs, _ := s.lookup(now, time.Minute, 8); len(cs) != 1 || cs[0].Used {
				t.Fatal("the failed claim consumed the request")
			}
			if seen, _ := s.seen("h1"); seen {
				t.Fatal("the failed claim recorded the hash")
			}
		}
		if was, err := s.claim(r, "h2", now, &storedReceipt{ID: "ok", JWS: "z", Time: now.Unix()}); was || err != nil {
			t.Fatalf("claim: %v %v", was, err)
		}
		if was, err := s.claim(r, "h3", now, &storedReceipt{ID: "late", JWS: "w", Time: now.Unix()}); !was || err != nil {
			t.Fatalf("second claim: %v %v", was, err)
		}
		got, err := s.unanchored()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, rc := range got {
			ids = append(ids, rc.ID)
		}
		want := []string{"ok"}
		if dir != "" {
			want = []string{"taken", "ok"}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("dir %q: receipts %v, want %v", dir, ids, want)
		}
	}
}

// Candidates from a database-backed index follow the definition, with requests added and
// answered through two connections.
func TestStoreCandidatesShared(t *testing.T) {
	dir := t.TempDir()
	ss := []*store{openTestStore(t, dir), openTestStore(t, dir)}
	now := time.Unix(1_800_000_000, 0)
	var all []*storedRequest // the definition's copy
	used := map[string]bool{}
	for i := 0; i < 60; i++ {
		s := ss[i%2]
		r := &storedRequest{Nonce: fmt.Sprint("n", i), Text: fmt.Sprint("LZ1Q:", i), Expires: now.Unix() + int64((i*37)%400) - 200}
		if err := s.newRequest(r, now, keepRequests); err != nil {
			t.Fatal(err)
		}
		all = append(all, &storedRequest{Nonce: r.Nonce, Expires: r.Expires})
		if i%3 == 1 {
			o := ss[(i+1)%2]
			cs, _ := o.lookup(now, time.Minute, 1000)
			k := (i * 7) % len(cs)
			if _, err := o.claim(cs[k], "h"+cs[k].Nonce, now, nil); err != nil {
				t.Fatal(err)
			}
			used[cs[k].Nonce] = true
		}
		for _, x := range all {
			x.Used = used[x.Nonce]
		}
		for _, s := range ss {
			got, err := s.lookup(now, time.Minute, 16)
			if err != nil {
				t.Fatal(err)
			}
			want := oldCandidates(all, now, time.Minute, 16)
			if len(got) != len(want) {
				t.Fatalf("step %d: %d candidates, want %d", i, len(got), len(want))
			}
			for j := range got {
				if got[j].Nonce != want[j].Nonce || got[j].Used != want[j].Used {
					t.Fatalf("step %d: candidate %d is %s (used %v), want %s (used %v)", i, j, got[j].Nonce, got[j].Used, want[j].Nonce, want[j].Used)
				}
			}
		}
	}
}

type fakePoster struct{ roots []string }

func (f *fakePoster) AnchorPost(_ context.Context, _ ledgerclient.Signer, root string, count int) (*ledgerclient.TxResult, error) {
	f.roots = append(f.roots, root)
	return &ledgerclient.TxResult{Hash: fmt.Sprintf("TX%d", len(f.roots)), Height: int64(10 + len(f.roots))}, nil
}

// The CLI's way: one verifier makes the request, another (a separate process on the same
// directory) checks the answer, a third anchors and hands out receipts. Replays are refused
// by every one of them; receipts and proofs are those of the memory store.
func TestVerifierSharedDirectory(t *testing.T) {
	now := time.Now()
	m := newMemWindow(t, now)
	dir := t.TempDir()
	mk := func() *Verifier {
		v, err := New(Config{Trust: m.trust, Window: m.v.cfg.Window, KeyID: m.v.cfg.KeyID, Key: m.v.cfg.Key,
			Dir: dir, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	req, chk := mk(), mk()
	hr, mc := m.issue(t, "household-register", now), m.issue(t, "marriage-certificate", now)
	ctx := context.Background()
	var texts, ids []string
	for i := 0; i < 5; i++ {
		m.v = req
		text := m.realEstateAnswer(t, hr, mc)
		vd := chk.Verify(ctx, text)
		if !vd.OK {
			t.Fatalf("%d: %s %s", i, vd.Code, vd.Detail)
		}
		texts, ids = append(texts, text), append(ids, vd.ReceiptID)
	}
	for _, v := range []*Verifier{req, chk, mk()} {
		if vd := v.Verify(ctx, texts[2]); vd.Code != credential.CodeReplayed || vd.ReceiptID != "" {
			t.Fatalf("replay: %s, receipt %q", vd.Code, vd.ReceiptID)
		}
	}
	// The same request answered with another presentation: refused as answered elsewhere.
	m.v = req
	r, _ := req.NewRequest(ctx, "property-transfer")
	no, a := r.Request.NonceString(), r.Request.Audience()
	t1 := answer(t, req, r, hr.present(t, no, a), mc.present(t, no, a))
	t2 := answer(t, req, r, hr.present(t, no, a), mc.present(t, no, a))
	if vd := chk.Verify(ctx, t1); !vd.OK {
		t.Fatalf("%s %s", vd.Code, vd.Detail)
	}
	if vd := req.Verify(ctx, t2); vd.Code != credential.CodeReplayed || vd.ReceiptID != "" {
		t.Fatalf("second answer in another process: %s %s, receipt %q", vd.Code, vd.Detail, vd.ReceiptID)
	}
	anc := mk()
	pending := anc.Pending()
	if pending != 5+1 { // five verdicts and the first answer; replays saw no data: no receipt
		t.Fatalf("pending %d", pending)
	}
	p := &fakePoster{}
	an, err := anc.Anchor(ctx, p)
	if err != nil || an.Count != pending || an.Root != p.roots[0] || an.Height != 11 || an.TxHash != "TX1" {
		t.Fatalf("anchor: %+v %v", an, err)
	}
	if anc.Pending() != 0 || chk.Pending() != 0 {
		t.Fatal("receipts still pending after the anchor")
	}
	if a2, err := chk.Anchor(ctx, p); a2 != nil || err != nil {
		t.Fatalf("second anchor: %v %v", a2, err)
	}
	m.v = req
	vd := chk.Verify(ctx, m.realEstateAnswer(t, hr, mc)) // one more, not anchored yet
	if !vd.OK || vd.ReceiptID == "" {
		t.Fatalf("%s %s", vd.Code, vd.Detail)
	}
	for _, id := range ids {
		b, err := mk().Receipt(id)
		if err != nil || b.Proof == nil || b.Anchor == nil || b.Anchor.Root != an.Root || b.Anchor.Receipts != nil ||
			!b.Anchor.Time.Equal(an.Time) || b.Anchor.Count != an.Count {
			t.Fatalf("receipt %s: %+v %v", id, b, err)
		}
		if err := receipt.VerifyInclusion(b.Receipt, b.Proof, an.Root); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := req.Receipt(vd.ReceiptID); err != nil || b.Proof != nil || b.Receipt != vd.Receipt {
		t.Fatalf("unanchored receipt: %+v %v", b, err)
	}
	if _, err := req.Receipt("nope"); err != ErrNoReceipt {
		t.Fatalf("unknown receipt: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dbFile)); err != nil {
		t.Fatal(err)
	}
	// A closed verifier does not fall back to memory: it cannot record the claim, and refuses.
	m.v = req
	fresh := m.realEstateAnswer(t, hr, mc)
	x := mk()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if vd := x.Verify(ctx, fresh); vd.OK || vd.Code != credential.CodeReplayed {
		t.Fatalf("closed verifier: %s %s", vd.Code, vd.Detail)
	}
	if vd := chk.Verify(ctx, fresh); !vd.OK {
		t.Fatalf("after the closed verifier refused it: %s %s", vd.Code, vd.Detail)
	}
}

// A legacy JSON state is imported once, renamed to *.imported, and behaves as before.
func TestStoreImportsJSON(t *testing.T) {
	now := time.Now()
	m := newMemWindow(t, now)
	ctx := context.Background()
	// Make a legacy state with the memory store: requests (one answered), a one-way nonce,
	// receipts, one anchor.
	hr, mc := m.issue(t, "household-register", now), m.issue(t, "marriage-certificate", now)
	var texts, ids []string
	for i := 0; i < 4; i++ {
		text := m.realEstateAnswer(t, hr, mc)
		if i < 2 {
			vd := m.v.Verify(ctx, text)
			if !vd.OK {
				t.Fatalf("%s %s", vd.Code, vd.Detail)
			}
			ids = append(ids, vd.ReceiptID)
		}
		texts = append(texts, text)
	}
	an, err := m.v.Anchor(ctx, &fakePoster{})
	if err != nil {
		t.Fatal(err)
	}
	m.v.store.st.OneWay["ow-nonce"] = now.Unix()
	later := m.v.Verify(ctx, texts[3]) // a receipt not anchored
	if !later.OK || later.ReceiptID == "" {
		t.Fatalf("%s %s", later.Code, later.Detail)
	}
	want := map[string]*wire.ReceiptBundle{}
	for _, id := range append(ids, later.ReceiptID) {
		if want[id], err = m.v.Receipt(id); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	st, err := json.Marshal(&m.v.store.st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), st, 0o600); err != nil {
		t.Fatal(err)
	}
	open := func() *Verifier {
		v, err := New(Config{Trust: m.trust, Window: m.v.cfg.Window, KeyID: m.v.cfg.KeyID, Key: m.v.cfg.Key,
			Dir: dir, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	v := open()
	if _, err := os.Stat(filepath.Join(dir, "state.json")); !os.IsNotExist(err) {
		t.Fatalf("state.json still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json.imported")); err != nil {
		t.Fatal(err)
	}
	for id, w := range want {
		got, err := v.Receipt(id)
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Fatalf("receipt %s:\n%s\nwant\n%s", id, gj, wj)
		}
	}
	if v.Pending() != 1 {
		t.Fatalf("pending %d", v.Pending())
	}
	if vd := v.Verify(ctx, texts[1]); vd.Code != credential.CodeReplayed {
		t.Fatalf("replay of an imported hash: %s", vd.Code)
	}
	if vd := v.Verify(ctx, texts[2]); !vd.OK { // its request was imported open
		t.Fatalf("answer to an imported open request: %s %s", vd.Code, vd.Detail)
	}
	if rep, err := v.store.claimOneWay("ow-nonce", "x", now); !rep || err != nil {
		t.Fatalf("imported one-way nonce: %v %v", rep, err)
	}
	// A second open imports nothing again; a new anchor continues the numbering.
	v.Close()
	v = open()
	if v.Pending() != 2 { // later and texts[2]; the replay of texts[1] has no receipt
		t.Fatalf("pending after reopen %d", v.Pending())
	}
	a2, err := v.Anchor(ctx, &fakePoster{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Receipt(later.ReceiptID)
	if err != nil || b.Anchor == nil || b.Anchor.Root != a2.Root || b.Anchor.Root == an.Root {
		t.Fatalf("%+v %v", b, err)
	}
	var n int
	if err := v.store.conn.QueryRowContext(ctx, `SELECT MAX(n) FROM anchors`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("anchors: %d %v", n, err)
	}
}

// A broken legacy file is reported, not silently dropped (and not renamed).
func TestStoreImportBadJSON(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	os.WriteFile(p, []byte("{not json"), 0o600)
	if _, err := openStore(dir); err == nil {
		t.Fatal("broken state.json accepted")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}
