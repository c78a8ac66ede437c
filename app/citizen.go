package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/internal/keystore"
	"lianzheng/ledgerclient"
	"lianzheng/wallet"
)

// citizenScreen is the 公民钱包 role: PIN onboarding, credential cards, receive (offer +
// PIN), present (request → consent → full-screen response QR) and access history. Bottom
// tabs, so it works at phone size.
type citizenScreen struct {
	u    *UI
	root *fyne.Container
	tabs *container.AppTabs

	cards *fyne.Container // the list, or the empty-wallet words
	list  *widget.List
	// Items are the credentials on the cards tab.
	Items []wallet.Item
	// rowHeight: a card's height without and with its note; rowSet: the rows given one
	rowHeight map[bool]float32
	rowSet    map[int]bool
	Offer     *widget.Entry
	PIN       *widget.Entry
	Request   *widget.Entry
	present   *fyne.Container
	history   *fyne.Container
	// ReceiptIn takes a window's receipt (scanned or pasted) for the access history.
	ReceiptIn *widget.Entry
	// RestorePath and RestorePass are the restore-from-backup form (before a wallet exists).
	RestorePath, RestorePass *widget.Entry
	// PINIn and PINAgain are the wallet PIN fields (PINAgain: its confirmation, at set-up).
	PINIn, PINAgain *widget.Entry
	// pinProblem shows why the PIN was not accepted, under the fields.
	pinProblem *fyne.Container

	// offerIn is the offer field with its image button (hidden once the offer is read);
	// OfferCard says what the offer is (its types and department, from the ledger).
	offerIn   *fyne.Container
	OfferCard *fyne.Container
	// OfferSummary is the offer read (nil while the field holds no offer).
	OfferSummary *wallet.OfferSummary

	// Plan is the request on the consent screen; Response the QR shown; Online an online
	// service's verdict on the answer (citizen_online.go).
	Plan     *wallet.Plan
	Response *wallet.Response
	Online   *wallet.OnlineResult
	// sameDevice: the request came as a link handed to the app (the browser is on this device).
	sameDevice bool
}

func newCitizenScreen(u *UI) *citizenScreen {
	s := &citizenScreen{u: u, root: container.NewStack()}
	c := s.core()
	if c != nil {
		exists, unlocked := c.Ready()
		if !unlocked {
			s.root.Objects = []fyne.CanvasObject{s.pinScreen(exists)}
			return s
		}
	}
	s.build()
	return s
}

func (s *citizenScreen) core() CitizenCore {
	if s.u.Svc == nil {
		return nil
	}
	return s.u.Svc.Citizen
}

// pinScreen sets up the wallet PIN (the rule shown before typing, then the PIN twice) or
// unlocks the wallet; why a PIN is refused shows under the fields, in words.
func (s *citizenScreen) pinScreen(exists bool) fyne.CanvasObject {
	s.PINIn = widget.NewPasswordEntry()
	s.PINIn.SetPlaceHolder(T("citizen.pin.wallet"))
	s.PINAgain = nil
	s.pinProblem = container.NewVBox()
	box := container.NewVBox()
	if exists {
		box.Add(heading(T("citizen.unlock")))
		box.Add(s.PINIn)
	} else {
		s.PINAgain = widget.NewPasswordEntry()
		s.PINAgain.SetPlaceHolder(T("citizen.pin.confirm"))
		box.Add(heading(T("citizen.pin.setup")))
		box.Add(wrapLabel(T("citizen.pin.rule")))
		box.Add(s.PINIn)
		box.Add(s.PINAgain)
	}
	ok := widget.NewButtonWithIcon(T("common.confirm"), theme.ConfirmIcon(), func() { s.submitPIN(exists) })
	ok.Importance = widget.HighImportance
	s.PINIn.OnSubmitted = func(string) { ok.OnTapped() }
	if s.PINAgain != nil {
		s.PINAgain.OnSubmitted = func(string) { ok.OnTapped() }
	}
	box.Add(ok)
	box.Add(s.pinProblem)
	if !exists {
		box.Add(widget.NewSeparator())
		box.Add(widget.NewButtonWithIcon(T("citizen.restore"), theme.HistoryIcon(), s.showRestore))
	}
	return container.NewVScroll(container.NewPadded(newMaxWidth(360, box)))
}

