package portal_test

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lianzheng/credential"
	"lianzheng/credential/oid4vp"
	"lianzheng/did"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/qr"
	"lianzheng/wallet"
)

// The headless-browser test of the portal's pages (docs/portal.md, Tests). It needs Debian's
// chromium at chromiumPath (`make deps` installs it) and is skipped, saying so, without it.
//
// Screenshots of each state (zh-Hans) go to a temporary directory; with -update-screenshots
// they replace the reviewed ones in testdata/screenshots. Nothing compares pixels.

const chromiumPath = "/usr/bin/chromium"

var updateScreenshots = flag.Bool("update-screenshots", false, "write the portal's browser screenshots to testdata/screenshots (for review)")

// Invented test data for the browser test's own citizen (no real person). A wallet of its
// own keeps its revocation away from TestOnlineApplication's credentials and theirs from it.
var browserClaims = map[string]map[string]any{
	"household-register": {
		"name": "测试用户丙", "id_number": "TEST00000000000003", "birth_date": "1992-02-02",
		"relation_to_head": "户主", "household_number": "TEST-H-0003",
		"address": "示例省示例市样例区演示路3号", "marital_status": "已婚",
	},
	"marriage-certificate": {
		"holder_name": "测试用户丙", "spouse_name": "测试用户丁", "spouse_id_number": "TEST00000000000004",
		"registration_date": "2019-06-01", "certificate_number": "TEST-J-2019-0003", "registry": "示例市民政局婚姻登记处",
	},
}

// citizen is a wallet of its own on the shared demo ledger, holding both credentials.
type citizen struct {
	w      *wallet.Wallet
	record map[string]string // type → issuer record id
}

