package app

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lianzheng/credential"
	"lianzheng/credential/wire"
	"lianzheng/home"
	"lianzheng/internal/bilingual"
	"lianzheng/issuer"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// qrWindow is the fake window with a request QR and a receipt to show.
type qrWindow struct{ fakeWindow }

func (f *qrWindow) NewRequest(ctx context.Context, item string) (*verifier.Request, error) {
	items, _ := f.Items(ctx)
	r := &verifier.Request{Text: "LZ1Q:" + strings.Repeat("6BFOXN*TS0BI$ZD.P9", 20),
		Request: &wire.Request{Expires: fixedNow.Add(5 * time.Minute).Unix()}}
	for _, it := range items {
		if it.ID == item {
			r.Item = it
		}
	}
	return r, nil
}

func (f *qrWindow) HandReceipt(context.Context, string) (*home.QRResult, error) {
	text := "LZ1E:" + strings.Repeat("6BFOXN*TS0BI$ZD.P9", 30)
	png, err := renderQR(text)
	return &home.QRResult{Text: text, PNG: png, Anchored: true}, err
}

// lockedWallet is the fake wallet before set-up (exists false) or locked (exists true).
type lockedWallet struct {
	fakeCitizen
	exists bool
}

func (f *lockedWallet) Ready() (bool, bool) { return f.exists, false }

