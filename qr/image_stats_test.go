package qr

import (
	"bytes"
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
		text := randomPayload(rng, 10+rng.Intn(1491))
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