func newCitizen(t *testing.T, e *env) *citizen {
	t.Helper()
	ctx := context.Background()
	w, err := wallet.Init(t.TempDir(), "20261126", &wallet.Options{Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.Ledger = e.h.Ledger()
	c := &citizen{w: w, record: map[string]string{}}
	for typ, member := range map[string]string{"household-register": "public-security", "marriage-certificate": "civil-affairs"} {
		dep, _ := e.h.Issuer(member)
		kid, err := w.Keys.NewEd25519()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := w.Keys.Public(kid)
		hp, _ := did.NewPublicKey(pub)
		iss, err := dep.Core().Issue(ctx, issuer.Request{Type: typ, Claims: browserClaims[typ], Holder: hp})
		if err != nil {
			t.Fatal(err)
		}
		c.record[typ] = iss.Record.ID
		if _, err := w.Accept(ctx, e.h.Ledger(), iss.SDJWT, kid); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// browser is one headless Chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	shot string // screenshot directory
	n    int
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no headless browser: %s is absent (make deps installs Debian's chromium): %v", chromiumPath, err)
	}
	// Chromium finds CJK glyphs through fontconfig; give it the project's Noto Sans SC so
	// that the zh-Hans screenshots are legible on machines without a CJK font. The page
	// itself loads no font.
	fonts, err := filepath.Abs("../assets/fonts")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	conf := filepath.Join(tmp, "fonts.conf")
	if err := os.WriteFile(conf, []byte(`<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>`+fonts+`</dir><cachedir>`+filepath.Join(tmp, "fc-cache")+`</cachedir></fontconfig>
`), 0o600); err != nil {
		t.Fatal(err)
	}
	// a fresh profile, outside t.TempDir: Chromium's children can still write in it for a
	// moment after the browser stops, which would fail t.TempDir's removal
	profile, err := os.MkdirTemp("", "lz-portal-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.Env("FONTCONFIG_FILE="+conf),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// the first Do starts the browser, bound to ctx (no timeout on it)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 800)); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	b := &browser{t: t, ctx: ctx, shot: t.TempDir()}
	if *updateScreenshots {
		b.shot = filepath.Join("testdata", "screenshots")
		if err := os.MkdirAll(b.shot, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// do runs steps with a deadline (the browser stays up when it passes).
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\npage:\n%s", what, err, b.text())
	}
}

// run runs one action returning a value, with a deadline.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v\npage:\n%s", what, err, b.text())
	}
	return v
}

// text is the page's visible text (for failure messages and assertions).
func (b *browser) text() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// wait waits until an element matching the CSS selector is visible; the page gets there by
// itself (the test never reloads it).
func (b *browser) wait(sel string) {
	b.t.Helper()
	b.do("waiting for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// until waits until the JavaScript expression is true in the page. It evaluates it again
// and again rather than with chromedp.Poll, which ends at a navigation: the page reloads
// itself when the session changes.
func (b *browser) until(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not seen (%v)\npage:\n%s", what, err, b.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot keeps the whole page as NN-name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.n++
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shot, fmt.Sprintf("%02d-%s.png", b.n, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// click clicks the element with this id and waits for the page it navigates to.
func (b *browser) click(id string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id)))
	if err != nil || resp.Status != 200 {
		b.t.Fatalf("click #%s: %v %+v\npage:\n%s", id, err, resp, b.text())
	}
}

// open opens a new application in the browser (as an applicant does: the index page, then
// the item's button) and returns the session id.
func (b *browser) open(p *testPortal, lang string) string {
	b.t.Helper()
	b.do("index", chromedp.Navigate(p.url+"/?lang="+lang))
	b.click("apply-" + item)
	b.wait(`#session[data-state="pending"]`)
	loc := run(b, "location", chromedp.Location())
	id, _, _ := strings.Cut(strings.TrimPrefix(loc, p.url+"/s/"), "?")
	if id == "" || strings.Contains(id, "/") {
		b.t.Fatalf("session page at %q", loc)
	}
	return id
}

// request reads the request as the page shows it: the QR image (the bitmap the browser
// decoded, drawn to a canvas and re-encoded as PNG, then decoded with package qr) and the
// same-device link's href; they must agree.
func (b *browser) request() string {
	b.t.Helper()
	b.until("QR image loaded", `(function(){const i=document.getElementById("qr");return i&&i.complete&&i.naturalWidth>0})()`)
	dataURL := run(b, "QR pixels", chromedp.Evaluate[string](`(function(){
		const i = document.getElementById("qr"), c = document.createElement("canvas");
		c.width = i.naturalWidth; c.height = i.naturalHeight;
		c.getContext("2d").drawImage(i, 0, 0);
		return c.toDataURL("image/png");
	})()`))
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(dataURL, "data:image/png;base64,"))
	if err != nil {
		b.t.Fatalf("QR data URL: %v", err)
	}
	fromQR, err := qr.DecodePNG(png)
	if err != nil {
		b.t.Fatalf("the page's QR does not decode: %v", err)
	}
	href := run(b, "link", chromedp.AttributeValue(chromedp.ID("link"), "href"))
	if !href.Exists || href.Value != fromQR || !strings.HasPrefix(fromQR, "openid4vp://?") {
		b.t.Fatalf("QR %q and link %+v disagree", fromQR, href)
	}
	return fromQR
}

// refusal asserts the page shows a refused verdict with code c: the code and the code's
// message in the page's language.
func (b *browser) refusal(c credential.Code, lang string) {
	b.t.Helper()
	b.wait(`#verdict[data-ok="false"][data-code="` + string(c) + `"]`)
	code := run(b, "code", chromedp.Text(chromedp.ID("code")))
	txt := b.text()
	if strings.TrimSpace(code) != string(c) || !strings.Contains(txt, credential.Message(c, lang)) {
		b.t.Fatalf("refusal %s: code %q; page lacks %q:\n%s", c, code, credential.Message(c, lang), txt)
	}
}

type formInput struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	ReadOnly bool   `json:"readOnly"`
	Disabled bool   `json:"disabled"`
}

// TestBrowserOnlineApplication drives the portal's pages in headless Chromium: the pending
// page's QR (decoded from the displayed image) and link agree; the wallet core answers and
// the page turns by itself into the accepted verdict and the read-only prefilled form; the
// form submits to an application number; the English switch; and the refusals (expired
// request, wrong nonce, wrong state, tampered response, revoked credential), each shown on
// the page with its reason code and message. Screenshots of each zh-Hans state for review.
func TestBrowserOnlineApplication(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t)
	p := newPortal(t, e)
	c := newCitizen(t, e)
	ctx := context.Background()

	// 1. pending: what will be asked, the QR and the link
	id := b.open(p, "zh")
	link := b.request()
	if s, err := p.srv.Session(id); err != nil || s.Link != link {
		t.Fatalf("the page's request %q is not the session's (%v)", link, err)
	}
	if txt := b.text(); !strings.Contains(txt, "请用链证通钱包扫描二维码") || !strings.Contains(txt, "户口簿") || !strings.Contains(txt, "等待钱包回应") {
		t.Fatalf("pending page:\n%s", txt)
	}
	b.screenshot("pending")

	// 2. the wallet reads the request: the page says so by itself
	pl, err := c.w.PlanOpenID4VP(ctx, link, loopback)
	if err != nil {
		t.Fatal(err)
	}
	b.until("the page saying the wallet read the request", `document.getElementById("wait") && document.getElementById("wait").innerText.includes("钱包已读取请求")`)
	b.screenshot("fetched")

	// 3. the wallet answers: the verdict and the read-only prefilled form appear by themselves
	res, err := c.w.PresentOpenID4VP(ctx, pl, nil)
	if err != nil || !res.Accepted {
		t.Fatalf("present: %v %+v", err, res)
	}
	b.wait(`#verdict[data-ok="true"]`)
	b.wait(`#form`)
	if loc := run(b, "location", chromedp.Location()); !strings.HasPrefix(loc, p.url+"/s/"+id) {
		t.Fatalf("the page left its session: %s", loc)
	}
	inputs := run(b, "form inputs", chromedp.Evaluate[[]formInput](`Array.from(document.querySelectorAll("#form input")).map(i => ({name: i.name, value: i.value, readOnly: i.readOnly, disabled: i.disabled}))`))
	got := map[string]formInput{}
	for _, in := range inputs {
		got[in.Name] = in
	}
	if len(pl.Asks) != 2 {
		t.Fatalf("asks %+v", pl.Asks)
	}
	for _, a := range pl.Asks {
		typ := a.Type
		for _, f := range a.Allowed {
			in, ok := got[typ+"."+f]
			if want := fmt.Sprint(browserClaims[typ][f]); !ok || in.Value != want || !(in.ReadOnly || in.Disabled) {
				t.Errorf("form field %s.%s: %+v (present %v), want %q read-only", typ, f, in, ok, want)
			}
		}
	}
	for _, f := range []string{"property_location", "property_certificate", "phone"} {
		if in, ok := got[f]; !ok || in.ReadOnly || in.Disabled {
			t.Errorf("applicant's field %s: %+v (present %v), want editable", f, in, ok)
		}
	}
	// typing into a verified field changes nothing; the applicant's fields take input
	b.do("typing", chromedp.SendKeys(chromedp.CSS(`input[name="marriage-certificate.spouse_name"]`), "改"),
		chromedp.SendKeys(chromedp.CSS(`input[name="property_location"]`), "示例市样例区演示路9号"),
		chromedp.SendKeys(chromedp.CSS(`input[name="property_certificate"]`), "TEST-BDC-0009"),
		chromedp.SendKeys(chromedp.CSS(`input[name="phone"]`), "01000000000"))
	if v := run(b, "spouse", chromedp.Value(chromedp.CSS(`input[name="marriage-certificate.spouse_name"]`))); v != "测试用户丁" {
		t.Errorf("a read-only field took input: %q", v)
	}
	if txt := b.text(); !strings.Contains(txt, "公安局") || !strings.Contains(txt, "以下信息来自已核验的电子证照，不可修改") {
		t.Errorf("verified page:\n%s", txt)
	}
	b.screenshot("verified")
	b.do("phone width", chromedp.EmulateViewport(390, 780))
	b.screenshot("verified-390x780")
	b.do("desktop width", chromedp.EmulateViewport(1024, 800))

	// 4. the form submitted: the page's confirmation, the disclosed values gone
	b.click("submit")
	b.wait("#applied")
	num := run(b, "number", chromedp.Text(chromedp.ID("number")))
	if txt := b.text(); !strings.HasPrefix(num, "WS") || !strings.Contains(txt, "申请已提交，受理编号") || strings.Contains(txt, "测试用户丁") {
		t.Fatalf("after submitting (%q):\n%s", num, txt)
	}
	b.screenshot("applied")

	// 5. English: the switch in the header, kept through the application
	b.do("index", chromedp.Navigate(p.url+"/"))
	b.click("lang")
	b.wait(`html[lang="en"]`)
	if txt := b.text(); !strings.Contains(txt, "Services available online") || !strings.Contains(txt, "Apply online") {
		t.Fatalf("English index:\n%s", txt)
	}
	b.click("apply-" + item)
	b.wait(`#session[data-state="pending"]`)
	if txt := b.text(); !strings.Contains(txt, "Scan the QR code with your LianZheng wallet") || !strings.Contains(txt, "Open the wallet") ||
		!strings.Contains(txt, "中文") || strings.Contains(txt, "请用链证通钱包扫描二维码") {
		t.Fatalf("English session page:\n%s", txt)
	}
	if res, err := c.w.PresentOpenID4VP(ctx, plan(t, c, b.request()), nil); err != nil || !res.Accepted {
		t.Fatalf("present (English page): %v %+v", err, res)
	}
	b.wait(`#form`)
	if txt := b.text(); !strings.Contains(txt, "Verification result") || !strings.Contains(txt, "From verified credentials; cannot be edited") ||
		!strings.Contains(txt, "Submit application") || strings.Contains(txt, "核验结果") {
		t.Fatalf("English verdict page:\n%s", txt)
	}

	// 6. refusals, each on its own application, shown on the page in plain words
	// expired: the page says so by itself; a wallet answering late is refused with the code
	b.open(p, "zh")
	pl = plan(t, c, b.request())
	p.advance(10 * time.Minute)
	b.wait("#expired")
	if txt := b.text(); !strings.Contains(txt, "本次请求已过期，请重新开始") {
		t.Fatalf("expired page:\n%s", txt)
	}
	b.screenshot("expired")
	r, err := c.w.PresentOpenID4VP(ctx, pl, nil)
	p.advance(-10 * time.Minute)
	if err != nil || r.Code != credential.CodeRequestExpired {
		t.Fatalf("late answer: %v %+v", err, r)
	}
	b.refusal(credential.CodeRequestExpired, "zh")
	b.screenshot("refused-" + string(credential.CodeRequestExpired))

	// crafted answers (the e2e test's post): another request's nonce, another state, an
	// altered ciphertext
	crafted := []struct {
		code credential.Code
		send func(pl *wallet.Plan) credential.Code
	}{
		{credential.CodeNonceMismatch, func(pl *wallet.Plan) credential.Code {
			_, otherLink := p.start(t)
			other := plan(t, c, otherLink)
			return post(t, pl, bound(t, c, other), pl.Online.Request.State, "", false)
		}},
		{credential.CodeStateMismatch, func(pl *wallet.Plan) credential.Code {
			return post(t, pl, bound(t, c, pl), oid4vp.NewState(), "", false)
		}},
		{credential.CodeResponseTampered, func(pl *wallet.Plan) credential.Code {
			return post(t, pl, bound(t, c, pl), pl.Online.Request.State, "", true)
		}},
	}
	for _, k := range crafted {
		b.open(p, "zh")
		pl := plan(t, c, b.request())
		if got := k.send(pl); got != k.code {
			t.Fatalf("%s: the portal answered %q", k.code, got)
		}
		b.refusal(k.code, "zh")
		b.screenshot("refused-" + string(k.code))
	}

	// revoked (last: it is final): the issuer revokes the marriage certificate
	dep, _ := e.h.Issuer("civil-affairs")
	if _, _, err := dep.Core().Revoke(ctx, c.record["marriage-certificate"]); err != nil {
		t.Fatal(err)
	}
	p.trust.Invalidate()
	b.open(p, "zh")
	pl = plan(t, c, b.request())
	choose := map[string]string{}
	for _, a := range pl.Asks {
		choose[a.Type] = a.Candidates[0].ID
	}
	if r, err := c.w.PresentOpenID4VP(ctx, pl, &wallet.PresentOptions{AllowInvalid: true, Choose: choose}); err != nil || r.Code != credential.CodeRevoked {
		t.Fatalf("revoked: %v %+v", err, r)
	}
	b.refusal(credential.CodeRevoked, "zh")
	b.screenshot("refused-" + string(credential.CodeRevoked))
}

func plan(t *testing.T, c *citizen, link string) *wallet.Plan {
	t.Helper()
	pl, err := c.w.PlanOpenID4VP(context.Background(), link, loopback)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

// bound is a genuine answer's presentations for pl's request, made but not posted.
func bound(t *testing.T, c *citizen, pl *wallet.Plan) map[string][]string {
	t.Helper()
	save := pl.Online.Request.ResponseURI
	pl.Online.Request.ResponseURI = strings.TrimSuffix(save, "/"+lastSegment(save)) + "/nowhere"
	r, err := c.w.PresentOpenID4VP(context.Background(), pl, nil)
	pl.Online.Request.ResponseURI = save
	if err != nil {
		t.Fatal(err)
	}
	types := make([]string, 0, len(r.Texts))
	for _, a := range pl.Asks {
		types = append(types, a.Type)
	}
	return vpOf(pl, r.Texts, types)
}

func lastSegment(u string) string { return u[strings.LastIndex(u, "/")+1:] }
