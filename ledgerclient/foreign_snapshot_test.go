package ledgerclient

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"lianzheng/ledger"
)

// TestForeignSnapshot: offline across regions. Region A's snapshot carries its agreement
// about B; B's own snapshot verifies against that agreement (B's genesis validators and chain
// id as the root) and gives B's members and status lists; it is refused as stale past the
// agreement's maximum age, as untrusted when the agreement names other validators or another
// chain or a byte of B's file is changed, and as inactive outside the agreement's validity.
// A snapshot in the format before agreements were carried still verifies, with none.
func TestForeignSnapshot(t *testing.T) {
	aKeys, bKeys := genKeys(4), genKeys(4)
	bState := newTestState(t, 3)
	fb := newFakeChainWith(t, "lz-region-b", bKeys, bState.seed)
	fb.mine()
	fb.autoMine = true
	bc, err := New(fb, fb.root(), Config{PollInterval: time.Millisecond, ResubmitAfter: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.StatusSet(bg, signer(bState, deptID(0)), 0, ledger.StatusUpdate{Index: 77, Value: ledger.StatusRevoked}); err != nil {
		t.Fatal(err)
	}
	var bData bytes.Buffer
	if _, err := bc.Export(bg, &bData, 0); err != nil {
		t.Fatal(err)
	}

	aState := newTestState(t, 3)
	rec := recognitionOf(t, fb)
	aState.seed[string(ledger.KeyRecognition(rec.Region))] = mustJSON(t, rec)
	fa := newFakeChainWith(t, "lz-region-a", aKeys, aState.seed)
	fa.mine()
	fa.autoMine = true
	ac, err := New(fa, fa.root(), Config{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var aData bytes.Buffer
	if _, err := ac.Export(bg, &aData, 0); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	as, err := VerifySnapshot(aData.Bytes(), fa.root(), now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := as.Recognition("region-b")
	if err != nil || got.ChainID != "lz-region-b" || len(as.Recognitions()) != 1 {
		t.Fatalf("A's snapshot: %+v %v", got, err)
	}
	if _, err := as.Recognition("region-z"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}

	bs, err := VerifyForeignSnapshot(got, bData.Bytes(), now)
	if err != nil {
		t.Fatal(err)
	}
	if bs.ChainID() != "lz-region-b" || len(bs.Members()) != 3 {
		t.Fatalf("B's snapshot: chain %s, %d members", bs.ChainID(), len(bs.Members()))
	}
	if l, err := bs.StatusList(bg, deptID(0), 0); err != nil || statusAt(l, 77) != ledger.StatusRevoked {
		t.Fatalf("B's status: %v", err)
	}

	var se *StaleError
	if _, err := VerifyForeignSnapshot(got, bData.Bytes(), now.Add(got.MaxAge()+time.Hour)); !errors.Is(err, ErrForeignStale) || !errors.As(err, &se) {
		t.Fatalf("stale: %v", err)
	}
	other := *got
	other.Validators = recognitionOf(t, fa).Validators
	wrongChain := *got
	wrongChain.ChainID = "lz-region-c"
	flipped := bytes.Clone(bData.Bytes())
	flipped[len(flipped)/2] ^= 0x01
	for name, c := range map[string]struct {
		rec  *ledger.Recognition
		data []byte
	}{
		"other validators": {&other, bData.Bytes()},
		"another chain":    {&wrongChain, bData.Bytes()},
		"a byte changed":   {got, flipped},
	} {
		if _, err := VerifyForeignSnapshot(c.rec, c.data, now); !errors.Is(err, ErrForeignUntrusted) {
			t.Errorf("%s: %v", name, err)
		}
	}
	expired := *got
	expired.ValidFrom, expired.ValidUntil = "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
	for name, r := range map[string]*ledger.Recognition{"expired": &expired, "none": nil} {
		if _, err := VerifyForeignSnapshot(r, bData.Bytes(), now); !errors.Is(err, ErrAgreementInactive) {
			t.Errorf("%s agreement: %v", name, err)
		}
	}

	// The format before agreements: five ranges.
	var w snapshotWire
	if err := cborDec.Unmarshal(aData.Bytes(), &w); err != nil {
		t.Fatal(err)
	}
	w.Ranges = w.Ranges[:oldSnapshotRanges]
	old, err := cborEnc.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	os, err := VerifySnapshot(old, fa.root(), now, time.Hour)
	if err != nil || len(os.Recognitions()) != 0 {
		t.Fatalf("old format: %v", err)
	}
}