// submitPIN checks a new PIN against the key store's rule and its confirmation before
// creating the wallet, or unlocks it.
func (s *citizenScreen) submitPIN(exists bool) {
	p := s.PINIn.Text
	show := func(err error) {
		s.pinProblem.Objects = nil
		if err != nil {
			s.pinProblem.Objects = []fyne.CanvasObject{problemView(explain(err))}
		}
		s.pinProblem.Refresh()
	}
	if !exists {
		if err := keystore.ValidSecret(p); err != nil {
			show(err)
			return
		}
		if s.PINAgain.Text != p {
			show(errPINMismatch)
			return
		}
	}
	show(nil)
	s.u.busy(func() error {
		if exists {
			return s.core().Unlock(p)
		}
		return s.core().Setup(p)
	}, func(err error) {
		if err != nil {
			show(err)
			return
		}
		s.build()
	})
}

// showRestore replaces the PIN set-up with the restore form: the backup file and its
// passphrase; after a restore the citizen unlocks the wallet with the PIN it had.
func (s *citizenScreen) showRestore() {
	s.RestorePath = widget.NewEntry()
	s.RestorePath.SetPlaceHolder("lianzheng-wallet.lzbak")
	s.RestorePass = widget.NewPasswordEntry()
	pick := widget.NewButtonWithIcon(T("common.browse"), theme.FolderOpenIcon(), func() {
		d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
			if err != nil || rc == nil {
				return
			}
			s.RestorePath.SetText(rc.URI().Path())
			rc.Close()
		}, s.u.Win)
		d.Show()
	})
	ok := widget.NewButtonWithIcon(T("common.confirm"), theme.ConfirmIcon(), s.restore)
	ok.Importance = widget.HighImportance
	back := widget.NewButtonWithIcon(T("common.back"), theme.NavigateBackIcon(), func() {
		s.root.Objects = []fyne.CanvasObject{s.pinScreen(false)}
		s.root.Refresh()
	})
	form := widget.NewForm(
		widget.NewFormItem(T("citizen.restore.file"), container.NewBorder(nil, nil, nil, pick, s.RestorePath)),
		widget.NewFormItem(T("citizen.restore.pass"), s.RestorePass))
	s.root.Objects = []fyne.CanvasObject{container.NewVScroll(container.NewPadded(newMaxWidth(460,
		container.NewVBox(heading(T("citizen.restore")), form, container.NewHBox(back, layout.NewSpacer(), ok)))))}
	s.root.Refresh()
}

func (s *citizenScreen) restore() {
	path, pass := strings.TrimSpace(s.RestorePath.Text), s.RestorePass.Text
	if path == "" {
		return
	}
	s.u.busy(func() error { return s.core().Restore(path, pass) }, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.root.Objects = []fyne.CanvasObject{s.pinScreen(true)}
		s.root.Refresh()
		s.u.info(T("citizen.restore.done"))
	})
}

func (s *citizenScreen) build() {
	s.list = s.newCardList()
	s.cards = container.NewStack(s.list)
	s.history = container.NewVBox()
	s.present = container.NewVBox()
	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(T("citizen.cards"), theme.AccountIcon(), container.NewPadded(s.cards)),
		container.NewTabItemWithIcon(T("citizen.receive"), theme.DownloadIcon(), s.receiveTab()),
		container.NewTabItemWithIcon(T("citizen.present"), theme.UploadIcon(), container.NewVScroll(s.present)),
		container.NewTabItemWithIcon(T("citizen.history"), theme.HistoryIcon(), container.NewBorder(
			s.receiptBar(),
			container.NewHBox(layout.NewSpacer(), widget.NewButtonWithIcon(T("citizen.backup"), theme.DocumentSaveIcon(), s.backup)),
			nil, nil, container.NewVScroll(container.NewPadded(s.history)))),
	)
	s.tabs.SetTabLocation(container.TabLocationBottom)
	s.tabs.OnSelected = func(t *container.TabItem) {
		switch t.Text {
		case T("citizen.cards"):
			s.loadCards()
		case T("citizen.history"):
			s.loadHistory()
		}
	}
	s.resetPresent()
	s.root.Objects = []fyne.CanvasObject{s.tabs}
	s.root.Refresh()
	s.loadCards()
	s.takeLink()
}

