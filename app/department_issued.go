package app

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/ledger"
)

// issuedPageSize is how many records a page of 已签发 shows.
const issuedPageSize = 20

// issuedSection is the department's 已签发 tab: whose credential each record is (the masked
// holder the issuer core keeps sealed), found by the holder's exact full name or ID number,
// filtered by type and state, a page at a time (the core pages over any number of records).
type issuedSection struct {
	s    *deptScreen
	root fyne.CanvasObject

	Query    *widget.Entry
	TypeSel  *widget.Select
	StateSel *widget.Select
	typeIDs  []string // parallel to TypeSel.Options; "" is every type
	Prev     *widget.Button
	Next     *widget.Button
	pageL    *widget.Label
	offset   int
	// Page is the page on screen (nil before the first load).
	Page *issuer.Page
	// Bulk changes the status of a whole batch.
	Bulk *bulkBox
}

var issuedStates = []string{"", issuer.StateValid, issuer.StateSuspended, issuer.StateRevoked}

func newIssuedSection(s *deptScreen) *issuedSection {
	is := &issuedSection{s: s}
	is.Query = widget.NewEntry()
	is.Query.SetPlaceHolder(T("dept.search.placeholder"))
	is.Query.OnSubmitted = func(string) { is.search() }
	find := widget.NewButtonWithIcon(T("dept.search"), theme.SearchIcon(), is.search)
	find.Importance = widget.HighImportance
	is.TypeSel = widget.NewSelect([]string{T("dept.search.all_types")}, nil)
	is.typeIDs = []string{""}
	is.TypeSel.SetSelectedIndex(0)
	states := make([]string, len(issuedStates))
	for i, st := range issuedStates {
		if st == "" {
			states[i] = T("dept.search.all_states")
		} else {
			states[i] = T("status." + st)
		}
	}
	is.StateSel = widget.NewSelect(states, nil)
	is.StateSel.SetSelectedIndex(0)
	// the filters search once everything exists
	is.TypeSel.OnChanged = func(string) { is.search() }
	is.StateSel.OnChanged = func(string) { is.search() }
	is.Prev = widget.NewButtonWithIcon(T("dept.page.prev"), theme.NavigateBackIcon(), func() { is.turn(-1) })
	is.Next = widget.NewButtonWithIcon(T("dept.page.next"), theme.NavigateNextIcon(), func() { is.turn(1) })
	is.pageL = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	is.pageL.Wrapping = fyne.TextWrapWord
	hint := wrapLabel(T("dept.search.hint"))
	hint.Importance = widget.LowImportance
	is.Bulk = newBulkBox(is)
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, find, is.Query),
		container.NewGridWithColumns(2, is.TypeSel, is.StateSel),
		hint, is.Bulk.root)
	pager := container.NewBorder(nil, nil, is.Prev, is.Next, is.pageL)
	is.root = container.NewBorder(container.NewPadded(top), container.NewPadded(pager), nil, nil,
		container.NewVScroll(container.NewPadded(s.list)))
	return is
}

// setTypes offers the department's types as a filter (on a department's (re)load); a list
// already on screen is read again, now the new department's.
func (is *issuedSection) setTypes(ts []ledger.CredentialType) {
	opts, ids := []string{T("dept.search.all_types")}, []string{""}
	for _, t := range ts {
		opts, ids = append(opts, lz(t.Name.Zh, t.Name.En)), append(ids, t.ID)
	}
	is.TypeSel.OnChanged = nil
	is.TypeSel.Options, is.typeIDs = opts, ids
	is.TypeSel.SetSelectedIndex(0)
	is.TypeSel.OnChanged = func(string) { is.search() }
	if is.Page != nil {
		is.search()
	}
	is.Bulk.load()
}

