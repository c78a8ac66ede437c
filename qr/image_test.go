package qr

import (
	"bytes"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// randomAlnum returns n random characters of the QR alphanumeric set that could
// be a payload: a prefix, a colon and Base45 that does not end in a space.
func randomQRText(rng *rand.Rand, n int) string {
	if n < 7 {
		n = 7
	}
	body := make([]byte, (n-5)*2/3+1)
	rng.Read(body)
	s := "LZ1R:" + Base45Encode(body)
	return s[:n-1] + "A"
}

func TestVersionKnownLengths(t *testing.T) {
	// ISO/IEC 18004 table 7, alphanumeric capacity at level M: 15-M 600,
	// 19-M 909, 20-M 970, 26-M 1542, 40-M 3391. So 861 characters fit 20-M with
	// room to spare, and in fact already fit 19-M.
	for _, tc := range []struct {
		n, want int
	}{
		{600, 15},
		{601, 16},
		{861, 19},
		{909, 19},
		{910, 20},
		{970, 20},
		{971, 21},
		{1500, 26},
		{3391, 40},
	} {
		text := strings.Repeat("A", tc.n)
		got, err := Version(text)
		if err != nil || got != tc.want {
			t.Errorf("Version(%d alphanumeric) = %d, %v; want %d", tc.n, got, err, tc.want)
		}
		// Cross-check against the symbol actually drawn: 17+4v modules plus
		// a quiet zone of 4 on each side.
		img, err := renderImage(text, 1) // one pixel per module
		if err != nil {
			t.Fatal(err)
		}
		if modules := img.Rect.Dx(); modules != 17+4*tc.want+8 {
			t.Errorf("%d characters drawn with %d modules, want %d", tc.n, modules, 17+4*tc.want+8)
		}
	}
	// The same length in byte mode needs a much larger code: Version really is
	// measuring alphanumeric mode above.
	if v, _ := Version(strings.Repeat("a", 861)); v <= 21 {
		t.Errorf("861 lower-case (byte mode) characters gave version %d", v)
	}
	// A real payload of 861 characters (random Base45, few digit runs) too.
	rng := rand.New(rand.NewSource(20))
	if v, err := Version(randomQRText(rng, 861)); err != nil || v != 19 {
		t.Errorf("861-character payload: version %d, %v", v, err)
	}
	if _, err := Version(strings.Repeat("A", 3392)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("4000 characters at level M: %v, want ErrTooLarge", err)
	}
}

func TestRenderPNG(t *testing.T) {
	text := "LZ1Q:" + Base45Encode([]byte("hello"))
	for _, size := range []int{-1, 0, 1, 100, 256, 333, 1024} {
		b, err := RenderPNG(text, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if size > 0 && cfg.Width < size || cfg.Width != cfg.Height {
			t.Errorf("size %d gave %dx%d", size, cfg.Width, cfg.Height)
		}
		got, err := DecodePNG(b)
		if err != nil || got != text {
			t.Errorf("size %d: decoded %q, %v", size, got, err)
		}
	}
	if _, err := RenderPNG(text, MaxImageDim+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized render: %v", err)
	}
	if _, err := RenderPNG(strings.Repeat("A", 5000), 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too much text: %v", err)
	}
}

// TestRenderDecodeRoundTrip renders random payloads of 10 to 1,500 characters to
// real PNG files and reads every one back.
func TestRenderDecodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(2026))
	lengths := []int{10, 50, 100, 300, 600, 861, 1000, 1200, 1500}
	for len(lengths) < 50 {
		lengths = append(lengths, 10+rng.Intn(1491))
	}
	if testing.Short() {
		lengths = lengths[:12]
	}
	for i, n := range lengths {
		text := randomQRText(rng, n)
		sizes := []int{0, 600}
		b, err := RenderPNG(text, sizes[i%2])
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		got, err := DecodePNG(b)
		if err != nil {
			t.Errorf("n=%d (version %d): %v", n, mustVersion(t, text), err)
			continue
		}
		if got != text {
			t.Errorf("n=%d: decoded text differs", n)
		}
	}
}

