package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
	"lianzheng/wallet"
)

// lz verify request | check | snapshot | anchor | receipt against an embedded node, in
// process: online and offline checks, receipts anchored and handed out with their proof —
// receipts only for a verdict in which a credential verified (a citizen's genuine answer,
// whose register lacks the optional marital status), never for unreadable text or a replay.
func TestVerifyCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	home := t.TempDir()
	if _, _, err := demonet.InitEmbedded(home, demonet.EmbeddedOptions{EmptyBlocksInterval: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := ledgernode.StartHomeNode(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	if err := n.WaitForHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	png := filepath.Join(t.TempDir(), "req.png")
	if err := verifyRequest([]string{"--home", home, "--png", png}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "LZ1Q:") {
		t.Fatalf("request: %q", out.String())
	}
	reqText := strings.TrimSpace(out.String())
	if fi, err := os.Stat(png); err != nil || fi.Size() == 0 {
		t.Fatal("no request PNG")
	}
	out.Reset()
	err = verifyCheck([]string{"--home", home, "--lang", "en"}, strings.NewReader("lz1r:abc\r\n"), &out)
	if err == nil || !strings.Contains(out.String(), "[malformed]") || !strings.Contains(out.String(), "trust: online") ||
		!strings.Contains(out.String(), "no receipt") {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	snap := filepath.Join(t.TempDir(), "trust.snap")
	out.Reset()
	if err := verifySnapshot([]string{"--home", home, "--out", snap}, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = verifyCheck([]string{"--home", home, "--snapshot", snap, "--json", "--text", "LZ1R:00"}, nil, &out)
	if err == nil || !strings.Contains(out.String(), `"source": "snapshot"`) {
		t.Fatalf("offline check: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "receipt_id") {
		t.Fatalf("a receipt for unreadable text: %s", out.String())
	}
	// a genuine answer (a household register issued without its optional marital status, and
	// a marriage certificate): accepted, the missing field named, a receipt; its replay: none
	out.Reset()
	answer := citizenAnswer(t, ctx, home, n.RPCAddress(), reqText)
	if err := verifyCheck([]string{"--home", home, "--json", "--text", answer}, nil, &out); err != nil ||
		!strings.Contains(out.String(), `"name": "marital_status"`) {
		t.Fatalf("genuine answer: %v\n%s", err, out.String())
	}
	id := regexp.MustCompile(`"receipt_id": "([^"]+)"`).FindStringSubmatch(out.String())
	if id == nil {
		t.Fatalf("no receipt id in %s", out.String())
	}
	out.Reset()
	if err := verifyCheck([]string{"--home", home, "--text", answer}, nil, &out); err == nil || !strings.Contains(out.String(), "[replayed]") ||
		!strings.Contains(out.String(), "no receipt") {
		t.Fatalf("replayed answer: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := verifyAnchor([]string{"--home", home}, &out); err != nil || !strings.Contains(out.String(), "anchored 1 receipts") {
		t.Fatalf("anchor: %v %s", err, out.String())
	}
	out.Reset()
	if err := verifyReceipt([]string{"--home", home, "--id", id[1]}, &out); err != nil || !strings.Contains(out.String(), `"proof"`) || !strings.Contains(out.String(), "LZ1E:") {
		t.Fatalf("receipt: %v %s", err, out.String())
	}
}

// citizenAnswer is a citizen's answer to the window request reqText: a wallet that received,
// from the demo departments' issuer cores, a household register without its optional
// marital status and a marriage certificate, and presents both.
func citizenAnswer(t *testing.T, ctx context.Context, ledgerHome, node, reqText string) string {
	t.Helper()
	root, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(ledgerHome))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ledgerclient.Dial(node, root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.Init(t.TempDir(), "246810", &wallet.Options{Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.Ledger = cl
	for _, typ := range []string{"household-register", "marriage-certificate"} {
		ct, err := cl.Type(ctx, typ)
		if err != nil {
			t.Fatal(err)
		}
		dep := ct.Issuers[0]
		dk, err := demonet.LoadKey(demonet.KeyDir(ledgerHome), dep)
		if err != nil {
			t.Fatal(err)
		}
		d, err := issuer.Open(ctx, issuer.Config{ID: dep, Signer: jws.NewEd25519Signer(dk.PrivateKey()), Ledger: cl,
			DBPath: filepath.Join(t.TempDir(), dep+".db"), Sealer: issuer.DemoSealer(dk.PrivateKey().Seed())})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		kid, err := w.Keys.NewEd25519()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := w.Keys.Public(kid)
		hk, _ := did.NewPublicKey(pub)
		is, err := d.Issue(ctx, issuer.Request{Type: typ, Claims: issuertest.SampleClaims(*ct, "marital_status"), Holder: hk})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Accept(ctx, cl, is.SDJWT, kid); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := w.PlanRequest(ctx, reqText)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.Present(ctx, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.QR
}
