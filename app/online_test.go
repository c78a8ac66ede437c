package app

import (
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/oid4vp"
	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/internal/democitizen"
	"lianzheng/issuer"
	"lianzheng/portal"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// onlineItem is the demo portal's online service item (assets/catalogue/demo.json).
const onlineItem = "property-transfer-online"

// Invented test data (no real person).
var onlineClaims = democitizen.Claims()

// onlineEnv is a demo home (embedded ledger, departments, the demo portal on 127.0.0.1)
// bound to the app's services, with a wallet holding both credentials of the online item.
type onlineEnv struct {
	h   *home.Home
	svc *Services
}

func newOnlineEnv(t *testing.T) *onlineEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, err := home.OpenDemo(ctx, t.TempDir(), &home.Options{Keystore: testKeystore, EmptyBlocksInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc := bindDemo(h, func() { h.Close() })
	t.Cleanup(svc.Close)
	if svc.PortalURL == "" {
		t.Fatal("the demo home runs no portal")
	}
	if err := svc.Citizen.Setup("246810"); err != nil {
		t.Fatal(err)
	}
	w, err := h.Wallet().Core()
	if err != nil {
		t.Fatal(err)
	}
	for typ, member := range map[string]string{"household-register": "public-security", "marriage-certificate": "civil-affairs"} {
		dep, _ := h.Issuer(member)
		kid, err := w.Keys.NewEd25519()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := w.Keys.Public(kid)
		hp, _ := did.NewPublicKey(pub)
		iss, err := dep.Core().Issue(ctx, issuer.Request{Type: typ, Claims: onlineClaims[typ], Holder: hp})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Accept(ctx, h.Ledger(), iss.SDJWT, kid); err != nil {
			t.Fatal(err)
		}
	}
	return &onlineEnv{h: h, svc: svc}
}

// start opens an application on the demo portal as a browser does (GET /apply/{item}) and
// returns the session.
func (e *onlineEnv) start(t *testing.T) *portal.Session {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.svc.PortalURL + "/apply/" + onlineItem)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/s/") {
		t.Fatalf("apply: %d %s", resp.StatusCode, loc)
	}
	s, err := e.h.Portal().Server().Session(strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/s/"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *onlineEnv) session(t *testing.T, id string) *portal.Session {
	t.Helper()
	s, err := e.h.Portal().Server().Session(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clockPortal is a second portal for the same online service over the same ledger, with a
// clock the test moves (the demo's has the real one).
type clockPortal struct {
	srv   *portal.Server
	url   string
	mu    sync.Mutex
	clock time.Time
}

func (p *clockPortal) now() time.Time { p.mu.Lock(); defer p.mu.Unlock(); return p.clock }
func (p *clockPortal) advance(d time.Duration) {
	p.mu.Lock()
	p.clock = p.clock.Add(d)
	p.mu.Unlock()
}

func newClockPortal(t *testing.T, e *onlineEnv) *clockPortal {
	t.Helper()
	k, err := e.h.DemoKey(home.DemoPortal)
	if err != nil {
		t.Fatal(err)
	}
	p := &clockPortal{clock: time.Now()}
	trust := verifier.NewOnlineTrust(e.h.Ledger(), time.Minute)
	v, err := verifier.New(verifier.Config{Trust: trust, Window: k.DID, KeyID: k.KeyID, Key: k.PrivateKey(), NoSession: true, Now: p.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.url = "http://" + ln.Addr().String()
	if p.srv, err = portal.New(portal.Config{Verifier: v, Trust: trust, DID: k.DID, KeyID: k.KeyID, Key: k.PrivateKey(), BaseURL: p.url, Now: p.now}); err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: p.srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return p
}

// forgedLink serves, on 127.0.0.1, the request object of a fresh demo-portal session
// rewritten by edit and signed again with the portal's own key, and returns its link.
func (e *onlineEnv) forgedLink(t *testing.T, edit func(r *oid4vp.Request, reg *oid4vp.Registration)) string {
	t.Helper()
	s := e.start(t)
	lk, err := oid4vp.ParseLink(s.Link)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(lk.RequestURI)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _, err := oid4vp.ParseJAR(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := req.Registration()
	if err != nil {
		t.Fatal(err)
	}
	edit(req, reg)
	if req.VerifierInfo[0].Data, err = json.Marshal(reg); err != nil {
		t.Fatal(err)
	}
	k, _ := e.h.DemoKey(home.DemoPortal)
	jar, err := req.Sign(k.KeyID, jws.NewEd25519Signer(k.PrivateKey()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", oid4vp.ContentTypeJAR)
		io.WriteString(w, jar)
	}))
	t.Cleanup(srv.Close)
	return oid4vp.Link{ClientID: req.ClientID, RequestURI: srv.URL + "/request"}.String()
}

// fitsPhone fails the test when the window's content or a dialog asks for more than a
// phone's width.
func fitsPhone(t *testing.T, u *UI, state string) {
	t.Helper()
	if u.Win.Canvas().Size().Width > phone.Width {
		return
	}
	objs := append([]fyne.CanvasObject{u.Win.Canvas().Content()}, u.Win.Canvas().Overlays().List()...)
	for _, o := range objs {
		o.Refresh()
		if w := o.MinSize().Width; w > phone.Width {
			t.Errorf("%s: needs %.0f points at phone width: %s", state, w, widest(o))
		}
		for _, line := range badLineStarts(o) {
			t.Errorf("%s: a line starts with closing punctuation: %q", state, line)
		}
	}
}

// captureOnline writes the window as a PNG to LZ_CAPTURE_DIR, when set (for review; not golden:
// times and hosts vary).
func captureOnline(t *testing.T, u *UI, name string) {
	dir := os.Getenv("LZ_CAPTURE_DIR")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	png.Encode(f, u.Win.Canvas().Capture())
}

// TestOnlineService: the citizen answers the demo's online-service portal (OpenID4VP on
// 127.0.0.1, real ledger, real wallet core) through the screens, in zh-Hans and English, at
// desktop and phone size: the link pasted, typed by a scanner through an input method, read
// from the page's QR image and handed to the app as a link (same device) each reach the same
// consent screen, marked 网上办理; consenting shows the portal's verdict and receipt, the page
// turns verified, the history lists the online access. Refused: the portal's verdict on an
// answer to an expired request (in words, the code behind 详情, recorded in the history); a
// request whose claimed registration differs from the ledger (refused by the wallet, nothing
// sent); a request asking beyond the registration (flagged, those fields never shown).
func TestOnlineService(t *testing.T) {
	e := newOnlineEnv(t)
	cp := newClockPortal(t, e)
	for _, l := range []string{LangZh, LangEn} {
		for _, size := range []fyne.Size{fyne.NewSize(1000, 760), phone} {
			name := l + "-" + map[bool]string{true: "phone", false: "desktop"}[size == phone]
			t.Run(name, func(t *testing.T) {
				u := uiOver(t, test.NewTempApp(t), e.svc, l, size)
				u.SetRole(RoleCitizen)
				onlineFlows(t, e, cp, u, name)
			})
		}
	}
	SetLanguage(LangZh)
}

func onlineFlows(t *testing.T, e *onlineEnv, cp *clockPortal, u *UI, name string) {
	w := u.Win
	zh := Language() == LangZh
	words := func(zhs, ens string) string {
		if zh {
			return zhs
		}
		return ens
	}
	consentShown := func(how string) {
		t.Helper()
		cs := u.citizen
		if cs.Plan == nil || cs.Plan.Online == nil {
			t.Fatalf("%s: no online consent screen (%d dialogs)", how, len(w.Canvas().Overlays().List()))
		}
		for _, want := range []string{words("网上服务平台", "Online service"), words("不动产登记网上服务平台", "Real Estate Registration online services"),
			words("网上办理", "Online ("), words("核实申请人身份", "Verify the applicant"), "测试用户乙", words("居民户口簿", "Household")} {
			if !hasText(w.Canvas().Content(), want) {
				t.Fatalf("%s: consent screen lacks %q", how, want)
			}
		}
		fitsPhone(t, u, name+" "+how+" consent")
	}
	present := func() *wallet.OnlineResult {
		t.Helper()
		tap(t, w, T("citizen.consent.agree"))
		if len(w.Canvas().Overlays().List()) > 0 {
			t.Fatal("an error dialog instead of the portal's verdict")
		}
		return u.citizen.Online
	}
	toPresent := func() *citizenScreen {
		u.SetRole(RoleCitizen)
		u.citizen.tabs.SelectIndex(2)
		return u.citizen
	}

	// 1. pasted: consent → the portal's verdict, the page verified, receipt in the history
	s := e.start(t)
	cs := toPresent()
	cs.Request.SetText(s.Link)
	tap(t, w, T("common.confirm"))
	consentShown("pasted")
	captureOnline(t, u, name+"-consent")
	res := present()
	if res == nil || !res.Accepted || res.History == nil || res.History.Receipt == "" {
		t.Fatalf("pasted: %+v", res)
	}
	if !hasText(w.Canvas().Content(), T("citizen.online.pass")) || !hasText(w.Canvas().Content(), T("citizen.online.receipt")) ||
		findButton(w.Canvas().Content(), T("citizen.online.browser")) != nil {
		t.Fatal("pasted: verdict screen")
	}
	fitsPhone(t, u, name+" verdict")
	captureOnline(t, u, name+"-verdict")
	if st := e.session(t, s.ID); st.State != portal.StateVerified {
		t.Fatalf("the portal's page: %s", st.State)
	}
	tap(t, w, T("citizen.online.history"))
	if !hasText(w.Canvas().Content(), T("citizen.history.online")) || !hasText(w.Canvas().Content(), T("citizen.history.online.receipt")) {
		t.Fatal("history: the online access is not listed with its receipt")
	}
	fitsPhone(t, u, name+" history")

	// 2. a scanner typing through a Chinese input method (full-width ：／？), then 确认
	s = e.start(t)
	cs = toPresent()
	typed := strings.NewReplacer(":", "：", "?", "？").Replace(s.Link)
	test.Type(cs.Request, typed+"\n")
	tap(t, w, T("common.confirm"))
	consentShown("scanned")
	present()

	// 3. the page's QR image, read with 从图片读取
	s = e.start(t)
	resp, err := http.Get(e.svc.PortalURL + "/s/" + s.ID + "/qr.png")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cs = toPresent()
	u.readQRImage(writePNG(t, img), cs.Request, cs.plan)
	consentShown("image")
	present()

	// 4. same device: the link handed to the app (from the window role); 在浏览器中继续
	s = e.start(t)
	u.SetRole(RoleWindow)
	u.OpenLink(s.Link)
	if u.Role() != RoleCitizen {
		t.Fatal("link: not the citizen role")
	}
	consentShown("link")
	if res := present(); res == nil || !res.Accepted || findButton(w.Canvas().Content(), T("citizen.online.browser")) == nil {
		t.Fatalf("link: %+v", res)
	}

	// 5. refused by the portal: the request expired before the answer arrived
	ss, err := cp.srv.Start(context.Background(), onlineItem)
	if err != nil {
		t.Fatal(err)
	}
	cs = toPresent()
	cs.Request.SetText(ss.Link)
	tap(t, w, T("common.confirm"))
	consentShown("expiring")
	cp.advance(10 * time.Minute)
	res = present()
	cp.advance(-10 * time.Minute)
	if res == nil || res.Accepted || res.Code != credential.CodeRequestExpired {
		t.Fatalf("expired: %+v", res)
	}
	for _, want := range []string{T("citizen.online.fail"), lzText(credential.Text(credential.CodeRequestExpired)), T("citizen.online.next.again")} {
		if !hasText(w.Canvas().Content(), want) {
			t.Fatalf("expired: the verdict lacks %q", want)
		}
	}
	if hasText(w.Canvas().Content(), string(credential.CodeRequestExpired)) {
		t.Fatal("expired: the reason code is shown outside 详情")
	}
	fitsPhone(t, u, name+" refused")
	captureOnline(t, u, name+"-refused")
	tap(t, w, T("citizen.online.history"))
	fitsPhone(t, u, name+" history with a refusal")
	if !hasText(w.Canvas().Content(), T("citizen.history.online.refused")) ||
		!hasText(w.Canvas().Content(), T("citizen.history.online.reason", lzText(credential.Text(credential.CodeRequestExpired)))) {
		t.Fatal("history: the refused online access is not marked")
	}

	// 6. refused by the wallet: the request claims another purpose than the ledger's
	link := e.forgedLink(t, func(_ *oid4vp.Request, reg *oid4vp.Registration) {
		reg.Purpose.Zh, reg.Purpose.En = "了解申请人的全部情况", "Know everything about the applicant"
	})
	cs = toPresent()
	cs.Request.SetText(link)
	tap(t, w, T("common.confirm"))
	if cs.Plan != nil || len(w.Canvas().Overlays().List()) == 0 {
		t.Fatal("mismatch: no refusal")
	}
	dlg := w.Canvas().Overlays().Top()
	for _, want := range []string{words("与联盟链登记不符", "differs from the ledger"), words("请在网页上重新开始办理", "Start again on the web page"), T("error.detail")} {
		if !hasText(dlg, want) {
			t.Fatalf("mismatch: the refusal lacks %q", want)
		}
	}
	if hasText(dlg, "verifier_info") {
		t.Fatal("mismatch: technical text outside 详情")
	}
	fitsPhone(t, u, name+" mismatch")
	captureOnline(t, u, name+"-mismatch")
	closeOverlays(w)

	// 7. over-asking: a field the item is not registered for is flagged and never shown
	link = e.forgedLink(t, func(r *oid4vp.Request, _ *oid4vp.Registration) {
		for i := range r.DCQLQuery.Credentials {
			if r.DCQLQuery.Credentials[i].ID == "household-register" {
				r.DCQLQuery.Credentials[i].Claims = append(r.DCQLQuery.Credentials[i].Claims, oid4vp.ClaimQuery{Path: []any{"birth_date"}})
			}
		}
	})
	cs = toPresent()
	cs.Request.SetText(link)
	tap(t, w, T("common.confirm"))
	if cs.Plan == nil || !cs.Plan.OverAsk || !hasText(w.Canvas().Content(), T("citizen.consent.overask")) || hasText(w.Canvas().Content(), "1990-01-01") {
		t.Fatalf("over-asking: %+v", cs.Plan)
	}
	fitsPhone(t, u, name+" over-asking")
}

// TestLinkFromArgs: the app takes an openid4vp:// link among its arguments (the desktop
// entry's %u), case-insensitive scheme, blanks trimmed; other arguments are not links.
func TestLinkFromArgs(t *testing.T) {
	link := "openid4vp://?client_id=decentralized_identifier%3Adid%3Alz%3Arealestate-portal&request_uri=https%3A%2F%2Fportal.example%2Fr%2F1"
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-v"}, ""},
		{[]string{link}, link},
		{[]string{"--debug", " " + link + "\n"}, link},
		{[]string{"OPENID4VP://?client_id=x&request_uri=y"}, "OPENID4VP://?client_id=x&request_uri=y"},
		{[]string{"openid4vp：//?a=b"}, "openid4vp://?a=b"},
		{[]string{"https://portal.example/s/1"}, ""},
		{[]string{"openid4vpx://?a=b"}, ""},
		{[]string{"openid4vp:"}, "openid4vp:"},
		{[]string{"openid4vp://?" + strings.Repeat("a", maxLink)}, ""},
	} {
		if got := LinkFromArgs(c.args); got != c.want {
			t.Errorf("LinkFromArgs(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestStartupOpensLink: a link given at start waits for the screens, then opens the
// citizen's present tab with it (a fake wallet refuses it: the refusal is shown in words).
func TestStartupOpensLink(t *testing.T) {
	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	w.Resize(phone)
	st := Starting(a, w)
	st.Sync = true
	link := "openid4vp://?client_id=decentralized_identifier%3Adid%3Alz%3Ax&request_uri=https%3A%2F%2Fportal.example%2Fr"
	st.OpenLink(link)
	st.Start(func(context.Context) (*Services, error) { return &Services{Citizen: &fakeCitizen{}}, nil })
	u := st.UI()
	if u == nil || u.Role() != RoleCitizen || u.citizen == nil || u.citizen.Request.Text != link || !u.citizen.sameDevice {
		t.Fatalf("the link was not opened on the citizen's screen")
	}
	if len(w.Canvas().Overlays().List()) == 0 || !hasText(w.Canvas().Overlays().Top(), explain(context.Canceled).What.Zh) {
		t.Fatal("the fake wallet's refusal is not shown")
	}
}

// TestLinkToRunningApp: a link handed by a second copy of the app (HandLinkToRunning) opens
// the consent flow in the running one (Startup.StartDemo listens on the home's link socket).
func TestLinkToRunningApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	dir := t.TempDir()
	link := "openid4vp://?client_id=decentralized_identifier%3Adid%3Alz%3Arealestate-portal&request_uri=http%3A%2F%2F127.0.0.1%3A1%2Fr"
	if HandLinkToRunning(dir, link) {
		t.Fatal("handed to an app that does not run")
	}
	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	w.Resize(phone)
	st := Starting(a, w)
	st.Sync, st.Links = true, make(chan func(), 1)
	st.StartDemo(dir, &home.Options{Keystore: testKeystore, EmptyBlocksInterval: 200 * time.Millisecond})
	t.Cleanup(st.Close)
	u := st.UI()
	if u == nil {
		t.Fatal("the demo did not start")
	}
	if err := u.Svc.Citizen.Setup("246810"); err != nil {
		t.Fatal(err)
	}
	u.SetRole(RoleWindow)
	if !HandLinkToRunning(dir, link) {
		t.Fatal("the running app did not take the link")
	}
	select {
	case open := <-st.Links:
		open()
	case <-time.After(20 * time.Second):
		t.Fatal("the handed link did not arrive")
	}
	if u.Role() != RoleCitizen || u.citizen == nil || u.citizen.Request.Text != link {
		t.Fatal("the handed link did not reach the citizen's screen")
	}
}
