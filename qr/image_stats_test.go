package qr

import (
	"bytes"
	"image"
	"image/png"
	"math/rand"
	"os"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// TestDecodeFirstTryMissRate measures how often a single gozxing attempt misses
// a clean rendered code, the reason DecodeImage retries. Set LZ_QR_STATS=1.
func TestDecodeFirstTryMissRate(t *testing.T) {
	if os.Getenv("LZ_QR_STATS") == "" {
		t.Skip("set LZ_QR_STATS=1 to measure")
	}
	rng := rand.New(rand.NewSource(8))
	const n = 300
	miss, missPure, missAll := 0, 0, 0
	for i := 0; i < n; i++ {
		text := randomQRText(rng, 10+rng.Intn(1491))
		b, _ := RenderPNG(text, 0)
		img, _ := png.Decode(bytes.NewReader(b))
		g := toGray(img)
		if s, err := decodeOnce(gozxing.NewLuminanceSourceFromImage(g), modeHybridTryHarder); err != nil || s != text {
			miss++
			if s, err := decodeOnce(gozxing.NewLuminanceSourceFromImage(g), modePure); err != nil || s != text {
				missPure++
			}
		}
		if s, err := DecodeImage(img); err != nil || s != text {
			missAll++
		}
	}
	t.Logf("%d clean codes: single TRY_HARDER attempt missed %d, then PURE_BARCODE still missed %d, DecodeImage missed %d", n, miss, missPure, missAll)
}

// TestDecodeDegradedRates measures DecodeImage's success on degraded renderings
// of random payloads of 300 to 1,500 characters. Set LZ_QR_STATS=1.
func TestDecodeDegradedRates(t *testing.T) {
	if os.Getenv("LZ_QR_STATS") == "" {
		t.Skip("set LZ_QR_STATS=1 to measure")
	}
	rng := rand.New(rand.NewSource(31))
	degradations := []struct {
		name string
		f    func(g *image.Gray) image.Image
	}{
		{"noise ±40", func(g *image.Gray) image.Image { return imgNoise(g, rng, 40) }},
		{"blur", func(g *image.Gray) image.Image { return imgBlur(g) }},
		{"blur + noise ±30", func(g *image.Gray) image.Image { return imgNoise(imgBlur(g), rng, 30) }},
		{"low contrast + noise ±20", func(g *image.Gray) image.Image { return imgNoise(imgLowContrast(g), rng, 20) }},
		{"area 75% (3 px/module)", func(g *image.Gray) image.Image { return imgAreaResample(g, 0.75) }},
		{"area 70% (2.8 px/module)", func(g *image.Gray) image.Image { return imgAreaResample(g, 0.7) }},
		{"area 60% (2.4 px/module)", func(g *image.Gray) image.Image { return imgAreaResample(g, 0.6) }},
		{"bilinear 65% (2.6 px/module)", func(g *image.Gray) image.Image { return imgResample(g, 0.65) }},
		{"JPEG q40 of 80% + noise", func(g *image.Gray) image.Image { return imgViaJPEG(t, imgNoise(imgResample(g, 0.8), rng, 15), 40) }},
	}
	const n = 40
	fails := make([]int, len(degradations))
	for i := 0; i < n; i++ {
		text := randomQRText(rng, 300+rng.Intn(1201))
		base := renderTestGray(t, text, DefaultModulePixels)
		for j, d := range degradations {
			if s, err := DecodeImage(d.f(base)); err != nil || s != text {
				fails[j]++
			}
		}
	}
	for j, d := range degradations {
		t.Logf("%-30s %d/%d decoded", d.name, n-fails[j], n)
	}
}
