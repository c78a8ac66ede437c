package app

// Online services (docs/portal.md): a department's portal asks for credentials with an
// OpenID4VP link (openid4vp://?client_id=…&request_uri=…). The citizen gives it to the
// wallet the ways a window's request comes — scanned by a keyboard-wedge scanner or read
// from an image into the request field, pasted, or opened as a link (the desktop app is the
// scheme's handler: OpenLink) — and sees the same consent screen, marked 网上办理. The
// wallet core fetches and checks the request (PlanOnline) and, on consent, posts the answer
// (PresentOnline); the screen then shows the portal's verdict and its receipt, in words.
// Everything the screens decide is presentation: which words, which buttons.

import (
	"context"
	"net/url"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/credential"
	"lianzheng/internal/bilingual"
	"lianzheng/wallet"
)

// LinkScheme is the URL scheme of an online service's request (OpenID4VP 1.0).
const LinkScheme = "openid4vp"

// maxLink bounds a link taken from the command line or a scan (the wallet core parses it).
const maxLink = 8 << 10

// onlineLink reports whether s (typed, scanned or pasted) is an online service's link, and
// returns it cleaned of what a scanner or a paste adds: surrounding blanks and line breaks,
// and full-width forms an input method typed (：／？＝＆). Unlike a window's Base45 code, a
// link's case is kept (its query is case-sensitive).
func onlineLink(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == '\u3000':
			r = ' '
		case r == '\r' || r == '\n' || r == '\t':
			continue
		}
		b.WriteRune(r)
	}
	link := strings.TrimSpace(b.String())
	if len(link) > maxLink || len(link) < len(LinkScheme)+1 || !strings.EqualFold(link[:len(LinkScheme)+1], LinkScheme+":") {
		return "", false
	}
	return link, true
}

// LinkFromArgs is the online service's link among the app's command-line arguments (the
// desktop entry runs `lianzheng %u` for an openid4vp:// link), or "" when there is none.
// Other arguments are left to their owners.
func LinkFromArgs(args []string) string {
	for _, a := range args {
		if link, ok := onlineLink(a); ok {
			return link
		}
	}
	return ""
}

// OpenLink opens an online service's link (same device: the browser handed it to the app):
// the citizen role's present tab, then the consent screen. A wallet that is still locked asks
// for its PIN first and continues with the link once unlocked.
func (u *UI) OpenLink(link string) {
	if link, ok := onlineLink(link); ok {
		u.pendingLink = link
	}
	if u.Role() != RoleCitizen || u.citizen == nil {
		u.SetRole(RoleCitizen) // builds the screen, which takes the link when unlocked
		return
	}
	u.citizen.takeLink()
}

// takeLink starts the consent flow for a link handed to the app, once the wallet is open.
func (s *citizenScreen) takeLink() {
	link := s.u.pendingLink
	if link == "" || s.tabs == nil {
		return
	}
	s.u.pendingLink = ""
	s.resetPresent()
	s.sameDevice = true
	s.tabs.SelectIndex(2)
	s.Request.SetText(link)
	s.plan()
}

// onlineError marks an error of the online path, so that explain says what to do next on
// the web page rather than at a window.
type onlineError struct{ err error }

func (e *onlineError) Error() string { return e.err.Error() }
func (e *onlineError) Unwrap() error { return e.err }

// refusalNextOnline is what to do after the wallet refused an online service's request.
var refusalNextOnline = map[credential.Code]bilingual.Text{
	credential.CodeBadRequest: t2("请在网页上重新开始办理，再扫描新的二维码或打开新的链接。",
		"Start again on the web page, then scan its new code or open its new link."),
	credential.CodeWindowUnregistered: t2("请不要出示：这个网站不是联盟链上登记的网上服务平台。",
		"Do not present: this site is not an online service registered on the ledger."),
	credential.CodeItemUnknown: t2("请不要出示：该平台没有在联盟链上登记这个事项。",
		"Do not present: the service has not registered this service item on the ledger."),
}

// presentOnline posts the consented answer and shows the portal's verdict.
func (s *citizenScreen) presentOnline(c CitizenCore, p *wallet.Plan) {
	var res *wallet.OnlineResult
	s.u.busy(func() (err error) {
		res, err = c.PresentOnline(context.Background(), p)
		if err != nil {
			err = &onlineError{err}
		}
		return err
	}, func(err error) {
		if err != nil {
			s.u.showErr(err)
			return
		}
		s.Online = res
		s.showOnlineResult(p, res)
	})
}

// onlineNext is what to do after the portal's verdict.
func onlineNext(res *wallet.OnlineResult) string {
	switch res.Code {
	case "":
		return T("citizen.online.next.pass")
	case credential.CodeRevoked, credential.CodeSuspended, credential.CodeStatusUnknown, credential.CodeExpired:
		return T("citizen.online.next.status")
	case credential.CodeRequestExpired, credential.CodeNoRequest, credential.CodeReplayed, credential.CodeNonceMismatch,
		credential.CodeStateMismatch, credential.CodeWrongSession, credential.CodeResponseTampered, credential.CodePresentationExpired:
		return T("citizen.online.next.again")
	}
	return T("citizen.online.next.contact")
}

