package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/home/demonet"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// TestWalletCLI is a scripted citizen on the embedded ledger: init (PIN from LZ_PIN),
// receive from the real department service, list, show, status, present to the real window
// (which accepts), history, backup, restore, wrong PIN.
func TestWalletCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lh := t.TempDir()
	if _, _, err := demonet.InitEmbedded(lh, demonet.EmbeddedOptions{EmptyBlocksInterval: 200 * time.Millisecond, Now: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	node, err := ledgernode.StartHomeNode(ctx, lh, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop()
	root, _ := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(lh))
	cl, err := ledgerclient.Dial(node.RPCAddress(), root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dk, _ := demonet.LoadKey(demonet.KeyDir(lh), "civil-affairs")
	d, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: jws.NewEd25519Signer(dk.PrivateKey()), Ledger: cl, DBPath: filepath.Join(t.TempDir(), "i.db"), Sealer: issuer.DemoSealer(dk.PrivateKey().Seed())})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv := &oid4vci.Server{Dept: d}
	var loseCredential atomic.Bool // the department issues, and its answer is lost
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/credential" && loseCredential.CompareAndSwap(true, false) {
			srv.Handler().ServeHTTP(httptest.NewRecorder(), r)
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	srv.IssuerURL = hs.URL
	o, err := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: map[string]any{
		"holder_name": "测试用户甲", "spouse_name": "测试用户乙", "spouse_id_number": "TEST00000000000002",
		"registration_date": "2018-05-20", "certificate_number": "TEST-J-2018-0001", "registry": "示例市民政局婚姻登记处"}}, 0)
	if err != nil {
		t.Fatal(err)
	}

	home := filepath.Join(t.TempDir(), "wallet")
	t.Setenv("LZ_PIN", "246810")
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := runWallet(args, &out); err != nil {
			t.Fatalf("lz wallet %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	L := []string{"--home", home, "--ledger-home", lh}
	run("init", "--home", home)
	out := run(append([]string{"receive", "--offer", srv.OfferURI(o), "--tx-code", o.PIN, "--insecure-http"}, L...)...)
	if !strings.Contains(out, "marriage-certificate") {
		t.Fatal(out)
	}
	out = run(append([]string{"list"}, L...)...)
	if !strings.Contains(out, "结婚证") && !strings.Contains(out, "有效") {
		t.Fatal(out)
	}
	id := strings.Fields(out)[0]
	if out = run(append([]string{"show", "--id", id}, L...)...); !strings.Contains(out, "测试用户乙") {
		t.Fatal(out)
	}
	if out = run(append([]string{"status", "--id", id}, L...)...); !strings.Contains(out, "valid") {
		t.Fatal(out)
	}

	wk, _ := demonet.LoadKey(demonet.KeyDir(lh), "realestate-window-01")
	v, err := verifier.New(verifier.Config{Trust: verifier.NewOnlineTrust(cl, time.Second), Window: wk.DID, KeyID: wk.KeyID, Key: wk.PrivateKey()})
	if err != nil {
		t.Fatal(err)
	}
	win, _ := cl.Window(ctx, wk.DID)
	req, err := v.NewRequest(ctx, win.ServiceItems[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// without --yes nothing is presented
	if out = run(append([]string{"present", "--request", req.Text}, L...)...); !strings.Contains(out, "--yes") || strings.Contains(out, "LZ1R:") {
		t.Fatal(out)
	}
	answer := filepath.Join(t.TempDir(), "answer.txt")
	out = run(append([]string{"present", "--request", req.Text, "--yes", "--out", answer}, L...)...)
	text, _ := os.ReadFile(answer)
	vd := v.Verify(ctx, string(text))
	// the wallet holds only the marriage certificate: the window sees it verified and the
	// household register missing
	var ok bool
	for _, c := range vd.Credentials {
		if c.Type == "marriage-certificate" && c.OK {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("window verdict %+v\n%s", vd, out)
	}
	// offline at the window: a trust snapshot instead of a node
	snap := filepath.Join(t.TempDir(), "trust.lzsnap")
	if _, err := cl.ExportFile(ctx, snap, 0); err != nil {
		t.Fatal(err)
	}
	req2, err := v.NewRequest(ctx, win.ServiceItems[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	answer2 := filepath.Join(t.TempDir(), "answer2.txt")
	run("present", "--home", home, "--genesis", ledgernode.GenesisFile(lh), "--snapshot", snap, "--request", req2.Text, "--yes", "--out", answer2)
	text2, _ := os.ReadFile(answer2)
	ok = false
	vd2 := v.Verify(ctx, string(text2))
	for _, c := range vd2.Credentials {
		if c.Type == "marriage-certificate" && c.OK {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("offline answer: %+v", vd2)
	}
	if out = run("history", "--home", home); !strings.Contains(out, win.ServiceItems[0].Purpose.Zh) {
		t.Fatal(out)
	}
	bak := filepath.Join(t.TempDir(), "w.lzbak")
	t.Setenv("LZ_BACKUP_PASSPHRASE", "correct horse battery")
	run("backup", "--home", home, "--out", bak)
	home2 := filepath.Join(t.TempDir(), "w2")
	run("restore", "--home", home2, "--in", bak)
	if out = run("list", "--home", home2); !strings.Contains(out, id) {
		t.Fatal(out)
	}
	// A receive interrupted after the department issued: the next command completes it.
	o2, err := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: map[string]any{
		"holder_name": "测试用户甲", "spouse_name": "测试用户丙", "spouse_id_number": "TEST00000000000003",
		"registration_date": "2019-05-20", "certificate_number": "TEST-J-2019-0001", "registry": "示例市民政局婚姻登记处"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	loseCredential.Store(true)
	var buf bytes.Buffer
	err = runWallet(append([]string{"receive", "--offer", srv.OfferURI(o2), "--tx-code", o2.PIN, "--insecure-http"}, L...), &buf)
	if !errors.Is(err, wallet.ErrReceivePending) || !strings.Contains(err.Error(), "继续") {
		t.Fatalf("interrupted receive: %v", err)
	}
	if st, _, _ := d.OfferState(ctx, o2.ID); st != issuer.OfferIssued {
		t.Fatal(st)
	}
	if out = run(append([]string{"list"}, L...)...); strings.Count(out, "\n") != 2 || !strings.Contains(out, id) {
		t.Fatalf("after resuming: %s", out)
	}
	buf.Reset()
	if err := runWallet([]string{"list", "--home", home, "--pin", "135790"}, &buf); err == nil || !strings.Contains(err.Error(), "wrong PIN") {
		t.Fatalf("wrong PIN: %v", err)
	}
}