func (is *issuedSection) filter() issuer.SearchFilter {
	f := issuer.SearchFilter{Query: is.Query.Text, Limit: issuedPageSize, Offset: is.offset}
	if i := is.TypeSel.SelectedIndex(); i > 0 && i < len(is.typeIDs) {
		f.Type = is.typeIDs[i]
	}
	if i := is.StateSel.SelectedIndex(); i > 0 && i < len(issuedStates) {
		f.State = issuedStates[i]
	}
	return f
}

// search starts again from the first page.
func (is *issuedSection) search() {
	is.offset = 0
	is.load()
}

func (is *issuedSection) turn(dir int) {
	is.offset = max(0, is.offset+dir*issuedPageSize)
	is.load()
}

// load reads the current page.
func (is *issuedSection) load() {
	d := is.s.dep
	if d == nil {
		return
	}
	f := is.filter()
	var p *issuer.Page
	is.s.u.busy(func() (err error) {
		p, err = d.Search(context.Background(), f)
		return err
	}, func(err error) {
		if d != is.s.dep {
			return
		}
		if err != nil {
			is.s.u.showErr(err)
			return
		}
		is.Page = p
		is.render()
	})
}

func (is *issuedSection) render() {
	p, list := is.Page, is.s.list
	list.Objects = nil
	if len(p.Records) == 0 {
		msg := T("common.none")
		if is.Query.Text != "" {
			msg = T("dept.search.none")
		}
		list.Add(wrapLabel(msg))
	}
	for _, r := range p.Records {
		list.Add(is.row(r))
	}
	list.Refresh()
	pages := max(1, (p.Total+issuedPageSize-1)/issuedPageSize)
	is.pageL.SetText(fmt.Sprintf(T("dept.page"), is.offset/issuedPageSize+1, pages, p.Total))
	if is.offset == 0 {
		is.Prev.Disable()
	} else {
		is.Prev.Enable()
	}
	if is.offset+len(p.Records) >= p.Total {
		is.Next.Disable()
	} else {
		is.Next.Enable()
	}
}

// row is one record: whose it is (masked; "—" for records from before the holder index),
// then the record's state, type, time and actions.
func (is *issuedSection) row(r issuer.Listed) fyne.CanvasObject {
	who := widget.NewLabelWithStyle(r.Holder.String(), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	who.Wrapping = fyne.TextWrapWord
	return container.NewVBox(who, is.s.recordRow(r.Record, r.Holder.String()), widget.NewSeparator())
}

// bulkBox is 批量变更状态 on 已签发: a batch of the department, an action (撤销 / 暂停 / 恢复)
// and 对该批次执行, confirmed by a dialog naming how many credentials it changes; the core
// writes them in as few ledger transactions as their status lists allow (one or two for a
// batch), and the list is read again.
type bulkBox struct {
	is        *issuedSection
	root      fyne.CanvasObject
	BatchSel  *widget.Select
	ActionSel *widget.Select
	Run       *widget.Button
	Status    *widget.Label
	Acc       *widget.Accordion // closed until the clerk opens it
	batches   []issuer.BatchInfo
	// Last is the outcome of the last bulk change (nil before one finished).
	Last *issuer.BulkResult
}

var bulkActions = []string{issuer.ActionRevoke, issuer.ActionSuspend, issuer.ActionResume}

func newBulkBox(is *issuedSection) *bulkBox {
	b := &bulkBox{is: is}
	b.BatchSel = widget.NewSelect(nil, nil)
	b.BatchSel.PlaceHolder = T("dept.bulk.no_batches")
	acts := make([]string, len(bulkActions))
	for i, a := range bulkActions {
		acts[i] = T("dept." + a)
	}
	b.ActionSel = widget.NewSelect(acts, nil)
	b.ActionSel.SetSelectedIndex(0)
	b.Run = widget.NewButtonWithIcon(T("dept.bulk.run"), theme.ConfirmIcon(), b.ask)
	b.Run.Importance = widget.DangerImportance
	b.Run.Disable()
	b.Status = wrapLabel("")
	b.Status.Hide()
	hint := wrapLabel(T("dept.bulk.hint"))
	hint.Importance = widget.LowImportance
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(T("dept.bulk.batch")), b.BatchSel,
		widget.NewLabel(T("dept.bulk.action")), b.ActionSel)
	box := container.NewVBox(form, hint, container.NewHBox(layout.NewSpacer(), b.Run), b.Status)
	b.Acc = widget.NewAccordion(widget.NewAccordionItem(T("dept.bulk"), box))
	b.root = b.Acc
	return b
}

