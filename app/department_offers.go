package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/home"
	"lianzheng/issuer"
)

// maxPendingShown bounds the 待领取 rows on the issue tab (a batch of offers is counted, not
// listed).
const maxPendingShown = 5

// offerMemory keeps the offers made in this run of the app, by department: the code and PIN
// exist only here (the department stores their hashes), so this is what lets the clerk show
// an offer again after switching department or role while it is still open.
type offerMemory struct {
	mu    sync.Mutex
	byID  map[string]*home.OfferResult
	shown map[string]string // department id → the offer last on its screen
}

func (u *UI) offerMem() *offerMemory {
	if u.offers == nil {
		u.offers = &offerMemory{byID: map[string]*home.OfferResult{}, shown: map[string]string{}}
	}
	return u.offers
}

func (m *offerMemory) remember(dept string, o *home.OfferResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for id, x := range m.byID { // forget what can no longer be collected
		if !x.Expires.After(now) {
			delete(m.byID, id)
		}
	}
	if o.ID != "" {
		m.byID[o.ID] = o
	}
	m.shown[dept] = o.ID
}

func (m *offerMemory) get(id string) *home.OfferResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byID[id]
}

func (m *offerMemory) setShown(dept, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shown[dept] = id
}

func (m *offerMemory) lastShown(dept string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shown[dept]
}

// showOffer puts an offer at the top of the issue tab — whose it is, its QR, the PIN to tell
// the citizen and when it expires — and scrolls there, so that the QR and the PIN are in
// view however long the form above was.
func (s *deptScreen) showOffer(o *home.OfferResult) {
	s.LastOffer = o
	s.offer.Objects = nil
	s.offer.Show()
	if o == nil {
		l := wrapLabel(T("missing.offers"))
		l.Importance = widget.WarningImportance
		s.offer.Add(l)
		s.offer.Refresh()
		return
	}
	if s.dep != nil {
		s.u.offerMem().setShown(s.dep.ID(), o.ID)
	}
	title := T("dept.offer.title")
	if o.Type != "" {
		title += " · " + typeName(o.Type)
	}
	// the PIN in large digits under its own caption: as wide as six digits, on a phone too
	pinCaption := widget.NewLabelWithStyle(T("dept.offer.pin"), fyne.TextAlignCenter, fyne.TextStyle{})
	pin := widget.NewLabelWithStyle(o.PIN, fyne.TextAlignCenter, fyne.TextStyle{Bold: true, Monospace: true})
	pin.SizeName = theme.SizeNameHeadingText
	s.OfferPIN = pin
	text := widget.NewEntry()
	text.SetText(o.Text)
	hide := widget.NewButtonWithIcon(T("dept.offer.hide"), theme.VisibilityOffIcon(), func() {
		s.u.offerMem().setShown(s.depID(), "")
		s.clearOffer()
	})
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	s.offer.Add(container.NewBorder(nil, nil, nil, hide, head))
	s.offer.Add(wrapLabel(T("dept.offer") + " · " + fmt.Sprintf(T("dept.offer.expires"), clock(o.Expires))))
	if len(o.PNG) > 0 {
		s.OfferQR = qrImage("offer.png", o.PNG, 280)
		s.offer.Add(container.NewCenter(s.OfferQR))
	}
	s.offer.Add(container.NewVBox(pinCaption, pin))
	s.offer.Add(text)
	s.offer.Add(widget.NewSeparator())
	s.offer.Refresh()
	if s.scroll != nil { // nil while the screen is being built (it then starts at the top)
		s.relayout()
		s.scroll.ScrollToTop()
	}
}

// relayout lays the issue tab out again after a part of it changed size.
func (s *deptScreen) relayout() {
	if s.scroll != nil {
		s.scroll.Refresh()
	}
}

// clearOffer takes the offer off the screen (it stays open, and listed under 待领取).
func (s *deptScreen) clearOffer() {
	s.LastOffer, s.OfferQR, s.OfferPIN = nil, nil, nil
	s.offer.Objects = nil
	s.offer.Hide() // an empty part would still add its padding
	s.relayout()
}

