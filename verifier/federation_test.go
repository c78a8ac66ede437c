package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/oid4vp"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/wire"
	"lianzheng/home/demonet"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// Region B of the federation tests: a second consortium with its own departments (member
// ids prefixed "b-"), its own catalogue entry for the household register (its own vct, and
// "full_name" where region A says "name"), its own chain, on loopback beside region A (the
// shared ledger of this package).
const (
	regionB      = "region-b"
	regionBChain = "lz-region-b"
	bVCT         = "urn:lz:region-b:vct:household-register"
	bMarriageVCT = "urn:lz:region-b:vct:marriage-certificate"
)

var bIDs = []string{"b-public-security", "b-civil-affairs", "b-vehicle-admin"}

// editRegionB makes the demo catalogue region B's.
func editRegionB(c *demonet.Consortium) error {
	for i := range c.State.Members {
		m := &c.State.Members[i]
		m.Name.Zh = strings.Replace(m.Name.Zh, "示例市", "示例乙市", 1)
		m.Name.En += ", region B"
	}
	for i := range c.State.Types {
		ct := &c.State.Types[i]
		ct.VCT = strings.Replace(ct.VCT, "urn:lz:vct:", "urn:lz:region-b:vct:", 1)
		if ct.ID != "household-register" {
			continue
		}
		for j := range ct.Claims {
			if ct.Claims[j].Name == "name" {
				ct.Claims[j].Name = "full_name"
			}
		}
		rename(ct.Disclosable)
	}
	for i := range c.State.Windows {
		for j := range c.State.Windows[i].ServiceItems {
			for k := range c.State.Windows[i].ServiceItems[j].Requests {
				if r := &c.State.Windows[i].ServiceItems[j].Requests[k]; r.Type == "household-register" {
					rename(r.Fields)
					rename(r.Optional)
				}
			}
		}
	}
	return nil
}

func rename(names []string) {
	for i := range names {
		if names[i] == "name" {
			names[i] = "full_name"
		}
	}
}

// rpcProxy stands between region A's windows and a ledger node: it passes calls through,
// refuses them (the node is down), forges the signed headers it relays, or relays another
// node (of another chain, or a fake of the same chain id).
type rpcProxy struct {
	srv    *httptest.Server
	target atomic.Pointer[string]
	mode   atomic.Int32
}

const (
	proxyPass = iota
	proxyDown
	proxyForge
)

func httpURL(rpc string) string {
	if strings.HasPrefix(rpc, "http") {
		return rpc
	}
	return "http://" + strings.TrimPrefix(rpc, "tcp://")
}

func newRPCProxy(target string) *rpcProxy {
	p := &rpcProxy{}
	p.target.Store(&target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.mode.Load() == proxyDown {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		resp, err := http.Post(*p.target.Load(), "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if p.mode.Load() == proxyForge && bytes.Contains(body, []byte(`"method":"commit"`)) {
			out = forgeCommit(out)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		w.Write(out)
	}))
	return p
}

// forgeCommit changes the AppHash of a relayed signed header: the header a node would
// show to make a window believe in other state.
func forgeCommit(b []byte) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	res, _ := m["result"].(map[string]any)
	sh, _ := res["signed_header"].(map[string]any)
	h, _ := sh["header"].(map[string]any)
	if h == nil {
		return b
	}
	h["app_hash"] = strings.Repeat("AB", 32)
	out, _ := json.Marshal(m)
	return out
}

// fed is the federation fixture: region A (the shared ledger), region B behind a proxy, and
// A's agreement recognising B.
type fed struct {
	a, b  *net
	proxy *rpcProxy
	rec   ledger.Recognition
}

var (
	fedOnce sync.Once
	fedNet  *fed
)

