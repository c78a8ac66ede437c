package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/internal/benchfloor"
	"lianzheng/issuer"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/verifier"
)

// The app's three latencies a person notices, each as a ratio ("x-floor") to a floor
// measured in the same run: the first frame of a cold start, the first frame of a role
// screen once the ledger is up, and a scanned answer's verdict after the scanner's Enter.
//
//	go test -run '^$' -bench 'ColdStart|Ready|EnterToVerdict' -benchtime 5x ./app/
//
// (make bench runs them with -benchtime 1s: the cold-start and ready benchmarks then run a
// few iterations each, as every iteration is a process or a ledger start.)

// coldEnv selects TestColdStartChild's variant in the child process.
const coldEnv = "LZ_BENCH_COLDSTART"

// coldMarker is printed by a child that drew its frame (a skipped or failed child is an error).
const coldMarker = "lz-coldstart-frame-ok"

// TestColdStartChild is BenchmarkColdStartFirstFrame's child: in a fresh process, the first
// frame on the Fyne test driver, captured, then exit. It does nothing unless run by the
// benchmark.
func TestColdStartChild(t *testing.T) {
	v := os.Getenv(coldEnv)
	if v == "" {
		t.Skip("run in a fresh process by BenchmarkColdStartFirstFrame")
	}
	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(fyne.NewSize(1100, 760))
	switch v {
	case "minimal":
		// the floor: a Fyne app with its default theme and one label
		a.Settings().SetTheme(theme.DefaultTheme())
		w.SetContent(widget.NewLabel("LianZheng"))
	case "splash":
		// what main.go shows first: the splash in the remembered language and theme
		Starting(a, w)
	case "chooser":
		// the first start's first screen, as main shows it when the ledger is up (without one)
		Starting(a, w)
		w.Canvas().Capture()
		New(a, w, nil)
	default:
		t.Fatalf("unknown variant %q", v)
	}
	if img := w.Canvas().Capture(); img == nil || img.Bounds().Dx() == 0 {
		t.Fatal("no frame")
	}
	fmt.Println(coldMarker)
}

// BenchmarkColdStartFirstFrame: a true cold start — exec of the test binary to the exit of a
// child that drew its first frame (TestColdStartChild) — for the splash main.go shows at once
// and for the role chooser behind it, against the floor of the same binary drawing a minimal
// Fyne app (default theme, one label). Both are wall times measured in this process, the
// variants alternating per iteration so that a change in the machine's load hits both.
func BenchmarkColdStartFirstFrame(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	run := func(variant string) time.Duration {
		cmd := exec.Command(exe, "-test.run=^TestColdStartChild$", "-test.count=1", "-test.timeout=2m")
		cmd.Env = append(os.Environ(), coldEnv+"="+variant, "LANG=C.UTF-8")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil || !strings.Contains(out.String(), coldMarker) {
			b.Fatalf("%s child: %v\n%s", variant, err, out.String())
		}
		return d
	}
	for _, variant := range []string{"splash", "chooser"} {
		b.Run(variant, func(b *testing.B) {
			run(variant) // the page cache warm for both: a cold start of the program, not of the disk
			run("minimal")
			var p pairs
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					o := run(variant)
					p.add(o, run("minimal"))
				} else {
					f := run("minimal")
					p.add(run(variant), f)
				}
			}
			b.StopTimer()
			p.report(b)
		})
	}
}

// pairs are our times and the floor's, measured back to back.
type pairs struct {
	ours, base time.Duration
	ratios     []float64
}

func (p *pairs) add(ours, base time.Duration) {
	p.ours += ours
	p.base += base
	p.ratios = append(p.ratios, float64(ours)/float64(base))
}