// TestRenderDecodeRealPayloads goes through the whole chain: bytes -> Encode ->
// PNG -> DecodePNG -> Decode.
func TestRenderDecodeRealPayloads(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, n := range []int{1, 100, 400, 560, 900} {
		body := make([]byte, n)
		rng.Read(body)
		text := Encode("LZ1R", body)
		b, err := RenderPNG(text, 0)
		if err != nil {
			t.Fatal(err)
		}
		scanned, err := DecodePNG(b)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		p, got, err := Decode(scanned+"\r\n", 4096)
		if err != nil || p != "LZ1R" || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
}

func mustVersion(t *testing.T, s string) int {
	v, err := Version(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func renderTestGray(t testing.TB, text string, ppm int) *image.Gray {
	b, err := RenderPNG(text, 0)
	if err != nil {
		t.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	g := toGray(src)
	if ppm == DefaultModulePixels {
		return g
	}
	return imgResample(g, float64(ppm)/DefaultModulePixels)
}

// resample scales g by f with bilinear interpolation (like a camera or a
// screenshot would), which produces grey module edges.
func imgResample(g *image.Gray, f float64) *image.Gray {
	w, h := int(float64(g.Rect.Dx())*f), int(float64(g.Rect.Dy())*f)
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := (float64(x)+0.5)/f-0.5, (float64(y)+0.5)/f-0.5
			x0, y0 := int(sx), int(sy)
			if sx < 0 {
				x0, sx = 0, 0
			}
			if sy < 0 {
				y0, sy = 0, 0
			}
			x1, y1 := min(x0+1, g.Rect.Dx()-1), min(y0+1, g.Rect.Dy()-1)
			fx, fy := sx-float64(x0), sy-float64(y0)
			p := func(x, y int) float64 { return float64(g.Pix[y*g.Stride+x]) }
			v := p(x0, y0)*(1-fx)*(1-fy) + p(x1, y0)*fx*(1-fy) + p(x0, y1)*(1-fx)*fy + p(x1, y1)*fx*fy
			out.Pix[y*out.Stride+x] = uint8(v + 0.5)
		}
	}
	return out
}

func imgBlur(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(g.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s, n := 0, 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < w && yy < h {
						s += int(g.Pix[yy*g.Stride+xx])
						n++
					}
				}
			}
			out.Pix[y*out.Stride+x] = uint8(s / n)
		}
	}
	return out
}

func imgNoise(g *image.Gray, rng *rand.Rand, amp int) *image.Gray {
	out := image.NewGray(g.Rect)
	for i, v := range g.Pix {
		n := int(v) + rng.Intn(2*amp+1) - amp
		out.Pix[i] = uint8(max(0, min(255, n)))
	}
	return out
}

// lowContrast maps black to dark grey and white to light grey, like a phone
// screen photographed under window lighting.
func imgLowContrast(g *image.Gray) *image.Gray {
	out := image.NewGray(g.Rect)
	for i, v := range g.Pix {
		out.Pix[i] = uint8(60 + int(v)*130/255)
	}
	return out
}

func TestDecodeDegraded(t *testing.T) {
	rng := rand.New(rand.NewSource(99))
	for _, n := range []int{100, 600, 861} {
		text := randomQRText(rng, n)
		base := renderTestGray(t, text, DefaultModulePixels)
		cases := []struct {
			name string
			img  image.Image
		}{
			{"noise ±40", imgNoise(base, rng, 40)},
			{"3x3 blur", imgBlur(base)},
			{"scaled to 75%", imgResample(base, 0.75)},
			{"area-scaled to 60% (2.4 px/module)", imgAreaResample(base, 0.6)},
			{"area-scaled to 70% (2.8 px/module)", imgAreaResample(base, 0.7)},
			{"blur + noise", imgNoise(imgBlur(base), rng, 30)},
			{"low contrast + noise", imgNoise(imgLowContrast(base), rng, 20)},
			{"upscaled 1.7x", imgResample(base, 1.7)},
			{"rotated 90", imgRotate90(base)},
			{"as RGBA", imgToRGBA(base)},
			{"JPEG quality 40", imgViaJPEG(t, imgNoise(imgResample(base, 0.8), rng, 15), 40)},
			{"sub-image with offset", imgToRGBA(base).SubImage(image.Rect(3, 5, base.Rect.Dx()-2, base.Rect.Dy()-1))},
		}
		for _, c := range cases {
			got, err := DecodeImage(c.img)
			if err != nil {
				t.Errorf("n=%d %s: %v", n, c.name, err)
			} else if got != text {
				t.Errorf("n=%d %s: wrong text", n, c.name)
			}
			// And through PNG.
			var buf bytes.Buffer
			if err := png.Encode(&buf, c.img); err != nil {
				t.Fatal(err)
			}
			if got, err := DecodePNG(buf.Bytes()); err != nil || got != text {
				t.Errorf("n=%d %s via PNG: %v", n, c.name, err)
			}
		}
	}
}

