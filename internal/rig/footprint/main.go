// Command footprint is the smallest real program a citizen's phone would carry: it opens a
// wallet, reads the ledger through the light client, answers a window request and checks an
// answer as a window would. It exists so that scripts/footprint.sh can measure what the cores
// link (packages, and the size of an android/arm64 build): a phone must carry the ledger model
// and the light client, never CometBFT's node, p2p or consensus. It is not shipped.
package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"time"

	"lianzheng/ledgerclient"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: footprint WALLET_DIR PIN GENESIS_JSON RPC_URL REQUEST_TEXT")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]); err != nil {
		fmt.Fprintln(os.Stderr, "footprint:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, pin, genesis, rpc, request string) error {
	root, err := ledgerclient.GenesisRootFile(genesis)
	if err != nil {
		return err
	}
	lc, err := ledgerclient.Dial(rpc, root, ledgerclient.Config{})
	if err != nil {
		return err
	}
	w, err := wallet.Open(dir, nil)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Unlock(pin); err != nil {
		return err
	}
	items, err := w.List(ctx)
	if err != nil {
		return err
	}
	plan, err := w.PlanRequest(ctx, request)
	if err != nil {
		return err
	}
	resp, err := w.Present(ctx, plan, nil)
	if err != nil {
		return err
	}
	// The same device checking an answer, as a window would (e.g. a clerk's phone).
	_, key, _ := ed25519.GenerateKey(nil)
	v, err := verifier.New(verifier.Config{
		Trust:  verifier.NewOnlineTrust(lc, time.Minute),
		Window: "did:lz:probe",
		KeyID:  "did:lz:probe#key-1",
		Key:    key,
	})
	if err != nil {
		return err
	}
	defer v.Close()
	fmt.Println(len(items), v.Verify(ctx, fmt.Sprint(resp)))
	return nil
}
