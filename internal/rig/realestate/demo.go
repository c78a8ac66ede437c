// Package realestate runs the real-estate registration scenario (不动产登记) end to end, headless,
// on a fresh embedded consortium ledger, with the real window verifier: public security
// issues a household register and civil affairs a marriage certificate (SD-JWT VC with a
// status entry on the ledger, and the same credential as a W3C VC 2.0 with an
// eddsa-rdfc-2022 proof); the window shows its signed request QR; the citizen answers with
// both credentials in one QR; the window reads the QR image and verifies it against the
// ledger; the receipt is anchored on the ledger and its inclusion proof handed out; civil
// affairs revokes the certificate and a new answer is rejected online and offline (from a
// refreshed trust snapshot). With an output directory it writes what an outside auditor
// needs to re-check everything with independent implementations (manifest.json).
//
// It runs on a demo home (home.OpenDemo), the same wiring as the app: issuing and revocation
// use the issuer core (issuer.Department), receiving and presenting the wallet core (sealed
// key store, request planning, one-QR answer), verdicts the window's verifier with its
// online/offline trust switch; status, DIDs, catalogue and anchors are the ledger's. This
// package is a demo rig at the level of cmd/lz (it drives every core), which is why it lives
// under internal/rig. All personal data is invented test data.
package realestate

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/gateway"
	"lianzheng/home"
	"lianzheng/home/demonet"
	"lianzheng/internal/democitizen"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/qr"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// Report is what the scenario produced.
type Report struct {
	RequestQR      string
	ResponseQR     string
	QRVersion      int
	DecodedFromPNG bool
	Verdict        *verifier.Verdict
	Anchor         *verifier.Anchor
	ReceiptOK      bool // receipt signature and inclusion under the anchored root checked
	// WalletHistory: the wallet imported the receipt and found it anchored on the ledger.
	WalletHistory    bool
	WalletHistoryErr string
	AfterRevoke      *verifier.Verdict
	OfflineRevoked   *verifier.Verdict
	W3CVerified      int
	LedgerHeight     int64
	Files            []string
}

// Manifest is manifest.json (paths relative to the output directory).
type Manifest struct {
	Credentials []ManifestCredential `json:"credentials"`
	Request     struct {
		Text string `json:"text"`
		PNG  string `json:"png"`
	} `json:"request"`
	Response struct {
		Text          string   `json:"text"`
		PNG           string   `json:"png"`
		Presentations []string `json:"presentations"`
		Nonce         string   `json:"nonce"`
		Audience      string   `json:"audience"`
	} `json:"response"`
	StatusListCredential string `json:"status_list_credential"`
	// PublicBaseURL is the consortium's public base URL (ledger params) the credentials'
	// URLs are under; Gateway is the index of the static copy of everything served there
	// (gateway/, each file at its URL path), which outside verifiers read.
	PublicBaseURL string `json:"public_base_url"`
	Gateway       string `json:"gateway"`
	TrustSnapshot string `json:"trust_snapshot"`
	Receipt       string `json:"receipt"`
	Genesis       string `json:"genesis"`
	Notes         string `json:"notes"`
}

// ManifestCredential names one issued credential's files.
type ManifestCredential struct {
	Type              string `json:"type"`
	SDJWTVC           string `json:"sd_jwt_vc"`
	W3CVC             string `json:"w3c_vc"`
	IssuerJWK         string `json:"issuer_jwk"`
	IssuerDIDDocument string `json:"issuer_did_document"`
}

var claims = democitizen.Claims()

var w3cTypes = map[string]string{"household-register": "HouseholdRegisterCredential", "marriage-certificate": "MarriageCertificateCredential"}

type file struct {
	name string
	data []byte
}

type issued struct {
	typ    *ledger.CredentialType
	member string
	sd     *sdjwt.SDJWT
	index  int
	w3c    map[string]any
	record string // issuer record id
}

