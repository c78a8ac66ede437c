package ledgerclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/ledger"
)

func TestTypedReads(t *testing.T) {
	st := newTestState(t, 3)
	fc, cl := newTestClient(t, 4, st)
	fc.set(string(ledger.KeyProposal("p1")), mustJSON(t, ledger.Proposal{ID: "p1", Action: ledger.ActionParamsSet, Status: "pending"}))
	fc.set(string(ledger.KeyAnchorSeq("did:lz:window-1")), []byte("1"))
	fc.set(string(ledger.KeyAnchor("did:lz:window-1", 1)), mustJSON(t, ledger.Anchor{Window: "did:lz:window-1", Seq: 1, Root: "ab", Count: 3}))
	fc.mine()

	m, err := cl.Member(bg, deptID(1))
	if err != nil || m.DID != "did:lz:"+deptID(1) {
		t.Fatalf("member: %+v %v", m, err)
	}
	if _, err := cl.Member(bg, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("absent member: %v", err)
	}
	ms, err := cl.Members(bg)
	if err != nil || len(ms) != 3 {
		t.Fatalf("members: %d %v", len(ms), err)
	}
	ty, err := cl.TypeByVCT(bg, "urn:lz:vct:marriage-certificate")
	if err != nil || ty.ID != "marriage-certificate" {
		t.Fatalf("type by vct: %+v %v", ty, err)
	}
	if _, err := cl.TypeByVCT(bg, "urn:nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if ty, err := cl.Type(bg, "household-register"); err != nil || ty.Issuers[0] != deptID(0) {
		t.Fatalf("type: %+v %v", ty, err)
	}
	if w, err := cl.Window(bg, "did:lz:window-1"); err != nil || w.Department != deptID(0) {
		t.Fatalf("window: %+v %v", w, err)
	}
	if ws, err := cl.Windows(bg); err != nil || len(ws) != 1 {
		t.Fatalf("windows: %v %v", ws, err)
	}
	if p, err := cl.Params(bg); err != nil || p.Approvals != 2 {
		t.Fatalf("params: %+v %v", p, err)
	}
	if p, err := cl.Proposal(bg, "p1"); err != nil || p.Status != "pending" {
		t.Fatalf("proposal: %+v %v", p, err)
	}
	if n, err := cl.AnchorSeq(bg, "did:lz:window-1"); err != nil || n != 1 {
		t.Fatalf("anchorseq: %d %v", n, err)
	}
	if n, err := cl.AnchorSeq(bg, "did:lz:window-2"); err != nil || n != 0 {
		t.Fatalf("anchorseq absent: %d %v", n, err)
	}
	if a, err := cl.Anchor(bg, "did:lz:window-1", 1); err != nil || a.Count != 3 {
		t.Fatalf("anchor: %+v %v", a, err)
	}
	list, err := cl.StatusList(bg, deptID(0), 0)
	if err != nil || len(list) != ledger.StatusListBytes || !bytes.Equal(list, make([]byte, ledger.StatusListBytes)) {
		t.Fatalf("absent status list: %d %v", len(list), err)
	}
	if _, err := cl.StatusList(bg, "../x", 0); err == nil {
		t.Fatal("bad member accepted")
	}
	v, h, err := cl.Get(bg, ledger.KeyParams())
	if err != nil || h < 1 || !bytes.Contains(v, []byte("approvals")) {
		t.Fatalf("get: %s %d %v", v, h, err)
	}
	if cl.Height() < 1 || cl.Time().IsZero() {
		t.Fatal("height/time not set")
	}
	// State at an earlier height stays readable and consistent.
	old, err := cl.At(bg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Proposal(bg, "p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("proposal at genesis: %v", err)
	}
}

func TestResolveDIDLZ(t *testing.T) {
	st := newTestState(t, 2)
	fc, cl := newTestClient(t, 4, st)
	// Rotate dept-000's key: add key-2, revoke key-1 (as the ledger would record it).
	d := "did:lz:" + deptID(0)
	var h did.History
	json.Unmarshal(st.seed[string(ledger.KeyDID(d))], &h)
	rot := created.Add(24 * time.Hour)
	h.Keys[0].ValidUntil = &rot
	_, k2, _ := ed25519Key()
	h.Keys = append(h.Keys, did.KeyRecord{ID: "key-2", PublicKeyMultibase: mustMultikey(t, k2), ValidFrom: rot, Purposes: []string{did.PurposeAssertion}})
	fc.set(string(ledger.KeyDID(d)), mustJSON(t, h))
	fc.mine()

	mr := did.MultiResolver{LZ: cl}
	res, err := mr.Resolve(bg, d)
	if err != nil {
		t.Fatal(err)
	}
	if res.Document == nil || len(res.Document.VerificationMethod) != 1 || !strings.HasSuffix(res.Document.VerificationMethod[0].ID, "#key-2") {
		t.Fatalf("document: %+v", res.Document)
	}
	if len(res.History.Keys) != 2 || res.Metadata.Height == 0 || res.Metadata.VersionID != "3" || !res.Metadata.Updated.Equal(rot) {
		t.Fatalf("history/metadata: %+v", res.Metadata)
	}
	// Key history: key-1 was valid before the rotation.
	if _, err := did.AssertionKeyAt(bg, mr, d+"#key-1", created.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := did.AssertionKeyAt(bg, mr, d+"#key-1", rot.Add(time.Hour)); !errors.Is(err, did.ErrKeyNotValid) {
		t.Fatal(err)
	}
	if _, err := mr.Resolve(bg, "did:lz:unknown"); !errors.Is(err, did.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	// Deactivated.
	h.Deactivated = &rot
	fc.set(string(ledger.KeyDID(d)), mustJSON(t, h))
	fc.mine()
	res, err = mr.Resolve(bg, d)
	if err != nil || !res.Metadata.Deactivated || res.Document != nil {
		t.Fatalf("deactivated: %+v %v", res, err)
	}
}

// lyingRPC tampers with a node's answers.
type lyingRPC struct {
	*fakeChain
	value   func(key []byte, v []byte) []byte
	listing func([]byte) []byte
	height  int64
}

func (l *lyingRPC) ABCIQuery(ctx context.Context, path string, data []byte, height int64, prove bool) (*QueryResult, error) {
	r, err := l.fakeChain.ABCIQuery(ctx, path, data, height, prove)
	if err != nil {
		return r, err
	}
	if path == ledger.QueryKey && l.value != nil {
		r.Value = l.value(data, r.Value)
	}
	if path == ledger.QueryKeys && l.listing != nil {
		r.Value = l.listing(r.Value)
	}
	if l.height != 0 {
		r.Height = l.height
	}
	return r, nil
}

func TestLyingNode(t *testing.T) {
	st := newTestState(t, 3)
	fc, _ := newTestClient(t, 4, st)
	cases := map[string]*lyingRPC{
		"altered value": {fakeChain: fc, value: func(k, v []byte) []byte {
			if bytes.HasPrefix(k, []byte("member/")) && len(v) > 0 {
				return bytes.Replace(v, []byte("部门"), []byte("冒充"), 1)
			}
			return v
		}},
		"value hidden": {fakeChain: fc, value: func(k, v []byte) []byte {
			if string(k) == "member/"+deptID(1) {
				return nil
			}
			return v
		}},
		"value invented": {fakeChain: fc, value: func(k, v []byte) []byte {
			if string(k) == "member/ghost" {
				return []byte(`{"id":"ghost"}`)
			}
			return v
		}},
		"other height": {fakeChain: fc, height: 1},
	}
	for name, l := range cases {
		t.Run(name, func(t *testing.T) {
			cl, err := New(l, fc.root(), Config{PollInterval: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, e1 := cl.Member(bg, deptID(1))
			_, e2 := cl.Member(bg, "ghost")
			if !errors.Is(e1, ErrUnverified) && !errors.Is(e2, ErrUnverified) {
				t.Fatalf("lie not detected: %v / %v", e1, e2)
			}
		})
	}
	// A listing that omits or invents keys changes nothing: the proofs decide.
	for name, f := range map[string]func([]byte) []byte{
		"omits": func(b []byte) []byte {
			var ks []string
			json.Unmarshal(b, &ks)
			if len(ks) > 1 {
				ks = ks[1:]
			}
			return mustJSON(t, ks)
		},
		"invents": func(b []byte) []byte {
			var ks []string
			json.Unmarshal(b, &ks)
			return mustJSON(t, append(ks, "member/zzz-ghost"))
		},
		"garbage": func([]byte) []byte { return []byte("not json") },
	} {
		cl, _ := New(&lyingRPC{fakeChain: fc, listing: f}, fc.root(), Config{PollInterval: time.Millisecond})
		ms, err := cl.Members(bg)
		if name == "garbage" {
			if !errors.Is(err, ErrUnverified) {
				t.Fatalf("garbage listing: %v", err)
			}
			continue
		}
		if err != nil || len(ms) != 3 {
			t.Fatalf("listing that %s: %d members, %v", name, len(ms), err)
		}
	}
}

func TestWrites(t *testing.T) {
	st := newTestState(t, 2)
	fc, cl := newTestClient(t, 4, st)
	s := signer(st, deptID(0))

	res, err := cl.StatusSet(bg, s, 0, ledger.StatusUpdate{Index: 5, Value: ledger.StatusRevoked}, ledger.StatusUpdate{Index: 70000, Value: ledger.StatusSuspended})
	if err != nil {
		t.Fatal(err)
	}
	if res.Height < 2 || res.Code != 0 || res.Submits != 1 {
		t.Fatalf("result %+v", res)
	}
	// Read back (the client reads at least the state of its own write).
	list, err := cl.StatusList(bg, deptID(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	if statusAt(list, 5) != ledger.StatusRevoked || statusAt(list, 70000) != ledger.StatusSuspended || statusAt(list, 6) != 0 {
		t.Fatal("status not applied")
	}
	if cl.Height() < res.Height {
		t.Fatalf("read height %d below write %d", cl.Height(), res.Height)
	}

	// The mempool silently drops the first copy: the client resubmits the same bytes.
	fc.mu.Lock()
	fc.dropNext = 1
	fc.mu.Unlock()
	res, err = cl.StatusSet(bg, s, 0, ledger.StatusUpdate{Index: 6, Value: 1})
	if err != nil || res.Submits != 2 {
		t.Fatalf("dropped: %+v %v", res, err)
	}

	// The first copy committed but the lookup missed it; the resubmission is refused as a
	// replay, and the first copy's result is what counts.
	fc.mu.Lock()
	fc.hideTxUntil2 = true
	fc.mu.Unlock()
	res, err = cl.StatusSet(bg, s, 0, ledger.StatusUpdate{Index: 7, Value: 1})
	if err != nil || res.Submits != 2 || res.Code != 0 {
		t.Fatalf("replayed: %+v %v", res, err)
	}
	fc.mu.Lock()
	fc.hideTxUntil2 = false
	fc.mu.Unlock()

	// Refused at CheckTx.
	_, err = cl.Submit(bg, s, "test.badsig", map[string]int{})
	var te *TxError
	if !errors.Is(err, ErrTxBadSignature) || !errors.As(err, &te) || te.Height != 0 {
		t.Fatalf("badsig: %v", err)
	}
	// Failed in the block.
	_, err = cl.Submit(bg, s, "test.unauthorized", map[string]int{})
	if !errors.Is(err, ErrTxUnauthorized) || !errors.As(err, &te) || te.Height == 0 || !strings.Contains(err.Error(), "signer may not") {
		t.Fatalf("unauthorized: %v", err)
	}
	if !errors.Is(err, ErrTxRejected) {
		t.Fatal("not ErrTxRejected")
	}

	// Never committed: bounded retries, then ErrTxNotConfirmed.
	fc.mu.Lock()
	fc.dropNext = 100
	fc.mu.Unlock()
	_, err = cl.StatusSet(bg, s, 0, ledger.StatusUpdate{Index: 8, Value: 1})
	if !errors.Is(err, ErrTxNotConfirmed) {
		t.Fatalf("lost: %v", err)
	}
	fc.mu.Lock()
	fc.dropNext = 0
	fc.mu.Unlock()
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	fc.mu.Lock()
	fc.dropNext = 100
	fc.mu.Unlock()
	_, err = cl.StatusSet(ctx, s, 0, ledger.StatusUpdate{Index: 8, Value: 1})
	if !errors.Is(err, ErrTxNotConfirmed) {
		t.Fatalf("timeout: %v", err)
	}
}

// Reads, resolution and writes from many goroutines at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	st := newTestState(t, 4)
	_, cl := newTestClient(t, 4, st)
	errs := make(chan error, 32)
	for g := 0; g < 8; g++ {
		go func() {
			var err error
			switch g % 4 {
			case 0:
				_, err = cl.Members(bg)
			case 1:
				_, err = did.MultiResolver{LZ: cl}.Resolve(bg, "did:lz:"+deptID(g%4))
			case 2:
				_, err = cl.StatusSet(bg, signer(st, deptID(g%4)), 0, ledger.StatusUpdate{Index: g, Value: 1})
			case 3:
				_, err = cl.StatusList(bg, deptID(1), 0)
			}
			errs <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
