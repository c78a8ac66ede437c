package portal_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/oid4vp"
	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/internal/democitizen"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/portal"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// Invented test data (no real person).
var claims = democitizen.Claims()

const item = "property-transfer-online"

// env is a demo home (embedded ledger, departments, the demo portal) with a citizen wallet
// holding both credentials of the real-estate item.
type env struct {
	h      *home.Home
	w      *wallet.Wallet
	record map[string]string // type → issuer record id
}

var (
	envOnce sync.Once
	shared  *env
	envErr  error
)

func newEnv(t *testing.T) *env {
	t.Helper()
	envOnce.Do(func() {
		ctx := context.Background()
		dir, err := tempDir()
		if err != nil {
			envErr = err
			return
		}
		h, err := home.OpenDemo(ctx, dir, &home.Options{EmptyBlocksInterval: 300 * time.Millisecond,
			Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}})
		if err != nil {
			envErr = err
			return
		}
		e := &env{h: h, record: map[string]string{}}
		if err = h.Wallet().Setup("20261125"); err == nil {
			e.w, err = h.Wallet().Core()
		}
		for _, typ := range []string{"household-register", "marriage-certificate"} {
			if err != nil {
				break
			}
			member := map[string]string{"household-register": "public-security", "marriage-certificate": "civil-affairs"}[typ]
			dep, _ := h.Issuer(member)
			var kid string
			if kid, err = e.w.Keys.NewEd25519(); err != nil {
				break
			}
			pub, _ := e.w.Keys.Public(kid)
			hp, _ := did.NewPublicKey(pub)
			var iss *issuer.Issued
			if iss, err = dep.Core().Issue(ctx, issuer.Request{Type: typ, Claims: claims[typ], Holder: hp}); err != nil {
				break
			}
			e.record[typ] = iss.Record.ID
			_, err = e.w.Accept(ctx, h.Ledger(), iss.SDJWT, kid)
		}
		shared, envErr = e, err
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return shared
}

// testPortal is a portal over the demo ledger with a clock the test moves (same code as the
// demo home's, which has the real clock).
type testPortal struct {
	srv   *portal.Server
	v     *verifier.Verifier
	trust *verifier.OnlineTrust
	url   string
	clock time.Time
	mu    sync.Mutex
}

func (p *testPortal) now() time.Time { p.mu.Lock(); defer p.mu.Unlock(); return p.clock }
func (p *testPortal) advance(d time.Duration) {
	p.mu.Lock()
	p.clock = p.clock.Add(d)
	p.mu.Unlock()
}

func newPortal(t *testing.T, e *env) *testPortal {
	t.Helper()
	k, err := e.h.DemoKey(home.DemoPortal)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPortal{clock: time.Now(), trust: verifier.NewOnlineTrust(e.h.Ledger(), time.Minute)}
	p.v, err = verifier.New(verifier.Config{Trust: p.trust, Window: k.DID, KeyID: k.KeyID, Key: k.PrivateKey(), NoSession: true, Now: p.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.v.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.url = "http://" + ln.Addr().String()
	p.srv, err = portal.New(portal.Config{Verifier: p.v, Trust: p.trust, DID: k.DID, KeyID: k.KeyID, Key: k.PrivateKey(), BaseURL: p.url, Now: p.now})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: p.srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return p
}

var loopback = &wallet.OpenID4VPOptions{InsecureLoopback: true}

// start opens an application page as a browser would and returns the session and its link.
func (p *testPortal) start(t *testing.T) (string, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(p.url + "/apply/" + item)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/s/") {
		t.Fatalf("apply: %d %s", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/s/")
	s, err := p.srv.Session(id)
	if err != nil {
		t.Fatal(err)
	}
	return id, s.Link
}

func (p *testPortal) page(t *testing.T, id string) string {
	t.Helper()
	resp, err := http.Get(p.url + "/s/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// post sends a crafted vp_token for plan's request: encrypted to key (default the plan's),
// with state and apv nonce, to uri (default the plan's response_uri).
func post(t *testing.T, pl *wallet.Plan, vp map[string][]string, state, uri string, tamper bool) credential.Code {
	t.Helper()
	req := pl.Online.Request
	pt, _ := json.Marshal(oid4vp.Response{VPToken: vp, State: state})
	to, _ := req.EncryptionKey()
	jwe, err := oid4vp.Encrypt(to, oid4vp.EncA128GCM, req.Nonce, pt)
	if err != nil {
		t.Fatal(err)
	}
	if tamper {
		parts := strings.Split(jwe, ".")
		b := []byte(parts[3])
		if b[5] == 'A' {
			b[5] = 'B'
		} else {
			b[5] = 'A'
		}
		parts[3] = string(b)
		jwe = strings.Join(parts, ".")
	}
	if uri == "" {
		uri = req.ResponseURI
	}
	resp, err := http.PostForm(uri, url.Values{"response": {jwe}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Code credential.Code `json:"lz_code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	return out.Code
}

func vpOf(pl *wallet.Plan, texts []string, types []string) map[string][]string {
	vp := map[string][]string{}
	for i, t := range texts {
		vp[pl.Online.QueryIDs[types[i]]] = append(vp[pl.Online.QueryIDs[types[i]]], t)
	}
	return vp
}

// TestOnlineApplication: the portal, a real ledger and the wallet core on loopback. The
// accepted case ends with the form prefilled read-only from the verified fields and the
// portal's receipt in the wallet's history, anchored; each attack is refused with its code.
func TestOnlineApplication(t *testing.T) {
	e := newEnv(t)
	p := newPortal(t, e)
	ctx := context.Background()
	types := []string{"household-register", "marriage-certificate"}

	// 1. accepted
	id, link := p.start(t)
	if pg := p.page(t, id); !strings.Contains(pg, `id="qr"`) || !strings.Contains(pg, "openid4vp://") || !strings.Contains(pg, "户口簿") {
		t.Fatalf("pending page:\n%s", pg)
	}
	pl, err := e.w.PlanOpenID4VP(ctx, link, loopback)
	if err != nil {
		t.Fatal(err)
	}
	if pl.OverAsk || pl.Purpose.Zh == "" || pl.WindowName.Zh != "不动产登记网上服务平台" || len(pl.Asks) != 2 || pl.Asks[0].Chosen == "" {
		t.Fatalf("plan %+v", pl)
	}
	res, err := e.w.PresentOpenID4VP(ctx, pl, nil)
	if err != nil || !res.Accepted || res.ReceiptErr != nil {
		t.Fatalf("present: %v %+v", err, res)
	}
	if res.History.Receipt == "" || res.History.Mode != "openid4vp" || !strings.HasSuffix(res.RedirectURI, "/s/"+id) {
		t.Fatalf("history %+v", res.History)
	}
	pg := p.page(t, id)
	for _, want := range []string{`id="verdict"`, `data-ok="true"`, `id="form"`, `name="household-register.name" value="测试用户甲" readonly`,
		`name="marriage-certificate.spouse_name" value="测试用户乙" readonly`, "公安局"} {
		if !strings.Contains(pg, want) {
			t.Fatalf("verified page lacks %q:\n%s", want, pg)
		}
	}
	// the receipt anchors on the ledger and the wallet then sees it there
	if _, err := p.v.Anchor(ctx, e.h.Ledger()); err != nil {
		t.Fatal(err)
	}
	b, err := p.srv.Receipt(id)
	if err != nil || b.Proof == nil {
		t.Fatalf("receipt bundle %v %+v", err, b)
	}
	if h, err := e.w.ImportReceipt(ctx, b, e.h.Ledger()); err != nil || !h.VerifiedLedger {
		t.Fatalf("import %v %+v", err, h)
	}
	// the form submitted: numbered, the disclosed values dropped
	if _, err := p.srv.Submit(id, nil); err != nil {
		t.Fatal(err)
	}
	if pg := p.page(t, id); !strings.Contains(pg, `id="applied"`) || strings.Contains(pg, "测试用户乙") {
		t.Fatalf("submitted page:\n%s", pg)
	}
	accepted := vpOf(pl, res.Texts, types)

	// 2. each attack on a fresh session
	fresh := func() *wallet.Plan {
		_, link := p.start(t)
		pl, err := e.w.PlanOpenID4VP(ctx, link, loopback)
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}
	present := func(pl *wallet.Plan, o *wallet.PresentOptions) *wallet.OnlineResult {
		res, err := e.w.PresentOpenID4VP(ctx, pl, o)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// a genuine answer's presentations, bound to a plan's request, not posted
	boundTo := func(pl *wallet.Plan) map[string][]string {
		save := pl.Online.Request.ResponseURI
		pl.Online.Request.ResponseURI = p.url + "/oid4vp/response/nowhere"
		r := present(pl, nil)
		pl.Online.Request.ResponseURI = save
		return vpOf(pl, r.Texts, types)
	}
	cases := []struct {
		name string
		run  func() credential.Code
		want credential.Code
	}{
		{"replayed vp_token", func() credential.Code {
			pl := fresh()
			return post(t, pl, accepted, pl.Online.Request.State, "", false)
		}, credential.CodeReplayed},
		{"wrong nonce", func() credential.Code {
			other, pl := fresh(), fresh()
			return post(t, pl, boundTo(other), pl.Online.Request.State, "", false)
		}, credential.CodeNonceMismatch},
		{"wrong state", func() credential.Code {
			pl := fresh()
			return post(t, pl, boundTo(pl), oid4vp.NewState(), "", false)
		}, credential.CodeStateMismatch},
		{"tampered JWE", func() credential.Code {
			pl := fresh()
			return post(t, pl, boundTo(pl), pl.Online.Request.State, "", true)
		}, credential.CodeResponseTampered},
		{"response for another session", func() credential.Code {
			pl, other := fresh(), fresh()
			return post(t, pl, boundTo(pl), pl.Online.Request.State, other.Online.Request.ResponseURI, false)
		}, credential.CodeWrongSession},
		{"expired request", func() credential.Code {
			pl := fresh()
			p.advance(10 * time.Minute)
			defer p.advance(-10 * time.Minute)
			return present(pl, nil).Code
		}, credential.CodeRequestExpired},
		{"over-disclosure", func() credential.Code {
			pl := fresh()
			pl.Asks[0].Allowed = append(pl.Asks[0].Allowed, "birth_date")
			return present(pl, nil).Code
		}, credential.CodeOverDisclosure},
		{"suspended", func() credential.Code {
			dep, _ := e.h.Issuer("public-security")
			if _, _, err := dep.Core().Suspend(ctx, e.record["household-register"]); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if _, _, err := dep.Core().Resume(ctx, e.record["household-register"]); err != nil {
					t.Fatal(err)
				}
				p.trust.Invalidate()
			}()
			p.trust.Invalidate()
			pl := fresh()
			choose := map[string]string{}
			for _, a := range pl.Asks {
				choose[a.Type] = a.Candidates[0].ID
			}
			return present(pl, &wallet.PresentOptions{AllowInvalid: true, Choose: choose}).Code
		}, credential.CodeSuspended},
		{"revoked", func() credential.Code {
			dep, _ := e.h.Issuer("civil-affairs")
			if _, _, err := dep.Core().Revoke(ctx, e.record["marriage-certificate"]); err != nil {
				t.Fatal(err)
			}
			p.trust.Invalidate()
			pl := fresh()
			choose := map[string]string{}
			for _, a := range pl.Asks {
				choose[a.Type] = a.Candidates[0].ID
			}
			return present(pl, &wallet.PresentOptions{AllowInvalid: true, Choose: choose}).Code
		}, credential.CodeRevoked},
	}
	for _, c := range cases { // in order: revocation is last
		if got := c.run(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestWalletRefusesOverAsking: a request object asking beyond the registration (a field the
// online item is not registered for) gets the window's treatment: the field is refused and
// never disclosed; a request by value or over http to a non-loopback host is refused.
func TestWalletRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, link := range []string{
		"openid4vp://?client_id=decentralized_identifier:did:lz:realestate-portal&request=eyJ",
		"openid4vp://?client_id=decentralized_identifier:did:lz:realestate-portal&request_uri=http%3A%2F%2Fportal.example%2Fr",
		"openid4vp://?client_id=decentralized_identifier:did:lz:realestate-portal&request_uri=http%3A%2F%2F127.0.0.1%3A1%2Fr",
	} {
		o := loopback
		if strings.Contains(link, "127.0.0.1") {
			o = nil // https only unless the caller allows loopback http
		}
		var r *wallet.Refusal
		if _, err := e.w.PlanOpenID4VP(ctx, link, o); !errors.As(err, &r) || r.Code != credential.CodeBadRequest {
			t.Errorf("%s: %v", link, err)
		}
	}
}
