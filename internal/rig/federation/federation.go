// Package federation runs the cross-region scenario (跨区域互认, docs/federation.md) on two real
// consortia on loopback, for `lz demo --federation` and its test: region A is the demo city
// (home.OpenDemo: its embedded ledger, departments, real-estate window), region B a second
// region (示例乙市, assets.RegionBCatalogue) run by three validators (internal/rig/testnet).
// Each records, by its own governance, an agreement about the other; B's departments issue a
// household register and a marriage certificate to a citizen whose wallet's home is B; A's
// window verifies them online and offline (from its snapshot and B's), refuses the household
// register offline once B revoked it and A's window refreshed its snapshots, and refuses B's
// credentials once A withdrew its agreement. Only what was observed is reported true.
//
// Everything here is invented test data (测试用户, TEST numbers) in temporary directories.
package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lianzheng/assets"
	"lianzheng/credential"
	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/internal/rig/testnet"
	"lianzheng/issuer"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// Result is the manifest's federation object: each boolean true only when observed.
type Result struct {
	CrossRegionVerifiedOnline    bool     `json:"cross_region_verified_online"`
	CrossRegionVerifiedOffline   bool     `json:"cross_region_verified_offline"`
	ForeignRevokedRefusedOffline bool     `json:"foreign_revoked_refused_offline"`
	WithdrawnRefused             bool     `json:"withdrawn_refused"`
	WithdrawnCode                string   `json:"withdrawn_code,omitempty"`
	Files                        []string `json:"files"`
}

// Options of Run.
type Options struct {
	Out      string            // the auditor's files (both genesis files, the agreements, the snapshots, manifest.json); "" none
	Log      *slog.Logger      // the services' logs (nil: discarded)
	Keystore *keystore.Options // the wallets' key stores (tests: a cheap KDF)
	Step     func(zh, en string)
}

const bChain = "lz-region-b"

var (
	hrClaims = map[string]any{"name": "测试用户丙", "id_number": "TEST00000000000003", "birth_date": "1991-02-03",
		"relation_to_head": "户主", "household_number": "TEST-B-0001", "address": "示例乙省示例乙市样例区演示路2号", "marital_status": "已婚"}
	mcClaims = map[string]any{"holder_name": "测试用户丙", "spouse_name": "测试用户丁", "spouse_id_number": "TEST00000000000004",
		"registration_date": "2019-06-01", "certificate_number": "TEST-B-J-0001", "registry": "示例乙市民政局婚姻登记处"}
)

