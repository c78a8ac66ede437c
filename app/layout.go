package app

import (
	"image/color"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Phone size. Every screen fits a 390-point-wide window (TestPhoneWidth): nothing asks for
// more width than its widest unbreakable part, side-by-side layouts stack when narrow, and
// Chinese text wraps without starting a line with closing punctuation.

// columns lays its objects side by side in equal columns when each gets its minimum width
// (and at least minCol), and stacks them in one column otherwise — so it never asks for
// more width than its widest object. (Fyne's AdaptiveGrid follows the device's orientation,
// not the width: on a desktop it always asks for every column's width.)
type columns struct {
	minCol float32
	wide   bool // the last Layout put the objects side by side; MinSize follows it
}

func newColumns(minCol float32, objs ...fyne.CanvasObject) *fyne.Container {
	return &fyne.Container{Layout: &columns{minCol: minCol}, Objects: objs}
}

func visibleObjects(objs []fyne.CanvasObject) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for _, o := range objs {
		if o.Visible() {
			out = append(out, o)
		}
	}
	return out
}

func (c *columns) fits(objs []fyne.CanvasObject, width float32) bool {
	if len(objs) < 2 {
		return false
	}
	col := (width - theme.Padding()*float32(len(objs)-1)) / float32(len(objs))
	for _, o := range objs {
		if col < max(o.MinSize().Width, c.minCol) {
			return false
		}
	}
	return true
}

func (c *columns) Layout(all []fyne.CanvasObject, size fyne.Size) {
	objs := visibleObjects(all)
	pad := theme.Padding()
	c.wide = c.fits(objs, size.Width)
	if c.wide {
		col := (size.Width - pad*float32(len(objs)-1)) / float32(len(objs))
		for i, o := range objs {
			o.Move(fyne.NewPos(float32(i)*(col+pad), 0))
			o.Resize(fyne.NewSize(col, size.Height))
		}
		return
	}
	y := float32(0)
	for _, o := range objs {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h + pad
	}
}

func (c *columns) MinSize(all []fyne.CanvasObject) fyne.Size {
	objs := visibleObjects(all)
	var s fyne.Size
	for i, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		if c.wide {
			s.Height = max(s.Height, m.Height)
		} else {
			s.Height += m.Height
			if i > 0 {
				s.Height += theme.Padding()
			}
		}
	}
	return s
}

// maxWidth gives its objects the available width up to w, centred (a form that should not
// stretch across a desktop window, and must not force a phone wider).
type maxWidth struct{ w float32 }

func newMaxWidth(w float32, objs ...fyne.CanvasObject) *fyne.Container {
	return &fyne.Container{Layout: &maxWidth{w: w}, Objects: objs}
}

func (m *maxWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(size.Width, m.w)
	for _, o := range objs {
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
		o.Resize(fyne.NewSize(w, size.Height))
	}
}

func (m *maxWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range visibleObjects(objs) {
		s = s.Max(o.MinSize())
	}
	return s
}

// hairSpace is where a wrapped Chinese line may break. Fyne wraps words at spaces only, and
// a text without spaces (Chinese) anywhere a character no longer fits — which may start a
// line with "，" or "）". breakable puts this nearly invisible space (a sixteenth of an em)
// between the characters a line may break between, so Fyne breaks there, and nowhere else.
const hairSpace = '\u200A'

// noBreakBefore are the characters a line must not start with (标点避头).
const noBreakBefore = "，。、；：？！）》」』】〕〉”’…—·%％,.;:?!)]}>"

// noBreakAfter are the characters a line must not end with.
const noBreakAfter = "（《「『【〔〈“‘([{<"

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}

func contains(set string, r rune) bool {
	for _, c := range set {
		if c == r {
			return true
		}
	}
	return false
}

// breakable returns s with a hair space at each place a line may break inside Chinese text:
// between two characters one of which is Chinese, unless the second is closing punctuation
// or the first opening punctuation. Latin words and numbers are left whole (they wrap at
// their spaces).
func breakable(s string) string {
	rs := []rune(s)
	out := make([]rune, 0, len(rs)*2)
	for i, r := range rs {
		if i > 0 {
			p := rs[i-1]
			if (isCJK(p) || isCJK(r)) && !unicode.IsSpace(p) && !unicode.IsSpace(r) && p != hairSpace && r != hairSpace &&
				!contains(noBreakBefore, r) && !contains(noBreakAfter, p) {
				out = append(out, hairSpace)
			}
		}
		out = append(out, r)
	}
	return string(out)
}

// wrapLabel is a label that wraps (Chinese lines breaking only where breakable allows).
func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(breakable(s))
	l.Wrapping = fyne.TextWrapWord
	return l
}

// setWrapped sets a wrapping label's text (see wrapLabel).
func setWrapped(l *widget.Label, s string) { l.SetText(breakable(s)) }