func (s *citizenScreen) loadCards() {
	c := s.core()
	if c == nil {
		s.cards.Objects = []fyne.CanvasObject{wrapLabel(T("citizen.empty"))}
		return
	}
	var items []wallet.Item
	s.u.busy(func() (err error) {
		items, err = c.List(context.Background())
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.Items = items
		s.sizeRows()
		if len(items) == 0 {
			s.cards.Objects = []fyne.CanvasObject{wrapLabel(T("citizen.empty"))}
		} else {
			s.cards.Objects = []fyne.CanvasObject{s.list}
			s.list.Refresh()
		}
		s.cards.Refresh()
	})
}

// detail shows every claim of a credential (to its holder only).
func (s *citizenScreen) detail(id string) {
	var it *wallet.Item
	s.u.busy(func() (err error) {
		it, err = s.core().Detail(context.Background(), id)
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		form := container.New(layout.NewFormLayout())
		for _, c := range it.Claims {
			form.Add(widget.NewLabel(lz(c.Label.Zh, c.Label.En)))
			form.Add(valueText(fmt.Sprint(c.Value), 0, true))
		}
		form.Add(widget.NewLabel(T("citizen.issuer")))
		form.Add(widget.NewLabel(departmentName(it.Issuer)))
		form.Add(widget.NewLabel(T("citizen.valid_until")))
		form.Add(widget.NewLabel(date(it.Expires)))
		body := container.NewVBox(form, s.regions(id))
		if it.Status != wallet.StatusValid {
			note := wrapLabel(unusable(*it))
			note.Importance = widget.WarningImportance
			body.Objects = append([]fyne.CanvasObject{note}, body.Objects...)
		}
		d := dialog.NewCustom(lz(it.Name.Zh, it.Name.En), T("common.close"), container.NewVScroll(body), s.u.Win)
		d.Resize(dialogSize(s.u.Win, 520, 480))
		d.Show()
	})
}

// regions is the detail's 跨区域互认 part: a button that reads where else the credential is
// recognised (the home ledger's agreements and each other region's own, online), then lists
// those regions and their service items, or says there are none, or why it could not tell.
func (s *citizenScreen) regions(id string) fyne.CanvasObject {
	box := container.NewVBox()
	var btn *widget.Button
	btn = widget.NewButtonWithIcon(T("citizen.regions.show"), theme.SearchIcon(), func() {
		var rs []ledgerclient.Recognised
		btn.Disable()
		s.u.busy(func() (err error) {
			rs, err = s.core().RecognisedIn(context.Background(), id)
			return err
		}, func(err error) {
			btn.Enable()
			box.Objects = []fyne.CanvasObject{btn}
			for _, r := range rs {
				box.Add(wrapLabel(T("citizen.regions.one", lz(r.Name.Zh, r.Name.En), strings.Join(r.ServiceItems, "、"), r.ValidUntil[:min(10, len(r.ValidUntil))])))
			}
			switch {
			case err != nil:
				note := wrapLabel(T("citizen.regions.failed"))
				note.Importance = widget.WarningImportance
				box.Add(note)
				box.Add(detailText(err.Error()))
			case len(rs) == 0:
				box.Add(wrapLabel(T("citizen.regions.none")))
			}
			box.Refresh()
		})
	})
	box.Add(btn)
	return container.NewVBox(widget.NewSeparator(), box)
}