func federation(t testing.TB) *fed {
	a := sharedNet(t)
	fedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lz-verifier-region-b-")
		if err != nil {
			t.Fatal(err)
		}
		b := startRegionNet(t, dir, demonet.EmbeddedOptions{ChainID: regionBChain, IDPrefix: "b-", Edit: editRegionB}, bIDs)
		f := &fed{a: a, b: b, proxy: newRPCProxy(httpURL(b.node.RPCAddress()))}
		genesis, err := os.ReadFile(ledgernode.GenesisFile(b.home))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		f.rec = ledger.Recognition{Region: regionB, Name: ledger.Text{Zh: "示例乙市", En: "Example City B"},
			Nodes: []string{f.proxy.srv.URL},
			Types: []ledger.RecognisedType{
				{Type: "household-register", AcceptedAs: "household-register", ServiceItems: []string{"property-transfer", "property-transfer-online"},
					Claims: []ledger.ClaimRename{{Theirs: "full_name", Ours: "name"}}},
				{Type: "marriage-certificate", AcceptedAs: "marriage-certificate", ServiceItems: []string{"property-transfer"}},
			},
			ValidFrom: now.Add(-time.Hour).Format(time.RFC3339), ValidUntil: now.AddDate(1, 0, 0).Format(time.RFC3339), MaxAgeSeconds: 60}
		if err := ledgerclient.RecognitionFromGenesis(&f.rec, genesis); err != nil {
			t.Fatal(err)
		}
		a.govern(t, ledger.ActionRecognitionPut, &f.rec)
		fedNet = f
	})
	if fedNet == nil {
		t.Fatal("federation fixture failed")
	}
	return fedNet
}

// govern passes a governance action with the demo members' keys (demonet.Govern).
func (n *net) govern(t testing.TB, action string, payload any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := demonet.Govern(ctx, n.client, func(id string) (*demonet.DemoKey, error) { return demonet.LoadKey(demonet.KeyDir(n.home), id) },
		action, payload); err != nil {
		t.Fatal(err)
	}
}

var bClaims = map[string]any{
	"full_name": "测试用户丙", "id_number": "TEST00000000000003", "birth_date": "1991-02-03",
	"relation_to_head": "户主", "household_number": "TEST-B-0001",
	"address": "示例乙省示例乙市样例区演示路2号", "marital_status": "已婚",
}

var bFields = []string{"full_name", "id_number", "address", "marital_status"}

// issueB issues a household register in region B.
func (f *fed) issueB(t testing.TB) *held {
	h := f.b.issue(t, "household-register", issueOpt{issuer: "b-public-security", vct: bVCT, claims: bClaims})
	return h
}

// walletAnswer encodes presentations as a wallet does (wallet.Known: the window DID and, per
// credential, its issuer, key id, status list, vct and its type's claim names).
func walletAnswer(t testing.TB, r *Request, creds []*held, claimNames [][]string, texts ...string) string {
	t.Helper()
	parties := []wire.KnownParty{{DID: r.Request.Window}}
	var types []wire.KnownType
	for i, h := range creds {
		j, err := jws.Parse(h.sd.IssuerJWT)
		if err != nil {
			t.Fatal(err)
		}
		kid, _ := j.Header["kid"].(string)
		var p map[string]any
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			t.Fatal(err)
		}
		iss, _ := p["iss"].(string)
		vct, _ := p["vct"].(string)
		st, _ := p["status"].(map[string]any)
		sl, _ := st["status_list"].(map[string]any)
		uri, _ := sl["uri"].(string)
		parties = append(parties, wire.KnownParty{DID: iss, KeyIDs: []string{kid}, StatusLists: []string{uri}})
		types = append(types, wire.KnownType{VCT: vct, Claims: claimNames[i]})
	}
	body, err := sdjwtcbor.Encode(texts, &sdjwtcbor.Context{Nonce: r.Request.NonceString(), Audience: r.Request.Audience(), Known: wire.Known(parties, types)})
	if err != nil {
		t.Fatal(err)
	}
	return qr.Encode("LZ1R", body)
}

func claimNamesOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fedTrust is an online trust of region A whose foreign sources refresh on every use.
func (f *fed) fedTrust() *OnlineTrust {
	tr := NewOnlineTrust(f.a.client, time.Minute)
	tr.Federation.TTL, tr.Federation.Timeout = time.Nanosecond, 20*time.Second
	return tr
}

