package app

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"lianzheng/assets"
)

// tongyongList is the 通用规范汉字表 list the fonts are subset to (scripts/subset-font.py).
var tongyongList = filepath.Join("..", "assets", "fonts", "tongyong-8105.txt")

// readTongyong returns the characters of assets/fonts/tongyong-8105.txt in file order: lines
// starting with # are comments, every other line is one character.
func readTongyong(t *testing.T) []rune {
	t.Helper()
	b, err := os.ReadFile(tongyongList)
	if err != nil {
		t.Fatal(err)
	}
	var rs []rune
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, size := utf8.DecodeRuneInString(line)
		if r == utf8.RuneError || size != len(line) {
			t.Fatalf("%s:%d: %q is not one character", tongyongList, n, line)
		}
		rs = append(rs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestTongyongCoverage: the list holds the 8,105 distinct characters of 通用规范汉字表 (一 first,
// level 1 ending with 矗 at 3,500, level 2 with 齉 at 6,500), and both bundled main faces,
// Regular and Bold, have a glyph for every one of them.
func TestTongyongCoverage(t *testing.T) {
	rs := readTongyong(t)
	seen := make(map[rune]bool, len(rs))
	for _, r := range rs {
		if seen[r] {
			t.Errorf("%c (U+%04X) listed twice", r, r)
		}
		seen[r] = true
	}
	if len(rs) != 8105 || len(seen) != 8105 {
		t.Fatalf("%s: %d characters, %d distinct, want 8,105", tongyongList, len(rs), len(seen))
	}
	for i, want := range map[int]rune{1: '一', 3500: '矗', 6500: '齉', 8105: '蠼'} {
		if rs[i-1] != want {
			t.Errorf("character %d is %c, want %c", i, rs[i-1], want)
		}
	}
	for _, face := range []struct {
		name string
		data []byte
	}{{"Regular", assets.FontRegular}, {"Bold", assets.FontBold}} {
		f := parseFace(t, face.data)
		var missing []string
		for _, r := range rs {
			if _, ok := f.NominalGlyph(r); !ok {
				missing = append(missing, fmt.Sprintf("%c U+%04X", r, r))
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s face lacks %d of the 8,105: %s", face.name, len(missing), strings.Join(missing, ", "))
		}
	}
}
