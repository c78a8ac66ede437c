// Package app is LianZheng's Fyne GUI: the three roles (公民钱包 citizen wallet, 窗口核验
// service window, 部门签发 department) as thin screens over the wallet, verifier and issuer
// cores, with a bundled Simplified-Chinese theme and zh-Hans/en translations.
package app

import (
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Roles.
const (
	RoleCitizen    = "citizen"
	RoleWindow     = "window"
	RoleDepartment = "department"
)

// AppID is the application id (FyneApp.toml).
const AppID = "cn.gov.demo.lianzheng"

// Preference keys.
const (
	prefRole       = "role"
	prefLang       = "lang"
	prefLarge      = "large_text"
	prefClearAfter = "verdict_clear_seconds"
)

// UI is the running app: one window whose content is the current role's screen.
type UI struct {
	App fyne.App
	Win fyne.Window
	Svc *Services

	theme *lzTheme
	// Sync runs "long" operations inline (tests); the app runs them in goroutines. With Sync
	// and no Timers, timed actions (verdict clearing, countdown) are not scheduled at all.
	Sync bool
	// Timers, if set, receives timed UI actions instead of fyne.Do (tests run them on
	// their own goroutine).
	Timers chan func()

	body    *fyne.Container
	window  *windowScreen
	citizen *citizenScreen
	dept    *deptScreen
	offers  *offerMemory // offers made in this run (department_offers.go)
	// pendingLink is an online service's link handed to the app, waiting for the wallet to
	// be unlocked (OpenLink).
	pendingLink string
}

// New builds the UI in w over svc, with the language, role and text size remembered in the
// app's preferences (Chinese by default; the role chooser on first start).
func New(a fyne.App, w fyne.Window, svc *Services) *UI {
	SetLanguage(a.Preferences().StringWithFallback(prefLang, LangZh))
	u := &UI{App: a, Win: w, Svc: svc, theme: &lzTheme{large: a.Preferences().Bool(prefLarge)}}
	a.Settings().SetTheme(u.theme)
	u.body = container.NewStack()
	w.SetContent(u.body)
	u.Refresh()
	return u
}

// Role is the chosen role ("" before the first choice).
func (u *UI) Role() string { return u.App.Preferences().String(prefRole) }

// SetRole switches role and shows its screen.
func (u *UI) SetRole(r string) {
	u.App.Preferences().SetString(prefRole, r)
	u.Refresh()
}

// SetLang switches the UI language and rebuilds the screens.
func (u *UI) SetLang(l string) {
	u.App.Preferences().SetString(prefLang, l)
	SetLanguage(l)
	u.Refresh()
}

// SetLarge switches large-text mode (长辈模式).
func (u *UI) SetLarge(on bool) {
	u.App.Preferences().SetBool(prefLarge, on)
	u.theme = &lzTheme{large: on}
	u.App.Settings().SetTheme(u.theme)
}

// ClearAfter is how long a verdict stays on screen.
func (u *UI) ClearAfter() time.Duration {
	return time.Duration(u.App.Preferences().IntWithFallback(prefClearAfter, 20)) * time.Second
}

// Refresh rebuilds the current screen (after a role or language change).
func (u *UI) Refresh() {
	u.Win.SetTitle(T("app.title"))
	var screen fyne.CanvasObject
	title := ""
	switch u.Role() {
	case RoleWindow:
		u.window = newWindowScreen(u)
		screen, title = u.window.root, T("role.window")
	case RoleCitizen:
		u.citizen = newCitizenScreen(u)
		screen, title = u.citizen.root, T("role.citizen")
	case RoleDepartment:
		u.dept = newDeptScreen(u)
		screen, title = u.dept.root, T("role.department")
	default:
		u.body.Objects = []fyne.CanvasObject{u.roleChooser()}
		u.body.Refresh()
		return
	}
	u.body.Objects = []fyne.CanvasObject{container.NewBorder(u.topBar(title), nil, nil, nil, screen)}
	u.body.Refresh()
}

func (u *UI) topBar(title string) fyne.CanvasObject {
	head := canvas.NewText(T("app.title")+" · "+title, theme.Color(theme.ColorNameForeground))
	head.TextStyle.Bold = true
	head.TextSize = theme.Size(theme.SizeNameSubHeadingText)
	settings := widget.NewButtonWithIcon(T("settings"), theme.SettingsIcon(), u.showSettings)
	return container.NewVBox(container.NewHBox(head, layout.NewSpacer(), settings), widget.NewSeparator())
}

func (u *UI) roleChooser() fyne.CanvasObject {
	title := canvas.NewText(T("app.title"), theme.Color(theme.ColorNamePrimary))
	title.TextStyle.Bold = true
	title.TextSize = 40
	title.Alignment = fyne.TextAlignCenter
	slogan := widget.NewLabelWithStyle(T("app.slogan"), fyne.TextAlignCenter, fyne.TextStyle{})
	choose := widget.NewLabelWithStyle(T("role.choose"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	card := func(role, icon string, ic fyne.Resource) fyne.CanvasObject {
		b := widget.NewButtonWithIcon(T("role."+role), ic, func() { u.SetRole(role) })
		b.Importance = widget.HighImportance
		d := widget.NewLabel(T("role." + role + ".desc"))
		d.Wrapping = fyne.TextWrapWord
		d.Alignment = fyne.TextAlignCenter
		return container.NewVBox(b, d)
	}
	roles := newColumns(0,
		card(RoleCitizen, "", theme.AccountIcon()),
		card(RoleWindow, "", theme.VisibilityIcon()),
		card(RoleDepartment, "", theme.DocumentCreateIcon()))
	langs := widget.NewRadioGroup([]string{T("lang.zh"), T("lang.en")}, nil)
	langs.Horizontal = true
	if Language() == LangEn {
		langs.Selected = T("lang.en")
	} else {
		langs.Selected = T("lang.zh")
	}
	langs.OnChanged = func(s string) {
		if s == T("lang.en") {
			u.SetLang(LangEn)
		} else {
			u.SetLang(LangZh)
		}
	}
	var demo fyne.CanvasObject = layout.NewSpacer()
	if u.Svc != nil && u.Svc.Demo {
		l := widget.NewLabelWithStyle(T("settings.demo"), fyne.TextAlignCenter, fyne.TextStyle{Italic: false})
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.LowImportance
		demo = l
	}
	return container.NewPadded(container.NewVBox(layout.NewSpacer(), title, slogan, widget.NewSeparator(),
		choose, roles, container.NewCenter(langs), demo, layout.NewSpacer()))
}

func (u *UI) showSettings() {
	roles := []string{T("role.citizen"), T("role.window"), T("role.department")}
	ids := []string{RoleCitizen, RoleWindow, RoleDepartment}
	role := widget.NewSelect(roles, nil)
	for i, id := range ids {
		if id == u.Role() {
			role.SetSelectedIndex(i)
		}
	}
	lang := widget.NewSelect([]string{T("lang.zh"), T("lang.en")}, nil)
	if Language() == LangEn {
		lang.SetSelectedIndex(1)
	} else {
		lang.SetSelectedIndex(0)
	}
	large := widget.NewCheck(T("settings.large"), nil)
	large.Checked = u.App.Preferences().Bool(prefLarge)
	clear := widget.NewEntry()
	clear.SetText(strconv.Itoa(int(u.ClearAfter() / time.Second)))
	items := []*widget.FormItem{
		widget.NewFormItem(T("settings.role"), role),
		widget.NewFormItem(T("settings.language"), lang),
		widget.NewFormItem("", large),
		widget.NewFormItem(T("settings.clear_after"), clear),
	}
	dialog.ShowForm(T("settings"), T("common.confirm"), T("common.cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		if n, err := strconv.Atoi(clear.Text); err == nil && n >= 3 && n <= 600 {
			u.App.Preferences().SetInt(prefClearAfter, n)
		}
		if large.Checked != u.App.Preferences().Bool(prefLarge) {
			u.SetLarge(large.Checked)
		}
		l := LangZh
		if lang.SelectedIndex() == 1 {
			l = LangEn
		}
		u.App.Preferences().SetString(prefLang, l)
		SetLanguage(l)
		if i := role.SelectedIndex(); i >= 0 {
			u.App.Preferences().SetString(prefRole, ids[i])
		}
		u.Refresh()
	}, u.Win)
}

// busy runs work off the UI goroutine with a progress indicator, then done on the UI
// goroutine (fyne.Do). In tests (Sync) it runs inline.
func (u *UI) busy(work func() error, done func(error)) {
	if u.Sync {
		done(work())
		return
	}
	bar := widget.NewProgressBarInfinite()
	d := dialog.NewCustomWithoutButtons(T("common.working"), bar, u.Win)
	d.Show()
	go func() {
		err := work()
		fyne.Do(func() {
			bar.Stop()
			d.Hide()
			done(err)
		})
	}()
}

// quietly is busy without the progress dialog, for work the citizen did not ask for (reading
// an offer as it is scanned: a dialog would take the scanner's keystrokes).
func (u *UI) quietly(work func() error, done func(error)) {
	if u.Sync {
		done(work())
		return
	}
	go func() {
		err := work()
		fyne.Do(func() { done(err) })
	}()
}

// after runs fn on the UI goroutine after d; the returned func cancels it.
func (u *UI) after(d time.Duration, fn func()) (stop func()) {
	if u.Sync && u.Timers == nil {
		// tests run timed actions only through Timers: a timer firing on its own goroutine
		// would race the test and change what a golden image captures
		return func() {}
	}
	if u.Timers != nil {
		t := time.AfterFunc(d, func() { u.Timers <- fn })
		return func() { t.Stop() }
	}
	t := time.AfterFunc(d, func() { fyne.Do(fn) })
	return func() { t.Stop() }
}

// info shows a short message (a finished long operation).
func (u *UI) info(msg string) {
	d := dialog.NewCustom(T("common.done"), T("common.close"), wrapLabel(msg), u.Win)
	d.Resize(dialogSize(u.Win, 420, 180))
	d.Show()
}
