package app

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, find, is.Query),
		container.NewGridWithColumns(2, is.TypeSel, is.StateSel),
		hint)
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