// Run executes the scenario on a fresh demo home (home.OpenDemo) in a temporary directory,
// removed afterwards; outDir, if not empty, receives the auditor's files. The home's
// services (its in-process OpenID4VCI services, the window, the node) log to log (nil:
// nowhere).
func Run(ctx context.Context, outDir string, log *slog.Logger) (*Report, error) {
	dir, err := os.MkdirTemp("", "lz-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	h, err := home.OpenDemo(ctx, dir, &home.Options{EmptyBlocksInterval: 300 * time.Millisecond, Log: log})
	if err != nil {
		return nil, err
	}
	defer h.Close()
	cl := h.Ledger()
	keys := map[string]*demonet.DemoKey{}
	for _, id := range []string{"public-security", "civil-affairs", home.DemoWindow} {
		if keys[id], err = h.DemoKey(id); err != nil {
			return nil, err
		}
	}
	wk := keys[home.DemoWindow]
	window, _ := h.Window(home.DemoWindow)
	win := window.Core()
	view, err := window.Current(ctx)
	if err != nil {
		return nil, err
	}
	w, _ := view.Window(wk.DID)
	item := w.ServiceItems[0]

	// 1. The departments issue with the issuer core (catalogue authorisation, schema, random
	// status index, records without claim values); the citizen's wallet (sealed key store,
	// a fresh holder key per credential) checks each against the ledger and keeps it.
	citizen := h.Wallet()
	if err := citizen.Setup("20261125"); err != nil {
		return nil, err
	}
	wal, err := citizen.Core()
	if err != nil {
		return nil, err
	}
	deps := map[string]*issuer.Department{}
	var creds []*issued
	for _, fr := range item.Requests {
		typ, _ := view.Type(fr.Type)
		member := typ.Issuers[0]
		dep := deps[member]
		if dep == nil {
			d, ok := h.Issuer(member)
			if !ok {
				return nil, fmt.Errorf("demo: no department %s", member)
			}
			dep = d.Core()
			deps[member] = dep
		}
		kid, err := wal.Keys.NewEd25519()
		if err != nil {
			return nil, err
		}
		pub, err := wal.Keys.Public(kid)
		if err != nil {
			return nil, err
		}
		hp, _ := did.NewPublicKey(pub)
		iss, err := dep.Issue(ctx, issuer.Request{Type: typ.ID, Claims: claims[typ.ID], Holder: hp})
		if err != nil {
			return nil, fmt.Errorf("issue %s: %w", typ.ID, err)
		}
		if _, err := wal.Accept(ctx, cl, iss.SDJWT, kid); err != nil {
			return nil, fmt.Errorf("wallet accept %s: %w", typ.ID, err)
		}
		sd, err := sdjwt.Parse(iss.SDJWT)
		if err != nil {
			return nil, err
		}
		creds = append(creds, &issued{typ: typ, member: member, sd: sd, index: iss.Record.StatusIndex, w3c: iss.W3C, record: iss.Record.ID})
	}
	rep := &Report{}
	for _, c := range creds {
		if _, err := dataintegrity.Verify(c.w3c, func(vm string) (ed25519.PublicKey, error) {
			k, err := did.AssertionKeyAt(ctx, view, vm, time.Now())
			if err != nil {
				return nil, err
			}
			pk, _ := k.Key.(ed25519.PublicKey)
			return pk, nil
		}); err != nil {
			return nil, fmt.Errorf("w3c verify: %w", err)
		}
		rep.W3CVerified++
	}

	// 2. The window's request QR.
	req, err := win.NewRequest(ctx, item.ID)
	if err != nil {
		return nil, err
	}
	rep.RequestQR = req.Text
	reqPNG, err := req.PNG()
	if err != nil {
		return nil, err
	}

	// 3. The citizen checks the request's signature with the window key on the ledger,
	// discloses exactly what was asked, in one QR.
	// allowInvalid: present even a credential the wallet knows is revoked (as a wallet with
	// stale status would), to show the window's own check.
	allowInvalid := false
	answer := func(r *verifier.Request) (string, []string, error) {
		plan, err := wal.PlanRequest(ctx, r.Text)
		if err != nil {
			return "", nil, err
		}
		if plan.OverAsk {
			return "", nil, fmt.Errorf("demo: the wallet says the window over-asks: %s", plan.Warning.En)
		}
		o := &wallet.PresentOptions{AllowInvalid: allowInvalid, Choose: map[string]string{}}
		for _, a := range plan.Asks {
			if a.Chosen == "" && len(a.Candidates) > 0 && allowInvalid {
				o.Choose[a.Type] = a.Candidates[0].ID
			}
		}
		resp, err := wal.Present(ctx, plan, o)
		if err != nil {
			return "", nil, err
		}
		return resp.QR, resp.Texts, nil
	}
	resp, texts, err := answer(req)
	if err != nil {
		return nil, err
	}
	rep.ResponseQR = resp
	if rep.QRVersion, err = qr.Version(resp); err != nil {
		return nil, err
	}
	respPNG, err := qr.RenderPNG(resp, 0)
	if err != nil {
		return nil, err
	}

	// 4. The window reads the QR image and verifies against the ledger.
	if s, err := qr.DecodePNG(respPNG); err == nil && s == resp {
		rep.DecodedFromPNG = true
	}
	rep.Verdict = win.VerifyPNG(ctx, respPNG)
	if !rep.Verdict.OK {
		return rep, fmt.Errorf("demo: the genuine answer was rejected: %s (%s)", rep.Verdict.Code, rep.Verdict.Detail)
	}
	verdictJSON, _ := json.MarshalIndent(rep.Verdict, "", "  ")
	win.CloseSession() // the clerk is done: disclosed values dropped

	// 5. The receipt is anchored; the citizen gets it with its inclusion proof.
	if rep.Anchor, err = window.Anchor(ctx); err != nil {
		return nil, err
	}
	bundle, err := win.Receipt(rep.Verdict.ReceiptID)
	if err != nil {
		return nil, err
	}
	onLedger, err := cl.Anchor(ctx, wk.DID, rep.Anchor.Seq)
	if err != nil {
		return nil, err
	}
	if _, err := verifier.CheckReceipt(ctx, bundle, window, onLedger.Root); err == nil {
		rep.ReceiptOK = true
	}
	receiptQR, _ := bundle.Text()
	// The citizen scans the receipt QR: the wallet checks it and the anchor on the ledger
	// and attaches it to its access history (who saw which fields, why, when).
	if wb, err := wire.ParseReceiptBundle([]byte(receiptQR)); err == nil {
		if h, err := wal.ImportReceipt(ctx, wb, cl); err == nil {
			rep.WalletHistory = h.VerifiedLedger
		} else {
			rep.WalletHistoryErr = err.Error()
		}
	}

	// 6. Civil affairs revokes the certificate on the ledger: a new answer is rejected
	// online, and offline from a refreshed trust snapshot.
	var mc *issued
	for _, c := range creds {
		if c.typ.ID == "marriage-certificate" {
			mc = c
		}
	}
	if _, _, err := deps[mc.member].Revoke(ctx, mc.record); err != nil {
		return nil, err
	}
	if _, err := window.Trust(ctx, true); err != nil { // read the ledger again
		return nil, err
	}
	allowInvalid = true
	req2, err := win.NewRequest(ctx, item.ID)
	if err != nil {
		return nil, err
	}
	resp2, _, err := answer(req2)
	if err != nil {
		return nil, err
	}
	rep.AfterRevoke = win.Verify(ctx, resp2)
	// The window saves a fresh trust snapshot and goes offline on it.
	info, err := window.SaveSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	rep.LedgerHeight = info.Height
	if _, err := window.SetOffline(ctx, true); err != nil {
		return nil, err
	}
	req3, err := win.NewRequest(ctx, item.ID)
	if err != nil {
		return nil, err
	}
	resp3, _, err := answer(req3)
	if err != nil {
		return nil, err
	}
	rep.OfflineRevoked = win.Verify(ctx, resp3)

	if outDir == "" {
		return rep, nil
	}
	// 7. The auditor's files.
	var fs []file
	var m Manifest
	for i, c := range creds {
		res, err := view.Resolve(ctx, "did:lz:"+c.member)
		if err != nil {
			return nil, err
		}
		k := keys[c.member]
		pub, _ := did.NewPublicKey(k.PublicKey())
		jwk := map[string]any{}
		jb, _ := json.Marshal(pub.JWK())
		json.Unmarshal(jb, &jwk)
		jwk["kid"] = k.KeyID
		id := c.typ.ID
		mc := ManifestCredential{Type: id, SDJWTVC: "credentials/" + id + ".sd-jwt", W3CVC: "credentials/" + id + ".w3c-vc.json",
			IssuerJWK: "issuers/" + c.member + ".jwk.json", IssuerDIDDocument: "issuers/" + c.member + ".did.json"}
		m.Credentials = append(m.Credentials, mc)
		fs = append(fs, file{mc.SDJWTVC, []byte(c.sd.String())}, file{mc.W3CVC, jsonBytes(c.w3c)},
			file{mc.IssuerJWK, jsonBytes(jwk)}, file{mc.IssuerDIDDocument, jsonBytes(res.Document)})
		p := fmt.Sprintf("response/presentation-%d-%s.txt", i+1, id)
		m.Response.Presentations = append(m.Response.Presentations, p)
		fs = append(fs, file{p, []byte(texts[i])})
	}
	m.Request.Text, m.Request.PNG = "request/request-qr.txt", "request/request-qr.png"
	m.Response.Text, m.Response.PNG = "response/response-qr.txt", "response/response-qr.png"
	m.Response.Nonce, m.Response.Audience = req.Request.NonceString(), req.Request.Audience()
	fs = append(fs, file{m.Request.Text, []byte(req.Text)}, file{m.Request.PNG, reqPNG},
		file{m.Response.Text, []byte(resp)}, file{m.Response.PNG, respPNG})
	// The public gateway's static copy, current with the revocation above.
	gw := h.Gateway()
	if err := gw.Refresh(ctx); err != nil {
		return nil, err
	}
	idx, err := gw.Export(filepath.Join(outDir, "gateway"))
	if err != nil {
		return nil, err
	}
	for _, e := range idx.Files {
		rep.Files = append(rep.Files, "gateway"+e.Path)
	}
	m.PublicBaseURL = idx.PublicBaseURL
	m.Gateway = "gateway/" + gateway.IndexFile
	m.StatusListCredential = "gateway" + strings.TrimPrefix(ledger.StatusListURL(idx.PublicBaseURL, mc.member, 0), idx.PublicBaseURL)
	snapBytes, err := os.ReadFile(window.SnapshotFile())
	if err != nil {
		return nil, err
	}
	m.TrustSnapshot = "trust/trust-snapshot.bin"
	gen, _ := os.ReadFile(h.Genesis())
	m.Genesis = "trust/genesis.json"
	m.Receipt = "receipt/receipt.json"
	fs = append(fs, file{m.TrustSnapshot, snapBytes}, file{m.Genesis, gen},
		file{m.Receipt, jsonBytes(map[string]any{"bundle": bundle, "anchor_on_ledger": onLedger})},
		file{"receipt/receipt-qr.txt", []byte(receiptQR)},
		file{"window/verdict.json", verdictJSON})
	m.Notes = "All personal data is invented test data. gateway/ is a static copy of what the consortium " +
		"publishes under public_base_url (gateway/gateway-index.json lists each file's URL path and content type): " +
		"status lists of every department in both encodings, DID resolution results, type metadata. " +
		"status_list_credential is the IETF Token Status List of " +
		"civil-affairs' list 0 after the revocation, signed by civil-affairs' key. The trust snapshot verifies " +
		"against trust/genesis.json (light-client rules). Presentations are the standard SD-JWT+KB texts the " +
		"response QR decodes to (nonce and audience as given). The receipt bundle's proof is RFC 6962 shaped " +
		"(leaf = SHA-256(0x00||receipt JWS))."
	fs = append(fs, file{"manifest.json", jsonBytes(m)})
	for _, f := range fs {
		p := filepath.Join(outDir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, f.name)
	}
	return rep, nil
}

func jsonBytes(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}
