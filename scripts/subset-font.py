#!/usr/bin/python3
"""subset-font.py — build the app's bundled Simplified-Chinese fonts (re-runnable).

Extracts the Noto Sans CJK SC faces (Regular, Bold) from Debian's fonts-noto-cjk .ttc files and
subsets them with fontTools to:
  * the 8,105 characters of 通用规范汉字表 (Table of General Standard Chinese Characters, State
    Council 2013), read from assets/fonts/tongyong-8105.txt (# lines are comments, then one
    character per line; 196 of them are outside the BMP, extensions B-F);
  * GB2312, both levels (6,763 hanzi + symbols), generated with Python's gb2312 codec — 125 of
    its hanzi (traditional or variant forms users may still meet) are not in the 8,105;
  * printable ASCII and Latin-1, general punctuation, CJK symbols, full-width forms, arrows,
    enclosed alphanumerics, shapes and dingbats;
  * every character of the app's translations (assets/i18n/*.json), the demo catalogue
    (assets/catalogue/demo.json) and the demo data (app/*.go, tests excluded: they hold deliberately rare characters).
The result is written as TrueType-flavoured OpenType (CFF outlines kept; Fyne's go-text shaper
reads them) to assets/fonts/NotoSansSC-{Regular,Bold}.otf, plus NotoSansSC-Names.otf: the Regular face
with every CJK ideograph it has (extensions A-F included), the bundled fallback for rare name
characters outside the subset (e.g. 𠮷 U+20BB7, 龑 U+9F91). app/font_list_test.go checks that
both main faces have a glyph for every character of the 8,105 list.

Needs: apt-get install fonts-noto-cjk python3-fonttools   (run with /usr/bin/python3)
"""
import glob, os, re, sys
from fontTools.ttLib import TTCollection
from fontTools import subset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = {
    "Regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "Bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}
OUT = os.path.join(ROOT, "assets", "fonts")
TONGYONG = os.path.join(OUT, "tongyong-8105.txt")


def tongyong():
    """The 8,105 characters of 通用规范汉字表, in the standard's order."""
    chars = []
    with open(TONGYONG, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if len(line) != 1:
                sys.exit("%s: not one character per line: %r" % (TONGYONG, line))
            chars.append(line)
    if len(chars) != 8105 or len(set(chars)) != 8105:
        sys.exit("%s: %d lines, %d distinct characters, want 8105" % (TONGYONG, len(chars), len(set(chars))))
    return chars


def charset():
    cs = set(tongyong())
    for b1 in range(0xA1, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                cs.update(bytes([b1, b2]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    cs.update(chr(c) for c in range(0x20, 0x7F))
    cs.update(chr(c) for c in range(0xA0, 0x100))
    for lo, hi in [(0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF), (0x2190, 0x21FF),
                   (0x2460, 0x24FF), (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x2700, 0x27BF)]:
        cs.update(chr(c) for c in range(lo, hi + 1))
    files = glob.glob(os.path.join(ROOT, "assets", "i18n", "*.json"))
    files += [os.path.join(ROOT, "assets", "catalogue", "demo.json")]
    files += [f for f in glob.glob(os.path.join(ROOT, "app", "*.go")) if not f.endswith("_test.go")]
    for f in files:
        with open(f, encoding="utf-8") as fh:
            cs.update(ch for ch in fh.read() if ord(ch) >= 0x20)
    return cs


def sc_face(ttc_path):
    for font in TTCollection(ttc_path).fonts:
        name = font["name"].getDebugName(4) or ""
        if name.startswith("Noto Sans CJK SC"):
            return font
    sys.exit("no Noto Sans CJK SC face in " + ttc_path)


def rare(font):
    """Every CJK ideograph the face maps: unified, extensions A-F, compatibility."""
    out = set()
    for cp in font.getBestCmap():
        if (0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF
                or 0x20000 <= cp <= 0x3134F):
            out.add(chr(cp))
    return out


def main():
    base = charset()
    os.makedirs(OUT, exist_ok=True)
    jobs = [("Regular", SRC["Regular"], False), ("Bold", SRC["Bold"], False),
            ("Names", SRC["Regular"], True)]
    for weight, path, names in jobs:
        font = sc_face(path)
        cs = base | rare(font) if names else base
        opts = subset.Options()
        opts.layout_features = ["*"]
        opts.name_IDs = ["*"]
        opts.name_languages = ["*"]
        opts.notdef_outline = True
        opts.hinting = False
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=[ord(c) for c in cs])
        sub.subset(font)
        out = os.path.join(OUT, "NotoSansSC-%s.otf" % weight)
        font.save(out)
        print("%s: %d characters requested, %d bytes" % (out, len(cs), os.path.getsize(out)))


if __name__ == "__main__":
    main()
