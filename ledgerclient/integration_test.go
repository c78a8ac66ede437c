package ledgerclient_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// TestEmbeddedNode runs the client against a real embedded CometBFT node with the demo
// consortium genesis: writes by demo department keys, verified reads, did:lz rotation
// history, a trust snapshot verified offline after the node stopped.
func TestEmbeddedNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	if _, _, err := demonet.InitEmbedded(home, demonet.EmbeddedOptions{EmptyBlocksInterval: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	node, err := ledgernode.StartHomeNode(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			node.Stop()
		}
	}()
	root, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(home))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ledgerclient.Dial(node.RPCAddress(), root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	keys := demonet.KeyDir(home)
	ps, err := demonet.LoadKey(keys, "public-security")
	if err != nil {
		t.Fatal(err)
	}
	psSigner := ledgerclient.Signer{KeyID: ps.KeyID, Key: ps.PrivateKey()}

	// Verified reads of the genesis state.
	ms, err := cl.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 {
		t.Fatalf("%d members", len(ms))
	}
	if ty, err := cl.TypeByVCT(ctx, "urn:lz:vct:household-register"); err != nil || ty.Issuers[0] != "public-security" {
		t.Fatalf("type: %+v %v", ty, err)
	}
	if _, err := cl.Window(ctx, "did:lz:realestate-window-01"); err != nil {
		t.Fatal(err)
	}

	// status.set by the department's key, read back verified.
	start := time.Now()
	res, err := cl.StatusSet(ctx, psSigner, 0, ledger.StatusUpdate{Index: 1234, Value: ledger.StatusRevoked})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status.set committed in block %d in %s", res.Height, time.Since(start).Round(time.Millisecond))
	list, err := cl.StatusList(ctx, "public-security", 0)
	if err != nil {
		t.Fatal(err)
	}
	if statusAt(list, 1234) != ledger.StatusRevoked || statusAt(list, 1235) != 0 {
		t.Fatal("revocation not visible")
	}
	// The same bytes again: the node's mempool cache refuses them (typed, not by text),
	// and SubmitRaw still confirms the committed copy.
	_, tx, err := ledger.NewEnvelope(root.ChainID, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 1236, Value: 1}}}, psSigner)
	if err != nil {
		t.Fatal(err)
	}
	first, err := cl.SubmitRaw(ctx, ledger.TxStatusSet, tx)
	if err != nil {
		t.Fatal(err)
	}
	rpc, err := ledgerclient.NewHTTPRPC(node.RPCAddress(), ledgerclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rpc.BroadcastTxSync(ctx, tx); !errors.Is(err, ledgerclient.ErrTxInCache) {
		t.Fatalf("rebroadcast of a committed tx: %v", err)
	}
	if again, err := cl.SubmitRaw(ctx, ledger.TxStatusSet, tx); err != nil || again.Height != first.Height {
		t.Fatalf("resubmitted committed tx: %+v %v", again, err)
	}
	// Someone else's key cannot write our list (signer must be the owning member).
	ca, _ := demonet.LoadKey(keys, "civil-affairs")
	_, err = cl.Submit(ctx, ledgerclient.Signer{KeyID: ps.KeyID, Key: ca.PrivateKey()}, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}}})
	if !errors.Is(err, ledgerclient.ErrTxBadSignature) {
		t.Fatalf("wrong key: %v", err)
	}

	// Key rotation: add key-2 (signed by key-1), then revoke key-1 (signed by key-2).
	k2, err := ps.Rotated("key-2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DIDAddKey(ctx, psSigner, ps.DID, k2.Record(time.Now())); err != nil {
		t.Fatal(err)
	}
	k2Signer := ledgerclient.Signer{KeyID: k2.KeyID, Key: k2.PrivateKey()}
	if _, err := cl.DIDRevokeKey(ctx, k2Signer, ps.DID, "key-1", false); err != nil {
		t.Fatal(err)
	}
	mr := did.MultiResolver{LZ: cl}
	r, err := mr.Resolve(ctx, ps.DID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.History.Keys) != 2 || r.History.Keys[0].ValidUntil == nil || len(r.Document.VerificationMethod) != 1 ||
		r.Document.VerificationMethod[0].ID != ps.DID+"#key-2" {
		t.Fatalf("rotation: %+v %+v", r.History, r.Document)
	}
	revokedAt := *r.History.Keys[0].ValidUntil
	if _, err := did.AssertionKeyAt(ctx, mr, ps.KeyID, revokedAt.Add(-time.Millisecond)); err != nil {
		t.Fatalf("key-1 before rotation: %v", err)
	}
	if _, err := did.AssertionKeyAt(ctx, mr, ps.KeyID, revokedAt); !errors.Is(err, did.ErrKeyNotValid) {
		t.Fatalf("key-1 after rotation: %v", err)
	}
	// The old key no longer signs transactions.
	if _, err := cl.StatusSet(ctx, psSigner, 0, ledger.StatusUpdate{Index: 1, Value: 1}); !errors.Is(err, ledgerclient.ErrTxBadSignature) {
		t.Fatalf("revoked key: %v", err)
	}

	// anchor.post by the window's key; k-of-n governance (params.set needs 3 of 5).
	win, err := demonet.LoadKey(keys, "realestate-window-01")
	if err != nil {
		t.Fatal(err)
	}
	root64 := "5d5b09f6dcb2d53a5fffc60c4ac0d55fabdf556069d6631545f42aa6e3500f2e"
	if _, err := cl.AnchorPost(ctx, ledgerclient.Signer{KeyID: win.KeyID, Key: win.PrivateKey()}, root64, 7); err != nil {
		t.Fatal(err)
	}
	if n, err := cl.AnchorSeq(ctx, win.DID); err != nil || n != 1 {
		t.Fatalf("anchor seq %d %v", n, err)
	}
	if a, err := cl.Anchor(ctx, win.DID, 1); err != nil || a.Root != root64 || a.Count != 7 {
		t.Fatalf("anchor %+v %v", a, err)
	}
	if _, err := cl.AnchorPost(ctx, k2Signer, root64, 1); !errors.Is(err, ledgerclient.ErrTxUnauthorized) {
		t.Fatalf("anchor by a department: %v", err)
	}
	pr, err := cl.ProposalCreate(ctx, k2Signer, ledger.ActionParamsSet, ledger.Params{Approvals: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"civil-affairs", "market-regulation"} {
		k, _ := demonet.LoadKey(keys, id)
		if _, err := cl.ProposalApprove(ctx, ledgerclient.Signer{KeyID: k.KeyID, Key: k.PrivateKey()}, pr.ProposalID); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := cl.Proposal(ctx, pr.ProposalID); err != nil || p.Status != "applied" || len(p.Approvals) != 3 {
		t.Fatalf("proposal %+v %v", p, err)
	}
	if p, err := cl.Params(ctx); err != nil || p.Approvals != 2 {
		t.Fatalf("params %+v %v", p, err)
	}
	if _, err := cl.ProposalApprove(ctx, ca2(t, keys), pr.ProposalID); !errors.Is(err, ledgerclient.ErrTxRejected) {
		t.Fatalf("approve applied proposal: %v", err)
	}

	// did.create by a department (the controller), then did.deactivate.
	re, _ := demonet.LoadKey(keys, "realestate")
	reS := ledgerclient.Signer{KeyID: re.KeyID, Key: re.PrivateKey()}
	nk, err := demonet.NewDemoKey("realestate-window-02")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DIDCreate(ctx, reS, nk.DID, []did.KeyRecord{nk.Record(time.Now())}); err != nil {
		t.Fatal(err)
	}
	if r, err := mr.Resolve(ctx, nk.DID); err != nil || r.History.Controller != re.DID || r.Document == nil {
		t.Fatalf("created DID: %+v %v", r, err)
	}
	if _, err := cl.DIDCreate(ctx, reS, nk.DID, []did.KeyRecord{nk.Record(time.Now())}); !errors.Is(err, ledgerclient.ErrTxConflict) {
		t.Fatalf("create twice: %v", err)
	}
	if _, err := cl.DIDDeactivate(ctx, reS, nk.DID); err != nil {
		t.Fatal(err)
	}
	if r, err := mr.Resolve(ctx, nk.DID); err != nil || !r.Metadata.Deactivated || r.Document != nil {
		t.Fatalf("deactivated DID: %+v %v", r, err)
	}

	// Revoke 2000 with the new key, export, then revoke 3000 after the snapshot.
	if _, err := cl.StatusSet(ctx, k2Signer, 0, ledger.StatusUpdate{Index: 2000, Value: ledger.StatusSuspended}); err != nil {
		t.Fatal(err)
	}
	snapPath := filepath.Join(t.TempDir(), "trust.lzsnap")
	start = time.Now()
	snap, err := cl.ExportFile(ctx, snapPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot at height %d: %d bytes, exported in %s", snap.Height(), snap.Size(), time.Since(start).Round(time.Millisecond))
	if _, err := cl.StatusSet(ctx, k2Signer, 0, ledger.StatusUpdate{Index: 3000, Value: ledger.StatusRevoked}); err != nil {
		t.Fatal(err)
	}
	if err := node.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true

	// Offline.
	s, err := ledgerclient.VerifySnapshotFile(snapPath, root, time.Now(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var tv ledgerclient.TrustView = s
	sl, err := tv.StatusList(ctx, "public-security", 0)
	if err != nil {
		t.Fatal(err)
	}
	if statusAt(sl, 1234) != ledger.StatusRevoked || statusAt(sl, 2000) != ledger.StatusSuspended || statusAt(sl, 3000) != 0 {
		t.Fatalf("snapshot status: %d %d %d", statusAt(sl, 1234), statusAt(sl, 2000), statusAt(sl, 3000))
	}
	r2, err := did.MultiResolver{LZ: tv}.Resolve(ctx, ps.DID)
	if err != nil || len(r2.History.Keys) != 2 || r2.Document.VerificationMethod[0].ID != ps.DID+"#key-2" {
		t.Fatalf("snapshot resolve: %+v %v", r2, err)
	}
	if len(s.Members()) != 5 || len(s.Windows()) != 2 || len(s.Types()) < 2 { // the hall window and the online service
		t.Fatalf("snapshot registries: %d %d %d", len(s.Members()), len(s.Windows()), len(s.Types()))
	}
	if _, err := ledgerclient.VerifySnapshotFile(snapPath, root, s.Time().Add(2*time.Hour), time.Hour); !errors.Is(err, ledgerclient.ErrSnapshotStale) {
		t.Fatalf("stale: %v", err)
	}
}

func ca2(t *testing.T, keys string) ledgerclient.Signer {
	k, err := demonet.LoadKey(keys, "vehicle-admin")
	if err != nil {
		t.Fatal(err)
	}
	return ledgerclient.Signer{KeyID: k.KeyID, Key: k.PrivateKey()}
}

// statusAt is ledger.StatusAt with -1 for an index outside the list.
func statusAt(list []byte, i int) int {
	v, err := ledger.StatusAt(list, i)
	if err != nil {
		return -1
	}
	return v
}
