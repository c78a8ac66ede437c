package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/wallet"
)

// BenchmarkOpenWallet1000 opens the citizen screen of an unlocked wallet holding 1,000
// credentials on the embedded demo ledger: the store read and decrypted, names and status
// from the ledger (memoised per type and status list), the virtualised card list drawn —
// until the first frame is captured. The PIN unlock (Argon2id, deliberately slow) is not
// part of it.
//
// Floor, in the same run and alternating with it: what no wallet screen can avoid — reading
// and decrypting the 1,000 records (Store.Credentials) and drawing a plain widget.List of
// 1,000 labels to a first frame of the same size. "x-floor" is the ratio.
func BenchmarkOpenWallet1000(b *testing.B) {
	const n = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	svc := startTestDemo(b, ctx, b.TempDir())
	cc := svc.Citizen.(*home.Citizen)
	if err := cc.Setup("246810"); err != nil {
		b.Fatal(err)
	}
	w, _ := cc.Core()
	fillWallet(b, ctx, svc, w, n)

	u := uiOver(b, test.NewTempApp(b), svc, LangZh, fyne.NewSize(390, 780))
	win := u.Win

	open := func() {
		s := newCitizenScreen(u)
		win.SetContent(s.root)
		win.Canvas().Capture()
		if len(s.Items) != n {
			b.Fatalf("%d cards", len(s.Items))
		}
	}
	floor := func() {
		cs, err := w.Store.Credentials()
		if err != nil || len(cs) != n {
			b.Fatal(err)
		}
		l := widget.NewList(func() int { return len(cs) }, func() fyne.CanvasObject { return widget.NewLabel("") },
			func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(cs[i].Type) })
		win.SetContent(l)
		win.Canvas().Capture()
	}
	open() // warm: fonts parsed, ledger views cached as they would be in a running app
	floor()
	var ours, base time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		open()
		t1 := time.Now()
		floor()
		ours, base = ours+t1.Sub(t0), base+time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "open-ns")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "floor-ns")
	b.ReportMetric(float64(ours)/float64(base), "x-floor")
}

// fillWallet has civil affairs issue n marriage certificates bound to a key of w (one
// batch, holder column) and the wallet accept each, verified against the ledger.
func fillWallet(b *testing.B, ctx context.Context, svc *Services, w *wallet.Wallet, n int) {
	b.Helper()
	dep := svc.Departments["civil-affairs"].(*home.Department).Core()
	kid, err := w.Keys.NewEd25519()
	if err != nil {
		b.Fatal(err)
	}
	pub, _ := w.Keys.Public(kid)
	hk, err := did.NewPublicKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("holder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry,holder\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "测试用户%d,测试配偶%d,TEST%014d,2018-05-20,TEST-J-%06d,示例市民政局婚姻登记处,%s\n", i, i, i, i, hk.DIDKey())
	}
	rows, err := issuer.ReadCSV(strings.NewReader(csv.String()))
	if err != nil {
		b.Fatal(err)
	}
	res, err := dep.Batch(ctx, "marriage-certificate", rows, 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, is := range res.Issued {
		if _, err := w.Accept(ctx, w.Ledger, is.SDJWT, kid); err != nil {
			b.Fatal(err)
		}
	}
}
