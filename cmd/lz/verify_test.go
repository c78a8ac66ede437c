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

	"lianzheng/home/demonet"
	ledgernode "lianzheng/ledger/node"
)

// lz verify request | check | snapshot | anchor | receipt against an embedded node, in
// process: online and offline checks, receipts anchored and handed out with their proof.
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
	if fi, err := os.Stat(png); err != nil || fi.Size() == 0 {
		t.Fatal("no request PNG")
	}
	out.Reset()
	err = verifyCheck([]string{"--home", home, "--lang", "en"}, strings.NewReader("lz1r:abc\r\n"), &out)
	if err == nil || !strings.Contains(out.String(), "[malformed]") || !strings.Contains(out.String(), "trust: online") {
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
	id := regexp.MustCompile(`"receipt_id": "([^"]+)"`).FindStringSubmatch(out.String())
	if id == nil {
		t.Fatalf("no receipt id in %s", out.String())
	}
	out.Reset()
	if err := verifyAnchor([]string{"--home", home}, &out); err != nil || !strings.Contains(out.String(), "anchored 2 receipts") {
		t.Fatalf("anchor: %v %s", err, out.String())
	}
	out.Reset()
	if err := verifyReceipt([]string{"--home", home, "--id", id[1]}, &out); err != nil || !strings.Contains(out.String(), `"proof"`) || !strings.Contains(out.String(), "LZ1E:") {
		t.Fatalf("receipt: %v %s", err, out.String())
	}
}
