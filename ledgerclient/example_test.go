package ledgerclient_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// A department's client: trust the genesis the consortium distributed, read with proofs,
// write a revocation, export a trust snapshot for an offline window.
func Example() {
	ctx := context.Background()
	root, err := ledgerclient.GenesisRootFile("/etc/lianzheng/genesis.json")
	if err != nil {
		log.Fatal(err)
	}
	c, err := ledgerclient.Dial("http://127.0.0.1:26657", root, ledgerclient.Config{})
	if err != nil {
		log.Fatal(err)
	}
	// Verified reads (ErrNotFound is a proven absence; ErrUnverified a lying node).
	t, err := c.TypeByVCT(ctx, "urn:lz:vct:household-register")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Issuers)
	// did:lz through the standard resolver.
	res, err := did.MultiResolver{LZ: c}.Resolve(ctx, "did:lz:public-security")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.History.Keys))
	// A write, confirmed committed (height and result code verified).
	var signer ledgerclient.Signer // KeyID "did:lz:public-security#key-1", Key: its Ed25519 key
	r, err := c.StatusSet(ctx, signer, 0, ledger.StatusUpdate{Index: 4711, Value: ledger.StatusRevoked})
	if err != nil {
		log.Fatal(err) // errors.Is(err, ledgerclient.ErrTxUnauthorized) etc.
	}
	// A snapshot including that write, for a window that works offline.
	if _, err := c.ExportFile(ctx, "trust.lzsnap", r.Height); err != nil {
		log.Fatal(err)
	}
}

// The window, offline: verify the snapshot against the same trust root, with a maximum age.
func ExampleVerifySnapshotFile() {
	root, err := ledgerclient.GenesisRootFile("/etc/lianzheng/genesis.json")
	if err != nil {
		log.Fatal(err)
	}
	s, err := ledgerclient.VerifySnapshotFile("trust.lzsnap", root, time.Now(), 24*time.Hour)
	if err != nil {
		log.Fatal(err) // ErrSnapshotForged or ErrSnapshotStale: fail closed
	}
	var view ledgerclient.TrustView = s
	list, _ := view.StatusList(context.Background(), "public-security", 0)
	status, err := ledger.StatusAt(list, 4711) // ledger.StatusValid, StatusRevoked, StatusSuspended
	fmt.Println(status, err, s.Age(time.Now()))
}