// load lists the department's batches (newest first).
func (b *bulkBox) load() {
	d := b.is.s.dep
	if d == nil {
		return
	}
	var bs []issuer.BatchInfo
	b.is.s.u.quietly(func() (err error) {
		bs, err = d.Batches(context.Background())
		return err
	}, func(err error) {
		if err != nil || d != b.is.s.dep {
			return
		}
		b.setBatches(bs)
	})
}

func (b *bulkBox) setBatches(bs []issuer.BatchInfo) {
	var kept []issuer.BatchInfo
	opts := []string{}
	for _, x := range bs {
		if x.Kind != issuer.BatchCredentials || x.Committed == 0 {
			continue // offers have no status; an empty batch has nothing to change
		}
		kept = append(kept, x)
		opts = append(opts, T("dept.bulk.option", clock(x.Started), typeName(x.Type), x.Committed))
	}
	b.batches = kept
	b.BatchSel.Options = opts
	b.BatchSel.ClearSelected()
	if len(opts) > 0 {
		b.BatchSel.SetSelectedIndex(0)
		b.Run.Enable()
	} else {
		b.Run.Disable()
	}
	b.BatchSel.Refresh()
}

func (b *bulkBox) show(text string, imp widget.Importance) {
	b.Status.Importance = imp
	b.Status.SetText(text)
	b.Status.Show()
}

// ask counts the credentials of the chosen batch the action applies to and asks to confirm.
func (b *bulkBox) ask() {
	i, a := b.BatchSel.SelectedIndex(), b.ActionSel.SelectedIndex()
	d := b.is.s.dep
	if d == nil || i < 0 || i >= len(b.batches) || a < 0 {
		return
	}
	batch, action := b.batches[i], bulkActions[a]
	var states map[string]int
	b.is.s.u.busy(func() (err error) {
		states, err = d.BatchStates(context.Background(), batch.ID)
		return err
	}, func(err error) {
		if err != nil {
			b.is.s.u.showErr(err)
			return
		}
		n := states[issuer.StateValid]
		switch action {
		case issuer.ActionRevoke:
			n += states[issuer.StateSuspended]
		case issuer.ActionResume:
			n = states[issuer.StateSuspended]
		}
		if n == 0 {
			b.show(T("dept.bulk.none"), widget.WarningImportance)
			return
		}
		c := dialog.NewConfirm(T("dept."+action), breakable(T("dept.bulk.confirm."+action, n)), func(ok bool) {
			if ok {
				b.apply(d, batch.ID, action)
			}
		}, b.is.s.u.Win)
		c.SetDismissText(T("common.cancel"))
		c.SetConfirmText(T("dept." + action))
		c.SetConfirmImportance(widget.DangerImportance)
		c.Show()
	})
}

// apply runs the bulk change and shows what it did.
func (b *bulkBox) apply(d DepartmentCore, batchID, action string) {
	var res *issuer.BulkResult
	b.is.s.u.busy(func() (err error) {
		res, err = d.BulkStatus(context.Background(), home.BulkJob{Action: action, BatchID: batchID}, nil)
		return err
	}, func(err error) {
		if err != nil {
			b.is.s.u.showErr(err)
		} else {
			b.Last = res
			b.show(T("dept.bulk.done", res.Changed, res.Txs), widget.SuccessImportance)
		}
		b.is.s.loadRecords()
	})
}