// showOnlineResult covers the window with the portal's verdict: a green or red band with the
// word and, for a refusal, its reason in plain words; who and which item; what was shown
// (names, never values); what to do next; the receipt's state; and, on the same device, a
// button back to the web page.
func (s *citizenScreen) showOnlineResult(p *wallet.Plan, res *wallet.OnlineResult) {
	col, icon, word := colPass, theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNameForegroundOnSuccess), T("citizen.online.pass")
	if !res.Accepted {
		col, icon, word = colFail, theme.NewColoredResource(theme.CancelIcon(), theme.ColorNameForegroundOnError), T("citizen.online.fail")
	}
	lines := container.NewVBox(newBandTitle(icon, word, 56, 40))
	if !res.Accepted {
		lines.Add(bandText(lzText(res.Message), sizeNameVerdictReason))
	}
	head := container.NewStack(canvas.NewRectangle(col), container.NewPadded(lines))

	body := container.NewVBox(
		newFormRows(160,
			widget.NewLabel(T("citizen.consent.portal")), wrapLabel(lzText(p.WindowName)),
			widget.NewLabel(T("citizen.consent.item")), wrapLabel(lzText(p.ItemName))))
	next := wrapLabelStyled(onlineNext(res), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	body.Add(next)
	var shown []string
	for ty, fs := range res.Fields {
		shown = append(shown, typeName(ty)+lz("（", " (")+fieldNames(ty, fs)+lz("）", ")"))
	}
	sort.Strings(shown)
	if len(shown) > 0 {
		body.Add(wrapLabel(T("citizen.online.sent") + colon() + strings.Join(shown, lz("；", "; "))))
	}
	switch {
	case res.ReceiptErr != nil:
		body.Add(problemView(problem{What: t2(T("citizen.online.receipt.bad"), T("citizen.online.receipt.bad")), Detail: res.ReceiptErr.Error()}))
	case res.History != nil && res.History.Receipt != "":
		body.Add(wrapLabel(T("citizen.online.receipt")))
	case res.Accepted:
		body.Add(wrapLabel(T("citizen.online.receipt.none")))
	}
	if !res.Accepted && res.Code != "" {
		d := widget.NewLabel(string(res.Code))
		d.SizeName = theme.SizeNameCaptionText
		body.Add(widget.NewAccordion(widget.NewAccordionItem(T("error.detail"), d)))
	}

	foot := container.NewHBox(layout.NewSpacer())
	if s.sameDevice && res.RedirectURI != "" && p.Online != nil && sameOrigin(res.RedirectURI, p.Online.Request.ResponseURI) {
		to := res.RedirectURI
		b := widget.NewButtonWithIcon(T("citizen.online.browser"), theme.ComputerIcon(), func() {
			if u, err := url.Parse(to); err == nil {
				_ = s.u.App.OpenURL(u)
			}
		})
		b.Importance = widget.HighImportance
		foot.Add(b)
	}
	foot.Add(widget.NewButtonWithIcon(T("citizen.online.history"), theme.HistoryIcon(), func() {
		s.u.Refresh()
		if s.u.citizen != nil {
			s.u.citizen.tabs.SelectIndex(3)
			s.u.citizen.loadHistory()
		}
	}))
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	s.u.body.Objects = []fyne.CanvasObject{container.NewStack(bg, container.NewBorder(head, container.NewPadded(foot), nil, nil,
		container.NewVScroll(container.NewPadded(body))))}
	s.u.body.Refresh()
}

// sameOrigin: a and b have the same scheme and host (the portal's redirect stays on the site
// the request was verified for).
func sameOrigin(a, b string) bool {
	pa, err1 := url.Parse(a)
	pb, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && pa.Scheme != "" && pa.Host != "" && pa.Scheme == pb.Scheme && pa.Host == pb.Host
}

// onlineHost is the host an online request came from, for the consent screen.
func onlineHost(p *wallet.Plan) string {
	if p.Online == nil || p.Online.Link == nil {
		return ""
	}
	u, err := url.Parse(p.Online.Link.RequestURI)
	if err != nil {
		return ""
	}
	return u.Host
}

// onlineHistoryMark is the mark of an online access record without a receipt — refused by
// the portal, or no answer from it — and, for a refusal, its reason in words.
func onlineHistoryMark(h wallet.HistoryEntry) (mark fyne.CanvasObject, reason string) {
	if code, ok := h.PortalRefusal(); ok {
		return badge(T("citizen.history.online.refused"), colFail), T("citizen.history.online.reason", lzText(credential.Text(code)))
	}
	if h.Result == wallet.HistoryPresented {
		return badge(T("citizen.history.online.waiting"), colWarn), ""
	}
	return badge(T("citizen.history.online.noanswer"), colWarn), ""
}