// phoneStates drives every screen of the app, in the current language, through the states a
// person meets, calling check in each.
func phoneStates(t *testing.T, l string, check func(state string, u *UI)) {
	t.Helper()
	// the role chooser and the settings
	u, _ := newTestUI(t, "", l, phone)
	check("chooser", u)
	u.showSettings()
	check("settings", u)

	// the citizen
	u, _ = newTestUI(t, RoleCitizen, l, phone)
	u.Svc.Citizen = &lockedWallet{}
	u.SetRole(RoleCitizen)
	check("wallet set-up", u)
	u.citizen.PINIn.SetText("12")
	u.citizen.PINAgain.SetText("12")
	u.citizen.submitPIN(false)
	check("wallet set-up refused", u)
	u.citizen.showRestore()
	check("restore", u)
	u.Svc.Citizen = &lockedWallet{exists: true}
	u.SetRole(RoleCitizen)
	check("unlock", u)
	u.Svc.Citizen = &fakeCitizen{items: demoItems(), regions: testRegions()}
	u.SetRole(RoleCitizen)
	cs := u.citizen
	for i := range cs.tabs.Items {
		cs.tabs.SelectIndex(i)
		check("citizen tab "+cs.tabs.Items[i].Text, u)
	}
	cs.detail("c2")
	check("credential detail", u)
	if b := findButton(u.Win.Canvas().Overlays().Top(), T("citizen.regions.show")); b != nil {
		test.Tap(b)
	} else {
		t.Errorf("%s: the credential detail has no 跨区域互认 button", l)
	}
	check("credential detail, regions", u)
	if !hasText(u.Win.Canvas().Overlays().Top(), lz("示例乙市", "Example City B")) {
		t.Errorf("%s: the regions are not listed", l)
	}
	closeOverlays(u.Win)
	cs.tabs.SelectIndex(1)
	cs.Offer.SetText(demoOffer)
	check("offer read", u)
	cs.receive()
	check("offer refused", u)
	closeOverlays(u.Win)
	cs.tabs.SelectIndex(2)
	p, vals := overAskPlan()
	cs.consent(p, vals)
	check("consent", u)
	revoked := demoItems()[0]
	revoked.Status = wallet.StatusRevoked
	p.Asks[0].Candidates, p.Asks[0].Chosen = []wallet.Item{revoked}, ""
	cs.consent(p, vals)
	check("consent, credential revoked", u)
	png, _ := renderQR("LZ1R:" + strings.Repeat("6BFOXN*TS0BI$ZD.P9", 30))
	cs.showResponse(png)
	check("response QR", u)

	// the window
	u, _ = newTestUI(t, RoleWindow, l, phone)
	u.Svc.Window = &qrWindow{fakeWindow{verdict: passVerdict()}}
	u.SetRole(RoleWindow)
	check("window", u)
	u.window.item.SetSelectedIndex(0)
	check("window request QR", u)
	u.window.showVerdict(passVerdict())
	check("verdict", u)
	fv := failVerdict()
	fv.Credentials[0].Message = fv.Message // a reason of its own, as long as the verdict's
	fv.Credentials[0].Code = "suspended"
	u.window.showVerdict(fv)
	check("verdict refused", u)
	v := passVerdict()
	v.ReceiptID = "r1"
	u.window.showVerdict(v)
	u.window.handReceipt(v)
	check("receipt QR", u)
	u.window.clearVerdict()
	u.window.showTrust(verifier.TrustInfo{}, fmt.Errorf("x: %w", context.DeadlineExceeded))
	check("trust unavailable", u)
	u.window.showTrust(verifier.TrustInfo{Source: "snapshot", Height: 1200, Age: 2 * time.Hour, MaxAge: 24 * time.Hour,
		Regions: []verifier.RegionTrust{
			{ID: "region-b", Name: bilingual.Text{Zh: "示例乙市", En: "Example City B"}, Known: true, Age: 50 * time.Minute, MaxAge: time.Hour},
			{ID: "region-c", Name: bilingual.Text{Zh: "示例丙市", En: "Example City C"}, MaxAge: time.Hour, Problem: credential.CodeForeignStale},
		}}, nil)
	check("trust with regions", u)
	for _, want := range []string{lz("示例乙市", "Example City B"), lz("示例丙市", "Example City C"), lzText(credential.Text(credential.CodeForeignStale))} {
		if !hasText(u.window.trust, want) {
			t.Errorf("%s: the trust bar lacks %q", l, want)
		}
	}
	if u.window.trust.Importance != widget.WarningImportance {
		t.Errorf("%s: a region refused now does not warn", l)
	}

	// the department
	u, _ = newTestUI(t, RoleDepartment, l, phone)
	check("department", u)
	u.dept.submit()
	check("issue form errors", u)
	png, _ = renderQR("openid-credential-offer://?credential_offer=" + strings.Repeat("%7B%22a%22", 30))
	u.dept.showOffer(&home.OfferResult{Text: demoOffer, PNG: png, PIN: "493817", Expires: fixedNow.Add(10 * time.Minute)})
	check("offer", u)
	u.dept.tabs.SelectIndex(1)
	check("batch", u)
	u.dept.batch.finish(&batchOutcome{Err: fmt.Errorf("x: %w", issuer.ErrBatchInvalid), Res: &issuer.BatchResult{Rows: 3,
		Errors: []issuer.RowError{{Row: 2, Fields: []issuer.FieldError{{Field: "registration_date", Code: "type_date"}}}}}})
	check("batch refused", u)
	bs := u.dept.batch
	bs.Result.Objects = nil
	bs.showStatus("", widget.MediumImportance)
	bs.Bar.Show()
	bs.progress(issuer.BatchProgress{Phase: issuer.PhaseIssuing, Done: 123500, Total: 1000000, RowsPerSec: 1480, Left: 9*time.Minute + 52*time.Second})
	check("batch progress", u)
	bs.finish(&batchOutcome{Res: &issuer.BatchResult{ID: "0123456789abcdef0123456789abcdef", Kind: issuer.BatchCredentials, Rows: 1000000,
		Count: 400000, Resumed: 600000}, File: "/home/clerk/households/households-2026-12-result-20261204-101500.csv"})
	check("batch resumed", u)
	fd := u.dept.dep.(*fakeDept)
	fd.batches = []issuer.BatchInfo{{ID: "0123456789abcdef0123456789abcdef", Type: "household-register", Kind: issuer.BatchCredentials,
		Rows: 100000, Committed: 100000, Started: fixedNow, Finished: fixedNow}}
	fd.batchStates = map[string]int{issuer.StateValid: 99990, issuer.StateSuspended: 10}
	u.dept.dep.(*fakeDept).records = []issuer.Record{
		{ID: "rec-0123456789abcdef", Type: "household-register", IssuedAt: fixedNow, State: issuer.StateValid},
		{ID: "rec-fedcba9876543210", Type: "residence-permit", IssuedAt: fixedNow, State: issuer.StateSuspended},
		{ID: "rec-00000000000000000", Type: "household-register", IssuedAt: fixedNow, State: issuer.StateRevoked}}
	u.dept.tabs.SelectIndex(2)
	u.dept.loadRecords()
	check("issued", u)
	tap(t, u.Win, T("dept.revoke"))
	check("revoke confirmation", u)
	closeOverlays(u.Win)
	bb := u.dept.issued.Bulk
	bb.Acc.Open(0)
	bb.load()
	check("issued, bulk", u)
	test.Tap(bb.Run)
	if !hasText(u.Win.Canvas().Overlays().Top(), "100000") {
		t.Errorf("%s: the bulk confirmation does not name the count", l)
	}
	check("bulk confirmation", u)
	if b := findButton(u.Win.Canvas().Overlays().Top(), T("dept.revoke")); b != nil {
		test.Tap(b)
	}
	if len(fd.bulked) != 1 || fd.bulked[0].BatchID != fd.batches[0].ID || fd.bulked[0].Action != issuer.ActionRevoke {
		t.Errorf("%s: bulk asked %+v", l, fd.bulked)
	}
	check("bulk done", u)
	fd.agreements = testAgreements()
	u.dept.tabs.SelectIndex(0)
	test.Tap(u.dept.agreements.Show)
	check("agreements", u)
	u.dept.agreements.body.Objects[1].(*widget.Card).Content.(*fyne.Container).Objects[len(fd.agreements[0].Types)+4].(*widget.Accordion).Open(0)
	check("agreement details", u)

	// the start
	a := test.NewTempApp(t)
	a.Preferences().SetString(prefLang, l)
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	w.Resize(phone)
	s := Starting(a, w)
	check("splash", &UI{Win: w})
	s.Failed(fmt.Errorf("app: %w", context.DeadlineExceeded), nil)
	check("start failed", &UI{Win: w})
}

