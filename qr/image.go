package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

// MaxImageDim bounds both the width and the height of an untrusted image
// accepted by DecodeImage and DecodePNG, and of an image RenderPNG produces.
const MaxImageDim = 4096

// MaxPNGLen bounds the size of an untrusted PNG accepted by DecodePNG.
const MaxPNGLen = 32 << 20

// DefaultModulePixels is the module size RenderPNG uses when size <= 0.
const DefaultModulePixels = 4

// IsAlphanumeric reports whether text is made only of the QR alphanumeric
// characters (0-9 A-Z space $ % * + - . / :), the set a payload from Encode uses.
// Such text is rendered in alphanumeric mode (5.5 bits per character) rather
// than byte mode (8 bits).
func IsAlphanumeric(text string) bool {
	for i := 0; i < len(text); i++ {
		if base45Value[text[i]] < 0 {
			return false
		}
	}
	return true
}

// Version returns the QR code version (1-40) that RenderPNG uses for text at
// error-correction level M: the smallest version that holds it. Alphanumeric
// capacities at level M (ISO/IEC 18004 table 7) are, for example, 600
// characters for version 15, 909 for 19, 970 for 20, 1,542 for 26 and 3,391 for
// 40; so 861 characters give version 19 and 1,500 give 26.
func Version(text string) (int, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return 0, tooLarge("render", "%d characters do not fit a QR code at level M: %v", len(text), err)
	}
	return q.VersionNumber, nil
}

// RenderPNG renders text as a QR code at error-correction level M with the
// standard four-module quiet zone, as a black-on-white PNG about size pixels
// wide. Text in the QR alphanumeric set (everything Encode produces) is encoded
// in alphanumeric mode, or numeric mode for long runs of digits, never byte mode.
//
// Every module is a whole number of pixels — uneven modules are a main cause of
// misreads — so the code is drawn at size/modules pixels per module (at least
// one) and centred on a white square of size pixels, which may therefore have a
// slightly wider quiet zone; if size is smaller than the code needs, the image is
// as large as the code at one pixel per module. size <= 0 means
// DefaultModulePixels per module. Images larger than MaxImageDim are refused.
func RenderPNG(text string, size int) ([]byte, error) {
	img, err := renderImage(text, size)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr: render: %w", err)
	}
	return buf.Bytes(), nil
}

func renderImage(text string, size int) (*image.Paletted, error) {
	if size > MaxImageDim {
		return nil, tooLarge("render", "image size %d exceeds %d pixels", size, MaxImageDim)
	}
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, tooLarge("render", "%d characters do not fit a QR code at level M: %v", len(text), err)
	}
	bits := q.Bitmap() // includes the quiet zone
	modules := len(bits)
	ppm := DefaultModulePixels
	if size > 0 {
		ppm = size / modules
		if ppm < 1 {
			ppm = 1
		}
	}
	side := modules * ppm
	if size > side {
		side = size
	}
	if side > MaxImageDim {
		return nil, tooLarge("render", "%d modules at %d pixels each exceed %d pixels", modules, ppm, MaxImageDim)
	}
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	off := (side - modules*ppm) / 2
	for y, row := range bits {
		for x, black := range row {
			if !black {
				continue
			}
			for dy := 0; dy < ppm; dy++ {
				p := img.PixOffset(off+x*ppm, off+y*ppm+dy)
				for dx := 0; dx < ppm; dx++ {
					img.Pix[p+dx] = 1
				}
			}
		}
	}
	return img, nil
}

// DecodePNG decodes a PNG of untrusted origin and reads the QR code in it (see
// DecodeImage). It refuses data longer than MaxPNGLen and images larger than
// MaxImageDim in either direction before decoding pixels, and also an image whose
// declared dimensions its compressed data could not possibly fill (deflate
// expands at most ~1032:1), so that a small file cannot make it allocate a large
// image.
func DecodePNG(data []byte) (string, error) {
	if len(data) > MaxPNGLen {
		return "", tooLarge("image", "PNG is %d bytes, more than the %d accepted", len(data), MaxPNGLen)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", malformed("image", "not a PNG: %v", err)
	}
	if err := checkDims(cfg.Width, cfg.Height); err != nil {
		return "", err
	}
	// Even at one bit per pixel the image needs w*h/8 bytes of filtered data,
	// which deflate cannot have squeezed into less than 1/1032 of that.
	if pixels := int64(cfg.Width) * int64(cfg.Height); pixels > 8*1100*int64(len(data))+1<<16 {
		return "", malformed("image", "PNG declares %dx%d pixels but holds only %d bytes", cfg.Width, cfg.Height, len(data))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return "", malformed("image", "corrupt PNG: %v", err)
	}
	return DecodeImage(img)
}

func checkDims(w, h int) error {
	if w <= 0 || h <= 0 {
		return malformed("image", "empty image (%dx%d)", w, h)
	}
	if w > MaxImageDim || h > MaxImageDim {
		return tooLarge("image", "image is %dx%d, larger than %dx%d", w, h, MaxImageDim, MaxImageDim)
	}
	return nil
}

