package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/credential"
	"lianzheng/home"
	"lianzheng/ledger"
	"lianzheng/verifier"
)

// windowScreen is the 窗口核验 role: choose a service item → request QR → scan field (a
// keyboard-wedge scanner types the answer and presses Enter; or an image file) → a verdict
// readable from a distance that clears itself; the trust data's age is always visible.
type windowScreen struct {
	u     *UI
	root  *fyne.Container
	main  fyne.CanvasObject
	items []ledger.ServiceItem

	item    *widget.Select
	reqBox  *fyne.Container
	Scan    *widget.Entry
	trust   *widget.Label
	verdict *fyne.Container

	// LastVerdict is the verdict on screen (nil when cleared).
	LastVerdict *verifier.Verdict
	stopClear   func()
	// Request is the open request shown as QR.
	Request *verifier.Request
	// onCleared, if set, is called after a verdict is cleared (tests synchronise on it).
	onCleared func()
	// Offline switches the verdicts to the saved trust snapshot; SaveSnap renews it.
	Offline  *widget.Check
	SaveSnap *widget.Button
	// LastReceipt is the receipt bundle handed to the citizen for the verdict on screen.
	LastReceipt *home.QRResult
	receiptBox  *fyne.Container // the verdict's body, replaced by the receipt when handed
	give        *widget.Button  // 给群众回执 (nil: the verdict has no receipt)
	countdown   *widget.Label
	stopTick    func()
}

func newWindowScreen(u *UI) *windowScreen {
	s := &windowScreen{u: u}
	s.item = widget.NewSelect(nil, func(string) { s.newRequest() })
	s.item.PlaceHolder = T("window.item.choose")
	s.reqBox = container.NewVBox(wrapLabel(T("window.item.choose")))
	s.Scan = widget.NewEntry()
	s.Scan.SetPlaceHolder(T("window.scan.placeholder"))
	s.Scan.OnSubmitted = func(text string) { s.submit(text) }
	submit := widget.NewButtonWithIcon(T("window.scan.submit"), theme.ConfirmIcon(), func() { s.submit(s.Scan.Text) })
	submit.Importance = widget.HighImportance
	image := widget.NewButtonWithIcon(T("window.scan.image"), theme.FileImageIcon(), s.pickImage)
	s.trust = widget.NewLabel(T("window.trust.unavailable"))
	refresh := widget.NewButtonWithIcon(T("common.refresh"), theme.ViewRefreshIcon(), func() { s.updateTrust(true) })
	s.Offline = widget.NewCheck(T("window.offline"), s.setOffline)
	s.SaveSnap = widget.NewButtonWithIcon(T("window.snapshot.save"), theme.DownloadIcon(), s.saveSnapshot)
	s.trust.Wrapping = fyne.TextWrapWord
	// two rows, so the trust age stays readable at phone width
	trustBar := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewIcon(theme.StorageIcon()), nil, s.trust),
		container.NewHBox(layout.NewSpacer(), s.Offline, s.SaveSnap, refresh))

	left := container.NewVBox(heading(T("window.item")), s.item, s.reqBox)
	right := container.NewVBox(heading(T("window.scan")), s.Scan,
		container.NewHBox(layout.NewSpacer(), image, submit))
	// side by side where the width allows, one column on a phone (the QR first)
	s.main = container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), trustBar), nil, nil,
		container.NewVScroll(newColumns(320, container.NewPadded(left), container.NewPadded(right))))
	s.verdict = container.NewStack()
	s.verdict.Hide()
	s.root = container.NewStack(s.main, s.verdict)
	s.load()
	if !u.Sync {
		go s.tick()
	}
	return s
}

// tick keeps the trust age current while this screen is shown.
func (s *windowScreen) tick() {
	c := s.core()
	for c != nil {
		time.Sleep(5 * time.Second)
		alive := make(chan bool, 1)
		fyne.DoAndWait(func() { alive <- s.u.window == s && s.u.Role() == RoleWindow })
		if !<-alive {
			return
		}
		ti, err := c.Trust(context.Background(), false)
		fyne.Do(func() { s.showTrust(ti, err) })
	}
}

func (s *windowScreen) core() WindowCore {
	if s.u.Svc == nil {
		return nil
	}
	return s.u.Svc.Window
}

func (s *windowScreen) load() {
	c := s.core()
	if c == nil {
		return
	}
	var items []ledger.ServiceItem
	s.u.busy(func() (err error) {
		items, err = c.Items(context.Background())
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.items = items
		names := make([]string, len(items))
		for i, it := range items {
			names[i] = lz(it.Name.Zh, it.Name.En)
		}
		s.item.Options = names
		s.item.Refresh()
		s.updateTrust(false)
	})
}

