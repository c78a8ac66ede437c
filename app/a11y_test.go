package app

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestEveryControlHasWords: Fyne 2.7 exposes nothing to screen readers (its AT-SPI/UIA
// support arrives in 2.8 behind -tags accessibility), so the screens are made ready for it
// and for everyone reading them: every button and check box carries words (never an icon
// alone), every select and entry says what it wants (placeholder, or a form label). Checked
// on every screen and tab, in both languages, at phone and desktop size.
func TestEveryControlHasWords(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		for _, size := range []fyne.Size{desktop, fyne.NewSize(390, 780)} {
			for _, role := range []string{"", RoleCitizen, RoleWindow, RoleDepartment} {
				u, _ := newTestUI(t, role, l, size)
				check := func(where string) {
					t.Helper()
					for _, p := range unlabelled(u.Win.Canvas().Content()) {
						t.Errorf("%s %s %v: %s", l, where, size, p)
					}
				}
				check("role " + role)
				switch role {
				case RoleCitizen:
					for i := range u.citizen.tabs.Items {
						u.citizen.tabs.SelectIndex(i)
						check("citizen tab " + u.citizen.tabs.Items[i].Text)
					}
				case RoleWindow:
					u.window.showVerdict(passVerdict())
					check("verdict")
					u.window.clearVerdict()
				}
			}
		}
	}
}

// unlabelled lists the visible controls under o that say nothing.
func unlabelled(o fyne.CanvasObject) []string {
	var out []string
	var walk func(o fyne.CanvasObject, inForm bool)
	walk = func(o fyne.CanvasObject, inForm bool) {
		if o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == "" {
				out = append(out, "button with an icon only: "+iconName(x.Icon))
			}
			return
		case *widget.Check:
			if x.Text == "" {
				out = append(out, "check box without words")
			}
			return
		case *widget.Select:
			if x.PlaceHolder == "" && x.Selected == "" {
				out = append(out, "select without placeholder")
			}
			return
		case *widget.Entry:
			if x.PlaceHolder == "" && !inForm {
				out = append(out, "entry without placeholder or label")
			}
			return
		case *widget.Form:
			inForm = true
		case *fyne.Container:
			switch fmt.Sprintf("%T", x.Layout) {
			case "*layout.formLayout", "*app.formRows":
				inForm = true // a label beside (or above) each entry
			}
		case *container.AppTabs:
			for _, it := range x.Items {
				if it.Text == "" {
					out = append(out, "tab without words")
				}
			}
		}
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c, inForm)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c, inForm)
			}
		}
	}
	walk(o, false)
	return out
}

func iconName(r fyne.Resource) string {
	if r == nil {
		return "none"
	}
	return r.Name()
}