func imgRotate90(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[x*out.Stride+(h-1-y)] = g.Pix[y*g.Stride+x]
		}
	}
	return out
}

func imgToRGBA(g *image.Gray) *image.RGBA {
	out := image.NewRGBA(g.Rect)
	for y := 0; y < g.Rect.Dy(); y++ {
		for x := 0; x < g.Rect.Dx(); x++ {
			out.Set(x, y, g.GrayAt(x, y))
		}
	}
	return out
}

func TestDecodeImageRejects(t *testing.T) {
	if _, err := DecodeImage(nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil: %v", err)
	}
	if _, err := DecodeImage(image.NewGray(image.Rect(0, 0, 0, 10))); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty: %v", err)
	}
	if _, err := DecodeImage(image.NewGray(image.Rect(0, 0, MaxImageDim+1, 1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too wide: %v", err)
	}
	blank := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	if _, err := DecodeImage(blank); !errors.Is(err, ErrNoCode) {
		t.Errorf("blank: %v", err)
	}
	rng := rand.New(rand.NewSource(1))
	if _, err := DecodeImage(imgNoise(blank, rng, 255)); !errors.Is(err, ErrNoCode) {
		t.Errorf("noise: %v", err)
	}
	// A transparent background counts as white.
	text := "LZ1Q:" + Base45Encode([]byte("transparent"))
	g := renderTestGray(t, text, 4)
	nrgba := image.NewNRGBA(g.Rect)
	for y := 0; y < g.Rect.Dy(); y++ {
		for x := 0; x < g.Rect.Dx(); x++ {
			if g.GrayAt(x, y).Y < 128 {
				nrgba.Set(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	if got, err := DecodeImage(nrgba); err != nil || got != text {
		t.Errorf("transparent background: %q, %v", got, err)
	}
}

func TestDecodePNGRejects(t *testing.T) {
	if _, err := DecodePNG(nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty: %v", err)
	}
	if _, err := DecodePNG([]byte("GIF89a")); !errors.Is(err, ErrMalformed) {
		t.Errorf("not PNG: %v", err)
	}
	if _, err := DecodePNG(make([]byte, MaxPNGLen+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too long: %v", err)
	}
	// A tiny PNG that declares 4000x4000 pixels must be refused before the
	// decoder allocates the image.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1500, 1500)))
	big := buf.Bytes()
	t.Logf("a blank 1500x1500 grey PNG is %d bytes", len(big))
	if _, err := DecodePNG(big); !errors.Is(err, ErrNoCode) {
		t.Errorf("honest blank 1500x1500 (highly compressed): %v, want ErrNoCode", err)
	}
	liar := pngWithDims(t, qrMust(RenderPNG("LZ1Q:AB", 0)), 4000, 4000)
	if _, err := DecodePNG(liar); !errors.Is(err, ErrMalformed) {
		t.Errorf("small PNG declaring 4000x4000: %v", err)
	}
	huge := pngWithDims(t, qrMust(RenderPNG("LZ1Q:AB", 0)), 5000, 10)
	if _, err := DecodePNG(huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("PNG declaring 5000 wide: %v", err)
	}
	// Truncated PNG.
	good := qrMust(RenderPNG("LZ1Q:AB", 0))
	if _, err := DecodePNG(good[:len(good)/2]); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated: %v", err)
	}
}

func qrMust(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// withDims rewrites the IHDR width and height of a PNG (fixing its CRC).
func pngWithDims(t testing.TB, p []byte, w, h uint32) []byte {
	p = bytes.Clone(p)
	// signature (8) + length (4) + "IHDR" (4) + width (4) + height (4)
	be := func(off int, v uint32) {
		p[off], p[off+1], p[off+2], p[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	be(16, w)
	be(20, h)
	crc := pngCRC(p[12 : 16+13])
	be(16+13, crc)
	return p
}

func pngCRC(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// areaResample scales g by f < 1 averaging the source area each output pixel
// covers, as a camera sensor does.
func imgAreaResample(g *image.Gray, f float64) *image.Gray {
	w, h := int(float64(g.Rect.Dx())*f), int(float64(g.Rect.Dy())*f)
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := float64(y)/f, float64(y+1)/f
		for x := 0; x < w; x++ {
			x0, x1 := float64(x)/f, float64(x+1)/f
			var sum, area float64
			for sy := int(y0); float64(sy) < y1 && sy < g.Rect.Dy(); sy++ {
				cy := math.Min(y1, float64(sy+1)) - math.Max(y0, float64(sy))
				for sx := int(x0); float64(sx) < x1 && sx < g.Rect.Dx(); sx++ {
					cx := math.Min(x1, float64(sx+1)) - math.Max(x0, float64(sx))
					sum += cx * cy * float64(g.Pix[sy*g.Stride+sx])
					area += cx * cy
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum/area + 0.5)
		}
	}
	return out
}

func FuzzDecodePNG(f *testing.F) {
	small := qrMust(RenderPNG("LZ1Q:"+Base45Encode([]byte("fuzz")), 1))
	f.Add(small)
	f.Add(qrMust(RenderPNG("LZ1R:ABC", 0)))
	f.Add(pngWithDims(f, small, 4000, 4000))
	f.Add(pngWithDims(f, small, 1, 1))
	f.Add(small[:len(small)/2])
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	var buf bytes.Buffer
	png.Encode(&buf, imgNoise(toGray(pngMustDecode(f, small)), rand.New(rand.NewSource(1)), 100))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			return // keep the fuzzer on small inputs; the bounds are tested above
		}
		_, err := DecodePNG(data)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNoCode) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func pngMustDecode(t testing.TB, b []byte) image.Image {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func benchPayload() string {
	return randomQRText(rand.New(rand.NewSource(860)), 860)
}

func BenchmarkRenderPNG860(b *testing.B) {
	text := benchPayload()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderPNG(text, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePNG860(b *testing.B) {
	text := benchPayload()
	p, err := RenderPNG(text, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if s, err := DecodePNG(p); err != nil || s != text {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderDecodePNG860(b *testing.B) {
	text := benchPayload()
	b.ReportAllocs()
	for b.Loop() {
		p, err := RenderPNG(text, 0)
		if err != nil {
			b.Fatal(err)
		}
		if s, err := DecodePNG(p); err != nil || s != text {
			b.Fatal(err)
		}
	}
}

// TestDecodeImageWorstCase bounds the work on the largest accepted image that
// holds no code: random noise, which keeps the detector busiest.
func TestDecodeImageWorstCase(t *testing.T) {
	side, limit := MaxImageDim, 20*time.Second // ~1.5-2 s normally
	if raceEnabled || testing.Short() {
		side, limit = 1024, 60*time.Second
	}
	g := image.NewGray(image.Rect(0, 0, side, side))
	rng := rand.New(rand.NewSource(1))
	rng.Read(g.Pix)
	start := time.Now()
	_, err := DecodeImage(g)
	elapsed := time.Since(start)
	t.Logf("%dx%d noise rejected in %v: %v", side, side, elapsed, err)
	if !errors.Is(err, ErrNoCode) {
		t.Errorf("noise: %v, want ErrNoCode", err)
	}
	if elapsed > limit {
		t.Errorf("took %v", elapsed)
	}
}

func imgViaJPEG(t testing.TB, img image.Image, q int) image.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.(*image.Gray); !ok {
		// Grey JPEGs decode to *image.Gray; make it a YCbCr to exercise that path.
		return out
	}
	rgba := imgToRGBA(out.(*image.Gray))
	buf.Reset()
	jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: q})
	out, err = jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestToGrayFastPaths(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	g := image.NewGray(image.Rect(0, 0, 37, 23))
	rng.Read(g.Pix)
	rgba := imgToRGBA(g)
	nrgba := image.NewNRGBA(g.Rect)
	for i := range g.Pix {
		nrgba.Pix[4*i], nrgba.Pix[4*i+1], nrgba.Pix[4*i+2] = g.Pix[i], g.Pix[i], g.Pix[i]
		nrgba.Pix[4*i+3] = uint8(rng.Intn(256))
	}
	ycc := image.NewYCbCr(g.Rect, image.YCbCrSubsampleRatio420)
	copy(ycc.Y, g.Pix)
	sub := image.Rect(5, 3, 30, 20)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"RGBA", rgba}, {"RGBA sub-image", rgba.SubImage(sub)},
		{"NRGBA", nrgba}, {"NRGBA sub-image", nrgba.SubImage(sub)},
		{"YCbCr", ycc}, {"YCbCr sub-image", ycc.SubImage(sub)},
		{"Gray sub-image", g.SubImage(sub)},
	} {
		got := toGray(tc.img)
		b := tc.img.Bounds()
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				want := lumaOverWhite(tc.img.At(b.Min.X+x, b.Min.Y+y))
				if _, ok := tc.img.(*image.YCbCr); ok || tc.name == "YCbCr sub-image" {
					want = tc.img.(*image.YCbCr).Y[tc.img.(*image.YCbCr).YOffset(b.Min.X+x, b.Min.Y+y)]
				}
				if d := int(got.GrayAt(x, y).Y) - int(want); d < -1 || d > 1 {
					t.Fatalf("%s: (%d,%d) = %d, want %d", tc.name, x, y, got.GrayAt(x, y).Y, want)
				}
			}
		}
	}
}

func TestImageHelpers(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 7, 5))
	for i := range g.Pix {
		g.Pix[i] = 77
	}
	for _, tc := range []struct {
		name string
		out  *image.Gray
		w, h int
	}{
		{"x3", scaleBilinear(g, 3, 1), 21, 15},
		{"x2.5", scaleBilinear(g, 5, 2), 17, 12},
		{"x2", scaleBilinear(g, 2, 1), 14, 10},
		{"smooth", smooth(g), 7, 5},
		{"halve", halve(g), 3, 2},
		{"rotate", rotateCCW(g), 5, 7},
	} {
		if tc.out.Rect.Dx() != tc.w || tc.out.Rect.Dy() != tc.h {
			t.Errorf("%s: %v, want %dx%d", tc.name, tc.out.Rect, tc.w, tc.h)
		}
		for i, v := range tc.out.Pix {
			if v != 77 {
				t.Fatalf("%s: pixel %d = %d, want 77 (a flat image stays flat)", tc.name, i, v)
			}
		}
	}
	// A step edge stays monotonic and keeps its ends when enlarged.
	e := image.NewGray(image.Rect(0, 0, 4, 1))
	copy(e.Pix, []uint8{0, 0, 255, 255})
	s := scaleBilinear(e, 5, 2)
	row := s.Pix[:s.Rect.Dx()]
	for x := 1; x < len(row); x++ {
		if row[x] < row[x-1] {
			t.Fatalf("not monotonic: %v", row)
		}
	}
	if row[0] != 0 || row[len(row)-1] != 255 {
		t.Fatalf("ends moved: %v", row)
	}
	// rotateCCW: the top-right pixel goes to the top-left.
	r := image.NewGray(image.Rect(0, 0, 3, 2))
	r.Pix[2] = 9
	if rotateCCW(r).Pix[0] != 9 {
		t.Fatalf("rotateCCW wrong: %v", rotateCCW(r).Pix)
	}
}