// TestPhoneWidth: at 390×780, in both languages, no screen, tab, state or dialog asks for a
// wider window, and no line of text starts with closing punctuation (标点避头: Fyne wraps
// Chinese anywhere; breakable lets it break only where a line may).
func TestPhoneWidth(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		phoneStates(t, l, func(state string, u *UI) {
			t.Helper()
			objs := append([]fyne.CanvasObject{u.Win.Canvas().Content()}, u.Win.Canvas().Overlays().List()...)
			for i, o := range objs {
				o.Refresh() // lay out at the phone's width before measuring
				if w := o.MinSize().Width; w > phone.Width {
					t.Errorf("%s %s: %s needs %.0f points: %s", l, state, []string{"screen", "dialog"}[min(i, 1)], w, widest(o))
				}
				for _, line := range badLineStarts(o) {
					t.Errorf("%s %s: a line starts with closing punctuation: %q", l, state, line)
				}
			}
		})
	}
	// the history's receipt field has the whole width (it was squeezed to ~140 points
	// beside its two buttons)
	u, _ := newTestUI(t, RoleCitizen, LangEn, phone)
	u.citizen.tabs.SelectIndex(3)
	if w := u.citizen.ReceiptIn.Size().Width; w < phone.Width-60 {
		t.Errorf("the receipt field is %.0f points wide at phone size", w)
	}
	SetLanguage(LangZh)
}

// badLineStarts lists the visible wrapped lines under o (the second and later lines of a
// text Fyne wrapped) that start with a character a line must not start with (machine text
// aside).
func badLineStarts(o fyne.CanvasObject) []string {
	var out []string
	walkVisible(o, func(o fyne.CanvasObject) bool {
		rt, ok := o.(*widget.RichText)
		if !ok {
			return false
		}
		var rows []*canvas.Text
		for _, c := range test.WidgetRenderer(rt).Objects() {
			if t, ok := c.(*canvas.Text); ok && c.Visible() && t.Text != "" {
				rows = append(rows, t)
			}
		}
		for i, t := range rows {
			if i == 0 || t.TextStyle.Monospace {
				continue
			}
			for _, r := range strings.TrimLeft(t.Text, " \u200a") {
				if strings.ContainsRune(noBreakBefore, r) {
					out = append(out, plain(t.Text))
				}
				break
			}
		}
		return false
	})
	return out
}

