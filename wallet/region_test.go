package wallet

import (
	"context"
	"crypto"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// govern passes a governance action on the demo ledger of home with its demo members' keys.
func govern(t *testing.T, cl *ledgerclient.Client, home, action string, payload any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := demonet.Govern(ctx, cl, func(id string) (*demonet.DemoKey, error) { return demonet.LoadKey(demonet.KeyDir(home), id) },
		action, payload); err != nil {
		t.Fatal(err)
	}
}

// httpURL is a node's RPC address as an http URL (it may come as tcp://host:port).
func httpURL(rpc string) string {
	if _, rest, ok := strings.Cut(rpc, "://"); ok {
		rpc = rest
	}
	return "http://" + rpc
}

// agreement is a recognition of the ledger at home (genesis, node) as region.
func agreement(t *testing.T, region, home, node string) *ledger.Recognition {
	t.Helper()
	g, err := os.ReadFile(ledgernode.GenesisFile(home))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	r := &ledger.Recognition{Region: region, Name: ledger.Text{Zh: region, En: region}, Nodes: []string{node},
		Types:     []ledger.RecognisedType{{Type: "household-register", AcceptedAs: "household-register", ServiceItems: []string{"property-transfer"}}},
		ValidFrom: now.Add(-time.Hour).Format(time.RFC3339), ValidUntil: now.AddDate(1, 0, 0).Format(time.RFC3339), MaxAgeSeconds: 3600}
	if err := ledgerclient.RecognitionFromGenesis(r, g); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPresentAcrossRegions: a citizen of region B (the wallet's home ledger) holds a household
// register issued in B and answers region A's real-estate window. The window is not on B's
// ledger: the wallet follows B's agreement about A to A's ledger (a light client rooted in the
// agreement), takes the window's registration there, and offers the B credential because A's
// agreement about B accepts B's household register at that service item; the presentation it
// builds verifies with B's issuer key, bound to A's window and nonce. Once A withdraws its
// agreement, the wallet offers nothing for that request.
func TestPresentAcrossRegions(t *testing.T) {
	a := ledgerEnv(t) // region A: the demo ledger
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bHome, err := os.MkdirTemp("", "lz-wallet-region-b-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(bHome)
	if _, _, err := demonet.InitEmbedded(bHome, demonet.EmbeddedOptions{ChainID: "lz-wallet-region-b", IDPrefix: "b-",
		EmptyBlocksInterval: 200 * time.Millisecond, Now: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	bNode, err := ledgernode.StartHomeNode(ctx, bHome, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bNode.Stop()
	bRoot, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(bHome))
	if err != nil {
		t.Fatal(err)
	}
	bcl, err := ledgerclient.Dial(bNode.RPCAddress(), bRoot, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	aOfB := agreement(t, "region-b", bHome, httpURL(bNode.RPCAddress()))
	govern(t, a.cl, a.home, ledger.ActionRecognitionPut, aOfB)
	defer govern(t, a.cl, a.home, ledger.ActionRecognitionRemove, map[string]string{"region": "region-b"})
	govern(t, bcl, bHome, ledger.ActionRecognitionPut, agreement(t, "region-a", a.home, httpURL(a.node.RPCAddress())))

	// A household register issued in B, held by a wallet whose home is B.
	w := newTestWallet(t, bcl)
	ps, err := demonet.LoadKey(demonet.KeyDir(bHome), "b-public-security")
	if err != nil {
		t.Fatal(err)
	}
	kid, err := w.Keys.NewEd25519()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := w.Keys.Public(kid)
	hp, _ := did.NewPublicKey(pub)
	var disc []string
	for k := range householdClaims {
		disc = append(disc, k)
	}
	sd, err := sdjwtvc.Issue(sdjwtvc.Credential{Issuer: ps.DID, KeyID: ps.KeyID, VCT: "urn:lz:vct:household-register",
		IssuedAt: time.Now().Add(-time.Minute), Expires: time.Now().AddDate(1, 0, 0), Claims: householdClaims, Disclosable: disc,
		Holder: hp, Status: &sdjwtvc.Status{Index: 4242, URI: ledger.StatusListURI(ps.ID, 0)}}, jws.NewEd25519Signer(ps.PrivateKey()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.Accept(ctx, bcl, sd.String(), kid)
	if err != nil {
		t.Fatal(err)
	}

	reqText, r := windowRequest(t, a, nil)
	plan, err := w.PlanRequest(ctx, reqText)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Region == nil || plan.Region.Region != "region-a" || plan.Window.DID != windowDID || plan.Department != "realestate" {
		t.Fatalf("plan: region %+v, window %+v", plan.Region, plan.Window)
	}
	var hr *Ask
	for i := range plan.Asks {
		if plan.Asks[i].Type == "household-register" {
			hr = &plan.Asks[i]
		}
	}
	if hr == nil || hr.Chosen != c.ID || len(hr.Allowed) == 0 {
		t.Fatalf("household register ask: %+v", hr)
	}
	resp, err := w.Present(ctx, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Texts) != 1 {
		t.Fatalf("%d presentations", len(resp.Texts))
	}
	v, err := sdjwtvc.Verify(resp.Texts[0], sdjwtvc.VerifyOptions{
		IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
			k, err := did.AssertionKeyAt(ctx, did.MultiResolver{LZ: bcl}, kid, at)
			return k.Key, err
		},
		Nonce: r.NonceString(), Audience: r.Audience(), Now: time.Now(),
	})
	if err != nil {
		t.Fatalf("A's window would reject it: %v", err)
	}
	if !slices.Equal(sorted(v.Disclosed), sorted(hr.Allowed)) {
		t.Fatalf("disclosed %v, allowed %v", v.Disclosed, hr.Allowed)
	}

	// A withdraws its agreement about B: the wallet offers nothing for A's request.
	govern(t, a.cl, a.home, ledger.ActionRecognitionRemove, map[string]string{"region": "region-b"})
	plan, err = w.PlanRequest(ctx, reqText)
	if err != nil {
		t.Fatal(err)
	}
	for _, ask := range plan.Asks {
		if len(ask.Candidates) != 0 {
			t.Fatalf("after A withdrew: %s still offers %d credentials", ask.Type, len(ask.Candidates))
		}
	}
	govern(t, a.cl, a.home, ledger.ActionRecognitionPut, aOfB) // for the deferred removal
}
