package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/wallet"
)

// The credential cards are a virtualised widget.List: a wallet may hold a thousand
// credentials, and only the cards on screen are built and drawn. Each row is a credCard
// whose labels are rebound as the list scrolls.

// credCard is one card: type, status badge (words and colour), issuer, validity, detail.
type credCard struct {
	widget.BaseWidget
	name, issuer, valid *widget.Label
	// note says what to do with a credential that cannot be used (hidden otherwise)
	note   *widget.Label
	head   *fyne.Container // name, spacer, badge
	body   *fyne.Container // the card's lines
	more   *widget.Button
	onMore func()
	root   fyne.CanvasObject
}

func newCredCard() *credCard {
	c := &credCard{name: heading(""), issuer: widget.NewLabel(""), valid: widget.NewLabel(""), note: widget.NewLabel("")}
	c.note.Truncation = fyne.TextTruncateEllipsis
	c.note.Importance = widget.WarningImportance
	c.note.Hide()
	c.issuer.Truncation = fyne.TextTruncateEllipsis
	c.more = widget.NewButtonWithIcon(T("citizen.detail"), theme.InfoIcon(), func() {
		if c.onMore != nil {
			c.onMore()
		}
	})
	c.head = container.NewHBox(c.name, layout.NewSpacer(), statusBadge(wallet.StatusUnknown))
	info := container.New(layout.NewFormLayout(),
		widget.NewLabel(T("citizen.issuer")), c.issuer,
		widget.NewLabel(T("citizen.valid_until")), c.valid)
	c.body = container.NewVBox(c.head, info, c.note, container.NewHBox(layout.NewSpacer(), c.more))
	c.root = widget.NewCard("", "", c.body)
	c.ExtendBaseWidget(c)
	return c
}

func (c *credCard) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.root) }

// set binds the card to a credential.
func (c *credCard) set(it wallet.Item, onMore func()) {
	c.name.SetText(lz(it.Name.Zh, it.Name.En))
	c.issuer.SetText(departmentName(it.Issuer))
	c.valid.SetText(date(it.Expires))
	c.head.Objects[2] = statusBadge(it.Status) // a new badge, so the row lays out its width
	c.head.Refresh()
	if note := cardNote(it); note != "" {
		c.note.SetText(note)
		c.note.Show()
	} else {
		c.note.Hide()
	}
	c.body.Refresh() // lay the lines out again: the note came or went
	c.onMore = onMore
}

// cardNote is what to do with a credential that cannot be used ("" for a valid one): contact
// its issuing department (named), or go online when its status cannot be checked.
func cardNote(it wallet.Item) string {
	switch it.Status {
	case wallet.StatusValid:
		return ""
	case wallet.StatusUnknown:
		return T("citizen.card.unknown")
	}
	return T("citizen.card.unusable", departmentName(it.Issuer))
}

// statusWords is a status's words and colour (a badge never relies on colour alone).
func statusWords(s wallet.Status) (string, color.Color) {
	switch s {
	case wallet.StatusValid:
		return T("status.valid"), colPass
	case wallet.StatusSuspended:
		return T("status.suspended"), colWarn
	case wallet.StatusRevoked:
		return T("status.revoked"), colFail
	case wallet.StatusExpired:
		return T("status.expired"), colFail
	}
	return T("status.unknown"), color.NRGBA{R: 0x70, G: 0x70, B: 0x70, A: 0xFF}
}

// sizeRows gives the rows of credentials that cannot be used the height of their note.
func (s *citizenScreen) sizeRows() {
	if s.rowHeight == nil {
		c := newCredCard()
		base := c.MinSize().Height
		c.note.SetText("x")
		c.note.Show()
		s.rowHeight = map[bool]float32{false: base, true: c.MinSize().Height}
		s.rowSet = map[int]bool{}
	}
	for i, it := range s.Items {
		tall := cardNote(it) != ""
		if tall || s.rowSet[i] {
			s.list.SetItemHeight(i, s.rowHeight[tall])
			s.rowSet[i] = tall
		}
	}
}

// newCardList is the virtualised list over items (read through get, so reloading only
// replaces the slice and refreshes).
func (s *citizenScreen) newCardList() *widget.List {
	l := widget.NewList(
		func() int { return len(s.Items) },
		func() fyne.CanvasObject { return newCredCard() },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < 0 || i >= len(s.Items) {
				return
			}
			it := s.Items[i]
			o.(*credCard).set(it, func() { s.detail(it.ID) })
		})
	return l
}
