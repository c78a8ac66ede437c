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

	"lianzheng/home"
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

// walkVisible calls visit on every visible object under o, depth first, until visit
// returns true.
func walkVisible(o fyne.CanvasObject, visit func(fyne.CanvasObject) bool) bool {
	if o == nil || !o.Visible() {
		return false
	}
	if visit(o) {
		return true
	}
	var children []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		children = x.Objects
	case fyne.Widget:
		children = test.WidgetRenderer(x).Objects()
	}
	for _, c := range children {
		if walkVisible(c, visit) {
			return true
		}
	}
	return false
}

// hasText reports whether s is drawn (as a canvas.Text) somewhere under o, visible (the
// hair spaces breakable puts into wrapping Chinese text aside).
func hasText(o fyne.CanvasObject, s string) bool {
	s = plain(s)
	return walkVisible(o, func(o fyne.CanvasObject) bool {
		switch t := o.(type) {
		case *canvas.Text:
			return strings.Contains(plain(t.Text), s)
		case *widget.Label: // a wrapped label draws its text in several lines
			return strings.Contains(plain(t.Text), s)
		case *widget.RichText:
			return strings.Contains(plain(t.String()), s)
		}
		return false
	})
}

// plain is a text without the hair spaces breakable adds.
func plain(s string) string { return strings.ReplaceAll(s, string(hairSpace), "") }

// findButton returns the visible button labelled label under o (nil if none).
func findButton(o fyne.CanvasObject, label string) *widget.Button {
	var found *widget.Button
	walkVisible(o, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*widget.Button); ok && b.Text == label {
			found = b
		}
		return found != nil
	})
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

// startTestDemo starts the demo (embedded ledger, wallet, window, departments) in dir with
// test settings; it is closed when the test ends.
func startTestDemo(tb testing.TB, ctx context.Context, dir string) *Services {
	tb.Helper()
	svc, err := StartDemo(ctx, dir, &home.Options{Keystore: testKeystore, EmptyBlocksInterval: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	return svc
}
