package ledgerclient

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"

	"lianzheng/did"
	"lianzheng/ledger"
)

// exportTest builds a chain with a few members, some status written, and exports it.
func exportTest(t *testing.T) (*fakeChain, *Client, *testState, []byte) {
	st := newTestState(t, 4)
	fc, cl := newTestClient(t, 4, st)
	if _, err := cl.StatusSet(bg, signer(st, deptID(1)), 0, ledger.StatusUpdate{Index: 3, Value: 1}, ledger.StatusUpdate{Index: 131071, Value: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.StatusSet(bg, signer(st, deptID(2)), 3, ledger.StatusUpdate{Index: 40000, Value: 1}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := cl.Export(bg, &buf, 0); err != nil {
		t.Fatal(err)
	}
	return fc, cl, st, buf.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	fc, cl, _, data := exportTest(t)
	now := time.Now()
	s, err := VerifySnapshot(data, fc.root(), now, time.Hour*2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot: %d bytes, height %d, age %s", len(data), s.Height(), s.Age(now))
	v, err := cl.At(bg, s.Height())
	if err != nil {
		t.Fatal(err)
	}
	if !s.Time().Equal(v.Time()) {
		t.Fatal("time differs")
	}
	ms, _ := v.Members(bg)
	if !reflect.DeepEqual(ms, s.Members()) {
		t.Fatal("members differ")
	}
	ts, _ := v.Types(bg)
	if !reflect.DeepEqual(ts, s.Types()) {
		t.Fatal("types differ")
	}
	ws, _ := v.Windows(bg)
	if !reflect.DeepEqual(ws, s.Windows()) {
		t.Fatal("windows differ")
	}
	if len(s.DIDs()) != 4 {
		t.Fatalf("dids %v", s.DIDs())
	}
	for _, ref := range []struct {
		m string
		l int
	}{{deptID(1), 0}, {deptID(2), 3}, {deptID(0), 0}, {"not-a-member", 9}} {
		a, err1 := v.StatusList(bg, ref.m, ref.l)
		b, err2 := s.StatusList(bg, ref.m, ref.l)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("status %v: %v %v", ref, err1, err2)
		}
	}
	l, _ := s.StatusList(bg, deptID(1), 0)
	if statusAt(l, 3) != 1 || statusAt(l, 131071) != 2 {
		t.Fatal("status entries")
	}
	if got := s.StatusLists(); len(got) != 2 {
		t.Fatalf("lists %v", got)
	}
	// did:lz resolution and the TrustView methods.
	var tv TrustView = s
	res, err := did.MultiResolver{LZ: tv}.Resolve(bg, "did:lz:"+deptID(3))
	if err != nil || res.Document == nil || res.Metadata.Height != uint64(s.Height()) {
		t.Fatalf("resolve: %+v %v", res, err)
	}
	if _, err := tv.Resolve(bg, "did:lz:nope"); !errors.Is(err, did.ErrNotFound) {
		t.Fatal(err)
	}
	if ty, err := tv.TypeByVCT(bg, "urn:lz:vct:household-register"); err != nil || ty.ID != "household-register" {
		t.Fatal(err)
	}
	if _, err := tv.Member(bg, "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if p, err := tv.Params(bg); err != nil || p.Approvals != 2 {
		t.Fatal(err)
	}
	if _, err := tv.Window(bg, "did:lz:window-1"); err != nil {
		t.Fatal(err)
	}

	// File round trip.
	path := filepath.Join(t.TempDir(), "trust.lzsnap")
	if _, err := cl.ExportFile(bg, path, s.Height()); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySnapshotFile(path, fc.root(), now, 0); err != nil {
		t.Fatal(err)
	}
	// Pinned root: a snapshot from a client with a pinned root carries that header first.
	pin, _ := PinnedRoot(fc.chainID, 2, bytesHex(fc.headers[2].Hash()))
	pc, _ := New(fc, pin, Config{PollInterval: time.Millisecond})
	var buf bytes.Buffer
	if _, err := pc.Export(bg, &buf, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySnapshot(buf.Bytes(), pin, now, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySnapshot(buf.Bytes(), fc.root(), now, 0); !errors.Is(err, ErrSnapshotForged) {
		t.Fatalf("pinned snapshot against genesis root: %v", err)
	}
}

func bytesHex(b []byte) string { return fmtX(b) }

func TestSnapshotStale(t *testing.T) {
	fc, _, _, data := exportTest(t)
	s, err := VerifySnapshot(data, fc.root(), time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	later := s.Time().Add(25 * time.Hour)
	_, err = VerifySnapshot(data, fc.root(), later, 24*time.Hour)
	var se *StaleError
	if !errors.Is(err, ErrSnapshotStale) || errors.Is(err, ErrSnapshotForged) || !errors.As(err, &se) || se.Age < 25*time.Hour {
		t.Fatalf("stale: %v", err)
	}
	if _, err := VerifySnapshot(data, fc.root(), later, 26*time.Hour); err != nil {
		t.Fatal(err)
	}
	// Forged and stale: forged wins (fail closed with the stronger code).
	w := decodeWire(t, data)
	w.Height--
	if _, err := VerifySnapshot(encodeWire(t, w), fc.root(), later, time.Hour); !errors.Is(err, ErrSnapshotForged) {
		t.Fatalf("forged+stale: %v", err)
	}
}

// Revocations after the snapshot's height are not in it; those before are.
func TestSnapshotRevocationOrdering(t *testing.T) {
	st := newTestState(t, 2)
	fc, cl := newTestClient(t, 4, st)
	s0 := signer(st, deptID(0))
	r1, err := cl.StatusSet(bg, s0, 0, ledger.StatusUpdate{Index: 10, Value: ledger.StatusRevoked})
	if err != nil {
		t.Fatal(err)
	}
	var b1 bytes.Buffer
	snap1, err := cl.Export(bg, &b1, r1.Height)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.StatusSet(bg, s0, 0, ledger.StatusUpdate{Index: 11, Value: ledger.StatusRevoked}); err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	snap2, err := cl.Export(bg, &b2, 0)
	if err != nil {
		t.Fatal(err)
	}
	l1, _ := snap1.StatusList(bg, deptID(0), 0)
	l2, _ := snap2.StatusList(bg, deptID(0), 0)
	if statusAt(l1, 10) != 1 || statusAt(l1, 11) != 0 || statusAt(l2, 10) != 1 || statusAt(l2, 11) != 1 {
		t.Fatalf("l1 %d %d l2 %d %d", statusAt(l1, 10), statusAt(l1, 11), statusAt(l2, 10), statusAt(l2, 11))
	}
	_ = fc
}

func decodeWire(t *testing.T, data []byte) *snapshotWire {
	var w snapshotWire
	if err := cborDec.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	return &w
}

func encodeWire(t *testing.T, w *snapshotWire) []byte {
	b, err := cborEnc.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSnapshotTampering(t *testing.T) {
	fc, _, _, data := exportTest(t)
	root := fc.root()
	now := time.Now()
	attackers := genKeys(4)
	attackVals := valSet(attackers)

	mods := map[string]func(w *snapshotWire){
		"flip a byte in a member proof": func(w *snapshotWire) { w.Ranges[0].Proofs[1][len(w.Ranges[0].Proofs[1])/2] ^= 1 },
		"flip a byte in a status value": func(w *snapshotWire) {
			p := w.Ranges[4].Proofs[0]
			i := bytes.Index(p, bytes.Repeat([]byte{0}, 64))
			p[i+10] ^= 0x40
		},
		"drop the last member":       func(w *snapshotWire) { r := &w.Ranges[0]; r.Proofs = r.Proofs[:len(r.Proofs)-1] },
		"drop a middle member":       func(w *snapshotWire) { r := &w.Ranges[0]; r.Proofs = append(r.Proofs[:2:2], r.Proofs[3:]...) },
		"drop a status chunk":        func(w *snapshotWire) { r := &w.Ranges[4]; r.Proofs = append(r.Proofs[:1:1], r.Proofs[2:]...) },
		"duplicate a proof":          func(w *snapshotWire) { r := &w.Ranges[2]; r.Proofs = append(r.Proofs, r.Proofs[len(r.Proofs)-1]) },
		"swap two ranges":            func(w *snapshotWire) { w.Ranges[1], w.Ranges[2] = w.Ranges[2], w.Ranges[1] },
		"omit a range":               func(w *snapshotWire) { w.Ranges = w.Ranges[:4] },
		"proofs of another range":    func(w *snapshotWire) { w.Ranges[3].Proofs = w.Ranges[2].Proofs },
		"params proof from a member": func(w *snapshotWire) { w.Params = w.Ranges[0].Proofs[1] },
		"height changed":             func(w *snapshotWire) { w.Height-- },
		"chain id changed":           func(w *snapshotWire) { w.Chain = "other" },
		"format changed":             func(w *snapshotWire) { w.Format = "v0" },
		"no headers":                 func(w *snapshotWire) { w.Headers = nil },
		"root header dropped":        func(w *snapshotWire) { w.Headers = w.Headers[1:] },
		"top header dropped":         func(w *snapshotWire) { w.Headers = w.Headers[:len(w.Headers)-1] },
		"flip a byte in the top header": func(w *snapshotWire) {
			h := w.Headers[len(w.Headers)-1].SignedHeader
			h[40] ^= 1
		},
		"app hash replaced": func(w *snapshotWire) {
			mutateTop(t, w, func(sh *types.SignedHeader, _ *types.ValidatorSet) (*types.SignedHeader, *types.ValidatorSet) {
				sh.AppHash = bytes.Repeat([]byte{9}, 32)
				return sh, nil
			})
		},
		"validator set of the top header replaced": func(w *snapshotWire) {
			mutateTop(t, w, func(sh *types.SignedHeader, _ *types.ValidatorSet) (*types.SignedHeader, *types.ValidatorSet) {
				return sh, attackVals
			})
		},
		"top header re-signed by a different validator set": func(w *snapshotWire) {
			mutateTop(t, w, func(sh *types.SignedHeader, _ *types.ValidatorSet) (*types.SignedHeader, *types.ValidatorSet) {
				hdr := *sh.Header
				hdr.ValidatorsHash, hdr.NextValidatorsHash = attackVals.Hash(), attackVals.Hash()
				return &types.SignedHeader{Header: &hdr, Commit: signCommit(fc.chainID, &hdr, attackVals, attackers, allIdx(4))}, attackVals
			})
		},
		"top header re-signed by 2 of 4 honest validators": func(w *snapshotWire) {
			mutateTop(t, w, func(sh *types.SignedHeader, vals *types.ValidatorSet) (*types.SignedHeader, *types.ValidatorSet) {
				hdr := *sh.Header
				hdr.AppHash = bytes.Repeat([]byte{7}, 32)
				return &types.SignedHeader{Header: &hdr, Commit: signCommit(fc.chainID, &hdr, vals, fc.keys, []int{0, 1})}, vals
			})
		},
	}
	for name, mod := range mods {
		t.Run(name, func(t *testing.T) {
			w := decodeWire(t, data)
			mod(w)
			_, err := VerifySnapshot(encodeWire(t, w), root, now, 0)
			if !errors.Is(err, ErrSnapshotForged) {
				t.Fatalf("got %v, want ErrSnapshotForged", err)
			}
		})
	}
	// A different trust root (another consortium's genesis).
	other := TrustRoot{ChainID: fc.chainID, GenesisValidators: attackVals, InitialHeight: 1}
	if _, err := VerifySnapshot(data, other, now, 0); !errors.Is(err, ErrSnapshotForged) {
		t.Fatalf("other root: %v", err)
	}
	// Garbage and truncation.
	for _, bad := range [][]byte{nil, []byte("{}"), data[:len(data)/2], append(bytes.Clone(data), 0)} {
		if _, err := VerifySnapshot(bad, root, now, 0); !errors.Is(err, ErrSnapshotForged) {
			t.Fatalf("garbage: %v", err)
		}
	}
}

// Every single-byte change either is rejected as forged or leaves the proven content
// unchanged (e.g. a byte of a signature beyond the 2/3 already verified).
func TestSnapshotByteFlips(t *testing.T) {
	fc, _, _, data := exportTest(t)
	root := fc.root()
	now := time.Now()
	orig, err := VerifySnapshot(data, root, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	step := 61 // every byte takes ~2 minutes; a stride still covers every field
	if testing.Short() {
		step = 307
	}
	accepted := 0
	for i := 0; i < len(data); i += step {
		b := bytes.Clone(data)
		b[i] ^= 0x01
		s, err := VerifySnapshot(b, root, now, 0)
		if err == nil {
			accepted++
			if !sameContent(orig, s) {
				t.Fatalf("byte %d flipped: verifies with different content", i)
			}
			continue
		}
		if !errors.Is(err, ErrSnapshotForged) {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	t.Logf("%d bytes, %d flips accepted with identical content", len(data), accepted)
}

func sameContent(a, b *Snapshot) bool {
	return a.height == b.height && a.time.Equal(b.time) && bytes.Equal(a.appHash, b.appHash) &&
		reflect.DeepEqual(a.members, b.members) && reflect.DeepEqual(a.types, b.types) &&
		reflect.DeepEqual(a.windows, b.windows) && reflect.DeepEqual(a.status, b.status) &&
		reflect.DeepEqual(a.params, b.params) && reflect.DeepEqual(a.dids, b.dids)
}

func mutateTop(t *testing.T, w *snapshotWire, f func(*types.SignedHeader, *types.ValidatorSet) (*types.SignedHeader, *types.ValidatorSet)) {
	top := &w.Headers[len(w.Headers)-1]
	lb, err := decodeLightBlock(*top)
	if err != nil {
		t.Fatal(err)
	}
	sh, vals := f(lb.SH, lb.Vals)
	if vals == nil {
		vals = lb.Vals
	}
	h, err := encodeLightBlock(&lightBlock{SH: sh, Vals: vals})
	if err != nil {
		t.Fatal(err)
	}
	*top = h
	_ = cmtproto.SignedHeader{}
}

func TestSnapshotFileErrors(t *testing.T) {
	if _, err := VerifySnapshotFile(filepath.Join(t.TempDir(), "none"), TrustRoot{ChainID: "x", Height: 1, Hash: make([]byte, 32)}, time.Now(), 0); err == nil || errors.Is(err, ErrSnapshotForged) {
		t.Fatalf("missing file: %v", err)
	}
	_ = os.Remove
}
