package app

import (
	"encoding/json"
	"image"
	"image/color"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"lianzheng/assets"
)

func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) == "1" {
		os.Exit(0) // TestMakeRunLaunchesWithoutLocaleError's probe: Fyne has initialised
	}
	os.Setenv("LANG", "C.UTF-8")
	os.Exit(m.Run())
}

// newTestUI builds the UI over fakes in a headless test app, role and language chosen.
func newTestUI(t *testing.T, role, l string, size fyne.Size) (*UI, *fakeWindow) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Preferences().SetString(prefRole, role)
	a.Preferences().SetString(prefLang, l)
	fw := &fakeWindow{verdict: passVerdict()}
	svc := &Services{Window: fw, Citizen: &fakeCitizen{items: demoItems()}, Department: &fakeDept{}}
	u := uiOver(t, a, svc, l, size)
	u.Refresh()
	return u, fw
}

// uiOver lays out a UI in language l over svc in a new test window of the given size; a may
// carry preferences set beforehand. The window closes when the test ends.
func uiOver(t testing.TB, a fyne.App, svc *Services, l string, size fyne.Size) *UI {
	t.Helper()
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	u := &UI{App: a, Win: w, Svc: svc, Sync: true, theme: &lzTheme{}}
	SetLanguage(l)
	a.Settings().SetTheme(u.theme)
	u.body = newStack()
	w.SetContent(u.body)
	w.Resize(size)
	return u
}

var desktop = fyne.NewSize(1000, 700)

// TestFyneSelectsZhHans: the translations are registered under zh-Hans and Fyne's lang
// package picks them (it never selects a plain "zh" file); English is selectable.
func TestFyneSelectsZhHans(t *testing.T) {
	SetLanguage(LangZh)
	if got := lang.X("role.citizen", ""); got != "公民钱包" {
		t.Fatalf("zh-Hans: lang.X = %q", got)
	}
	SetLanguage(LangEn)
	if got := lang.X("role.citizen", ""); got != "Citizen wallet" {
		t.Fatalf("en: lang.X = %q", got)
	}
	SetLanguage(LangZh)
	if got := T("role.window"); got != "窗口核验" {
		t.Fatalf("back to zh-Hans: %q", got)
	}
}

// TestTranslationsComplete: both languages have the same keys, none empty.
func TestTranslationsComplete(t *testing.T) {
	zh, en := readMessages(LangZh), readMessages(LangEn)
	for k, v := range zh {
		if en[k] == "" || v == "" {
			t.Errorf("key %q: zh %q en %q", k, v, en[k])
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("key %q only in en", k)
		}
	}
}

// uiStrings is every string the UI may show: both translations and every catalogue label.
func uiStrings(t *testing.T) []string {
	var out []string
	for _, l := range []string{LangZh, LangEn} {
		for k, v := range readMessages(l) {
			if k == "demo.rare" {
				continue // deliberately outside the subset: see TestRareNameFallback
			}
			out = append(out, v)
		}
	}
	c, err := assets.DemoCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c)
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		case string:
			out = append(out, x)
		}
	}
	var m any
	json.Unmarshal(b, &m)
	walk(m)
	// status labels and messages the cores produce
	out = append(out, "有效", "已暂停", "已撤销", "已过期", "未知（无法查询链上状态）", "⚠ ", "✓ ", "：", "；", "、", "（", "）", "…")
	return out
}

// TestGlyphCoverage: every rune of every UI string and catalogue label has a glyph in both
// bundled faces (no .notdef tofu), so nothing depends on the machine's fonts.
func TestGlyphCoverage(t *testing.T) {
	missing := map[rune]bool{}
	for _, s := range uiStrings(t) {
		for _, r := range s {
			if r < 0x20 {
				continue
			}
			if !covered(string(r)) {
				missing[r] = true
			}
		}
	}
	bold := parseFace(t, assets.FontBold)
	for _, s := range uiStrings(t) {
		for _, r := range s {
			if _, ok := bold.NominalGlyph(r); !ok && r >= 0x20 {
				missing[r] = true
			}
		}
	}
	if len(missing) > 0 {
		var rs []string
		for r := range missing {
			rs = append(rs, string(r))
		}
		sort.Strings(rs)
		t.Fatalf("runes without a glyph in the bundled font: %q", strings.Join(rs, ""))
	}
}

