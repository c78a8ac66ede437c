package app

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/home"
)

// Startup is the app's first frame: a splash (链证通, "正在启动演示账本…" and an infinite
// progress bar, in the remembered language and text size) shown at once, while the services
// start off the UI goroutine; when they are ready the role screens replace it (New), and if
// they fail the error is shown in the window, with 重试 and 退出.
type Startup struct {
	App fyne.App
	Win fyne.Window
	// Sync runs the start inline (tests); the app runs it in a goroutine and swaps the
	// screens with fyne.Do.
	Sync bool
	// Links, if set, receives the opening of each link a second copy hands over, instead of
	// fyne.Do (tests run it on their own goroutine).
	Links chan func()

	bar    *widget.ProgressBarInfinite
	status *widget.Label

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	svc    *Services
	ui     *UI
	link   string // an online service's link to open once the screens are up (OpenLink)
}

// Starting shows the splash in w, in the language and text size remembered in a's
// preferences (the theme and language New would apply), and returns at once.
func Starting(a fyne.App, w fyne.Window) *Startup {
	// the same preferences New reads; New applies them again with the services
	SetLanguage(a.Preferences().StringWithFallback(prefLang, LangZh))
	a.Settings().SetTheme(&lzTheme{large: a.Preferences().Bool(prefLarge)})
	s := &Startup{App: a, Win: w}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.showSplash()
	return s
}

func (s *Startup) showSplash() {
	s.Win.SetTitle(T("app.title"))
	title := canvas.NewText(T("app.title"), theme.Color(theme.ColorNamePrimary))
	title.TextStyle.Bold = true
	title.TextSize = 40
	title.Alignment = fyne.TextAlignCenter
	slogan := widget.NewLabelWithStyle(T("app.slogan"), fyne.TextAlignCenter, fyne.TextStyle{})
	s.status = widget.NewLabelWithStyle(T("startup.starting"), fyne.TextAlignCenter, fyne.TextStyle{})
	s.status.Wrapping = fyne.TextWrapWord
	s.bar = widget.NewProgressBarInfinite()
	s.Win.SetContent(container.NewPadded(container.NewVBox(layout.NewSpacer(), title, slogan,
		widget.NewSeparator(), s.status, container.NewPadded(s.bar), layout.NewSpacer())))
}

// SetStatus replaces the splash's line under the title (call on the UI goroutine).
func (s *Startup) SetStatus(text string) {
	if s.status != nil {
		s.status.SetText(text)
	}
}

// Start runs start (with a context cancelled by Close) off the UI goroutine, then, on the UI
// goroutine, swaps in the role screens over its services, or shows its error.
func (s *Startup) Start(start func(ctx context.Context) (*Services, error)) {
	run := func() {
		svc, err := start(s.ctx)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			if svc != nil && svc.Close != nil {
				svc.Close() // the app quit while starting
			}
			return
		}
		s.svc = svc
		s.mu.Unlock()
		done := func() {
			if err != nil {
				s.Failed(err, start)
				return
			}
			s.Ready(svc)
		}
		if s.Sync {
			done()
		} else {
			fyne.Do(done)
		}
	}
	if s.Sync {
		run()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		run()
	}()
}

// StartDemo starts the demo home in dir (StartDemo), saying on the splash when this is the
// first start and the demo is being created.
func (s *Startup) StartDemo(dir string, o *home.Options) {
	if !home.Exists(dir) {
		s.SetStatus(T("startup.first"))
	}
	s.Start(func(ctx context.Context) (*Services, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		svc, err := StartDemo(ctx, dir, o)
		if err != nil {
			return nil, err
		}
		// links a second copy hands over (HandLinkToRunning) open here; without the socket
		// (another system, a home others may write) the app runs as before
		deliver := fyne.Do
		if s.Links != nil {
			deliver = func(f func()) { s.Links <- f }
		}
		if ln, err := home.ListenLinks(dir, func(link string) { deliver(func() { s.OpenLink(link) }) }); err == nil {
			closeSvc := svc.Close
			svc.Close = func() { ln.Close(); closeSvc() }
		}
		return svc, nil
	})
}

// Ready replaces the splash with the role screens over svc (on the UI goroutine).
func (s *Startup) Ready(svc *Services) *UI {
	s.mu.Lock()
	closed := s.closed
	s.svc = svc
	s.mu.Unlock()
	if closed {
		return nil
	}
	if s.bar != nil {
		s.bar.Stop()
	}
	u := New(s.App, s.Win, svc)
	u.Sync = s.Sync
	s.mu.Lock()
	s.ui = u
	link := s.link
	s.link = ""
	s.mu.Unlock()
	if link != "" {
		u.OpenLink(link)
	}
	return u
}

// HandLinkToRunning hands link to a copy of the app already running on the home in dir and
// reports whether it took it (then this process has nothing to do): the desktop starts a new
// process for each openid4vp:// link, and only one can hold the home.
func HandLinkToRunning(dir, link string) bool {
	if link == "" {
		return false
	}
	return home.SendLink(context.Background(), dir, link) == nil
}

// OpenLink opens an online service's openid4vp:// link (the app started as the scheme's
// handler) on the citizen's consent screen once the screens are up, at once if they are
// (call on the UI goroutine).
func (s *Startup) OpenLink(link string) {
	if link == "" {
		return
	}
	s.mu.Lock()
	u := s.ui
	if u == nil {
		s.link = link
	}
	s.mu.Unlock()
	if u != nil {
		u.OpenLink(link)
	}
}

// Failed shows why the services did not start, in the current language, with 重试 (retry
// start) and 退出.
func (s *Startup) Failed(err error, retry func(ctx context.Context) (*Services, error)) {
	if s.bar != nil {
		s.bar.Stop()
	}
	head := wrapLabelStyled(T("startup.failed"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	head.SizeName = theme.SizeNameHeadingText
	head.Importance = widget.DangerImportance
	// what went wrong in words (explain), or, for an error no rule knows, the usual causes;
	// the error's text only under 详情
	p := explain(err)
	if !p.Known {
		p.What, p.Next = t2(T("startup.failed.hint"), T("startup.failed.hint")), t2("", "")
	}
	detail := problemView(p)
	buttons := container.NewHBox(layout.NewSpacer())
	if retry != nil {
		again := widget.NewButtonWithIcon(T("startup.retry"), theme.ViewRefreshIcon(), func() {
			s.showSplash()
			s.Start(retry)
		})
		again.Importance = widget.HighImportance
		buttons.Add(again)
	}
	buttons.Add(widget.NewButtonWithIcon(T("startup.quit"), theme.CancelIcon(), func() { s.App.Quit() }))
	buttons.Add(layout.NewSpacer())
	s.Win.SetContent(container.NewPadded(container.NewVBox(layout.NewSpacer(),
		container.NewBorder(nil, nil, widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon())), nil, head),
		detail, buttons, layout.NewSpacer())))
}

// UI is the running UI once the services are ready (nil before).
func (s *Startup) UI() *UI {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ui
}

// Close cancels a start in flight and waits for it, then closes the services (main defers
// it: the window closed or the app quit).
func (s *Startup) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	svc := s.svc
	s.svc = nil
	s.mu.Unlock()
	if svc != nil && svc.Close != nil {
		svc.Close()
	}
}
