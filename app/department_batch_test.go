package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lianzheng/did"
	"lianzheng/issuer"
)

// batchCSV is a marriage-certificate batch of n rows of obviously fictitious data; with
// holder, every row carries a fresh did:key; bad rows get an impossible registration date.
func batchCSV(t *testing.T, n int, holder bool, bad ...int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("holder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry")
	if holder {
		b.WriteString(",holder")
	}
	b.WriteString("\n")
	for i := 1; i <= n; i++ {
		date := "2018-05-20"
		for _, r := range bad {
			if r == i {
				date = "2018-13-40"
			}
		}
		fmt.Fprintf(&b, "测试用户甲%02d,测试用户乙%02d,TEST%014d,%s,TEST-J-%06d,示例市民政局婚姻登记处", i, i, i, date, i)
		if holder {
			pub, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString("," + did.KeyFromEd25519(pub))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestDepartmentBatch drives the 批量签发 tab over the real cores: a 20-row CSV with holder
// keys is issued on a worker goroutine (the tap returns at once, the bar only rises, the
// progress reads 已完成 N / 共 M, the result file sits next to the input, owner-only, and the
// issued list shows the 20 credentials); the same file again is refused as already issued;
// the same without holder keys gives 20 offers with their PINs in the file; a CSV with one
// bad row shows the row's error and issues nothing, leaving no result file; a batch stopped
// while checking issues nothing and, started again, issues every row once; 已签发 revokes the
// first batch in bulk after a confirmation naming its 20 credentials.
func TestDepartmentBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := startTestDemo(t, ctx, t.TempDir())

	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(fyne.NewSize(1000, 760))
	// Sync runs the screens' short calls inline; the batch still runs on its own goroutine
	// and hands its UI updates to Timers, which this test runs on its goroutine.
	u := &UI{App: a, Win: w, Svc: svc, Sync: true, Timers: make(chan func(), 8), theme: &lzTheme{}}
	SetLanguage(LangZh)
	a.Settings().SetTheme(u.theme)
	u.body = newStack()
	w.SetContent(u.body)
	u.SetRole(RoleDepartment)
	d := u.dept
	d.which.SetSelected(departmentName("civil-affairs"))
	if d.dep == nil || d.dep.ID() != "civil-affairs" {
		t.Fatal("civil affairs not selected")
	}
	b := d.batch
	for i, ty := range b.types {
		if ty.ID == "marriage-certificate" {
			b.TypeSel.SetSelectedIndex(i)
		}
	}
	if b.selected() == nil || b.selected().ID != "marriage-certificate" {
		t.Fatalf("batch types: %+v", b.types)
	}
	d.tabs.SelectIndex(1)
	dir := t.TempDir()
	results := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*-result-*.csv"))
		return m
	}
	records := func() int {
		rs, err := d.dep.Records(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	// run starts a batch; with cancel, it taps 取消 before running any UI update (the
	// worker is then held by the full Timers buffer during validation, so it sees the
	// cancellation before issuing).
	run := func(name, content string, cancel bool) *batchOutcome {
		t.Helper()
		path := filepath.Join(dir, name)
		if content != "" {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if cancel {
			// one UI update fits: the worker waits on the second — the end of the check —
			// while 取消 is tapped, and sees it before issuing
			u.Timers = make(chan func(), 1)
			defer func() { u.Timers = make(chan func(), 8) }()
		}
		b.Path.SetText(path)
		test.Tap(b.Run)
		if b.Last != nil || !b.Run.Disabled() || !b.Bar.Visible() || !b.Cancel.Visible() {
			t.Fatal("the batch did not run in the background")
		}
		if cancel {
			test.Tap(b.Cancel)
		}
		values := []float64{b.Bar.Value}
		deadline := time.After(90 * time.Second)
		for b.Last == nil {
			select {
			case fn := <-u.Timers:
				fn()
				values = append(values, b.Bar.Value)
				if txt := b.status.Text; b.Last == nil && b.Bar.Value > 0 && !strings.HasPrefix(txt, "已完成 ") {
					t.Fatalf("progress reads %q", txt)
				}
			case <-deadline:
				t.Fatal("the batch did not finish")
			}
		}
		for i := 1; i < len(values); i++ {
			if values[i] < values[i-1] {
				t.Fatalf("progress went back: %v", values)
			}
		}
		if b.Run.Disabled() || b.Cancel.Visible() {
			t.Fatal("run button still disabled, or cancel still shown")
		}
		t.Logf("%s: %d progress updates, last %.2f", name, len(values), values[len(values)-1])
		return b.Last
	}
	readResult := func(o *batchOutcome, header string) []string {
		t.Helper()
		fi, err := os.Stat(o.File)
		if err != nil || filepath.Dir(o.File) != dir || fi.Mode().Perm() != 0o600 {
			t.Fatalf("result file %q: %v %v", o.File, err, fi)
		}
		raw, _ := os.ReadFile(o.File)
		lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
		if len(lines) != 21 || lines[0] != header {
			t.Fatalf("result file: %d lines, header %q", len(lines), lines[0])
		}
		return lines
	}

	// 20 rows with holder keys: 20 credentials issued
	before := records()
	o := run("marriages.csv", batchCSV(t, 20, true), false)
	if o.Err != nil || o.Res == nil || o.Res.Count != 20 {
		t.Fatalf("batch: %v", o.Err)
	}
	if b.Bar.Value != 1 {
		t.Fatalf("bar at %.2f after the batch", b.Bar.Value)
	}
	readResult(o, "row,record_id,sd_jwt,w3c_vc")
	first := o.Res.ID
	if !strings.HasPrefix(filepath.Base(o.File), "marriages-result-") {
		t.Fatal(o.File)
	}
	c := w.Canvas().Content()
	shot(t, w, "batch-done")
	if !hasText(c, "20 条已签发") || !hasText(c, o.File) || !hasText(c, "妥善保管") {
		t.Fatal("outcome not shown")
	}
	if n := records(); n != before+20 {
		t.Fatalf("%d records, want %d", n, before+20)
	}
	if len(d.list.Objects) != before+20 {
		t.Fatalf("issued list has %d rows", len(d.list.Objects))
	}
	// the same file again: nothing issued twice
	if o2 := run("marriages.csv", "", false); !errors.Is(o2.Err, issuer.ErrBatchDone) || o2.File != o.File ||
		!hasText(w.Canvas().Content(), "已全部签发过") || records() != before+20 {
		t.Fatalf("same file again: %v %q", o2.Err, o2.File)
	}

	// 20 rows without holder keys: 20 offers, the PINs in the result file
	o = run("offers.csv", batchCSV(t, 20, false), false)
	if o.Err != nil || o.Res.Count != 20 || o.Res.Kind != issuer.BatchOffers {
		t.Fatalf("offers: %v", o.Err)
	}
	lines := readResult(o, "row,offer_id,tx_code,offer_uri")
	if f := strings.Split(lines[20], ","); len(f) != 4 || f[0] != "20" || len(f[2]) != 6 ||
		!strings.HasPrefix(f[3], "openid-credential-offer://") {
		t.Fatalf("row 20: %q", lines[20])
	}
	if !hasText(w.Canvas().Content(), "领取密码须与领取码分开") {
		t.Fatal("PIN warning not shown")
	}
	if n := records(); n != before+20 {
		t.Fatalf("offers created records: %d", n)
	}

	// one bad row: its error is shown, nothing is issued, no result file is left
	files := len(results())
	o = run("bad.csv", batchCSV(t, 20, true, 3), false)
	if !errors.Is(o.Err, issuer.ErrBatchInvalid) || o.File != "" || len(o.Res.Errors) != 1 || o.Res.Errors[0].Row != 3 {
		t.Fatalf("bad row: %v %+v", o.Err, o.Res)
	}
	c = w.Canvas().Content()
	shot(t, w, "batch-invalid")
	if !hasText(c, "第 3 行：") || !hasText(c, "未签发任何证照") {
		t.Fatal("row error not shown")
	}
	if n := records(); n != before+20 {
		t.Fatalf("a batch with a bad row issued: %d records", n)
	}
	if len(results()) != files {
		t.Fatal("a failed batch left a result file")
	}
	// stopped while checking: nothing issued, no result file; started again: every row once
	o = run("cancelled.csv", batchCSV(t, 20, true), true)
	if !errors.Is(o.Err, context.Canceled) || !hasText(w.Canvas().Content(), "已停止") {
		t.Fatalf("cancel: %v", o.Err)
	}
	if n := records(); n != before+20 || len(results()) != files {
		t.Fatalf("a cancelled batch issued (%d records) or left a result file", n)
	}
	if o = run("cancelled.csv", "", false); o.Err != nil || o.Res.Count != 20 || records() != before+40 {
		t.Fatalf("started again: %v, %d records", o.Err, records())
	}

	// 已签发: revoke the first batch in bulk, confirmed with its count
	d.tabs.SelectIndex(2)
	bb := d.issued.Bulk
	bb.Acc.Open(0)
	bb.load()
	pick := -1
	for i, x := range bb.batches {
		if x.ID == first {
			pick = i
		}
	}
	if len(bb.batches) != 2 || pick < 0 {
		t.Fatalf("batches offered: %+v", bb.batches)
	}
	bb.BatchSel.SetSelectedIndex(pick)
	bb.ActionSel.SetSelectedIndex(0) // 撤销
	test.Tap(bb.Run)
	shot(t, w, "bulk-confirm")
	if !hasText(w.Canvas().Overlays().Top(), "确定撤销该批次的 20 份凭证") {
		t.Fatal("the confirmation does not name the count")
	}
	confirm := findButton(w.Canvas().Overlays().Top(), "撤销")
	if confirm == nil {
		t.Fatal("no 撤销 in the confirmation")
	}
	test.Tap(confirm)
	if bb.Last == nil || bb.Last.Changed != 20 || bb.Last.Txs != 1 || !hasText(w.Canvas().Content(), "已变更 20 份凭证，用了 1 笔链上交易") {
		t.Fatalf("bulk revoke: %+v", bb.Last)
	}
	rs, _ := d.dep.Records(ctx)
	revoked := 0
	for _, r := range rs {
		if r.State == issuer.StateRevoked {
			revoked++
		}
	}
	if revoked != 20 {
		t.Fatalf("%d records revoked", revoked)
	}

	// no file chosen: said so, nothing run
	d.tabs.SelectIndex(1)
	b.Path.SetText("")
	test.Tap(b.Run)
	if b.Run.Disabled() || !hasText(w.Canvas().Content(), "请先选择 CSV 文件") {
		t.Fatal("missing file not reported")
	}
}