func (s *citizenScreen) receiveTab() fyne.CanvasObject {
	s.Offer = widget.NewMultiLineEntry()
	s.Offer.SetPlaceHolder(T("citizen.offer.placeholder"))
	s.Offer.Wrapping = fyne.TextWrapBreak
	s.Offer.SetMinRowsVisible(4)
	s.Offer.OnChanged = func(string) { s.describeOffer() }
	s.PIN = widget.NewPasswordEntry()
	s.PIN.SetPlaceHolder(T("citizen.pin.placeholder"))
	btn := widget.NewButtonWithIcon(T("citizen.receive"), theme.DownloadIcon(), s.receive)
	btn.Importance = widget.HighImportance
	s.PIN.OnSubmitted = func(string) { s.receive() }
	s.offerIn = container.NewVBox(s.Offer, container.NewHBox(layout.NewSpacer(), s.u.imageButton(s.Offer, nil)))
	s.OfferCard = container.NewVBox()
	s.OfferCard.Hide()
	return container.NewVScroll(container.NewPadded(container.NewVBox(
		heading(T("citizen.offer")), s.offerIn, s.OfferCard,
		widget.NewLabel(T("citizen.pin")), s.PIN, btn)))
}

// describeOffer reads the offer in the field (once it is a whole offer) and shows what it
// is instead of its text: the credential types and the department, named from the ledger.
func (s *citizenScreen) describeOffer() {
	c, text := s.core(), strings.TrimSpace(s.Offer.Text)
	if c == nil {
		return
	}
	if _, _, err := wallet.ParseOffer(text); err != nil {
		s.showOfferSummary(nil)
		return
	}
	var sum *wallet.OfferSummary
	s.u.quietly(func() (err error) {
		sum, err = c.DescribeOffer(context.Background(), text)
		return err
	}, func(err error) {
		if strings.TrimSpace(s.Offer.Text) != text {
			return // typed on meanwhile
		}
		if err != nil {
			sum = nil // receiving says why, in words, when the citizen tries
		}
		s.showOfferSummary(sum)
	})
}

