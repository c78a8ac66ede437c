package app

import (
	"bytes"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"github.com/go-text/typesetting/font"
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
