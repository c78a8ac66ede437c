package oid4vci_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// TestEmbeddedLedger runs the department against a real embedded CometBFT node with the demo
// consortium: offer → token → credential over HTTP on 127.0.0.1, verified with the ledger
// as resolver; an unauthorised type refused; suspend, resume and revoke each observed by a
// separate reader client.
func TestEmbeddedLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Not t.TempDir: CometBFT may still be closing files when the test ends.
	home, err := os.MkdirTemp("", "lz-issuer-ledger-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	if _, _, err := demonet.InitEmbedded(home, demonet.EmbeddedOptions{EmptyBlocksInterval: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	node, err := ledgernode.StartHomeNode(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop()
	root, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(home))
	if err != nil {
		t.Fatal(err)
	}
	dial := func() *ledgerclient.Client {
		c, err := ledgerclient.Dial(node.RPCAddress(), root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cl, reader := dial(), dial()
	dk, err := demonet.LoadKey(demonet.KeyDir(home), "civil-affairs")
	if err != nil {
		t.Fatal(err)
	}
	// The department key lives sealed in the key store; the department signs through it.
	ks, err := keystore.Init(t.TempDir(), "department passphrase", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	kid, err := ks.ImportEd25519(dk.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ks.Signer(kid)
	if err != nil {
		t.Fatal(err)
	}
	d, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: signer, Ledger: cl, DBPath: filepath.Join(t.TempDir(), "i.db"), Sealer: ks})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.KeyID != dk.KeyID {
		t.Fatal(d.KeyID)
	}
	srv := &oid4vci.Server{Dept: d}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	srv.IssuerURL = hs.URL

	// Not authorised for the household register: nothing issued.
	if _, err := d.CreateOffer(ctx, issuer.Request{Type: "household-register", Claims: map[string]any{"name": "x"}}, 0); !errors.Is(err, issuer.ErrNotAuthorised) {
		t.Fatal(err)
	}

	o, err := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := newWallet(t, srv.OfferURI(o))
	text := w.fetch(o.PIN)
	v, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{AllowNoKB: true, IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, did.MultiResolver{LZ: reader}, kid, at)
		return k.Key, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status == nil || v.Status.URI != ledger.StatusListURI("civil-affairs", 0) || !v.Holder.Equal(w.pub.Key) {
		t.Fatalf("%+v", v)
	}
	// The catalogue agrees the issuer is authorised for this vct.
	if ty, err := reader.TypeByVCT(ctx, v.VCT); err != nil || ty.Issuers[0] != "civil-affairs" {
		t.Fatal(ty, err)
	}
	rs, _ := d.Records(ctx, issuer.ListFilter{})
	if len(rs) != 1 || rs[0].StatusIndex != v.Status.Index || rs[0].OfferID != o.ID {
		t.Fatalf("%+v", rs)
	}
	// The same department issues directly (W3C form verified against the ledger DID).
	is, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: w.pub})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dataintegrity.Verify(is.W3C, func(vm string) (ed25519.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, did.MultiResolver{LZ: reader}, vm, time.Now())
		pk, _ := k.Key.(ed25519.PublicKey)
		return pk, err
	}); err != nil {
		t.Fatal(err)
	}
	observe := func(want int) {
		t.Helper()
		list, err := reader.StatusList(ctx, "civil-affairs", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ledger.StatusAt(list, v.Status.Index); err != nil || got != want {
			t.Fatalf("reader sees %d (%v), want %d", got, err, want)
		}
	}
	observe(ledger.StatusValid)
	for _, step := range []struct {
		f    func(context.Context, string) (*issuer.Record, *ledgerclient.TxResult, error)
		want int
	}{{d.Suspend, ledger.StatusSuspended}, {d.Resume, ledger.StatusValid}, {d.Revoke, ledger.StatusRevoked}} {
		start := time.Now()
		r, res, err := step.f(ctx, rs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		observe(step.want)
		t.Logf("%s: block %d, seen by the reader %s after the request", r.State, res.Height, time.Since(start).Round(time.Millisecond))
	}

	// Rotation: a new key from the key store, did.add_key + did.revoke_key on the ledger.
	kid2, err := ks.NewEd25519()
	if err != nil {
		t.Fatal(err)
	}
	signer2, _ := ks.Signer(kid2)
	rot, err := d.Rotate(ctx, signer2, false)
	if err != nil {
		t.Fatal(err)
	}
	if rot.OldKeyID != "did:lz:civil-affairs#key-1" || rot.NewKeyID != "did:lz:civil-affairs#key-2" || d.CurrentKeyID() != rot.NewKeyID || rot.RevokeHeight == 0 {
		t.Fatalf("%+v", rot)
	}
	is2, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: w.pub})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(text string) *sdjwtvc.Verified {
		t.Helper()
		v, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{AllowNoKB: true, IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
			k, err := did.AssertionKeyAt(ctx, did.MultiResolver{LZ: reader}, kid, at)
			return k.Key, err
		}})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The credential signed before the rotation still verifies (key-1 was valid at its iat).
	if v1, v2 := verify(is.SDJWT), verify(is2.SDJWT); v1.KeyID != rot.OldKeyID || v2.KeyID != rot.NewKeyID {
		t.Fatal(v1.KeyID, v2.KeyID)
	}
	// Status changes are now signed by key-2.
	if _, _, err := d.Suspend(ctx, is.Record.ID); err != nil {
		t.Fatal(err)
	}
	list, _ := reader.StatusList(ctx, "civil-affairs", 0)
	if s, err := ledger.StatusAt(list, is.Record.StatusIndex); err != nil || s != ledger.StatusSuspended {
		t.Fatal("suspension after rotation not seen")
	}
	// A department opened with the revoked key is refused.
	if _, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: signer, Ledger: cl, DBPath: filepath.Join(t.TempDir(), "x.db"), Sealer: ks}); !errors.Is(err, issuer.ErrKeyNotOnLedger) {
		t.Fatal(err)
	}
}
