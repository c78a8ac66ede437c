package app

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/ledger"
)

// agreementsSection is 跨区域互认 at the foot of the issue tab (a button that shows them: a
// fourth tab would not fit a phone's tab bar): the mutual-recognition agreements the consortium's
// ledger holds (read-only; they are made and withdrawn by governance from the CLI:
// lz federation agreement, lz issuer propose / approve). Each shows the other region, whether
// it is in force, its validity, how old that region's data may be, and the 互认清单: which of
// its credential types count as which of ours, at which service items, with the claims named
// differently; and the other chain's id and genesis SHA-256, to compare out of band.
type agreementsSection struct {
	s    *deptScreen
	root *fyne.Container
	body *fyne.Container
	// Show reads the agreements and shows them.
	Show *widget.Button
	// Agreements are those on screen.
	Agreements []ledger.Recognition
}

func newAgreementsSection(s *deptScreen) *agreementsSection {
	a := &agreementsSection{s: s, body: container.NewVBox()}
	a.body.Hide()
	a.Show = widget.NewButtonWithIcon(T("dept.agreements.show"), theme.InfoIcon(), a.load)
	a.root = container.NewVBox(widget.NewSeparator(), a.Show, a.body)
	return a
}

// load re-reads the agreements from the ledger.
func (a *agreementsSection) load() {
	d := a.s.dep
	if d == nil {
		return
	}
	var list []ledger.Recognition
	a.s.u.busy(func() (err error) {
		list, err = d.Agreements(context.Background())
		return err
	}, func(err error) {
		if d != a.s.dep {
			return
		}
		if err != nil {
			a.s.u.showErr(err)
			return
		}
		a.Agreements = list
		a.render(time.Now())
		a.body.Show()
	})
}

func (a *agreementsSection) render(now time.Time) {
	a.body.Objects = []fyne.CanvasObject{wrapLabel(T("dept.agreements.intro"))}
	if len(a.Agreements) == 0 {
		a.body.Add(wrapLabel(T("dept.agreements.none")))
	}
	for _, r := range a.Agreements {
		a.body.Add(agreementCard(r, now))
	}
	a.body.Refresh()
}

// agreementCard is one agreement, in the clerk's words.
func agreementCard(r ledger.Recognition, now time.Time) fyne.CanvasObject {
	state := T("dept.agreements.in_force")
	imp := widget.SuccessImportance
	if !r.InForce(now) {
		state, imp = T("dept.agreements.not_in_force"), widget.WarningImportance
	}
	head := widget.NewLabelWithStyle(lz(r.Name.Zh, r.Name.En)+"（"+r.Region+"）", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	st := wrapLabel(state)
	st.Importance = imp
	from, until, _ := r.Period()
	rows := container.NewVBox(head, st,
		wrapLabel(T("dept.agreements.validity", from.Local().Format(time.DateOnly), until.Local().Format(time.DateOnly))),
		wrapLabel(T("dept.agreements.max_age", durationText(r.MaxAge()))))
	for _, t := range r.Types {
		line := T("dept.agreements.type", t.Type, typeName(t.AcceptedAs), strings.Join(t.ServiceItems, "、"))
		if len(t.Claims) > 0 {
			var rn []string
			for _, c := range t.Claims {
				rn = append(rn, c.Theirs+" → "+c.Ours)
			}
			line += T("dept.agreements.claims", strings.Join(rn, "、"))
		}
		rows.Add(wrapLabel(line))
	}
	chain := widget.NewLabelWithStyle(T("dept.agreements.chain", r.ChainID, len(r.Validators))+"\n"+breakHex(r.GenesisSHA256),
		fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	chain.Wrapping = fyne.TextWrapBreak
	rows.Add(widget.NewAccordion(widget.NewAccordionItem(T("error.detail"), chain)))
	return widget.NewCard("", "", rows)
}

// breakHex splits a long hex string in groups of 16 so that it wraps on a phone.
func breakHex(h string) string {
	var parts []string
	for len(h) > 16 {
		parts = append(parts, h[:16])
		h = h[16:]
	}
	return strings.Join(append(parts, h), " ")
}
