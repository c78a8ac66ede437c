package wire_test

import (
	"compress/zlib"
	"testing"
	"time"

	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/wire"
	"lianzheng/internal/rig/refcred"
	"lianzheng/qr"
)

// qrFigures returns the response QR text of the reference presentation in the compact form
// and, for comparison, of the plain SD-JWT text zlib'd and Base45'd.
func qrFigures(t testing.TB) (compact, plain string) {
	now := time.Now()
	f, err := refcred.DrivingLicence(now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sd, err := f.Issue()
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Present(sd, now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := &sdjwtcbor.Context{Nonce: f.Nonce, Audience: f.Audience, Known: f.Known()}
	compact, err = wire.EncodeResponse([]string{p}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	return compact, qr.Encode(wire.PrefixResponse, []byte(p))
}

// The reference presentation's compact QR decodes back to a presentation that verifies.
func TestReferenceResponseQR(t *testing.T) {
	compact, plain := qrFigures(t)
	_, body, err := qr.Decode(compact, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) == 0 {
		t.Fatal("empty body")
	}
	v, err := qr.Version(compact)
	if err != nil {
		t.Fatal(err)
	}
	pv, _ := qr.Version(plain)
	t.Logf("reference response: compact %d chars (QR %d-M), plain %d chars (QR %d-M)", len(compact), v, len(plain), pv)
	if len(compact) >= len(plain) {
		t.Errorf("compact form (%d) not smaller than plain (%d)", len(compact), len(plain))
	}
	_ = zlib.BestCompression
}

// BenchmarkReferenceResponseQRSize reports the QR size figures (no timing meaning).
// Goal: ≤ 861 characters (QR version 20 at ECC M).
func BenchmarkReferenceResponseQRSize(b *testing.B) {
	compact, plain := qrFigures(b)
	v, err := qr.Version(compact)
	if err != nil {
		b.Fatal(err)
	}
	pv, err := qr.Version(plain)
	if err != nil {
		pv = 41 // does not fit any version
	}
	for i := 0; i < b.N; i++ {
	}
	b.ReportMetric(float64(len(compact)), "chars")
	b.ReportMetric(float64(v), "qr-version-M")
	b.ReportMetric(float64(len(plain)), "plain-chars")
	b.ReportMetric(float64(pv), "plain-qr-version-M")
	b.ReportMetric(float64(len(compact))/861, "x-budget")
}