// maxDecodeAttempts bounds the work DecodeImage does on an image without a
// readable code.
const maxDecodeAttempts = 21

// maxUpscaledSide bounds the side of an image DecodeImage makes by enlarging its
// input, to bound the cost of the retries.
const maxUpscaledSide = 2400

// DecodeImage reads the QR code in img and returns its text. Images larger than
// MaxImageDim in either direction are refused.
//
// gozxing v0.1.1 misses a few percent of perfectly clean codes on a single try,
// so DecodeImage tries, in order and for at most maxDecodeAttempts attempts:
// the image as is with TRY_HARDER, with the PURE_BARCODE hint (exact for rendered
// codes), and with a global-histogram binariser; then the same on the image
// smoothed with a 3x3 box filter (against sensor noise), rescaled (enlarged 3,
// 2.5 and 2 times with bilinear interpolation if it is small, halved if it is
// large), and rotated by 90 and 180 degrees. Measured on random payloads of 10
// to 1,500 characters: a single attempt misses ~2.7 % of clean codes, DecodeImage
// none, and it reads codes with noise, blur, JPEG artefacts, low contrast and
// modules of 2.4 to 3 pixels. An image with no code costs at most ~2 s (4096x4096
// noise). A panic inside the decoder library on hostile input is turned into
// an error. It returns an error wrapping ErrNoCode if no attempt succeeds.
func DecodeImage(img image.Image) (string, error) {
	if img == nil {
		return "", malformed("image", "nil image")
	}
	b := img.Bounds()
	if err := checkDims(b.Dx(), b.Dy()); err != nil {
		return "", err
	}
	gray := toGray(img)
	attempts := 0
	var lastErr error
	try := func(g *image.Gray) (string, bool) {
		if attempts >= maxDecodeAttempts {
			return "", false
		}
		src := gozxing.NewLuminanceSourceFromImage(g) // shared by the modes
		for _, mode := range []int{modeHybridTryHarder, modePure, modeGlobal} {
			if attempts >= maxDecodeAttempts {
				return "", false
			}
			attempts++
			text, err := decodeOnce(src, mode)
			if err == nil {
				return text, true
			}
			lastErr = err
		}
		return "", false
	}
	if t, ok := try(gray); ok {
		return t, nil
	}
	// Then transformed copies, made only when needed:
	//   - a 3x3 box filter: sensor noise on a slightly blurred code defeats
	//     the binariser (halving does the same for large images);
	//   - bilinear enlargements: small modules (2-3 pixels, a code photographed
	//     from afar or shrunk in a screenshot) are the commonest failure. Several
	//     factors, because a module of a fractional number of pixels can defeat
	//     one and not another: on 2.6-2.8 pixel modules, x3 and x2 leave ~20 %
	//     unread and x2.5 reads nearly all of those;
	//   - halving, for large images: less noise, and a faster detector;
	//   - rotations by 90 and 180 degrees (of the halved image when the
	//     original is large, to bound the cost): the finder patterns fix the
	//     orientation, but rotating changes the binariser's blocks and the
	//     detector's scan order.
	side := max(gray.Rect.Dx(), gray.Rect.Dy())
	var half *image.Gray
	halved := func() *image.Gray {
		if half == nil {
			half = halve(gray)
		}
		return half
	}
	var variants []func() *image.Gray
	switch {
	case side <= maxUpscaledSide/3:
		variants = []func() *image.Gray{
			func() *image.Gray { return smooth(gray) },
			func() *image.Gray { return scaleBilinear(gray, 3, 1) },
			func() *image.Gray { return scaleBilinear(gray, 5, 2) },
			func() *image.Gray { return scaleBilinear(gray, 2, 1) },
		}
	case side <= maxUpscaledSide/2:
		variants = []func() *image.Gray{
			func() *image.Gray { return smooth(gray) },
			func() *image.Gray { return scaleBilinear(gray, 2, 1) },
			halved,
		}
	default:
		variants = []func() *image.Gray{halved}
	}
	work := func() *image.Gray { return gray }
	if side > maxUpscaledSide {
		work = halved
	}
	var r90 *image.Gray
	variants = append(variants,
		func() *image.Gray { r90 = rotateCCW(work()); return r90 },
		func() *image.Gray { return rotateCCW(r90) },
	)
	for _, v := range variants {
		if attempts >= maxDecodeAttempts {
			break
		}
		if t, ok := try(v()); ok {
			return t, nil
		}
	}
	return "", &Error{Kind: ErrNoCode, Op: "image", Detail: fmt.Sprintf("%d attempts failed, last: %v", attempts, lastErr)}
}

const (
	modeHybridTryHarder = iota
	modePure
	modeGlobal
)

