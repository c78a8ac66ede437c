package main

import (
	"context"
	"os"
	"testing"
	"time"

	"lianzheng/home/demonet"
	ledgernode "lianzheng/ledger/node"
)

// startDemoLedger makes an embedded demo ledger home (genesis a minute ago, blocks every
// 200 ms when idle, opt's public base URL) and starts its node until the test ends. The home
// is a temporary directory removed at cleanup (not t.TempDir: CometBFT may still be closing
// files when the test's directories are checked).
func startDemoLedger(t *testing.T, ctx context.Context, opt demonet.EmbeddedOptions) (home string, node *ledgernode.Node) {
	t.Helper()
	home, err := os.MkdirTemp("", "lz-cmd-ledger-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if opt.EmptyBlocksInterval == 0 {
		opt.EmptyBlocksInterval = 200 * time.Millisecond
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now().Add(-time.Minute)
	}
	if _, _, err := demonet.InitEmbedded(home, opt); err != nil {
		t.Fatal(err)
	}
	node, err = ledgernode.StartHomeNode(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Stop() })
	return home, node
}