func (s *windowScreen) updateTrust(refresh bool) {
	c := s.core()
	if c == nil {
		return
	}
	var ti verifier.TrustInfo
	s.u.busy(func() (err error) {
		ti, err = c.Trust(context.Background(), refresh)
		return err
	}, func(err error) {
		s.showTrust(ti, err)
	})
}

// saveSnapshot exports a fresh trust snapshot from the ledger (for the hours offline).
func (s *windowScreen) saveSnapshot() {
	c := s.core()
	if c == nil {
		return
	}
	var ti verifier.TrustInfo
	s.u.busy(func() (err error) {
		ti, err = c.SaveSnapshot(context.Background())
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.u.info(T("window.snapshot.saved", ti.Height))
		s.updateTrust(false)
	})
}

// setOffline switches the trust source; a missing, forged or stale snapshot is refused and
// the check box goes back.
func (s *windowScreen) setOffline(on bool) {
	c := s.core()
	if c == nil {
		return
	}
	var ti verifier.TrustInfo
	s.u.busy(func() (err error) {
		ti, err = c.SetOffline(context.Background(), on)
		return err
	}, func(err error) {
		if err != nil {
			s.markOffline(!on)
			s.u.showErr(err)
			return
		}
		s.showTrust(ti, nil)
	})
}

// markOffline sets the 离线模式 box without switching anything (it follows the core's state,
// which outlives this screen when the role or language changes).
func (s *windowScreen) markOffline(on bool) {
	if s.Offline.Checked == on {
		return
	}
	s.Offline.OnChanged = nil
	s.Offline.SetChecked(on)
	s.Offline.OnChanged = s.setOffline
}

// trustText says what the verdicts rest on: the ledger's data, or the offline snapshot.
// Each recognised region (跨区域互认) follows on its own line: its data's age and the
// agreement's maximum, or that its credentials are refused now and why.
func trustText(ti verifier.TrustInfo) string {
	var s string
	if ti.Source == "snapshot" {
		s = T("window.trust.snapshot", age(ti.Age), ti.Height)
	} else {
		s = T("window.trust.age", age(ti.Age), ti.Height)
	}
	for _, r := range ti.Regions {
		name := lzText(r.Name)
		if r.Problem != "" {
			s += "\n" + T("window.trust.region.problem", name, lzText(credential.Text(r.Problem)))
		} else {
			s += "\n" + T("window.trust.region", name, age(r.Age), age(r.MaxAge))
		}
	}
	return s
}

func (s *windowScreen) showTrust(ti verifier.TrustInfo, err error) {
	if err != nil {
		p := explain(err)
		setWrapped(s.trust, T("window.trust.unavailable")+colon()+lzText(p.What)+lz("。", ". ")+lzText(p.Next))
		s.trust.Importance = widget.DangerImportance
	} else {
		setWrapped(s.trust, trustText(ti))
		s.markOffline(ti.Source == "snapshot")
		s.trust.Importance = widget.MediumImportance
		if ti.MaxAge > 0 && ti.Age > ti.MaxAge*3/4 {
			s.trust.Importance = widget.WarningImportance
		}
		for _, r := range ti.Regions {
			if r.Problem != "" || (r.MaxAge > 0 && r.Age > r.MaxAge*3/4) {
				s.trust.Importance = widget.WarningImportance
			}
		}
	}
	s.trust.Refresh()
}

func (s *windowScreen) newRequest() {
	i := s.item.SelectedIndex()
	c := s.core()
	if i < 0 || i >= len(s.items) || c == nil {
		return
	}
	id := s.items[i].ID
	var r *verifier.Request
	var png []byte
	s.u.busy(func() (err error) {
		if r, err = c.NewRequest(context.Background(), id); err != nil {
			return err
		}
		png, err = r.PNG()
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.Request = r
		it := r.Item
		purpose := wrapLabel(T("citizen.consent.purpose") + colon() + lz(it.Purpose.Zh, it.Purpose.En))
		exp := widget.NewLabel(T("window.request.expires") + " " + time.Unix(r.Request.Expires, 0).Local().Format("15:04:05"))
		again := widget.NewButtonWithIcon(T("window.request"), theme.ViewRefreshIcon(), s.newRequest)
		s.reqBox.Objects = []fyne.CanvasObject{
			container.NewCenter(qrImage("request.png", png, 300)),
			wrapLabelStyled(T("window.request.hint"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			purpose, exp, again,
		}
		s.reqBox.Refresh()
		s.u.Win.Canvas().Focus(s.Scan)
	})
}

// submit verifies scanned text (the scanner's Enter, or the button).
func (s *windowScreen) submit(text string) {
	text = normaliseScan(text)
	if text == "" || s.core() == nil {
		return
	}
	c := s.core()
	var v *verifier.Verdict
	s.u.busy(func() error {
		v = c.Verify(context.Background(), text)
		return nil
	}, func(error) {
		s.Scan.SetText("")
		s.showVerdict(v)
	})
}

func (s *windowScreen) pickImage() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		path := rc.URI().Path()
		rc.Close()
		c := s.core()
		var v *verifier.Verdict
		s.u.busy(func() error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			v = c.VerifyPNG(context.Background(), b)
			return nil
		}, func(err error) {
			if err != nil {
				s.u.showErr(err)
				return
			}
			s.showVerdict(v)
		})
	}, s.u.Win)
	d.Show()
}