// wrapLabelStyled is wrapLabel with an alignment and style.
func wrapLabelStyled(s string, align fyne.TextAlign, style fyne.TextStyle) *widget.Label {
	l := widget.NewLabelWithStyle(breakable(s), align, style)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// bandTitle is a verdict's icon and word, as large as the width allows: drawn at full size
// (icon side iconMax, text textMax) where they fit, scaled down together to fit a narrower
// width, never below minScale of full size (its minimum width).
type bandTitle struct {
	widget.BaseWidget
	icon             *widget.Icon
	text             *canvas.Text
	iconMax, textMax float32
	minScale         float32
	scale            float32 // of the last layout
}

func newBandTitle(icon fyne.Resource, word string, iconMax, textMax float32) *bandTitle {
	t := canvas.NewText(word, color.White)
	t.TextStyle.Bold = true
	t.TextSize = textMax
	b := &bandTitle{icon: widget.NewIcon(icon), text: t, iconMax: iconMax, textMax: textMax, minScale: 0.5, scale: 1}
	b.ExtendBaseWidget(b)
	return b
}

// width is the group's width at scale k.
func (b *bandTitle) width(k float32) float32 {
	return b.iconMax*k + theme.Padding() + fyne.MeasureText(b.text.Text, b.textMax*k, b.text.TextStyle).Width
}

func (b *bandTitle) CreateRenderer() fyne.WidgetRenderer { return &bandTitleRenderer{b: b} }

type bandTitleRenderer struct{ b *bandTitle }

func (r *bandTitleRenderer) Layout(size fyne.Size) {
	b := r.b
	k := float32(1)
	if full := b.width(1); full > size.Width {
		k = max(b.minScale, size.Width/full)
	}
	b.scale = k
	b.text.TextSize = b.textMax * k
	ts := fyne.MeasureText(b.text.Text, b.text.TextSize, b.text.TextStyle)
	ic := b.iconMax * k
	x := (size.Width - b.width(k)) / 2
	h := max(ic, ts.Height)
	b.icon.Resize(fyne.NewSquareSize(ic))
	b.icon.Move(fyne.NewPos(x, (size.Height-ic)/2))
	b.text.Resize(ts)
	b.text.Move(fyne.NewPos(x+ic+theme.Padding(), (size.Height-h)/2+(h-ts.Height)/2))
}

func (r *bandTitleRenderer) MinSize() fyne.Size {
	b := r.b
	h := max(b.iconMax*b.scale, fyne.MeasureText(b.text.Text, b.textMax*b.scale, b.text.TextStyle).Height)
	return fyne.NewSize(b.width(b.minScale), h)
}

func (r *bandTitleRenderer) Refresh() { r.b.text.Refresh(); r.b.icon.Refresh() }

func (r *bandTitleRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.icon, r.b.text}
}

func (r *bandTitleRenderer) Destroy() {}

// bandText is a wrapping line of white text on a verdict's colour band, centred.
func bandText(s string, size fyne.ThemeSizeName) *widget.RichText {
	rt := widget.NewRichText(&widget.TextSegment{Text: breakable(s), Style: widget.RichTextStyle{
		Alignment: fyne.TextAlignCenter, ColorName: colorNameOnBand, SizeName: size, TextStyle: fyne.TextStyle{Bold: true}}})
	rt.Wrapping = fyne.TextWrapWord
	return rt
}

// formRows lays out label–field pairs like Fyne's form layout (labels in one column, fields
// in the other) where the width allows the widest label beside a field of at least minField,
// and each label above its field otherwise (a phone in English, where labels are long).
type formRows struct {
	minField float32
	wide     bool
}

func newFormRows(minField float32, pairs ...fyne.CanvasObject) *fyne.Container {
	return &fyne.Container{Layout: &formRows{minField: minField}, Objects: pairs}
}

func (f *formRows) widths(objs []fyne.CanvasObject) (label, field float32) {
	for i := 0; i+1 < len(objs); i += 2 {
		if objs[i].Visible() || objs[i+1].Visible() {
			label = max(label, objs[i].MinSize().Width)
			field = max(field, objs[i+1].MinSize().Width)
		}
	}
	return label, field
}

func (f *formRows) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	lw, fw := f.widths(objs)
	f.wide = size.Width >= lw+pad+max(fw, f.minField)
	y := float32(0)
	for i := 0; i+1 < len(objs); i += 2 {
		l, o := objs[i], objs[i+1]
		if !l.Visible() && !o.Visible() {
			continue
		}
		lm, om := l.MinSize(), o.MinSize()
		if f.wide {
			h := max(lm.Height, om.Height)
			l.Move(fyne.NewPos(0, y))
			l.Resize(fyne.NewSize(lw, lm.Height))
			o.Move(fyne.NewPos(lw+pad, y))
			o.Resize(fyne.NewSize(size.Width-lw-pad, h))
			y += h + pad
			continue
		}
		l.Move(fyne.NewPos(0, y))
		l.Resize(fyne.NewSize(size.Width, lm.Height))
		y += lm.Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, om.Height))
		y += om.Height + pad
	}
}

func (f *formRows) MinSize(objs []fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	lw, fw := f.widths(objs)
	var s fyne.Size
	s.Width = max(lw, fw)
	for i := 0; i+1 < len(objs); i += 2 {
		l, o := objs[i], objs[i+1]
		if !l.Visible() && !o.Visible() {
			continue
		}
		if s.Height > 0 {
			s.Height += pad
		}
		if f.wide {
			s.Height += max(l.MinSize().Height, o.MinSize().Height)
		} else {
			s.Height += l.MinSize().Height + o.MinSize().Height
		}
	}
	return s
}

// machineText shows text meant for machines (an id, CSV column names) in monospace: it is
// shown on purpose, not translated, and not prose to wrap the Chinese way.
func machineText(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
}

// fitQR is the largest QR side up to max that fits the window's width with its margins.
func (u *UI) fitQR(max float32) float32 {
	if u.Win == nil {
		return max
	}
	if w := u.Win.Canvas().Size().Width - 6*theme.Padding(); w > 0 && w < max {
		return w
	}
	return max
}