// widest names the path down to the innermost object that is wider than a phone.
func widest(o fyne.CanvasObject) string {
	var path []string
	for o != nil {
		path = append(path, fmt.Sprintf("%T %.0f%s", o, o.MinSize().Width, describe(o)))
		var children []fyne.CanvasObject
		switch x := o.(type) {
		case *fyne.Container:
			children = x.Objects
		case fyne.Widget:
			children = test.WidgetRenderer(x).Objects()
		}
		o = nil
		for _, c := range children {
			if c.Visible() && c.MinSize().Width > phone.Width {
				o = c
				break
			}
		}
	}
	return strings.Join(path, " > ")
}

func describe(o fyne.CanvasObject) string {
	switch x := o.(type) {
	case *canvas.Text:
		return " " + fmt.Sprintf("%q", x.Text)
	case *widget.Label:
		return " " + fmt.Sprintf("%q", x.Text)
	case *widget.Button:
		return " " + fmt.Sprintf("%q", x.Text)
	}
	return ""
}

// TestBreakable: hair spaces go between Chinese characters, never before closing or after
// opening punctuation, never inside Latin words or numbers.
func TestBreakable(t *testing.T) {
	h := string(hairSpace)
	for in, want := range map[string]string{
		"证照":               "证" + h + "照",
		"姓名、公民身份号码":        "姓" + h + "名、" + h + "公" + h + "民" + h + "身" + h + "份" + h + "号" + h + "码",
		"（区块高度 1234）":      "（区" + h + "块" + h + "高" + h + "度 1234）",
		"TEST0001":         "TEST0001",
		"Wait 30 s, then.": "Wait 30 s, then.",
		"2 小时前":            "2 小" + h + "时" + h + "前",
		"“居民户口簿”已撤销":       "“居" + h + "民" + h + "户" + h + "口" + h + "簿”" + h + "已" + h + "撤" + h + "销",
		"已在链上核实……":         "已" + h + "在" + h + "链" + h + "上" + h + "核" + h + "实……",
	} {
		if got := breakable(in); got != want {
			t.Errorf("breakable(%q) = %q, want %q", in, got, want)
		}
	}
}

// fmtVerb is one fmt verb in a translation (%s, %d, %.0f, %5.1f, …).
var fmtVerb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// sampleArgs fills every verb of a translation with a value of the kind it formats, so the
// wrapped text is what a person sees (a verb left in would itself start a line with %).
func sampleArgs(v string) string {
	return fmtVerb.ReplaceAllStringFunc(v, func(verb string) string {
		switch verb[len(verb)-1] {
		case 's', 'v', 'q':
			return "示例市公安局"
		case 'f', 'g', 'e':
			return "2150"
		}
		return "12"
	})
}

// TestWrappedLinesAvoidClosingPunctuation: every Chinese text with punctuation the screens
// wrap (the translations, a history line), wrapped as they wrap it (wrapLabel) at widths from
// 150 to 390 points: no rendered line starts with closing punctuation. (Without breakable,
// Fyne breaks Chinese anywhere and this fails at many widths.)
func TestWrappedLinesAvoidClosingPunctuation(t *testing.T) {
	var texts []string
	for _, v := range readMessages(LangZh) {
		if len([]rune(v)) > 8 && strings.ContainsAny(v, noBreakBefore) {
			texts = append(texts, sampleArgs(v))
		}
	}
	SetLanguage(LangZh)
	texts = append(texts, "居民户口簿（"+fieldNames("household-register", []string{"name", "id_number", "birth_date", "address"})+"）；结婚证（配偶姓名、配偶身份号码）")
	for _, s := range texts {
		l := wrapLabel(s)
		test.WidgetRenderer(l)
		for width := float32(150); width <= phone.Width; width += 20 {
			l.Resize(fyne.NewSize(width, 600))
			for _, line := range badLineStarts(l) {
				t.Errorf("at %.0f points, %q wraps to a line starting %q", width, s, line)
			}
		}
	}
}