func decodeOnce(src gozxing.LuminanceSource, mode int) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("decoder panic: %v", r)
		}
	}()
	var bin gozxing.Binarizer
	hints := map[gozxing.DecodeHintType]interface{}{}
	switch mode {
	case modeHybridTryHarder:
		bin = gozxing.NewHybridBinarizer(src)
		hints[gozxing.DecodeHintType_TRY_HARDER] = true
	case modePure:
		bin = gozxing.NewHybridBinarizer(src)
		hints[gozxing.DecodeHintType_PURE_BARCODE] = true
	default:
		bin = gozxing.NewGlobalHistgramBinarizer(src)
		hints[gozxing.DecodeHintType_TRY_HARDER] = true
	}
	bmp, err := gozxing.NewBinaryBitmap(bin)
	if err != nil {
		return "", err
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// toGray converts img to an 8-bit grey image with origin (0, 0), compositing
// transparency over white (a transparent background is the usual way a QR code
// is drawn over a page).
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	if src, ok := img.(*image.Gray); ok {
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		return g
	}
	if p, ok := img.(*image.Paletted); ok {
		lut := make([]uint8, 256)
		for i := range lut {
			lut[i] = 255
		}
		for i, c := range p.Palette {
			lut[i] = lumaOverWhite(c)
		}
		for y := 0; y < b.Dy(); y++ {
			row := p.Pix[p.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				g.Pix[y*g.Stride+x] = lut[row[x]]
			}
		}
		return g
	}
	switch src := img.(type) {
	case *image.YCbCr: // camera images decoded from JPEG: luma is the Y plane
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Y[src.YOffset(b.Min.X, b.Min.Y+y):])
		}
		return g
	case *image.RGBA:
		for y := 0; y < b.Dy(); y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				p := row[4*x : 4*x+4 : 4*x+4]
				g.Pix[y*g.Stride+x] = lumaOverWhite(color.RGBA{p[0], p[1], p[2], p[3]})
			}
		}
		return g
	case *image.NRGBA:
		for y := 0; y < b.Dy(); y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				p := row[4*x : 4*x+4 : 4*x+4]
				g.Pix[y*g.Stride+x] = lumaOverWhite(color.NRGBA{p[0], p[1], p[2], p[3]})
			}
		}
		return g
	}
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Pix[y*g.Stride+x] = lumaOverWhite(img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return g
}

func lumaOverWhite(c color.Color) uint8 {
	r, gg, bb, a := c.RGBA() // premultiplied, 16 bit
	// Composite over white: add (1-a) of white to each channel.
	w := 0xFFFF - a
	r, gg, bb = r+w, gg+w, bb+w
	y := (19595*r + 38470*gg + 7471*bb + 1<<15) >> 24
	return uint8(y)
}

// halve downsamples g by two with a 2x2 box filter.
func halve(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx()/2, g.Rect.Dy()/2
	if w == 0 || h == 0 {
		return g
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s := int(g.Pix[2*y*g.Stride+2*x]) + int(g.Pix[2*y*g.Stride+2*x+1]) +
				int(g.Pix[(2*y+1)*g.Stride+2*x]) + int(g.Pix[(2*y+1)*g.Stride+2*x+1])
			out.Pix[y*out.Stride+x] = uint8((s + 2) / 4)
		}
	}
	return out
}

// scaleBilinear enlarges g by num/den (> 1) with bilinear interpolation.
func scaleBilinear(g *image.Gray, num, den int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	ow, oh := w*num/den, h*num/den
	out := image.NewGray(image.Rect(0, 0, ow, oh))
	// The source coordinate of output pixel x is (x+0.5)*den/num - 0.5; in
	// units of 1/(2*num) that is (2x+1)*den - num.
	d := 2 * num
	type tap struct{ i0, i1, f int }
	taps := func(n, limit int) []tap {
		t := make([]tap, n)
		for x := range t {
			s := (2*x+1)*den - num
			if s < 0 {
				s = 0
			}
			i0 := s / d
			t[x] = tap{i0, min(i0+1, limit-1), s - i0*d}
		}
		return t
	}
	xt, yt := taps(ow, w), taps(oh, h)
	for y, ty := range yt {
		r0, r1 := g.Pix[ty.i0*g.Stride:], g.Pix[ty.i1*g.Stride:]
		for x, tx := range xt {
			top := int(r0[tx.i0])*(d-tx.f) + int(r0[tx.i1])*tx.f
			bot := int(r1[tx.i0])*(d-tx.f) + int(r1[tx.i1])*tx.f
			out.Pix[y*out.Stride+x] = uint8((top*(d-ty.f) + bot*ty.f + d*d/2) / (d * d))
		}
	}
	return out
}

// rotateCCW rotates g by 90 degrees counter-clockwise.
func rotateCCW(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride:]
		for x := 0; x < w; x++ {
			out.Pix[(w-1-x)*out.Stride+y] = row[x]
		}
	}
	return out
}

// smooth applies a 3x3 box filter (edges replicated).
func smooth(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	// Horizontal sums, then vertical.
	hs := make([]uint16, w*h)
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x := 0; x < w; x++ {
			hs[y*w+x] = uint16(row[max(x-1, 0)]) + uint16(row[x]) + uint16(row[min(x+1, w-1)])
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		up, down := hs[max(y-1, 0)*w:], hs[min(y+1, h-1)*w:]
		mid := hs[y*w:]
		for x := 0; x < w; x++ {
			out.Pix[y*out.Stride+x] = uint8((uint32(up[x]) + uint32(mid[x]) + uint32(down[x]) + 4) / 9)
		}
	}
	return out
}
