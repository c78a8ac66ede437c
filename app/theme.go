package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"lianzheng/assets"
)

// The bundled faces (see assets/ui.go and scripts/subset-font.py).
var (
	fontRegular = fyne.NewStaticResource("NotoSansSC-Regular.otf", assets.FontRegular)
	fontBold    = fyne.NewStaticResource("NotoSansSC-Bold.otf", assets.FontBold)
	// fontNames is the fallback face for rare name characters outside the subset.
	fontNames = fyne.NewStaticResource("NotoSansSC-Names.otf", assets.FontNames)
)

// lzTheme is Fyne's default theme with the bundled Simplified-Chinese faces (so Chinese
// always has SC shapes and bold works, whatever fonts the machine has), the government red
// as primary colour, and a large-text mode (长辈模式).
type lzTheme struct {
	large bool
}

var _ fyne.Theme = (*lzTheme)(nil)

func (t *lzTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNamePrimary:
		return color.NRGBA{R: 0xC8, G: 0x10, B: 0x2E, A: 0xFF}
	case theme.ColorNameSuccess:
		return colPass
	case theme.ColorNameError:
		return colFail
	case theme.ColorNameForegroundOnSuccess, theme.ColorNameForegroundOnError, theme.ColorNameForegroundOnPrimary, colorNameOnBand:
		return color.White
	}
	return theme.DefaultTheme().Color(n, v)
}

func (t *lzTheme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Monospace || s.Symbol {
		return theme.DefaultTheme().Font(s)
	}
	if s.Bold {
		return fontBold
	}
	return fontRegular
}

func (t *lzTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (t *lzTheme) Size(n fyne.ThemeSizeName) float32 {
	s := theme.DefaultTheme().Size(n)
	if n == sizeNameVerdictReason {
		s = 26
	}
	if t.large {
		switch n {
		case theme.SizeNameText, theme.SizeNameHeadingText, theme.SizeNameSubHeadingText,
			theme.SizeNameCaptionText, theme.SizeNameInlineIcon:
			return s * 1.4
		}
	}
	return s
}

// The theme's own names: white text on a verdict's colour band, and the verdict reason's size.
const (
	colorNameOnBand       fyne.ThemeColorName = "lzOnBand"
	sizeNameVerdictReason fyne.ThemeSizeName  = "lzVerdictReason"
)

// Verdict colours: readable from a distance, and not only colour (icon and words too).
var (
	colPass = color.NRGBA{R: 0x1B, G: 0x7F, B: 0x3A, A: 0xFF}
	colFail = color.NRGBA{R: 0xC6, G: 0x28, B: 0x28, A: 0xFF}
	colWarn = color.NRGBA{R: 0xB2, G: 0x6A, B: 0x00, A: 0xFF}
)