// showVerdict covers the screen with the verdict: big colour band, icon and words, the
// reason in plain language, each credential's disclosed fields with labels; it clears itself
// after the configured time (or on 下一位).
func (s *windowScreen) showVerdict(v *verifier.Verdict) {
	if v == nil {
		return
	}
	s.LastVerdict = v
	col, icon, word := colPass, theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNameForegroundOnSuccess), T("window.verdict.pass")
	if !v.OK {
		col, icon, word = colFail, theme.NewColoredResource(theme.CancelIcon(), theme.ColorNameForegroundOnError), T("window.verdict.fail")
	}
	// the headline says it once: the word, and for a refusal its reason (a pass's message
	// would only repeat the word); both shrink or wrap to a phone's width
	lines := container.NewVBox(newBandTitle(icon, word, 72, 56))
	if !v.OK {
		lines.Add(bandText(lz(v.Message.Zh, v.Message.En), sizeNameVerdictReason))
	}
	head := container.NewStack(canvas.NewRectangle(col), container.NewPadded(lines))

	body := container.NewVBox()
	if it := lz(v.ItemName.Zh, v.ItemName.En); it != "" {
		body.Add(wrapLabelStyled(T("window.item")+colon()+it, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	if v.Mode == verifier.ModeOneWay {
		body.Add(badge(T("window.verdict.oneway"), colWarn))
	}
	for _, cv := range v.Credentials {
		mark, why := credentialMark(v, cv)
		title := container.NewHBox(heading(lz(cv.TypeName.Zh, cv.TypeName.En)), mark)
		form := container.New(layout.NewFormLayout())
		for _, f := range cv.Fields {
			l := widget.NewLabelWithStyle(lz(f.Label.Zh, f.Label.En), fyne.TextAlignTrailing, fyne.TextStyle{})
			l.SizeName = theme.SizeNameSubHeadingText
			form.Add(l)
			form.Add(valueText(f.Value, 22, true))
		}
		card := container.NewVBox(title, form)
		if why != nil {
			card.Add(why)
		}
		var required, optional []string
		for _, m := range cv.Missing {
			if m.Required {
				required = append(required, lz(m.Label.Zh, m.Label.En))
			} else {
				optional = append(optional, lz(m.Label.Zh, m.Label.En))
			}
		}
		if len(required) > 0 {
			l := wrapLabel(T("window.verdict.lacks.required", strings.Join(required, listSep())))
			l.Importance = widget.DangerImportance
			card.Add(l)
		}
		if len(optional) > 0 {
			card.Add(wrapLabel(T("window.verdict.lacks.optional", strings.Join(optional, listSep()))))
		}
		if cv.Issuer != "" {
			card.Add(wrapLabel(T("window.verdict.issuer") + colon() + departmentName(cv.Issuer)))
		}
		if cv.Hidden > 0 {
			card.Add(widget.NewLabel(T("window.verdict.hidden", cv.Hidden)))
		}
		body.Add(widget.NewCard("", "", card))
	}
	trust := wrapLabel(trustText(v.Trust))
	after := s.u.ClearAfter()
	s.countdown = widget.NewLabel(T("window.verdict.clears", int(after/time.Second)))
	s.countdown.Wrapping = fyne.TextWrapWord // the receipt's "stays until 下一位" line is long
	next := widget.NewButtonWithIcon(T("window.verdict.next"), theme.NavigateNextIcon(), s.clearVerdict)
	next.Importance = widget.HighImportance
	// the trust line above the buttons, so that both fit a phone's width
	// the countdown (and, once the receipt is handed, the line saying it stays) has a row of
	// its own, so that it wraps to a phone's width instead of squeezing beside the buttons
	foot := container.NewHBox(layout.NewSpacer())
	s.LastReceipt = nil
	s.receiptBox = body
	s.give = nil
	if v.ReceiptID != "" {
		// Only a verdict in which a credential verified has a receipt (someone's data was
		// seen); unreadable text, a replay or a refusal before any data has none to give.
		// The receipt replaces the disclosed values on screen, so the citizen can scan it.
		s.give = widget.NewButtonWithIcon(T("window.receipt.give"), theme.DocumentIcon(), func() { s.handReceipt(v) })
		foot.Add(s.give)
	}
	foot.Add(next)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	s.verdict.Objects = []fyne.CanvasObject{bg, container.NewBorder(head, container.NewVBox(trust, s.countdown, foot), nil, nil, container.NewVScroll(container.NewPadded(body)))}
	s.verdict.Show()
	s.verdict.Refresh()
	s.showTrust(v.Trust, nil)

	s.startClearTimer(v, after)
}

// startClearTimer clears the verdict after d, counting down on screen each second.
func (s *windowScreen) startClearTimer(v *verifier.Verdict, d time.Duration) {
	if s.stopClear != nil {
		s.stopClear()
	}
	if s.stopTick != nil {
		s.stopTick()
	}
	shown := v
	s.stopClear = s.u.after(d, func() {
		// a timer already due when the receipt was handed must not take the receipt away
		if s.LastVerdict == shown && s.LastReceipt == nil {
			s.clearVerdict()
		}
	})
	deadline := time.Now().Add(d)
	var tick func()
	tick = func() {
		if s.LastVerdict != shown || s.countdown == nil || s.LastReceipt != nil {
			return
		}
		left := int(time.Until(deadline).Round(time.Second) / time.Second)
		if left < 0 {
			left = 0
		}
		s.countdown.SetText(T("window.verdict.clears", left))
		if left > 0 {
			s.stopTick = s.u.after(time.Second, tick)
		}
	}
	s.countdown.SetText(T("window.verdict.clears", int(d/time.Second)))
	s.stopTick = s.u.after(time.Second, tick)
}

// handReceipt anchors the pending receipts on the ledger and shows the citizen's receipt
// bundle as a QR on the verdict. The QR stays until the clerk presses 下一位 (or scans the
// next answer): the clear timer stops, since the citizen may need longer than the verdict's
// countdown, and the disclosed values, no longer on screen, are dropped at once.
func (s *windowScreen) handReceipt(v *verifier.Verdict) {
	c := s.core()
	if c == nil || v.ReceiptID == "" {
		return
	}
	var res *home.QRResult
	s.u.busy(func() (err error) {
		res, err = c.HandReceipt(context.Background(), v.ReceiptID)
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		if s.LastVerdict != v {
			return
		}
		s.LastReceipt = res
		note := T("window.receipt.anchored")
		if !res.Anchored {
			note = T("window.receipt.unanchored")
		}
		s.receiptBox.Objects = []fyne.CanvasObject{
			wrapLabelStyled(T("window.receipt.title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			container.NewCenter(qrImage("receipt.png", res.PNG, qrSide(res.Text, s.u.fitQR(460)))),
			wrapLabelStyled(note, fyne.TextAlignCenter, fyne.TextStyle{}),
			wrapLabelStyled(T("window.receipt.hint"), fyne.TextAlignCenter, fyne.TextStyle{}),
		}
		s.receiptBox.Refresh()
		if s.stopClear != nil {
			s.stopClear()
		}
		if s.stopTick != nil {
			s.stopTick()
		}
		s.stopClear, s.stopTick = nil, nil
		if s.countdown != nil {
			setWrapped(s.countdown, T("window.receipt.keep"))
		}
		if s.give != nil {
			s.give.Disable()
		}
		c.CloseSession() // the values are off the screen: drop them now
	})
}

// clearVerdict removes the verdict (and the disclosed values) from the screen.
func (s *windowScreen) clearVerdict() {
	if s.stopClear != nil {
		s.stopClear()
	}
	if s.stopTick != nil {
		s.stopTick()
	}
	s.LastVerdict, s.LastReceipt, s.countdown, s.give = nil, nil, nil, nil
	s.verdict.Objects = nil
	s.verdict.Hide()
	s.verdict.Refresh()
	if c := s.core(); c != nil {
		c.CloseSession()
	}
	if s.u.Win != nil {
		s.u.Win.Canvas().Focus(s.Scan)
	}
	if s.onCleared != nil {
		s.onCleared()
	}
}

var _ = fmt.Sprint

// credentialMark is one credential's mark on a verdict (有效 or 未通过) and, for a refusal
// whose reason is not already the verdict's headline, that reason (nil otherwise).
func credentialMark(v *verifier.Verdict, cv verifier.CredentialVerdict) (fyne.CanvasObject, fyne.CanvasObject) {
	if cv.OK {
		return badge(T("status.valid"), colPass), nil
	}
	mark := badge(T("window.verdict.cred_fail"), colFail)
	if cv.Code != "" && cv.Code == v.Code {
		return mark, nil
	}
	why := wrapLabel(lz(cv.Message.Zh, cv.Message.En))
	why.Importance = widget.DangerImportance
	return mark, why
}