// TestFederationAccepted: a household register issued in region B is verified at region A's
// real-estate window (with A's marriage certificate, in one answer) and at A's portal:
// accepted, B's claim names shown as A's, the region and department named, 跨区域互认.
// A wallet's own dictionary (region B's strings by reference) decodes too.
func TestFederationAccepted(t *testing.T) {
	f := federation(t)
	ctx := context.Background()
	v := f.a.newVerifier(t, f.fedTrust(), nil, nil)
	defer v.Close()
	hr := f.issueB(t)
	mc := f.a.issue(t, "marriage-certificate", issueOpt{})
	for _, enc := range []string{"window dictionary", "wallet dictionary"} {
		req, err := v.NewRequest(ctx, "property-transfer")
		if err != nil {
			t.Fatal(err)
		}
		nonce, aud := req.Request.NonceString(), req.Request.Audience()
		texts := []string{hr.present(t, nonce, aud, bFields...), mc.present(t, nonce, aud)}
		text := answer(t, v, req, texts...)
		if enc == "wallet dictionary" {
			text = walletAnswer(t, req, []*held{hr, mc}, [][]string{claimNamesOf(bClaims), claimNamesOf(demoClaims["marriage-certificate"])}, texts...)
		}
		vd := v.Verify(ctx, text)
		if !vd.OK || len(vd.Credentials) != 2 {
			t.Fatalf("%s: %s (%s) %+v", enc, vd.Code, vd.Detail, vd.Credentials)
		}
		c := vd.Credentials[0]
		if c.Region == nil || c.Region.ID != regionB || c.Region.Name.Zh != "示例乙市" || c.Region.Department.Zh != "示例乙市公安局" ||
			c.Region.Type != "household-register" || c.Region.ChainID != regionBChain || c.Region.Height < 1 || c.Region.MaxAge != time.Minute {
			t.Fatalf("%s: region %+v", enc, c.Region)
		}
		if !strings.Contains(c.Message.Zh, "跨区域互认") || !strings.Contains(c.Message.Zh, "示例乙市公安局") || !strings.Contains(c.Message.En, "cross-region recognition") {
			t.Fatalf("%s: message %+v", enc, c.Message)
		}
		if c.Type != "household-register" || c.Issuer != "did:lz:b-public-security" || len(c.Fields) != 4 || c.Fields[0].Name != "name" ||
			c.Fields[0].Label.Zh != "姓名" || c.Fields[0].Value != "测试用户丙" || c.Hidden != 3 {
			t.Fatalf("%s: credential %+v", enc, c)
		}
		if vd.Credentials[1].Region != nil {
			t.Fatalf("%s: A's own credential has a region", enc)
		}
		js, _ := json.Marshal(vd)
		if !bytes.Contains(js, []byte(`"region":{"id":"region-b"`)) || bytes.Count(js, []byte(`"region"`)) != 1 {
			t.Fatalf("%s: verdict JSON %s", enc, js)
		}
	}

	// The portal (OpenID4VP): the same checks, the household register accepted online too.
	k, err := demonet.LoadKey(demonet.KeyDir(f.a.home), "realestate-portal")
	if err != nil {
		t.Fatal(err)
	}
	pv, err := New(Config{Trust: f.fedTrust(), Window: portalDID, KeyID: k.KeyID, Key: k.PrivateKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer pv.Close()
	r, err := pv.NewRequest(ctx, "property-transfer-online")
	if err != nil {
		t.Fatal(err)
	}
	nonce, cid := r.Request.NonceString(), oid4vp.ClientIDFor(portalDID)
	vd := pv.VerifyOpenID4VP(ctx, nonce, []string{hr.present(t, nonce, cid, bFields...), mc.present(t, nonce, cid)})
	if !vd.OK || vd.Credentials[0].Region == nil || vd.Credentials[0].Region.Department.En == "" {
		t.Fatalf("portal: %s (%s) %+v", vd.Code, vd.Detail, vd.Credentials)
	}
}

// TestFederationRefusals: each way a region-B credential fails at region A, with its own
// code: B's own failures as at home (revoked, over-disclosure), a type A does not recognise
// or not at this service item, B unreachable past the agreement's maximum age, a forged B
// header, a node of another chain, a fake B (B's chain id, other validators), an agreement
// not yet in force, and withdrawn.
func TestFederationRefusals(t *testing.T) {
	f := federation(t)
	ctx := context.Background()
	trust := f.fedTrust()
	var ahead time.Duration // the window's clock runs ahead by this much
	v := f.a.newVerifier(t, trust, func() time.Time { return time.Now().Add(ahead) }, nil)
	defer v.Close()
	hr := f.issueB(t)
	mc := f.a.issue(t, "marriage-certificate", issueOpt{})
	t.Cleanup(func() { f.proxy.mode.Store(proxyPass) })

	// verify presents hr (B's, fields) and A's marriage certificate to a fresh request of v
	// and returns the verdict on hr.
	verifyWith := func(v *Verifier, item string, h *held, fields []string, others ...*held) *CredentialVerdict {
		t.Helper()
		req, err := v.NewRequest(ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		nonce, aud := req.Request.NonceString(), req.Request.Audience()
		if item == "property-transfer-online" {
			aud = oid4vp.ClientIDFor(portalDID)
			vd := v.VerifyOpenID4VP(ctx, nonce, []string{h.present(t, nonce, aud, fields...)})
			if len(vd.Credentials) == 0 {
				t.Fatalf("no credential verdict: %s (%s)", vd.Code, vd.Detail)
			}
			return &vd.Credentials[0]
		}
		texts := []string{h.present(t, nonce, aud, fields...)}
		for _, o := range others {
			texts = append(texts, o.present(t, nonce, aud))
		}
		vd := v.Verify(ctx, answer(t, v, req, texts...))
		if len(vd.Credentials) == 0 {
			t.Fatalf("no credential verdict: %s (%s)", vd.Code, vd.Detail)
		}
		return &vd.Credentials[0]
	}
	verify := func(h *held, fields ...string) *CredentialVerdict {
		t.Helper()
		if fields == nil {
			fields = bFields
		}
		return verifyWith(v, "property-transfer", h, fields, mc)
	}
	expect := func(name string, cv *CredentialVerdict, want credential.Code) {
		t.Helper()
		t.Logf("%s: %q %s", name, cv.Code, cv.Detail)
		if cv.Code != want || cv.OK != (want == "") {
			t.Fatalf("%s: %q (%s), want %q", name, cv.Code, cv.Detail, want)
		}
		if want != "" && (cv.Message.Zh == "" || cv.Message.En == "" || len(cv.Fields) != 0) {
			t.Fatalf("%s: refusal %+v", name, cv)
		}
		if cv.Region == nil || cv.Region.ID != regionB {
			t.Fatalf("%s: region not named: %+v", name, cv.Region)
		}
	}

	expect("accepted", verify(hr), "")
	expect("over-disclosure in A's names", verify(hr, "full_name", "id_number", "address", "birth_date"), credential.CodeOverDisclosure)

	// A type of B the agreement does not list; one it lists but not at the portal.
	dl := f.b.issue(t, "driving-licence", issueOpt{issuer: "b-vehicle-admin", vct: "urn:lz:region-b:vct:driving-licence", claims: map[string]any{"name": "测试用户丙"}})
	expect("type not in the agreement", verify(dl, "name"), credential.CodeForeignNotRecognised)
	bmc := f.b.issue(t, "marriage-certificate", issueOpt{issuer: "b-civil-affairs", vct: bMarriageVCT})
	expect("the hall's item accepts B's marriage certificate", verifyWith(v, "property-transfer", bmc, requested["marriage-certificate"]), "")
	k, err := demonet.LoadKey(demonet.KeyDir(f.a.home), "realestate-portal")
	if err != nil {
		t.Fatal(err)
	}
	pv, err := New(Config{Trust: trust, Window: portalDID, KeyID: k.KeyID, Key: k.PrivateKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer pv.Close()
	expect("not accepted at the portal's item", verifyWith(pv, "property-transfer-online", bmc, requested["marriage-certificate"]), credential.CodeForeignNotRecognised)

	// Strict as at home: a credential B revoked is refused at A.
	revoked := f.issueB(t)
	f.b.setStatus(t, revoked, 1)
	expect("revoked in B", verify(revoked), credential.CodeRevoked)

	// B unreachable: the last verified B state serves, its age shown, until the agreement's
	// maximum (60 s); past it, refused.
	expect("warm", verify(hr), "")
	f.proxy.mode.Store(proxyDown)
	cv := verify(hr)
	expect("B down, within the maximum age", cv, "")
	if cv.Region.Age <= 0 || cv.Region.Time.IsZero() {
		t.Fatalf("the age of B's state is not shown: %+v", cv.Region)
	}
	ahead = 90 * time.Second
	expect("B down past the maximum age", verify(hr), credential.CodeForeignStale)
	ahead = 0
	f.proxy.mode.Store(proxyPass)
	expect("B back", verify(hr), "")

	// A node forging B's headers (a new block, so that a header is read).
	f.proxy.mode.Store(proxyForge)
	f.b.nextBlock(t)
	expect("forged B header", verify(hr), credential.CodeForeignUntrusted)
	fresh := f.a.newVerifier(t, f.fedTrust(), nil, nil)
	defer fresh.Close()
	expect("forged B header, fresh window", verifyWith(fresh, "property-transfer", hr, bFields, mc), credential.CodeForeignUntrusted)
	f.proxy.mode.Store(proxyPass)
	expect("honest again", verify(hr), "")

	// A node of another chain (region A's own node answering for B).
	bURL := *f.proxy.target.Load()
	f.proxy.target.Store(ptr(httpURL(f.a.node.RPCAddress())))
	expect("another chain id", verify(hr), credential.CodeForeignUntrusted)

	// A fake B: B's chain id and member ids, other validators.
	dir := t.TempDir()
	fake := startRegionNet(t, dir, demonet.EmbeddedOptions{ChainID: regionBChain, IDPrefix: "b-", Edit: editRegionB}, bIDs)
	defer fake.node.Stop()
	f.proxy.target.Store(ptr(httpURL(fake.node.RPCAddress())))
	expect("fake B, following from a verified B header", verify(hr), credential.CodeForeignUntrusted)
	fresh2 := f.a.newVerifier(t, f.fedTrust(), nil, nil)
	defer fresh2.Close()
	expect("fake B, from the agreement's root", verifyWith(fresh2, "property-transfer", hr, bFields, mc), credential.CodeForeignUntrusted)
	// The fake B's own credential is not B's either (read through an honest node).
	f.proxy.target.Store(&bURL)
	fakeCred := fake.issue(t, "household-register", issueOpt{issuer: "b-public-security", vct: bVCT, claims: bClaims})
	if cv := verify(fakeCred); cv.Code != credential.CodeBadSignature && cv.Code != credential.CodeIssuerKeyMismatch {
		t.Fatalf("fake B's credential: %q (%s)", cv.Code, cv.Detail)
	}
	expect("honest B again", verify(hr), "")

	// The agreement not yet in force, then withdrawn.
	t.Cleanup(func() { f.a.govern(t, ledger.ActionRecognitionPut, &f.rec) })
	later := f.rec
	later.ValidFrom = time.Now().Add(time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	f.a.govern(t, ledger.ActionRecognitionPut, &later)
	trust.Invalidate()
	expect("agreement not yet in force", verify(hr), credential.CodeAgreementInactive)
	f.a.govern(t, ledger.ActionRecognitionRemove, map[string]string{"region": regionB})
	trust.Invalidate()
	expect("agreement withdrawn", verify(hr), credential.CodeAgreementInactive)
	// A window that never served region B does not know its issuers at all.
	fresh3 := f.a.newVerifier(t, f.fedTrust(), nil, nil)
	defer fresh3.Close()
	if cv := verifyWith(fresh3, "property-transfer", hr, bFields, mc); cv.Code != credential.CodeIssuerKeyMismatch || cv.Region != nil {
		t.Fatalf("withdrawn, fresh window: %q (%s) %+v", cv.Code, cv.Detail, cv.Region)
	}
}

func ptr[T any](v T) *T { return &v }

// nextBlock waits until the ledger has a block it did not have (header not yet read).
func (n *net) nextBlock(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.node.WaitForHeight(ctx, n.node.Height()+2); err != nil {
		t.Fatal(err)
	}
}

// The verdict's region is optional on the wire: a home verdict's JSON has no region member.
func TestRegionOmitted(t *testing.T) {
	b, err := json.Marshal(CredentialVerdict{OK: true})
	if err != nil || bytes.Contains(b, []byte("region")) {
		t.Fatalf("%s %v", b, err)
	}
}

// BenchmarkVerifyForeign: a household register of region B verified at region A's
// real-estate window (with A's marriage certificate; warm trust of both ledgers) against the
// same answer with A's own household register, alternating in the same run. Both answers
// are encoded as wallets encode them (their own dictionary: region B's strings travel by
// reference). Metrics: foreign-ns/op and home-ns/op (the Verify calls only) and x-home,
// their ratio (goal ≤ 1.2).
func BenchmarkVerifyForeign(b *testing.B) {
	f := federation(b)
	ctx := context.Background()
	v := f.a.newVerifier(b, NewOnlineTrust(f.a.client, time.Hour), nil, nil)
	defer v.Close()
	bhr := f.issueB(b)
	ahr := f.a.issue(b, "household-register", issueOpt{})
	mc := f.a.issue(b, "marriage-certificate", issueOpt{})
	mcNames := claimNamesOf(demoClaims["marriage-certificate"])
	mk := func(foreign bool) string {
		r, err := v.NewRequest(ctx, "property-transfer")
		if err != nil {
			b.Fatal(err)
		}
		no, a := r.Request.NonceString(), r.Request.Audience()
		if foreign {
			return walletAnswer(b, r, []*held{bhr, mc}, [][]string{claimNamesOf(bClaims), mcNames}, bhr.present(b, no, a, bFields...), mc.present(b, no, a))
		}
		return walletAnswer(b, r, []*held{ahr, mc}, [][]string{claimNamesOf(demoClaims["household-register"]), mcNames}, ahr.present(b, no, a), mc.present(b, no, a))
	}
	for _, foreign := range []bool{false, true} { // warm both
		if vd := v.Verify(ctx, mk(foreign)); !vd.OK {
			b.Fatalf("foreign %v: %s %s", foreign, vd.Code, vd.Detail)
		}
	}
	var home, away time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, foreign := range []bool{false, true} {
			b.StopTimer()
			text := mk(foreign)
			b.StartTimer()
			t0 := time.Now()
			vd := v.Verify(ctx, text)
			d := time.Since(t0)
			if !vd.OK || (vd.Credentials[0].Region != nil) != foreign {
				b.Fatalf("foreign %v: %s %s", foreign, vd.Code, vd.Detail)
			}
			if foreign {
				away += d
			} else {
				home += d
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(away.Nanoseconds())/float64(b.N), "foreign-ns/op")
	b.ReportMetric(float64(home.Nanoseconds())/float64(b.N), "home-ns/op")
	b.ReportMetric(float64(away)/float64(home), "x-home")
}

// TestFederationOffline: an offline window of region A verifies region B's credentials from
// snapshots: its own (which proves the agreement) and B's (checked against the agreement,
// ledgerclient.VerifyForeignSnapshot, kept at ForeignSnapshotFile). Accepted with the region
// named; after B revokes the credential and the window takes a fresh B snapshot, refused as
// revoked; with no B snapshot, or one older than the agreement allows, foreign_stale; with a
// B snapshot changed by a byte, foreign_untrusted.
func TestFederationOffline(t *testing.T) {
	f := federation(t)
	ctx := context.Background()
	dir := t.TempDir()
	aPath := dir + "/trust.snapshot"
	bPath := ForeignSnapshotFile(aPath, regionB)
	exportB := func() {
		t.Helper()
		if _, err := f.b.client.ExportFile(ctx, bPath, 0); err != nil {
			t.Fatal(err)
		}
	}
	hr, mc := f.issueB(t), f.a.issue(t, "marriage-certificate", issueOpt{})
	exportB()
	offline := func(now time.Time) (*SnapshotTrust, error) {
		t.Helper()
		st := f.a.snapshot(t, aPath)
		return st, st.LoadForeign(ctx, aPath, now)
	}
	verify := func(st *SnapshotTrust, clock time.Time) *CredentialVerdict {
		t.Helper()
		v := f.a.newVerifier(t, st, func() time.Time { return clock }, nil)
		defer v.Close()
		req, err := v.NewRequest(ctx, "property-transfer")
		if err != nil {
			t.Fatal(err)
		}
		nonce, aud := req.Request.NonceString(), req.Request.Audience()
		vd := v.Verify(ctx, answer(t, v, req, hr.present(t, nonce, aud, bFields...), mc.present(t, nonce, aud)))
		if len(vd.Credentials) == 0 {
			t.Fatalf("no credential verdict: %s (%s)", vd.Code, vd.Detail)
		}
		return &vd.Credentials[0]
	}

	st, err := offline(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cv := verify(st, time.Now()); !cv.OK || cv.Region == nil || cv.Region.ID != regionB || cv.Region.Department.Zh != "示例乙市公安局" {
		t.Fatalf("offline: %s (%s) %+v", cv.Code, cv.Detail, cv.Region)
	}
	// The trust bar's view of the regions: B known, its age under the agreement's maximum.
	sv, _ := st.Current(ctx)
	if rs := sv.Regions(ctx, time.Now()); len(rs) != 1 || rs[0].ID != regionB || !rs[0].Known || rs[0].Problem != "" || rs[0].MaxAge != time.Minute {
		t.Fatalf("regions: %+v", rs)
	}
	if rs := sv.Regions(ctx, time.Now().Add(2*time.Minute)); rs[0].Problem != credential.CodeForeignStale {
		t.Fatalf("regions, later: %+v", rs)
	}
	// Past the agreement's maximum age (60 s) the same snapshots no longer do.
	if cv := verify(st, time.Now().Add(2*time.Minute)); cv.OK || cv.Code != credential.CodeForeignStale {
		t.Fatalf("stale B snapshot in use: %s (%s)", cv.Code, cv.Detail)
	}

	// B revokes it; the window refreshes its snapshots.
	f.b.setStatus(t, hr, ledger.StatusRevoked)
	f.b.nextBlock(t)
	exportB()
	st, err = offline(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cv := verify(st, time.Now()); cv.OK || cv.Code != credential.CodeRevoked {
		t.Fatalf("revoked in B, offline: %s (%s)", cv.Code, cv.Detail)
	}

	// Loaded when already too old, missing, or changed by a byte.
	if _, err := offline(time.Now().Add(2 * time.Minute)); credential.CodeOf(err) != credential.CodeForeignStale {
		t.Fatalf("loading a stale B snapshot: %v", err)
	}
	b, _ := os.ReadFile(bPath)
	b[len(b)/2] ^= 1
	if err := os.WriteFile(bPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err = offline(time.Now())
	if credential.CodeOf(err) != credential.CodeForeignUntrusted {
		t.Fatalf("loading a changed B snapshot: %v", err)
	}
	if cv := verify(st, time.Now()); cv.OK || cv.Code != credential.CodeForeignUntrusted {
		t.Fatalf("changed B snapshot: %s (%s)", cv.Code, cv.Detail)
	}
	os.Remove(bPath)
	st, _ = offline(time.Now())
	if cv := verify(st, time.Now()); cv.OK || cv.Code != credential.CodeForeignStale {
		t.Fatalf("no B snapshot: %s (%s)", cv.Code, cv.Detail)
	}
	sv, _ = st.Current(ctx)
	if rs := sv.Regions(ctx, time.Now()); len(rs) != 1 || rs[0].Known || rs[0].Problem != credential.CodeForeignStale {
		t.Fatalf("regions without B's snapshot: %+v", rs)
	}
}
