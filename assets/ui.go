package assets

import (
	"embed"
	_ "embed"
)

// Fonts: Noto Sans CJK SC (SIL Open Font License 1.1), Regular and Bold, subset by
// scripts/subset-font.py to the 8,105 characters of 通用规范汉字表 (fonts/tongyong-8105.txt),
// GB2312, and every character the UI, the catalogue and the demo data use; NotoSansSC-Names is the Regular face with every CJK ideograph the font has
// (unified, extensions A and B, compatibility), used as the fallback for rare name characters.
var (
	//go:embed fonts/NotoSansSC-Regular.otf
	FontRegular []byte
	//go:embed fonts/NotoSansSC-Bold.otf
	FontBold []byte
	//go:embed fonts/NotoSansSC-Names.otf
	FontNames []byte
)

// I18n holds the app's translations, i18n/zh-Hans.json and i18n/en.json (go-i18n flat JSON,
// loaded with Fyne's lang package).
//
//go:embed i18n/*.json
var I18n embed.FS

// Icon is the app icon (FyneApp.toml names the same file).
//
//go:embed icon.png
var Icon []byte