// report: our time per op, the floor's, "x-floor" the median of the pairs' ratios (a burst
// of load from the machine's neighbours spoils a pair, not the figure) and "x-floor-mean"
// the ratio of the sums.
func (p *pairs) report(b *testing.B) {
	b.Helper()
	if b.N == 0 || p.base == 0 {
		return
	}
	b.ReportMetric(float64(p.ours.Nanoseconds())/float64(b.N), "ours-ns")
	b.ReportMetric(float64(p.base.Nanoseconds())/float64(b.N), "floor-ns")
	b.ReportMetric(median(p.ratios), "x-floor")
	b.ReportMetric(float64(p.ours)/float64(p.base), "x-floor-mean")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchUI is the UI over svc in a headless window, role chosen, long operations inline (as
// the app runs them off the UI goroutine); the theme and language are New's.
func benchUI(b *testing.B, a fyne.App, w fyne.Window, svc *Services, role string) *UI {
	b.Helper()
	a.Preferences().SetString(prefRole, role)
	u := &UI{App: a, Win: w, Svc: svc, Sync: true, theme: &lzTheme{}, Timers: make(chan func(), 64)}
	SetLanguage(LangZh)
	a.Settings().SetTheme(u.theme)
	u.body = newStack()
	w.SetContent(u.body)
	u.Refresh()
	return u
}

// BenchmarkReadyFrame: from a demo home made before (a second start of the app), StartDemo —
// the embedded ledger, the window's verifier, the demo departments' issuers and OpenID4VCI
// services, the wallet core — and the first frame of the window role's screen with its service
// items and trust age read from the ledger; against the floor of ledgernode.StartHomeNode alone on
// the same home. So the ratio is what the app adds to starting CometBFT. Stopping is timed
// apart (ours: Services.Close; floor: Node.Stop) and not in the ratio. Each iteration starts
// a ledger twice: -benchtime 3x to 5x is plenty.
func BenchmarkReadyFrame(b *testing.B) {
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// the app's own options (nil): the node's empty-block interval is the app's
	svc, err := StartDemo(ctx, dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	svc.Close()

	a := test.NewTempApp(b)
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(fyne.NewSize(1100, 760))

	var ours, base, oursStop, baseStop, started time.Duration
	app := func() time.Duration {
		t0 := time.Now()
		svc, err := StartDemo(ctx, dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		started += time.Since(t0)
		u := benchUI(b, a, w, svc, RoleWindow)
		w.Canvas().Capture()
		d := time.Since(t0)
		ours += d
		if len(u.window.items) == 0 || !hasText(w.Canvas().Content(), "区块高度") {
			b.Fatal("window screen without its items or trust age")
		}
		t1 := time.Now()
		svc.Close()
		oursStop += time.Since(t1)
		w.SetContent(widget.NewLabel(""))
		return d
	}
	floor := func() time.Duration {
		t0 := time.Now()
		n, err := ledgernode.StartHomeNode(ctx, filepath.Join(dir, "node"), nil)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		base += d
		t1 := time.Now()
		n.Stop()
		baseStop += time.Since(t1)
		return d
	}
	app() // warm: fonts parsed, code paged in
	floor()
	ours, base, oursStop, baseStop, started = 0, 0, 0, 0, 0
	var p pairs
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			o := app()
			p.add(o, floor())
		} else {
			f := floor()
			p.add(app(), f)
		}
	}
	b.StopTimer()
	p.report(b)
	b.ReportMetric(float64(started.Nanoseconds())/float64(b.N), "startdemo-ns")
	b.ReportMetric(float64(oursStop.Nanoseconds())/float64(b.N), "close-ns")
	b.ReportMetric(float64(baseStop.Nanoseconds())/float64(b.N), "floor-stop-ns")
}

// BenchmarkEnterToVerdict: a real two-credential real-estate answer (household register and
// marriage certificate, issued by the demo departments and presented by the wallet) is in the
// window's scan field; timed from the scanner's Enter to the verdict on screen — the verifier
// core on the embedded demo ledger (trust from its warm 30 s cache), the receipt signed and
// stored, the verdict screen built. Floor: the raw Ed25519 operations the verdict contains —
// two issuer signature verifies, two key-binding verifies, the receipt's signature
// (benchfloor, once per process). "x-floor-interleaved" is the median, over the verdicts, of
// the ratio to the same raw operations run right after each; "verify-ns" is the part spent in
// the verifier core (the rest is the screen); "paint-ns" is the software capture of the
// verdict frame, not timed (a GPU paints it). An answer can be verified once (its request's
// nonce), so answers are prepared in batches of 16 with the timer stopped (a window has a
// few open requests at a time, not b.N), and the verdict is cleared (下一位) outside the timer.
func BenchmarkEnterToVerdict(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	svc := startTestDemo(b, ctx, b.TempDir())
	if err := svc.Citizen.Setup("246810"); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		dep, typ string
		claims   map[string]any
	}{
		{"public-security", "household-register", map[string]any{
			"name": "测试用户甲", "id_number": "TEST00000000000001", "birth_date": "1990-01-01",
			"relation_to_head": "户主", "household_number": "TEST-H-0001", "address": "示例省示例市样例区演示路1号",
			"marital_status": "已婚"}},
		{"civil-affairs", "marriage-certificate", map[string]any{
			"holder_name": "测试用户甲", "spouse_name": "王䶮", "spouse_id_number": "TEST00000000000002",
			"registration_date": "2018-05-20", "certificate_number": "TEST-J-2018-0001", "registry": "示例市民政局婚姻登记处"}},
	} {
		o, err := svc.Departments[c.dep].Offer(ctx, issuer.Request{Type: c.typ, Claims: c.claims})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Citizen.Receive(ctx, o.Text, o.PIN); err != nil {
			b.Fatal(err)
		}
	}
	items, err := svc.Window.Items(ctx)
	if err != nil || len(items) == 0 {
		b.Fatal("no service items", err)
	}
	answer := func() string {
		r, err := svc.Window.NewRequest(ctx, items[0].ID)
		if err != nil {
			b.Fatal(err)
		}
		p, err := svc.Citizen.PlanRequest(ctx, r.Text)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := svc.Citizen.Present(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		return resp.QR
	}

	a := test.NewTempApp(b)
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(fyne.NewSize(1000, 760))
	tw := &timedWindow{WindowCore: svc.Window}
	u := benchUI(b, a, w, &Services{Window: tw, Citizen: svc.Citizen, Department: svc.Department,
		Departments: svc.Departments, Demo: true}, RoleWindow)
	ws := u.window
	enter := &fyne.KeyEvent{Name: fyne.KeyReturn}
	verdict := func(qr string) {
		ws.Scan.SetText(qr)
		ws.Scan.TypedKey(enter)
		if v := ws.LastVerdict; v == nil || !v.OK || len(v.Credentials) != 2 {
			b.Fatalf("verdict: %+v", v)
		}
	}
	next := func() {
		ws.clearVerdict()
		for len(u.Timers) > 0 { // the countdown's timers, stopped with the verdict
			<-u.Timers
		}
	}
	verdict(answer()) // warm: DID histories, status lists, fonts
	w.Canvas().Capture()
	next()
	tw.d = 0

	sign, verify := benchfloor.Ed25519()
	seed := sha256.Sum256([]byte("enter-to-verdict"))
	k := ed25519.NewKeyFromSeed(seed[:])
	msg := make([]byte, 600)
	sig := ed25519.Sign(k, msg)
	pub := k.Public().(ed25519.PublicKey)
	var paint time.Duration
	var ratios []float64
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		batch := make([]string, min(16, b.N-done))
		for i := range batch {
			batch[i] = answer()
		}
		if _, err := svc.Window.Trust(ctx, false); err != nil { // the cache warm for this batch
			b.Fatal(err)
		}
		for _, qr := range batch {
			ws.Scan.SetText(qr) // the scanner typed it; Enter is what is timed
			b.StartTimer()
			t0 := time.Now()
			ws.Scan.TypedKey(enter)
			d := time.Since(t0)
			b.StopTimer()
			if v := ws.LastVerdict; v == nil || !v.OK || len(v.Credentials) != 2 {
				b.Fatalf("verdict: %+v", v)
			}
			t1 := time.Now()
			w.Canvas().Capture()
			t2 := time.Now()
			for j := 0; j < 4; j++ {
				ed25519.Verify(pub, msg, sig)
			}
			ed25519.Sign(k, msg)
			t3 := time.Now()
			paint += t2.Sub(t1)
			ratios = append(ratios, float64(d)/float64(t3.Sub(t2)))
			next()
		}
		done += len(batch)
	}
	b.StopTimer()
	benchfloor.Report(b, 4*verify+sign)
	b.ReportMetric(float64(tw.d.Nanoseconds())/float64(b.N), "verify-ns")
	b.ReportMetric(float64(paint.Nanoseconds())/float64(b.N), "paint-ns")
	b.ReportMetric(median(ratios), "x-floor-interleaved")
}

// timedWindow adds up the time spent in the window core's Verify (the rest of Enter →
// verdict is the screen).
type timedWindow struct {
	WindowCore
	d time.Duration
}

func (t *timedWindow) Verify(ctx context.Context, s string) *verifier.Verdict {
	t0 := time.Now()
	v := t.WindowCore.Verify(ctx, s)
	t.d += time.Since(t0)
	return v
}