// TestSCShapes: the bundled face is the Simplified Chinese one (not JP/TC).
func TestSCShapes(t *testing.T) {
	f := parseFace(t, assets.FontRegular)
	if name := f.Describe().Family; !strings.Contains(name, "SC") {
		t.Fatalf("bundled family %q is not Noto Sans CJK SC", name)
	}
}

// TestRareNameFallback: name characters outside the subset (龑 U+9F91, 𠮷 U+20BB7 — 䶮 U+4DAE
// is in 通用规范汉字表, so it is in the main faces) are drawn from the bundled fallback face.
func TestRareNameFallback(t *testing.T) {
	names := parseFace(t, assets.FontNames)
	for _, r := range []rune{'龑', '𠮷', '䶮', '堃'} {
		if _, ok := names.NominalGlyph(r); !ok {
			t.Errorf("fallback face lacks %c", r)
		}
	}
	if covered("王龑") || covered("𠮷") {
		t.Fatal("龑 or 𠮷 unexpectedly in the main subset: pick a rarer test character")
	}
	if !covered("王䶮") {
		t.Fatal("䶮 (通用规范汉字表 #6814) missing from the main subset")
	}
	obj := valueText("王龑", 40, false)
	w := test.NewWindow(obj)
	defer w.Close()
	w.Resize(fyne.NewSize(200, 80))
	img := w.Canvas().Capture()
	// both characters drawn: ink in the left and the right half of the text
	if ink(img, 0, 50) == 0 || ink(img, 50, 100) == 0 {
		t.Fatalf("rare name not drawn (ink %d / %d)", ink(img, 0, 50), ink(img, 50, 100))
	}
}

// ink counts dark pixels between x0 and x1 (in points at scale 1).
func ink(img image.Image, x0, x1 int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X + x0; x < b.Min.X+x1 && x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if (r+g+bb)/3 < 0x8000 {
				n++
			}
		}
	}
	return n
}

// TestScreensRender: each role's main screen in zh-Hans and en, desktop and phone sizes,
// against golden images (a change of glyphs, e.g. tofu or JP shapes, fails them).
func TestScreensRender(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		for _, role := range []string{"", RoleCitizen, RoleWindow, RoleDepartment} {
			for _, sz := range []struct {
				name string
				size fyne.Size
			}{{"desktop", desktop}, {"phone", fyne.NewSize(390, 780)}} {
				name := role
				if name == "" {
					name = "chooser"
				}
				t.Run(l+"/"+name+"/"+sz.name, func(t *testing.T) {
					u, _ := newTestUI(t, role, l, sz.size)
					want := T("role.choose")
					switch role {
					case RoleCitizen:
						want = "居民户口簿"
						if l == LangEn {
							want = "Household register"
						}
					case RoleWindow:
						want = T("window.scan")
					case RoleDepartment:
						want = T("dept.issue.form")
					}
					if !hasText(u.Win.Canvas().Content(), want) {
						t.Fatalf("%q not on screen", want)
					}
					test.AssertImageMatches(t, l+"_"+name+"_"+sz.name+".png", u.Win.Canvas().Capture())
				})
			}
		}
	}
}

