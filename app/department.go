package app

import (
	"context"
	"errors"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/ledger"
)

// deptScreen is the 部门签发 role: the types this department may issue (from the ledger
// catalogue), an issue form generated from the type's schema with per-field errors from the
// issuer core, the offer QR + PIN, batch issuance from a CSV file with progress, and the
// issued list with suspend / resume / revoke.
type deptScreen struct {
	u    *UI
	root *fyne.Container
	dep  DepartmentCore

	which   *widget.Select
	types   []ledger.CredentialType
	typeSel *widget.Select
	form    *fyne.Container
	// Fields are the form's entries by claim name; Errors the per-field error labels.
	Fields map[string]*widget.Entry
	Errors map[string]*widget.Label
	offer  *fyne.Container
	list   *fyne.Container
	// LastOffer is the offer on screen, OfferQR and OfferPIN its QR and PIN
	// (department_offers.go).
	LastOffer *home.OfferResult
	OfferQR   *canvas.Image
	OfferPIN  *widget.Label
	// pending is 待领取 on the issue tab, issued the 已签发 tab (department_issued.go).
	pending *pendingSection
	issued  *issuedSection
	scroll  *container.Scroll
	// batch is the 批量签发 tab (department_batch.go).
	batch *batchSection
	// agreements is 跨区域互认 at the foot of the issue tab (department_agreements.go).
	agreements *agreementsSection
	tabs       *container.AppTabs
}

func newDeptScreen(u *UI) *deptScreen {
	s := &deptScreen{u: u, Fields: map[string]*widget.Entry{}, Errors: map[string]*widget.Label{}}
	if u.Svc != nil {
		s.dep = u.Svc.Department
	}
	s.typeSel = widget.NewSelect(nil, func(string) { s.buildForm() })
	s.typeSel.PlaceHolder = T("dept.types")
	s.form = container.NewVBox()
	s.offer = container.NewVBox()
	s.offer.Hide()
	s.list = container.NewVBox()
	s.batch = newBatchSection(s)
	s.pending = newPendingSection(s)
	s.issued = newIssuedSection(s)
	s.agreements = newAgreementsSection(s)

	top := newFormRows(200)
	if u.Svc != nil && len(u.Svc.Departments) > 1 {
		var ids []string
		for id := range u.Svc.Departments {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = departmentName(id)
		}
		s.which = widget.NewSelect(names, func(string) {
			s.dep = u.Svc.Departments[ids[s.which.SelectedIndex()]]
			s.load()
		})
		for i, id := range ids {
			if s.dep != nil && s.dep.ID() == id {
				s.which.SetSelectedIndex(i)
			}
		}
		top.Add(widget.NewLabel(T("dept.department")))
		top.Add(s.which)
	}
	top.Add(widget.NewLabel(T("dept.types")))
	top.Add(s.typeSel)
	s.scroll = container.NewVScroll(container.NewPadded(container.NewVBox(s.offer, s.pending.root, top, s.form, s.agreements.root)))
	issue := s.scroll
	tabs := container.NewAppTabs(
		container.NewTabItemWithIcon(T("dept.issue"), theme.DocumentCreateIcon(), issue),
		container.NewTabItemWithIcon(T("dept.batch"), theme.UploadIcon(), s.batch.root),
		container.NewTabItemWithIcon(T("dept.issued"), theme.ListIcon(), s.issued.root),
	)
	tabs.OnSelected = func(t *container.TabItem) {
		if t.Text == T("dept.issued") {
			s.loadRecords()
		}
	}
	s.tabs = tabs
	s.root = container.NewStack(tabs)
	if s.which == nil {
		s.load()
	}
	return s
}

func (s *deptScreen) load() {
	if s.dep == nil {
		return
	}
	d := s.dep
	s.clearOffer() // another department's offer; this one's comes back with its 待领取
	var ts []ledger.CredentialType
	s.u.busy(func() (err error) {
		ts, err = d.Types(context.Background())
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.types = ts
		s.batch.setTypes(ts)
		s.issued.setTypes(ts)
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = lz(t.Name.Zh, t.Name.En)
		}
		s.typeSel.Options = names
		s.typeSel.ClearSelected()
		s.form.Objects = nil
		if len(ts) == 0 {
			s.form.Add(wrapLabel(T("dept.no_types")))
		} else {
			s.typeSel.SetSelectedIndex(0)
		}
		s.form.Refresh()
		s.pending.load()
	})
}

func (s *deptScreen) selected() *ledger.CredentialType {
	i := s.typeSel.SelectedIndex()
	if i < 0 || i >= len(s.types) {
		return nil
	}
	return &s.types[i]
}

