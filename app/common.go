package app

import (
	"bytes"
	"image/color"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/font"

	"lianzheng/assets"
	"lianzheng/qr"
	"lianzheng/wallet"
)

// normaliseScan undoes what a keyboard-wedge scanner typing into a Chinese input method may
// do to a Base45 QR text: full-width forms (：，ＬＺ１Ｒ…) and the ideographic full stop and
// space become ASCII, Caps Lock is undone (Base45 is upper case), the scanner's CR/LF and
// surrounding blanks are dropped. Spaces inside are kept: Base45 uses them.
func normaliseScan(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == '。':
			r = '.'
		case r == '\u3000':
			r = ' '
		case r == '\r' || r == '\n' || r == '\t':
			continue
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(strings.Trim(b.String(), " "))
}

var (
	coverOnce sync.Once
	mainFace  *font.Face
)

// covered reports whether the bundled main face has a glyph for every rune of s.
func covered(s string) bool {
	coverOnce.Do(func() {
		f, err := font.ParseTTF(bytes.NewReader(fontRegular.Content()))
		if err == nil {
			mainFace = f
		}
	})
	if mainFace == nil {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			continue
		}
		if _, ok := mainFace.NominalGlyph(r); !ok {
			return false
		}
	}
	return true
}

// valueText shows personal data (names, addresses): with the main face when it covers the
// text, else with the bundled fallback face that has every CJK ideograph of Noto Sans CJK SC
// (rare name characters such as U+4DAE or U+20BB7).
func valueText(s string, size float32, bold bool) fyne.CanvasObject {
	if covered(s) {
		l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: bold})
		l.Wrapping = fyne.TextWrapWord
		if size > 0 {
			l.SizeName = theme.SizeNameSubHeadingText
		}
		return l
	}
	t := canvas.NewText(s, theme.Color(theme.ColorNameForeground))
	t.FontSource = fontNames
	t.TextSize = theme.Size(theme.SizeNameText)
	if size > 0 {
		t.TextSize = size
	}
	return container.NewPadded(t)
}

// badge is a coloured status mark with words (never colour alone).
func badge(text string, c color.Color) fyne.CanvasObject {
	bg := canvas.NewRectangle(c)
	t := canvas.NewText(" "+text+" ", color.White)
	t.TextStyle.Bold = true
	t.TextSize = theme.Size(theme.SizeNameCaptionText) + 1
	return container.NewStack(bg, container.NewPadded(t))
}

func statusBadge(s wallet.Status) fyne.CanvasObject {
	word, col := statusWords(s)
	return badge(word, col)
}

func stateBadge(state string) fyne.CanvasObject { return statusBadge(wallet.Status(state)) }

func date(t time.Time) string {
	if t.IsZero() {
		return T("citizen.no_expiry")
	}
	return t.Local().Format("2006-01-02")
}

func clock(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }

// age is a short human duration.
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return lz(itoa(int(d/time.Second))+" 秒", itoa(int(d/time.Second))+" s")
	case d < time.Hour:
		return lz(itoa(int(d/time.Minute))+" 分钟", itoa(int(d/time.Minute))+" min")
	case d < 48*time.Hour:
		return lz(itoa(int(d/time.Hour))+" 小时", itoa(int(d/time.Hour))+" h")
	}
	return lz(itoa(int(d/(24*time.Hour)))+" 天", itoa(int(d/(24*time.Hour)))+" days")
}

func itoa(n int) string { return strconv.Itoa(n) }

// qrImage shows a QR PNG at a scannable size.
func qrImage(name string, png []byte, side float32) *canvas.Image {
	img := canvas.NewImageFromResource(fyne.NewStaticResource(name, png))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels
	img.SetMinSize(fyne.NewSize(side, side))
	return img
}

// qrSide is the largest side up to max at which text's QR (with its four-module quiet
// zone) is drawn with whole pixels per module: uneven modules are what scanners misread.
func qrSide(text string, max float32) float32 {
	v, err := qr.Version(text)
	if err != nil || v < 1 {
		return max
	}
	n := float32(17 + 4*v + 8)
	k := float32(int(max / n))
	if k < 1 {
		return max
	}
	return k * n
}

// imageButton is 从图片读取: it reads a QR code from an image file (a screenshot or a saved
// code — the desktop's stand-in for a camera) into entry, then calls then.
func (u *UI) imageButton(entry *widget.Entry, then func()) *widget.Button {
	return widget.NewButtonWithIcon(T("window.scan.image"), theme.FileImageIcon(), func() {
		d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
			if err != nil || rc == nil {
				return
			}
			path := rc.URI().Path()
			rc.Close()
			u.readQRImage(path, entry, then)
		}, u.Win)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".PNG"}))
		d.Show()
	})
}

// readQRImage decodes the QR in the PNG at path into entry (off the UI goroutine), then
// calls then; an unreadable image is shown as an error and leaves entry as it was.
func (u *UI) readQRImage(path string, entry *widget.Entry, then func()) {
	var text string
	u.busy(func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text, err = qr.DecodePNG(b)
		return err
	}, func(err error) {
		if err != nil {
			u.showErr(err)
			return
		}
		entry.SetText(text)
		if then != nil {
			then()
		}
	})
}

func heading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

var (
	catOnce sync.Once
	cat     *assets.Catalogue
)

func catalogue() *assets.Catalogue {
	catOnce.Do(func() {
		c, err := assets.DemoCatalogue()
		if err != nil {
			c = &assets.Catalogue{}
		}
		cat = c
	})
	return cat
}

// departmentName names a department (by DID or id) for display; unknown ones show as given.
func departmentName(d string) string {
	for _, dep := range catalogue().Departments {
		if dep.DID == d || dep.ID == d {
			return dep.Name.In(langCode())
		}
	}
	for _, w := range catalogue().Windows {
		if w.DID == d || w.ID == d {
			return w.Name.In(langCode())
		}
	}
	return d
}

func typeName(id string) string {
	if t, ok := catalogue().Type(id); ok {
		return t.Name.In(langCode())
	}
	return id
}

func fieldNames(typ string, fs []string) string {
	t, ok := catalogue().Type(typ)
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f
		if ok {
			out[i] = t.Label(f, langCode())
		}
	}
	return strings.Join(out, lz("、", ", "))
}

// langCode is the assets.Text language code ("zh" or "en").
func langCode() string {
	if Language() == LangEn {
		return "en"
	}
	return "zh"
}

// renderQR renders QR text as PNG (qr package).
func renderQR(text string) ([]byte, error) { return qr.RenderPNG(text, 0) }

// colon is the label separator of the current language.
func colon() string { return lz("：", ": ") }

// listSep separates the items of an inline list: 、 in Chinese, ", " in English.
func listSep() string { return lz("、", ", ") }
