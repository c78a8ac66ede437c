package testnet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/ledger"
	"lianzheng/ledger/node"
	ledgernode "lianzheng/ledger/node"
)

// startEmbedded makes and starts a demo embedded node in a temp dir.
func startEmbedded(t testing.TB) (*demonet.Consortium, *ledgernode.Node, *rpchttp.HTTP, string) {
	t.Helper()
	home := t.TempDir()
	c, _, err := demonet.InitEmbedded(home, demonet.EmbeddedOptions{EmptyBlocksInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := node.StartHomeNode(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
	})
	cl, err := n.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c, n, cl, home
}

func submit(t *testing.T, ctx context.Context, cl *rpchttp.HTTP, chain string, k *demonet.DemoKey, typ string, body any) int64 {
	t.Helper()
	tx, err := NewTx(chain, k, typ, body)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Submit(ctx, cl, tx, SubmitOptions{})
	if err != nil {
		t.Fatalf("%s by %s: %v", typ, k.KeyID, err)
	}
	return r.Height
}

// TestEmbeddedNode: a demo embedded node over the real ledger app commits signed
// transactions sent through RPC; their effects read back with ICS23 proofs checked against
// the AppHash of header H+1 (itself checked against the validators' commit); forged proofs
// are rejected; a restart keeps state.
func TestEmbeddedNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	c, n, cl, home := startEmbedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := n.WaitForHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}
	chain := c.ChainID
	if n.ChainID() != chain {
		t.Fatalf("chain %s vs %s", n.ChainID(), chain)
	}

	// status.set by civil-affairs: entry 12345 of list 0 revoked.
	ca := c.Key("civil-affairs")
	const idx = 12345
	h := submit(t, ctx, cl, chain, ca, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: idx, Value: ledger.StatusRevoked}}})
	chunk := idx * 2 / 8 / ledger.StatusChunkBytes
	key := ledger.KeyStatusChunk("civil-affairs", 0, chunk)
	pv, err := QueryProved(ctx, cl, chain, key, h)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Height != h || pv.Header.Height != h+1 {
		t.Fatalf("proved at %d with header %d, tx at %d", pv.Height, pv.Header.Height, h)
	}
	off := idx*2/8 - chunk*ledger.StatusChunkBytes
	if got, err := ledger.StatusAt(pv.Value, idx-chunk*ledger.StatusChunkEntries); err != nil || got != ledger.StatusRevoked {
		t.Fatalf("entry %d = %d", idx, got)
	}

	// Forged proofs: a tampered value, another key, another app hash.
	res, err := cl.ABCIQueryWithOptions(ctx, ledger.QueryKey, key, rpcQueryOptions(h))
	if err != nil {
		t.Fatal(err)
	}
	ops := res.Response.ProofOps
	good := pv.Header.AppHash
	if err := verifyProofOps(good, key, res.Response.Value, ops); err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), res.Response.Value...)
	tampered[off] ^= 0xC0 >> (2 * (idx % 4)) // flip entry idx back to "valid"
	if err := verifyProofOps(good, key, tampered, ops); err == nil {
		t.Fatal("a tampered value verified")
	}
	if err := verifyProofOps(good, key, nil, ops); err == nil {
		t.Fatal("an existence proof verified as absence")
	}
	badHash := append([]byte(nil), good...)
	badHash[0] ^= 1
	if err := verifyProofOps(badHash, key, res.Response.Value, ops); err == nil {
		t.Fatal("verified against a wrong app hash")
	}
	if err := verifyProofOps(good, ledger.KeyStatusChunk("civil-affairs", 0, chunk+1), res.Response.Value, ops); err == nil {
		t.Fatal("verified for another key")
	}
	// The state at h does not verify against header h (the proof needs header h+1).
	hdrH, err := VerifiedHeader(ctx, cl, chain, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyProofOps(hdrH.AppHash, key, res.Response.Value, ops); err == nil {
		t.Fatal("state at H verified against header H")
	}
	// Absence: public security never wrote list 3.
	abs, err := QueryProved(ctx, cl, chain, ledger.KeyStatusChunk("public-security", 3, 0), 0)
	if err != nil || abs.Value != nil {
		t.Fatalf("absence: %v %v", err, abs)
	}

	// did.add_key rotation by civil-affairs: add key-2 (signed by key-1), revoke key-1 (signed by
	// key-2); key-1 can no longer sign.
	k2, err := ca.Rotated("key-2")
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, cl, chain, ca, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: ca.DID, Key: k2.Record(time.Time{})})
	hr := submit(t, ctx, cl, chain, k2, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: ca.DID, KeyID: "key-1"})
	pv, err = QueryProved(ctx, cl, chain, ledger.KeyDID(ca.DID), hr)
	if err != nil {
		t.Fatal(err)
	}
	var hist did.History
	if err := json.Unmarshal(pv.Value, &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist.Keys) != 2 || hist.Keys[0].ValidUntil == nil || hist.Keys[1].ID != "key-2" || hist.Keys[1].ValidUntil != nil {
		t.Fatalf("history after rotation: %+v", hist.Keys)
	}
	if _, err := hist.KeyAt("key-2", pv.Header.Time); err != nil {
		t.Fatal(err)
	}
	tx, _ := NewTx(chain, ca, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}}})
	var te *TxError
	if _, err := Submit(ctx, cl, tx, SubmitOptions{}); !errors.As(err, &te) || te.Code != ledger.CodeBadSignature {
		t.Fatalf("old key after rotation: %v", err)
	}
	submit(t, ctx, cl, chain, k2, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 1, Value: 2}}})

	// anchor.post by the real-estate window.
	root := sha256.Sum256([]byte("receipts batch 1"))
	w := c.Key("realestate-window-01")
	ha := submit(t, ctx, cl, chain, w, ledger.TxAnchorPost, ledger.AnchorPost{Root: hex.EncodeToString(root[:]), Count: 3})
	pv, err = QueryProved(ctx, cl, chain, ledger.KeyAnchor(w.DID, 1), ha)
	if err != nil {
		t.Fatal(err)
	}
	var an ledger.Anchor
	if err := json.Unmarshal(pv.Value, &an); err != nil || an.Root != hex.EncodeToString(root[:]) || an.Height != ha || an.Window != w.DID {
		t.Fatalf("anchor %+v %v", an, err)
	}
	// A department that is not a window cannot anchor.
	tx, _ = NewTx(chain, c.Key("vehicle-admin"), ledger.TxAnchorPost, ledger.AnchorPost{Root: hex.EncodeToString(root[:]), Count: 1})
	if _, err := Submit(ctx, cl, tx, SubmitOptions{}); !errors.As(err, &te) || te.Code != ledger.CodeUnauthorized {
		t.Fatalf("anchor by a department: %v", err)
	}

	// Restart on the same home: height and app hash survive; state still proves.
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := st.SyncInfo.LatestBlockHeight
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	n2, err := node.StartHomeNode(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n2.Stop() })
	cl2, _ := n2.Client()
	if err := n2.WaitForHeight(ctx, before+1); err != nil {
		t.Fatal(err)
	}
	pv, err = QueryProved(ctx, cl2, chain, ledger.KeyAnchor(w.DID, 1), ha)
	if err != nil || pv.Value == nil {
		t.Fatalf("after restart: %v", err)
	}
	fmt.Fprintf(os.Stderr, "embedded node: %d blocks, proofs checked against headers h+1\n", n2.Height())
}

func rpcQueryOptions(h int64) rpcclient.ABCIQueryOptions {
	return rpcclient.ABCIQueryOptions{Height: h, Prove: true}
}