// buildForm generates the form from the type's claim schema on the ledger.
func (s *deptScreen) buildForm() {
	t := s.selected()
	s.form.Objects = nil
	s.Fields, s.Errors = map[string]*widget.Entry{}, map[string]*widget.Label{}
	if t == nil {
		return
	}
	grid := newFormRows(200) // labels beside the fields, or above them on a phone
	for _, c := range t.Claims {
		e := widget.NewEntry()
		if c.Type == "date" {
			e.SetPlaceHolder(T("dept.date.placeholder"))
		} else if c.Required {
			e.SetPlaceHolder(T("dept.required"))
		}
		label := lz(c.Label.Zh, c.Label.En)
		if c.Required {
			label += " *"
		}
		errL := widget.NewLabel("")
		errL.Importance = widget.DangerImportance
		errL.Hide()
		s.Fields[c.Name], s.Errors[c.Name] = e, errL
		grid.Add(widget.NewLabel(label))
		grid.Add(container.NewVBox(e, errL))
	}
	submit := widget.NewButtonWithIcon(T("dept.issue.submit"), theme.ConfirmIcon(), s.submit)
	submit.Importance = widget.HighImportance
	s.form.Add(heading(T("dept.issue.form")))
	s.form.Add(grid)
	s.form.Add(container.NewHBox(layout.NewSpacer(), submit))
	s.form.Refresh()
}

func (s *deptScreen) request() issuer.Request {
	t := s.selected()
	claims := map[string]any{}
	for name, e := range s.Fields {
		if v := strings.TrimSpace(e.Text); v != "" {
			claims[name] = v
		}
	}
	return issuer.Request{Type: t.ID, Claims: claims}
}

// showFieldErrors puts the core's validation errors under their fields.
func (s *deptScreen) showFieldErrors(err error) bool {
	for _, l := range s.Errors {
		l.SetText("")
		l.Hide()
	}
	var ve *issuer.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, f := range ve.Fields {
		if l, ok := s.Errors[f.Field]; ok {
			l.SetText(lz(f.Zh, f.En))
			l.Show()
		}
	}
	return true
}

func (s *deptScreen) submit() {
	if s.dep == nil || s.selected() == nil {
		return
	}
	d, r := s.dep, s.request()
	var o *home.OfferResult
	s.u.busy(func() (err error) {
		if err = d.Check(context.Background(), r); err != nil {
			return err
		}
		o, err = d.Offer(context.Background(), r)
		return err
	}, func(err error) {
		if s.showFieldErrors(err) {
			return
		}
		if err != nil {
			s.u.showErr(err)
			return
		}
		if o != nil {
			s.u.offerMem().remember(d.ID(), o)
		}
		s.showOffer(o)
		s.pending.load()
	})
}

// loadRecords re-reads the 已签发 page on screen.
func (s *deptScreen) loadRecords() { s.issued.load() }

// recordRow is one issued record with its actions; holder is whose it is, masked as the
// issuer keeps it (issuer.Holder.String; issuer.NoHolder when unknown).
func (s *deptScreen) recordRow(r issuer.Record, holder string) fyne.CanvasObject {
	act := func(action string) func() {
		return func() {
			do := func() {
				d := s.dep
				s.u.busy(func() error { return d.SetStatus(context.Background(), r.ID, action) },
					func(err error) {
						if err != nil {
							s.u.showErr(err)
						}
						s.loadRecords()
					})
			}
			if action == issuer.ActionRevoke {
				s.confirmRevoke(r, holder, do)
				return
			}
			do()
		}
	}
	sus := widget.NewButton(T("dept.suspend"), act(issuer.ActionSuspend))
	res := widget.NewButton(T("dept.resume"), act(issuer.ActionResume))
	rev := widget.NewButton(T("dept.revoke"), act(issuer.ActionRevoke))
	rev.Importance = widget.DangerImportance
	switch r.State {
	case issuer.StateValid:
		res.Disable()
	case issuer.StateSuspended:
		sus.Disable()
	default:
		sus.Disable()
		res.Disable()
		rev.Disable()
	}
	// three short lines rather than one long one, so that the list fits a phone's width
	return container.NewVBox(
		container.NewHBox(stateBadge(r.State), widget.NewLabel(typeName(r.Type))),
		container.NewBorder(nil, nil, nil, machineText(shortID(r.ID)), wrapLabel(T("dept.issued_at")+" "+clock(r.IssuedAt))),
		container.NewHBox(layout.NewSpacer(), sus, res, rev),
		widget.NewSeparator())
}

// shortID is a record id cut to what a clerk reads out.
func shortID(id string) string {
	if len(id) > 10 {
		return id[:10] + "…"
	}
	return id
}

// confirmRevoke asks 取消 / 确认撤销, naming the credential to be revoked (whose it is, its
// type, when it was issued and its record), then revokes it.
func (s *deptScreen) confirmRevoke(r issuer.Record, holder string, revoke func()) {
	which := T("dept.revoke.which", typeName(r.Type), clock(r.IssuedAt), shortID(r.ID))
	if holder != "" && holder != issuer.NoHolder {
		which = T("dept.revoke.which.holder", holder, typeName(r.Type), clock(r.IssuedAt), shortID(r.ID))
	}
	d := dialog.NewConfirm(T("dept.revoke"), breakable(T("dept.revoke.confirm", which)), func(ok bool) {
		if ok {
			revoke()
		}
	}, s.u.Win)
	d.SetDismissText(T("common.cancel"))
	d.SetConfirmText(T("dept.revoke.do"))
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}
