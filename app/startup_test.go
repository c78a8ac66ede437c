package app

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestStartupSplash: the first frame, before any service, is the splash in the remembered
// language: the app name and "starting the demo ledger" (and, on a first start, that the
// demo is being created).
func TestStartupSplash(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		a := test.NewTempApp(t)
		a.Preferences().SetString(prefLang, l)
		w := test.NewWindow(nil)
		w.Resize(desktop)
		s := Starting(a, w)
		for _, want := range []string{T("app.title"), T("startup.starting")} {
			if !hasText(w.Canvas().Content(), want) {
				t.Fatalf("%s: %q not on the splash", l, want)
			}
		}
		if w.Canvas().Capture() == nil {
			t.Fatal("no frame")
		}
		want := map[string]string{LangZh: "正在启动演示账本…", LangEn: "Starting the demo ledger…"}[l]
		if T("startup.starting") != want {
			t.Fatalf("%s: %q", l, T("startup.starting"))
		}
		s.SetStatus(T("startup.first"))
		if !hasText(w.Canvas().Content(), T("startup.first")) {
			t.Fatal("status not updated")
		}
		s.Close()
		w.Close()
	}
	SetLanguage(LangZh)
}

// TestStartupSwap: when the services are ready the role screens replace the splash (the
// role chooser on a first start, with the demo note); Close closes the services once.
func TestStartupSwap(t *testing.T) {
	a := test.NewTempApp(t)
	a.Preferences().SetString(prefLang, LangZh)
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(desktop)
	s := Starting(a, w)
	s.Sync = true
	closed := 0
	svc := &Services{Window: &fakeWindow{verdict: passVerdict()}, Citizen: &fakeCitizen{items: demoItems()},
		Department: &fakeDept{}, Demo: true, Close: func() { closed++ }}
	var gotCtx context.Context
	s.Start(func(ctx context.Context) (*Services, error) { gotCtx = ctx; return svc, nil })
	u := s.UI()
	if u == nil || u.Svc != svc {
		t.Fatal("no UI over the services")
	}
	if hasText(w.Canvas().Content(), T("startup.starting")) || !hasText(w.Canvas().Content(), T("role.choose")) ||
		!hasText(w.Canvas().Content(), T("settings.demo")) {
		t.Fatal("role chooser not shown after the start")
	}
	s.Close()
	s.Close()
	if closed != 1 {
		t.Fatalf("services closed %d times", closed)
	}
	if gotCtx.Err() == nil {
		t.Fatal("start context not cancelled by Close")
	}
}

// TestStartupFailed: a start that fails shows its error in the window, in the current
// language, with 重试 (which starts again, here successfully) and 退出.
func TestStartupFailed(t *testing.T) {
	for _, l := range []string{LangEn, LangZh} {
		a := test.NewTempApp(t)
		a.Preferences().SetString(prefLang, l)
		w := test.NewWindow(nil)
		w.Resize(fyne.NewSize(390, 780))
		s := Starting(a, w)
		s.Sync = true
		tries := 0
		s.Start(func(context.Context) (*Services, error) {
			tries++
			if tries == 1 {
				return nil, errors.New("app: start demo ledger: lock held by another process")
			}
			return &Services{Window: &fakeWindow{}, Citizen: &fakeCitizen{}, Department: &fakeDept{}}, nil
		})
		for _, want := range []string{T("startup.failed"), T("startup.failed.hint"), T("startup.quit")} {
			if !hasText(w.Canvas().Content(), want) {
				t.Fatalf("%s: %q not shown", l, want)
			}
		}
		// the error's own text only under 详情
		if hasText(w.Canvas().Content(), "lock held by another process") {
			t.Fatalf("%s: the error's text shown outside 详情", l)
		}
		var acc *widget.Accordion
		walkVisible(w.Canvas().Content(), func(o fyne.CanvasObject) bool { acc, _ = o.(*widget.Accordion); return acc != nil })
		if acc == nil {
			t.Fatalf("%s: no 详情", l)
		}
		acc.Open(0)
		if !hasText(w.Canvas().Content(), "lock held by another process") {
			t.Fatalf("%s: the error's text is not under 详情", l)
		}
		if s.UI() != nil {
			t.Fatal("UI without services")
		}
		tap(t, w, T("startup.retry"))
		if tries != 2 || s.UI() == nil || !hasText(w.Canvas().Content(), T("role.choose")) {
			t.Fatalf("retry: %d tries", tries)
		}
		s.Close()
		w.Close()
	}
	SetLanguage(LangZh)
}

// TestStartupAsync: the app's path — the start in a goroutine, the swap through fyne.Do
// (run inline by the test driver) — and Close waiting for a start still in flight, then
// closing what it started.
func TestStartupAsync(t *testing.T) {
	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	defer w.Close()
	s := Starting(a, w)
	release := make(chan struct{})
	closed := make(chan struct{})
	s.Start(func(ctx context.Context) (*Services, error) {
		<-ctx.Done() // the app quits while the ledger starts
		<-release
		return &Services{Close: func() { close(closed) }}, nil
	})
	go func() { close(release) }()
	s.Close()
	select {
	case <-closed:
	default:
		t.Fatal("services started after the quit were not closed")
	}
	if s.UI() != nil {
		t.Fatal("UI swapped in after Close")
	}
}