// TestVerdictScreen: the verdict in large type with colour, fields and labels; golden image.
func TestVerdictScreen(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		u, _ := newTestUI(t, RoleWindow, l, desktop)
		u.window.showVerdict(passVerdict())
		if !hasText(u.Win.Canvas().Content(), T("window.verdict.pass")) || !hasText(u.Win.Canvas().Content(), "测试用户甲") {
			t.Fatal("verdict not shown")
		}
		test.AssertImageMatches(t, l+"_verdict.png", u.Win.Canvas().Capture())
		u.window.clearVerdict()
	}
}

// TestScanSubmitsOnEnter: a keyboard-wedge scanner types the code (here through a Chinese
// input method that made the punctuation full-width) and presses Enter: the window verifies
// the normalised text, shows the verdict, and clears it after the configured time.
func TestScanSubmitsOnEnter(t *testing.T) {
	u, fw := newTestUI(t, RoleWindow, LangZh, desktop)
	u.App.Preferences().SetInt(prefClearAfter, 1)
	u.Timers = make(chan func(), 4)
	scan := u.window.Scan
	test.Type(scan, "ｌｚ１Ｒ：6BFOXN*TS0BI$ZD.P9。Q")
	if len(fw.scanned) != 0 {
		t.Fatal("submitted before Enter")
	}
	scan.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(fw.scanned) != 1 || fw.scanned[0] != "LZ1R:6BFOXN*TS0BI$ZD.P9.Q" {
		t.Fatalf("scanned %q", fw.scanned)
	}
	if u.window.LastVerdict == nil || scan.Text != "" {
		t.Fatal("no verdict after Enter, or scan field not cleared")
	}
	counts := []string{u.window.countdown.Text}
	deadline := time.After(10 * time.Second)
	for u.window.LastVerdict != nil {
		select {
		case fn := <-u.Timers:
			if u.window.countdown != nil {
				counts = append(counts, u.window.countdown.Text)
			}
			fn()
		case <-deadline:
			t.Fatal("verdict did not clear itself")
		}
	}
	if fw.closed == 0 {
		t.Fatal("verifier session not closed with the verdict")
	}
	if counts[0] != T("window.verdict.clears", 1) {
		t.Errorf("countdown starts at %q", counts[0])
	}
}

func TestNormaliseScan(t *testing.T) {
	for in, want := range map[string]string{
		"LZ1R:ABC\r\n":       "LZ1R:ABC",
		"ｌｚ１ｒ：A B":           "LZ1R:A B",
		"lz1q:abc。def$%*+":   "LZ1Q:ABC.DEF$%*+",
		"\u3000LZ1W：X\u3000": "LZ1W:X",
	} {
		if got := normaliseScan(in); got != want {
			t.Errorf("normaliseScan(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestIssueFormFieldErrors: the form comes from the type's schema and shows the core's
// per-field errors under each field.
func TestIssueFormFieldErrors(t *testing.T) {
	u, _ := newTestUI(t, RoleDepartment, LangZh, desktop)
	d := u.dept
	if len(d.Fields) == 0 {
		t.Fatal("no form generated")
	}
	d.Fields["birth_date"].SetText("1990-13-45")
	d.submit()
	if !d.Errors["name"].Visible() || d.Errors["name"].Text == "" || !d.Errors["birth_date"].Visible() {
		t.Fatalf("field errors not shown: name %q birth_date %q", d.Errors["name"].Text, d.Errors["birth_date"].Text)
	}
}

// TestWrongPIN: the wallet's refusal is shown in the current language.
func TestWrongPIN(t *testing.T) {
	u, _ := newTestUI(t, RoleCitizen, LangZh, desktop)
	u.citizen.Offer.SetText("openid-credential-offer://?x")
	u.citizen.PIN.SetText("000000")
	u.citizen.receive()
	if !hasOverlayText(u.Win, "领取密码错误") {
		t.Fatal("wrong PIN refusal not shown")
	}
}

func hasOverlayText(w fyne.Window, s string) bool {
	for _, o := range w.Canvas().Overlays().List() {
		if hasText(o, s) {
			return true
		}
	}
	return false
}

var _ = color.White