// showOfferSummary shows the offer read (the field's text hidden), or the field (sum nil).
func (s *citizenScreen) showOfferSummary(sum *wallet.OfferSummary) {
	s.OfferSummary = sum
	if sum == nil {
		s.OfferCard.Objects = nil
		s.OfferCard.Hide()
		s.offerIn.Show()
		return
	}
	var types, deps []string
	for _, t := range sum.Types {
		types = append(types, lzText(t.Name))
	}
	for _, d := range sum.Departments {
		deps = append(deps, lzText(d.Name))
	}
	about := widget.NewLabel(T("citizen.offer.about"))
	about.Importance = widget.LowImportance
	title := wrapLabelStyled(strings.Join(types, lz("、", ", ")), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	card := container.NewVBox(about, title)
	switch len(deps) {
	case 0:
	case 1:
		card.Add(wrapLabel(T("citizen.offer.from", deps[0])))
	default:
		card.Add(wrapLabel(T("citizen.offer.from.any", strings.Join(deps, T("citizen.offer.or")))))
	}
	change := widget.NewButtonWithIcon(T("citizen.offer.change"), theme.ContentClearIcon(), func() {
		s.Offer.SetText("")
		s.u.Win.Canvas().Focus(s.Offer)
	})
	card.Add(container.NewHBox(layout.NewSpacer(), change))
	s.OfferCard.Objects = []fyne.CanvasObject{widget.NewCard("", "", card)}
	s.offerIn.Hide()
	s.OfferCard.Show()
	s.OfferCard.Refresh()
}

func (s *citizenScreen) receive() {
	c := s.core()
	if c == nil {
		return
	}
	offer, pin := strings.TrimSpace(s.Offer.Text), strings.TrimSpace(s.PIN.Text)
	var got []*wallet.Credential
	s.u.busy(func() (err error) {
		got, err = c.Receive(context.Background(), offer, pin)
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.Offer.SetText("")
		s.PIN.SetText("")
		s.tabs.SelectIndex(0)
		s.loadCards()
		_ = got
	})
}

func (s *citizenScreen) resetPresent() {
	s.Plan, s.Response, s.Online, s.sameDevice = nil, nil, nil, false
	s.Request = widget.NewMultiLineEntry()
	s.Request.SetPlaceHolder(T("citizen.request.placeholder"))
	s.Request.Wrapping = fyne.TextWrapBreak
	s.Request.SetMinRowsVisible(4)
	btn := widget.NewButtonWithIcon(T("common.confirm"), theme.NavigateNextIcon(), s.plan)
	btn.Importance = widget.HighImportance
	s.present.Objects = []fyne.CanvasObject{container.NewPadded(container.NewVBox(heading(T("citizen.request")), s.Request,
		container.NewHBox(layout.NewSpacer(), s.u.imageButton(s.Request, s.plan), btn)))}
	s.present.Refresh()
}

func (s *citizenScreen) plan() {
	c := s.core()
	if c == nil {
		return
	}
	// a window's request QR, or an online service's openid4vp:// link (citizen_online.go)
	planOf := func(ctx context.Context) (*wallet.Plan, error) {
		return c.PlanRequest(ctx, normaliseScan(s.Request.Text))
	}
	if link, ok := onlineLink(s.Request.Text); ok {
		planOf = func(ctx context.Context) (*wallet.Plan, error) {
			p, err := c.PlanOnline(ctx, link)
			if err != nil {
				return nil, &onlineError{err}
			}
			return p, nil
		}
	}
	var p *wallet.Plan
	values := map[string]map[string]string{}
	s.u.busy(func() (err error) {
		ctx := context.Background()
		if p, err = planOf(ctx); err != nil {
			return err
		}
		for _, a := range p.Asks {
			if a.Chosen == "" {
				continue
			}
			d, err := c.Detail(ctx, a.Chosen)
			if err != nil {
				return err
			}
			values[a.Type] = map[string]string{}
			for _, cl := range d.Claims {
				values[a.Type][cl.Name] = fmt.Sprint(cl.Value)
			}
		}
		return nil
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.consent(p, values)
	})
}

// consent lists the window, its department, the service item and purpose (from the ledger),
// each field with the value that would be shown, and flags over-asking.
func (s *citizenScreen) consent(p *wallet.Plan, vals map[string]map[string]string) {
	s.Plan = p
	box := container.NewVBox(heading(T("citizen.consent")))
	who := T("citizen.consent.window")
	if p.Online != nil {
		who = T("citizen.consent.portal")
	}
	info := container.New(layout.NewFormLayout(),
		widget.NewLabel(who), wrapLabel(lz(p.WindowName.Zh, p.WindowName.En)),
		widget.NewLabel(T("citizen.consent.department")), wrapLabel(planDepartment(p)),
		widget.NewLabel(T("citizen.consent.item")), wrapLabel(lz(p.ItemName.Zh, p.ItemName.En)),
		widget.NewLabel(T("citizen.consent.purpose")), wrapLabel(lz(p.Purpose.Zh, p.Purpose.En)),
	)
	if p.Online != nil { // 网上办理, and the site the request came from
		info.Add(widget.NewLabel(T("citizen.consent.channel")))
		info.Add(wrapLabel(T("citizen.consent.online", onlineHost(p))))
	}
	box.Add(info)
	if p.OverAsk {
		warn := wrapLabel("⚠ " + lz(p.Warning.Zh, p.Warning.En))
		warn.Importance = widget.DangerImportance
		box.Add(warn)
	}
	box.Add(heading(T("citizen.consent.fields")))
	canPresent := true
	for _, a := range p.Asks {
		values := vals[a.Type]
		form := container.New(layout.NewFormLayout())
		for _, f := range a.Allowed {
			form.Add(widget.NewLabel(lz(a.Labels[f].Zh, a.Labels[f].En)))
			if slices.Contains(a.Missing, f) { // the credential does not hold it: not shown
				form.Add(wrapLabel(T("citizen.consent.lacks")))
				continue
			}
			form.Add(valueText(values[f], 0, true))
		}
		card := container.NewVBox(form)
		if len(a.Missing) > 0 {
			var req, opt []string
			for _, f := range a.Missing {
				name := lz(a.Labels[f].Zh, a.Labels[f].En)
				if slices.Contains(a.MissingRequired, f) {
					req = append(req, name)
				} else {
					opt = append(opt, name)
				}
			}
			if len(req) > 0 {
				l := wrapLabel("⚠ " + T("citizen.consent.lacks.required", strings.Join(req, listSep())))
				l.Importance = widget.DangerImportance
				card.Add(l)
			}
			if len(opt) > 0 {
				card.Add(wrapLabel(T("citizen.consent.lacks.optional", strings.Join(opt, listSep()))))
			}
		}
		if a.Chosen == "" {
			canPresent = false
			card.Add(badge(T("citizen.consent.missing"), colFail))
			// say why: the credentials held of this type and their status (revoked, …)
			for _, c := range a.Candidates {
				card.Add(container.NewHBox(widget.NewLabel(lz(c.Name.Zh, c.Name.En)), statusBadge(c.Status)))
				if c.Status != wallet.StatusValid {
					note := wrapLabel(unusable(c))
					note.Importance = widget.WarningImportance
					card.Add(note)
				}
			}
		}
		if len(a.Refused) > 0 {
			var names []string
			for _, f := range a.Refused {
				names = append(names, lz(a.Labels[f].Zh, a.Labels[f].En))
			}
			sort.Strings(names)
			r := wrapLabel(T("citizen.consent.overask") + strings.Join(names, "、"))
			r.Importance = widget.DangerImportance
			card.Add(r)
		}
		box.Add(widget.NewCard(lz(a.TypeName.Zh, a.TypeName.En), "", card))
	}
	cancel := widget.NewButtonWithIcon(T("common.cancel"), theme.CancelIcon(), s.resetPresent)
	agree := widget.NewButtonWithIcon(T("citizen.consent.agree"), theme.ConfirmIcon(), s.doPresent)
	agree.Importance = widget.HighImportance
	if !canPresent {
		agree.Disable()
	}
	box.Add(container.NewHBox(layout.NewSpacer(), cancel, agree))
	s.present.Objects = []fyne.CanvasObject{container.NewPadded(box)}
	s.present.Refresh()
}

func (s *citizenScreen) doPresent() {
	c, p := s.core(), s.Plan
	if c == nil || p == nil {
		return
	}
	if p.Online != nil {
		s.presentOnline(c, p)
		return
	}
	var r *wallet.Response
	var png []byte
	s.u.busy(func() (err error) {
		if r, err = c.Present(context.Background(), p); err != nil {
			return err
		}
		png, err = renderQR(r.QR)
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.Response = r
		s.showResponse(png)
	})
}

// showResponse covers the whole window with the response QR (largest possible).
func (s *citizenScreen) showResponse(png []byte) {
	img := qrImage("response.png", png, 360)
	done := widget.NewButtonWithIcon(T("common.close"), theme.CancelIcon(), func() {
		s.u.Refresh()
		if s.u.citizen != nil {
			s.u.citizen.tabs.SelectIndex(3)
			s.u.citizen.loadHistory()
		}
	})
	hint := widget.NewLabelWithStyle(T("citizen.response"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	hint.SizeName = theme.SizeNameSubHeadingText
	s.u.body.Objects = []fyne.CanvasObject{container.NewBorder(hint, container.NewCenter(done), nil, nil, img)}
	s.u.body.Refresh()
}

func (s *citizenScreen) loadHistory() {
	c := s.core()
	if c == nil {
		return
	}
	var hs []wallet.HistoryEntry
	s.u.busy(func() (err error) {
		hs, err = c.History()
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.history.Objects = nil
		if len(hs) == 0 {
			s.history.Add(wrapLabel(T("citizen.history.empty")))
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i].Time.After(hs[j].Time) })
		for _, h := range hs {
			s.history.Add(historyCard(h))
		}
		s.history.Refresh()
	})
}

// receiptBar takes the window's receipt (a scanner types it and Enter, or it is pasted).
func (s *citizenScreen) receiptBar() fyne.CanvasObject {
	s.ReceiptIn = widget.NewEntry()
	s.ReceiptIn.SetPlaceHolder(T("citizen.receipt.paste"))
	s.ReceiptIn.OnSubmitted = func(string) { s.importReceipt() }
	b := widget.NewButtonWithIcon(T("citizen.receipt.import"), theme.DocumentIcon(), s.importReceipt)
	// the field on its own line, the buttons under it: at phone width the field keeps the
	// whole width
	return container.NewPadded(container.NewVBox(s.ReceiptIn,
		container.NewHBox(layout.NewSpacer(), s.u.imageButton(s.ReceiptIn, s.importReceipt), b)))
}

// importReceipt checks the receipt with the wallet core and refreshes the history.
func (s *citizenScreen) importReceipt() {
	text := normaliseScan(s.ReceiptIn.Text)
	c := s.core()
	if text == "" || c == nil {
		return
	}
	var h *wallet.HistoryEntry
	s.u.busy(func() (err error) {
		h, err = c.ImportReceipt(context.Background(), text)
		return err
	}, func(err error) {
		s.loadHistory()
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.ReceiptIn.SetText("")
		msg := T("citizen.receipt.done")
		if h != nil && h.VerifiedLedger {
			msg = T("citizen.receipt.done.anchored")
		}
		s.u.info(msg)
	})
}

func historyCard(h wallet.HistoryEntry) fyne.CanvasObject {
	online := h.Mode == wallet.HistoryModeOnline
	mark, reason := badge(T("citizen.history.pending"), colWarn), ""
	switch {
	case h.VerifiedLedger:
		mark = badge("✓ "+T("citizen.history.anchored"), colPass)
	case h.Receipt != "" && online:
		mark = badge(T("citizen.history.online.receipt"), colWarn)
	case h.Receipt != "":
		mark = badge(T("citizen.history.receipt"), colWarn)
	case online:
		mark, reason = onlineHistoryMark(h)
	}
	var types []string
	for ty, fs := range h.Fields {
		types = append(types, typeName(ty)+"（"+fieldNames(ty, fs)+"）")
	}
	sort.Strings(types)
	name := wrapLabelStyled(h.WindowName, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.SizeName = theme.SizeNameSubHeadingText
	head := container.NewBorder(nil, nil, nil, container.NewVBox(mark), name)
	when := clock(h.Time) + " · " + h.ItemName
	if online {
		when = clock(h.Time) + " · " + T("citizen.history.online") + " · " + h.ItemName
	}
	card := container.NewVBox(head, wrapLabel(when), wrapLabel(strings.Join(types, "；")))
	if reason != "" {
		l := wrapLabel(reason)
		l.Importance = widget.DangerImportance
		card.Add(l)
	}
	return widget.NewCard("", "", card)
}

// backup asks for a passphrase and a file, then writes the wallet's encrypted backup.
func (s *citizenScreen) backup() {
	pass := widget.NewPasswordEntry()
	dialog.ShowForm(T("citizen.backup"), T("common.confirm"), T("common.cancel"),
		[]*widget.FormItem{widget.NewFormItem(T("citizen.backup.pass"), pass)}, func(ok bool) {
			if !ok {
				return
			}
			d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
				if err != nil || wc == nil {
					return
				}
				path := wc.URI().Path()
				wc.Close()
				p := pass.Text
				s.u.busy(func() error { return s.core().Backup(path, p) }, func(err error) {
					if err != nil {
						s.u.showErr(err)
						return
					}
					dialog.ShowInformation(T("citizen.backup"), T("citizen.backup.done", path), s.u.Win)
				})
			}, s.u.Win)
			d.SetFileName("lianzheng-wallet.lzbak")
			d.Show()
		}, s.u.Win)
}

// planDepartment names the requesting window's department: its name on the ledger (the
// plan's), else the catalogue's, else its id.
func planDepartment(p *wallet.Plan) string {
	if n := lzText(p.DepartmentName); n != "" && n != p.Department {
		return n
	}
	return departmentName(p.Department)
}

// unusable says why a held credential cannot be used, and what to do: contact its issuing
// department (named), or go online when its status cannot be checked.
func unusable(it wallet.Item) string {
	if it.Status == wallet.StatusUnknown {
		return T("citizen.unusable.unknown")
	}
	word, _ := statusWords(it.Status)
	if Language() == LangEn {
		word = strings.ToLower(word)
	}
	return T("citizen.unusable", word, departmentName(it.Issuer))
}