// Run runs the scenario in a temporary directory (removed afterwards).
func Run(ctx context.Context, o Options) (*Result, error) {
	step := o.Step
	if step == nil {
		step = func(string, string) {}
	}
	tmp, err := os.MkdirTemp("", "lz-federation-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	res := &Result{}

	step("启动甲地（示例市）联盟链与各部门", "starting region A (the demo city): ledger and departments")
	a, err := home.OpenDemo(ctx, filepath.Join(tmp, "a"), &home.Options{Log: o.Log, Keystore: o.Keystore, EmptyBlocksInterval: 300 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("region A: %w", err)
	}
	defer a.Close()

	step("启动乙地（示例乙市）联盟链：3 个验证节点", "starting region B (Example City B): 3 validators")
	cat, err := assets.RegionBCatalogue()
	if err != nil {
		return nil, err
	}
	bDir := filepath.Join(tmp, "b")
	tn, err := testnet.Init(bDir, testnet.Options{Validators: 3, ChainID: bChain, Catalogue: cat, EmptyBlocksInterval: 300 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("region B: %w", err)
	}
	for _, n := range tn.Nodes {
		node, err := ledgernode.StartHomeNode(ctx, n.Home, nil)
		if err != nil {
			return nil, fmt.Errorf("region B %s: %w", n.Name, err)
		}
		defer node.Stop()
	}
	bGenesis := filepath.Join(bDir, "genesis.json")
	bRoot, err := ledgerclient.GenesisRootFile(bGenesis)
	if err != nil {
		return nil, err
	}
	bcl, err := ledgerclient.Dial(tn.Nodes[0].RPC, bRoot, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	bKey := func(id string) (*demonet.DemoKey, error) { return demonet.LoadKey(demonet.KeyDir(bDir), id) }

	step("两地以各自的治理表决记录互认协议", "each region records its agreement about the other by its own governance")
	var bNodes []string
	for _, n := range tn.Nodes {
		bNodes = append(bNodes, "http://"+n.RPC)
	}
	aOfB, err := agreement("region-b", ledger.Text{Zh: "示例乙市", En: "Example City B"}, bGenesis, bNodes,
		[]ledger.RecognisedType{
			{Type: "household-register", AcceptedAs: "household-register", ServiceItems: []string{"property-transfer", "property-transfer-online"}},
			{Type: "marriage-certificate", AcceptedAs: "marriage-certificate", ServiceItems: []string{"property-transfer", "property-transfer-online"}},
		})
	if err != nil {
		return nil, err
	}
	bOfA, err := agreement("region-a", ledger.Text{Zh: "示例市", En: "Example City"}, a.Genesis(), []string{httpURL(a.NodeRPC())},
		[]ledger.RecognisedType{{Type: "household-register", AcceptedAs: "household-register", ServiceItems: []string{"hukou-transfer"}}})
	if err != nil {
		return nil, err
	}
	if err := demonet.Govern(ctx, a.Ledger(), a.DemoKey, ledger.ActionRecognitionPut, aOfB); err != nil {
		return nil, fmt.Errorf("region A's agreement: %w", err)
	}
	if err := demonet.Govern(ctx, bcl, bKey, ledger.ActionRecognitionPut, bOfA); err != nil {
		return nil, fmt.Errorf("region B's agreement: %w", err)
	}

	step("乙地签发户口簿与结婚证给乙地市民", "region B issues a household register and a marriage certificate to its citizen")
	w, err := wallet.Init(filepath.Join(tmp, "wallet-b"), "246810", &wallet.Options{Keystore: o.Keystore})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	w.Ledger = bcl
	hrRec, err := issueB(ctx, bcl, bKey, filepath.Join(tmp, "issuer"), w, "yi-public-security", "household-register", hrClaims)
	if err != nil {
		return nil, err
	}
	if _, err := issueB(ctx, bcl, bKey, filepath.Join(tmp, "issuer"), w, "yi-civil-affairs", "marriage-certificate", mcClaims); err != nil {
		return nil, err
	}

	win, ok := a.Window("realestate-window-01")
	if !ok {
		return nil, errors.New("region A has no real-estate window")
	}
	present := func(allowInvalid bool) (*verifier.Verdict, error) {
		req, err := win.NewRequest(ctx, "property-transfer")
		if err != nil {
			return nil, err
		}
		p, err := w.PlanRequest(ctx, req.Text)
		if err != nil {
			return nil, err
		}
		po := &wallet.PresentOptions{AllowInvalid: allowInvalid}
		if allowInvalid { // an old copy shown anyway: the window must refuse it
			po.Choose = map[string]string{}
			for _, ask := range p.Asks {
				if len(ask.Candidates) > 0 {
					po.Choose[ask.Type] = ask.Candidates[0].ID
				}
			}
		}
		r, err := w.Present(ctx, p, po)
		if err != nil {
			return nil, err
		}
		return win.Verify(ctx, r.QR), nil
	}
	foreignOK := func(vd *verifier.Verdict) bool {
		if !vd.OK {
			return false
		}
		for _, c := range vd.Credentials {
			if c.Region == nil || c.Region.ID != "region-b" {
				return false
			}
		}
		return len(vd.Credentials) == 2
	}

	step("甲地窗口在线核验乙地证照", "region A's window verifies region B's credentials online")
	vd, err := present(false)
	if err != nil {
		return nil, fmt.Errorf("online: %w", err)
	}
	res.CrossRegionVerifiedOnline = foreignOK(vd)

	step("甲地窗口保存两地信任快照，离线核验", "region A's window saves both regions' snapshots and verifies offline")
	if _, err := win.SaveSnapshot(ctx); err != nil {
		return nil, err
	}
	if _, err := win.SetOffline(ctx, true); err != nil {
		return nil, err
	}
	if vd, err = present(false); err != nil {
		return nil, fmt.Errorf("offline: %w", err)
	}
	res.CrossRegionVerifiedOffline = foreignOK(vd) && vd.Trust.Source == "snapshot"
	if err := copyFiles(o.Out, res, map[string]string{"snapshot-region-a.cbor": win.SnapshotFile(),
		"snapshot-region-b.cbor": verifier.ForeignSnapshotFile(win.SnapshotFile(), "region-b")}); err != nil {
		return nil, err
	}

	step("乙地撤销户口簿；甲地窗口刷新快照后离线核验", "region B revokes the household register; region A's window refreshes its snapshots, offline")
	if err := revokeB(ctx, bcl, bKey, filepath.Join(tmp, "issuer"), hrRec); err != nil {
		return nil, err
	}
	if _, err := win.SetOffline(ctx, false); err != nil {
		return nil, err
	}
	if _, err := win.SaveSnapshot(ctx); err != nil {
		return nil, err
	}
	if _, err := win.SetOffline(ctx, true); err != nil {
		return nil, err
	}
	if vd, err = present(true); err != nil {
		return nil, fmt.Errorf("revoked, offline: %w", err)
	}
	res.ForeignRevokedRefusedOffline = !vd.OK && vd.Code == credential.CodeRevoked && vd.Trust.Source == "snapshot"

	step("甲地撤回互认协议后在线核验", "region A withdraws its agreement; online again")
	if _, err := win.SetOffline(ctx, false); err != nil {
		return nil, err
	}
	// The citizen's wallet prepared its answer (the consent screen) before the withdrawal and
	// shows it after: the window must refuse it. (A wallet asked afterwards offers nothing:
	// region A no longer recognises B's credentials.)
	req, err := win.NewRequest(ctx, "property-transfer")
	if err != nil {
		return nil, err
	}
	p, err := w.PlanRequest(ctx, req.Text)
	if err != nil {
		return nil, err
	}
	if err := demonet.Govern(ctx, a.Ledger(), a.DemoKey, ledger.ActionRecognitionRemove, map[string]string{"region": "region-b"}); err != nil {
		return nil, err
	}
	if _, err := win.Trust(ctx, true); err != nil {
		return nil, err
	}
	r, err := w.Present(ctx, p, &wallet.PresentOptions{AllowInvalid: true})
	if err != nil {
		return nil, fmt.Errorf("withdrawn: %w", err)
	}
	vd = win.Verify(ctx, r.QR)
	res.WithdrawnRefused, res.WithdrawnCode = !vd.OK, string(vd.Code)
	if after, err := w.PlanRequest(ctx, req.Text); err == nil {
		for _, ask := range after.Asks {
			if len(ask.Candidates) > 0 {
				res.WithdrawnRefused = false // the wallet still offers them: not refused everywhere
			}
		}
	}

	agreements, _ := json.MarshalIndent(map[string]any{"region_a_about_b": aOfB, "region_b_about_a": bOfA}, "", "  ")
	if err := writeFiles(o.Out, res, map[string][]byte{"agreements.json": agreements}); err != nil {
		return nil, err
	}
	if err := copyFiles(o.Out, res, map[string]string{"genesis-region-a.json": a.Genesis(), "genesis-region-b.json": bGenesis}); err != nil {
		return nil, err
	}
	if o.Out != "" {
		m, _ := json.MarshalIndent(map[string]any{"federation": res}, "", "  ")
		if err := os.WriteFile(filepath.Join(o.Out, "manifest.json"), append(m, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// agreement is a recognition of the chain of genesis as region.
func agreement(region string, name ledger.Text, genesis string, nodes []string, types []ledger.RecognisedType) (*ledger.Recognition, error) {
	g, err := os.ReadFile(genesis)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	r := &ledger.Recognition{Region: region, Name: name, Nodes: nodes, Types: types,
		ValidFrom: now.Add(-time.Hour).Format(time.RFC3339), ValidUntil: now.AddDate(1, 0, 0).Format(time.RFC3339), MaxAgeSeconds: 3600}
	if err := ledgerclient.RecognitionFromGenesis(r, g); err != nil {
		return nil, err
	}
	return r, r.Validate()
}

// issueB issues typ with claims from region B's department dept to the wallet (a fresh
// holder key), through the issuer core (records in dir), and stores it in the wallet.
func issueB(ctx context.Context, bcl *ledgerclient.Client, key func(string) (*demonet.DemoKey, error), dir string, w *wallet.Wallet,
	dept, typ string, claims map[string]any) (string, error) {
	d, err := openIssuer(ctx, bcl, key, dir, dept)
	if err != nil {
		return "", err
	}
	defer d.Close()
	kid, err := w.Keys.NewEd25519()
	if err != nil {
		return "", err
	}
	pub, err := w.Keys.Public(kid)
	if err != nil {
		return "", err
	}
	hk, err := did.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	is, err := d.Issue(ctx, issuer.Request{Type: typ, Claims: claims, Holder: hk})
	if err != nil {
		return "", fmt.Errorf("region B issues %s: %w", typ, err)
	}
	if _, err := w.Accept(ctx, bcl, is.SDJWT, kid); err != nil {
		return "", fmt.Errorf("the wallet takes %s: %w", typ, err)
	}
	return dept + "/" + is.Record.ID, nil
}

func openIssuer(ctx context.Context, bcl *ledgerclient.Client, key func(string) (*demonet.DemoKey, error), dir, dept string) (*issuer.Department, error) {
	k, err := key(dept)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return issuer.Open(ctx, issuer.Config{ID: dept, Key: k.PrivateKey(), KeyID: k.KeyID, Ledger: bcl,
		DBPath: filepath.Join(dir, dept+".db"), Sealer: issuer.DemoSealer(k.PrivateKey().Seed())})
}

// revokeB revokes a record ("dept/id") in region B and waits for the next block.
func revokeB(ctx context.Context, bcl *ledgerclient.Client, key func(string) (*demonet.DemoKey, error), dir, rec string) error {
	dept, id, _ := strings.Cut(rec, "/")
	d, err := openIssuer(ctx, bcl, key, dir, dept)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, _, err := d.SetStatus(ctx, id, issuer.ActionRevoke); err != nil {
		return fmt.Errorf("region B revokes: %w", err)
	}
	return nil
}

func httpURL(rpc string) string {
	if _, rest, ok := strings.Cut(rpc, "://"); ok {
		rpc = rest
	}
	return "http://" + rpc
}

func writeFiles(out string, res *Result, files map[string][]byte) error {
	for name, b := range files {
		res.Files = append(res.Files, name)
		if out == "" {
			continue
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func copyFiles(out string, res *Result, files map[string]string) error {
	m := map[string][]byte{}
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		m[name] = b
	}
	return writeFiles(out, res, m)
}