func (s *deptScreen) depID() string {
	if s.dep == nil {
		return ""
	}
	return s.dep.ID()
}

// pendingSection is 待领取 on the issue tab: the offers still open, with whose they are and
// when they expire, read from the department's records (so they survive switching
// department, role or language); 显示领取码 for those made in this run, 撤回 for any.
type pendingSection struct {
	s    *deptScreen
	root *fyne.Container
	// Offers are the open offers listed (at most maxPendingShown), Total how many there are.
	Offers []issuer.PendingOffer
	Total  int
}

func newPendingSection(s *deptScreen) *pendingSection {
	p := &pendingSection{s: s, root: container.NewVBox()}
	p.root.Hide()
	return p
}

// load re-reads the open offers; then, if the offer last on this department's screen is
// still open, it is shown again.
func (p *pendingSection) load() {
	d := p.s.dep
	if d == nil {
		p.root.Objects = nil
		p.root.Hide()
		return
	}
	var list []issuer.PendingOffer
	var total int
	p.s.u.busy(func() (err error) {
		list, total, err = d.PendingOffers(context.Background(), maxPendingShown)
		return err
	}, func(err error) {
		if d != p.s.dep { // the clerk switched department meanwhile
			return
		}
		if err != nil {
			p.s.u.showErr(err)
			return
		}
		p.Offers, p.Total = list, total
		p.render()
		if p.s.LastOffer == nil {
			if o := p.s.u.offerMem().get(p.s.u.offerMem().lastShown(d.ID())); o != nil && p.open(o.ID) {
				p.s.showOffer(o)
			}
		}
	})
}

func (p *pendingSection) open(id string) bool {
	for _, o := range p.Offers {
		if o.ID == id {
			return true
		}
	}
	return false
}

func (p *pendingSection) render() {
	p.root.Objects = nil
	if p.Total == 0 {
		p.root.Hide()
		p.s.relayout()
		return
	}
	p.root.Show()
	p.root.Add(heading(fmt.Sprintf(T("dept.pending.title"), p.Total)))
	for _, o := range p.Offers {
		p.root.Add(p.row(o))
	}
	if more := p.Total - len(p.Offers); more > 0 {
		l := wrapLabel(fmt.Sprintf(T("dept.pending.more"), more))
		l.Importance = widget.LowImportance
		p.root.Add(l)
	}
	p.root.Add(widget.NewSeparator())
	p.root.Refresh()
	p.s.relayout()
}

func (p *pendingSection) row(o issuer.PendingOffer) fyne.CanvasObject {
	who := wrapLabel(typeName(o.Type) + " · " + o.Holder.String())
	exp := widget.NewLabel(fmt.Sprintf(T("dept.offer.expires"), clock(o.Expires)))
	exp.Importance = widget.LowImportance
	buttons := container.NewHBox(layout.NewSpacer())
	if m := p.s.u.offerMem().get(o.ID); m != nil {
		buttons.Add(widget.NewButtonWithIcon(T("dept.pending.show"), theme.VisibilityIcon(), func() { p.s.showOffer(m) }))
	}
	withdraw := widget.NewButtonWithIcon(T("dept.pending.withdraw"), theme.CancelIcon(), func() {
		c := dialog.NewConfirm(T("dept.pending.withdraw"), fmt.Sprintf(T("dept.pending.withdraw.confirm"), o.Holder.String()), func(ok bool) {
			if !ok {
				return
			}
			d := p.s.dep
			p.s.u.busy(func() error { return d.WithdrawOffer(context.Background(), o.ID) }, func(err error) {
				if err != nil {
					p.s.u.showErr(err)
				}
				if p.s.LastOffer != nil && p.s.LastOffer.ID == o.ID {
					p.s.clearOffer()
				}
				p.load()
			})
		}, p.s.u.Win)
		c.SetDismissText(T("common.cancel"))
		c.SetConfirmText(T("dept.pending.withdraw"))
		c.SetConfirmImportance(widget.DangerImportance)
		c.Show()
	})
	buttons.Add(withdraw)
	return container.NewVBox(who, exp, buttons)
}
