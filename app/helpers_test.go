package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/font"

	"lianzheng/internal/keystore"
)

func newStack() *fyne.Container { return container.NewStack() }

func parseFace(t *testing.T, b []byte) *font.Face {
	t.Helper()
	f, err := font.ParseTTF(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// hasText reports whether s is drawn (as a canvas.Text) somewhere under o, visible.
func hasText(o fyne.CanvasObject, s string) bool {
	found := false
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found || o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *canvas.Text:
			if strings.Contains(x.Text, s) {
				found = true
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return found
}

// findButton returns the visible button labelled label under o (nil if none).
func findButton(o fyne.CanvasObject, label string) *widget.Button {
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil || o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == label {
				found = x
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return found
}

// tap taps the button labelled label in w's content, failing the test if there is none.
func tap(t *testing.T, w fyne.Window, label string) {
	t.Helper()
	b := findButton(w.Canvas().Content(), label)
	if b == nil {
		t.Fatalf("no button %q on screen", label)
	}
	test.Tap(b)
}

// closeOverlays dismisses every dialog on w.
func closeOverlays(w fyne.Window) {
	for len(w.Canvas().Overlays().List()) > 0 {
		w.Canvas().Overlays().Top().Hide()
		w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())
	}
}

// testKeystore is a cheap key store KDF for tests (the real one is deliberately slow).
var testKeystore = &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}

// startTestDemo starts the demo (embedded ledger, wallet, window, departments) in home with
// test settings; it is closed when the test ends.
func startTestDemo(tb testing.TB, ctx context.Context, home string) *Services {
	tb.Helper()
	svc, err := StartDemo(ctx, home, &DemoOptions{Keystore: testKeystore, EmptyBlocksInterval: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	return svc
}
