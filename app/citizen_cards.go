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
	head                *fyne.Container // name, spacer, badge
	more                *widget.Button
	onMore              func()
	root                fyne.CanvasObject
}

func newCredCard() *credCard {
	c := &credCard{name: heading(""), issuer: widget.NewLabel(""), valid: widget.NewLabel("")}
	c.more = widget.NewButtonWithIcon(T("citizen.detail"), theme.InfoIcon(), func() {
		if c.onMore != nil {
			c.onMore()
		}
	})
	c.head = container.NewHBox(c.name, layout.NewSpacer(), statusBadge(wallet.StatusUnknown))
	info := container.New(layout.NewFormLayout(),
		widget.NewLabel(T("citizen.issuer")), c.issuer,
		widget.NewLabel(T("citizen.valid_until")), c.valid)
	c.root = widget.NewCard("", "", container.NewVBox(c.head, info, container.NewHBox(layout.NewSpacer(), c.more)))
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
	c.onMore = onMore
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
