package issuer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/ledger"
)

func marriageCSV(n int, holder bool, bad map[int]string) string {
	var b strings.Builder
	b.WriteString("\ufeffholder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry")
	if holder {
		b.WriteString(",holder")
	}
	b.WriteString("\n")
	for i := 0; i < n; i++ {
		date := "2018-05-20"
		if v, ok := bad[i+1]; ok {
			date = v
		}
		fmt.Fprintf(&b, "测试用户%d,测试配偶%d,TEST%014d,%s,TEST-J-%06d,\"示例市民政局婚姻登记处, 一处\"", i, i, i, date, i)
		if holder {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			b.WriteString("," + did.KeyFromEd25519(k.Public().(ed25519.PublicKey)))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestBatch(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := setup(t, "civil-affairs")
	// Two bad rows: nothing issued, both reported.
	rows, err := issuer.ReadCSV(strings.NewReader(marriageCSV(50, true, map[int]string{7: "2018-13-01", 42: ""})))
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Batch(ctx, "marriage-certificate", rows, 0)
	if !errors.Is(err, issuer.ErrBatchInvalid) || len(res.Errors) != 2 || res.Errors[0].Row != 7 || res.Errors[1].Row != 42 ||
		res.Errors[0].Fields[0].Code != "type_date" || res.Errors[1].Fields[0].Code != "required" {
		t.Fatalf("%v %+v", err, res)
	}
	if n, _ := d.CountRecords(ctx); n != 0 {
		t.Fatal(n)
	}
	// A bad holder key.
	rows[6].Claims["registration_date"], rows[41].Claims["registration_date"] = "2018-05-20", "2018-05-20"
	rows[3].Holder = "did:key:zBAD"
	if res, err := d.Batch(ctx, "marriage-certificate", rows, 0); !errors.Is(err, issuer.ErrBatchInvalid) || res.Errors[0].Fields[0].Field != "holder" {
		t.Fatal(err)
	}
	rows, _ = issuer.ReadCSV(strings.NewReader(marriageCSV(50, true, nil)))
	res, err = d.Batch(ctx, "marriage-certificate", rows, 0)
	if err != nil || len(res.Issued) != 50 {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, is := range res.Issued {
		seen[is.Record.StatusIndex] = true
	}
	if n, _ := d.CountRecords(ctx); n != 50 || len(seen) != 50 {
		t.Fatal(n, len(seen))
	}
	// Without holders: offers.
	rows, _ = issuer.ReadCSV(strings.NewReader(marriageCSV(5, false, nil)))
	res, err = d.Batch(ctx, "marriage-certificate", rows, 0)
	if err != nil || len(res.Offers) != 5 || res.Offers[4].PIN == "" {
		t.Fatal(err)
	}
	// Not authorised: nothing.
	if _, err := d.Batch(ctx, "household-register", rows, 0); !errors.Is(err, issuer.ErrNotAuthorised) {
		t.Fatal(err)
	}
	// Malformed CSV.
	if _, err := issuer.ReadCSV(strings.NewReader("a,a\n1,2\n")); err == nil {
		t.Fatal("repeated column")
	}
	if _, err := issuer.ReadCSV(strings.NewReader("a,b\n1\n")); err == nil {
		t.Fatal("short row")
	}
}

// TestBatchProgress: while checking, Done rises to the row count (then Total is known);
// while issuing, Done rises chunk by chunk to Total, which it reaches only once everything is
// committed; a batch with invalid rows stops after checking and issues nothing.
func TestBatchProgress(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := setup(t, "civil-affairs")
	issued := 0
	for _, tc := range []struct {
		name    string
		rows    int
		holder  bool
		bad     map[int]string
		wantErr error
	}{
		{"offers", 12, false, nil, nil},
		{"credentials", 7, true, nil, nil},
		{"one row", 1, false, nil, nil},
		{"bad rows", 9, true, map[int]string{2: "2018-02-30", 9: "x"}, issuer.ErrBatchInvalid},
		{"bad offers", 5, false, map[int]string{1: ""}, issuer.ErrBatchInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := issuer.ReadCSV(strings.NewReader(marriageCSV(tc.rows, tc.holder, tc.bad)))
			if err != nil {
				t.Fatal(err)
			}
			var calls []issuer.BatchProgress
			res, err := d.BatchWith(ctx, "marriage-certificate", rows, issuer.BatchOptions{ChunkRows: 3,
				Progress: func(p issuer.BatchProgress) { calls = append(calls, p) }})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if len(calls) == 0 || calls[0].Phase != issuer.PhaseChecking || calls[0].Done != 0 {
				t.Fatalf("first call %+v", calls)
			}
			checked := -1
			for i, c := range calls {
				if i > 0 && c.Phase == calls[i-1].Phase && c.Done < calls[i-1].Done {
					t.Fatalf("call %d goes back: %+v", i, calls)
				}
				if c.Phase == issuer.PhaseChecking && c.Total != 0 {
					checked = i
				}
				if c.Phase == issuer.PhaseIssuing && (checked < 0 || c.Total != tc.rows || c.Done > c.Total || c.Done%3 != 0 && c.Done != tc.rows) {
					t.Fatalf("issuing call %d: %+v", i, calls)
				}
			}
			if checked < 0 || calls[checked].Done != tc.rows {
				t.Fatalf("checking never reached %d: %+v", tc.rows, calls)
			}
			last := calls[len(calls)-1]
			if tc.wantErr == nil {
				if last.Phase != issuer.PhaseIssuing || last.Done != tc.rows || len(res.Issued)+len(res.Offers) != tc.rows || res.Count != tc.rows {
					t.Fatalf("last %+v, %d issued, %d offers", last, len(res.Issued), len(res.Offers))
				}
			} else if last.Phase != issuer.PhaseChecking || res.ErrorRows != len(tc.bad) {
				t.Fatalf("invalid batch: progress ends at %+v, %d row errors", last, res.ErrorRows)
			}
			if tc.holder && tc.wantErr == nil {
				issued += tc.rows
			}
			if n, _ := d.CountRecords(ctx); n != issued {
				t.Fatalf("%d records, want %d", n, issued)
			}
		})
	}
	// Cancelled while issuing: the chunks committed stay, nothing after them.
	c, cancel := context.WithCancel(ctx)
	rows, _ := issuer.ReadCSV(strings.NewReader(marriageCSV(10, true, nil)))
	_, err := d.BatchWith(c, "marriage-certificate", rows, issuer.BatchOptions{ChunkRows: 2, Workers: 1, Progress: func(p issuer.BatchProgress) {
		if p.Phase == issuer.PhaseIssuing && p.Done == 4 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if got, _ := d.CountRecords(ctx); got != issued+4 {
		t.Fatalf("%d records after cancelling at 4, want %d", got, issued+4)
	}
}

func writeFile(t testing.TB, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readResult reads a batch's result CSV: its header and rows.
func readResult(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return all[0], all[1:]
}

// checkResult: the result file has rows 1..n once each in order, each credential's record is
// the one the batch committed for that row, and the records are exactly those n.
func checkResult(t testing.TB, d *issuer.Department, l *issuertest.Ledger, now time.Time, res *issuer.BatchResult, n int, verify bool) {
	t.Helper()
	ctx := context.Background()
	head, rows := readResult(t, res.Out)
	if len(rows) != n {
		t.Fatalf("%d result rows, want %d", len(rows), n)
	}
	seen := map[string]bool{}
	slots := map[[2]int]bool{}
	for i, r := range rows {
		if r[0] != strconv.Itoa(i+1) || seen[r[1]] {
			t.Fatalf("result row %d: %q (repeated: %v)", i+1, r[0], seen[r[1]])
		}
		seen[r[1]] = true
		if head[1] != "record_id" {
			continue
		}
		rec, err := d.Record(ctx, r[1])
		if err != nil || rec.BatchID != res.ID || rec.BatchRow != i+1 {
			t.Fatalf("row %d: record %+v %v", i+1, rec, err)
		}
		if slots[[2]int{rec.StatusList, rec.StatusIndex}] {
			t.Fatalf("row %d: status entry %d/%d used twice", i+1, rec.StatusList, rec.StatusIndex)
		}
		slots[[2]int{rec.StatusList, rec.StatusIndex}] = true
		var w3c map[string]any
		if err := json.Unmarshal([]byte(r[3]), &w3c); err != nil || w3c["id"] != "urn:uuid:"+rec.ID {
			t.Fatalf("row %d: w3c %v %v", i+1, w3c["id"], err)
		}
		if !verify {
			continue
		}
		v, err := sdjwtvc.Verify(r[2], sdjwtvc.VerifyOptions{IssuerKeyAt: keyAt(l), AllowNoKB: true, Now: now})
		if err != nil {
			t.Fatalf("row %d: %v", i+1, err)
		}
		if v.Status.Index != rec.StatusIndex || v.Status.URI != ledger.StatusListURI("civil-affairs", rec.StatusList) {
			t.Fatalf("row %d: status %+v, record %d/%d", i+1, v.Status, rec.StatusList, rec.StatusIndex)
		}
	}
	if head[1] == "record_id" {
		if c, _ := d.CountRecords(ctx); c != n {
			t.Fatalf("%d records, want %d", c, n)
		}
	}
}

// TestRunBatch: a CSV file issued streaming, its result file, a finished batch refused the
// second time, and offers.
func TestRunBatch(t *testing.T) {
	ctx := context.Background()
	d, l, clk, _ := setup(t, "civil-affairs")
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", marriageCSV(23, true, nil))
	res, err := d.RunBatch(ctx, "marriage-certificate", in, filepath.Join(dir, "out.csv"), issuer.BatchOptions{ChunkRows: 5})
	if err != nil || res.Count != 23 || res.Rows != 23 || res.Resumed != 0 || res.Kind != issuer.BatchCredentials || len(res.ID) != 32 {
		t.Fatalf("%+v %v", res, err)
	}
	if head, _ := readResult(t, res.Out); strings.Join(head, ",") != "row,record_id,sd_jwt,w3c_vc" {
		t.Fatal(head)
	}
	checkResult(t, d, l, clk.now(), res, 23, true)
	if st, _ := os.Stat(res.Out); st.Mode().Perm() != 0o600 {
		t.Fatalf("result file mode %v", st.Mode())
	}
	// The same file again: already issued, nothing more.
	again, err := d.RunBatch(ctx, "marriage-certificate", in, filepath.Join(dir, "out2.csv"), issuer.BatchOptions{})
	if !errors.Is(err, issuer.ErrBatchDone) || again.Out != res.Out {
		t.Fatalf("again: %+v %v", again, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out2.csv")); err == nil {
		t.Fatal("a second result file was made")
	}
	checkResult(t, d, l, clk.now(), res, 23, false)
	bs, err := d.Batches(ctx, 0)
	if err != nil || len(bs) != 1 || bs[0].ID != res.ID || bs[0].Committed != 23 || bs[0].Finished.IsZero() {
		t.Fatalf("%+v %v", bs, err)
	}
	// An existing result file is never overwritten; invalid rows make nothing.
	in2 := writeFile(t, dir, "in2.csv", marriageCSV(4, true, nil))
	if _, err := d.RunBatch(ctx, "marriage-certificate", in2, res.Out, issuer.BatchOptions{}); !errors.Is(err, issuer.ErrBatchOutput) {
		t.Fatal(err)
	}
	bad := writeFile(t, dir, "bad.csv", marriageCSV(4, true, map[int]string{3: "2018-13-01"}))
	if r, err := d.RunBatch(ctx, "marriage-certificate", bad, filepath.Join(dir, "bad-out.csv"), issuer.BatchOptions{}); !errors.Is(err, issuer.ErrBatchInvalid) || r.Errors[0].Row != 3 {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad-out.csv")); err == nil {
		t.Fatal("result file made for an invalid batch")
	}
	// Offers, with their URIs.
	off := writeFile(t, dir, "offers.csv", marriageCSV(6, false, nil))
	res, err = d.RunBatch(ctx, "marriage-certificate", off, filepath.Join(dir, "offers-out.csv"), issuer.BatchOptions{ChunkRows: 4,
		OfferURI: func(o *issuer.Offer) string { return "offer:" + o.ID }})
	if err != nil || res.Count != 6 || res.Kind != issuer.BatchOffers {
		t.Fatalf("%+v %v", res, err)
	}
	head, rows := readResult(t, res.Out)
	if strings.Join(head, ",") != "row,offer_id,tx_code,offer_uri" || len(rows) != 6 || rows[5][3] != "offer:"+rows[5][1] || len(rows[5][2]) != 6 {
		t.Fatal(head, rows)
	}
}

// TestRunBatchResume: a batch interrupted between a chunk's commit and its result lines (the
// result file cut back, a line cut in half) resumes: the rows committed but not written are
// signed again for their own records, offers re-keyed (the new PIN works), and the result
// file ends with every row once.
func TestRunBatchResume(t *testing.T) {
	ctx := context.Background()
	for _, holder := range []bool{true, false} {
		t.Run(fmt.Sprint("holder=", holder), func(t *testing.T) {
			d, l, clk, _ := setup(t, "civil-affairs")
			dir := t.TempDir()
			in := writeFile(t, dir, "in.csv", marriageCSV(17, holder, nil))
			out := filepath.Join(dir, "out.csv")
			c, cancel := context.WithCancel(ctx)
			code := func(o *issuer.Offer) string { return o.Code }
			_, err := d.RunBatch(c, "marriage-certificate", in, out, issuer.BatchOptions{ChunkRows: 4, Workers: 2, OfferURI: code, Progress: func(p issuer.BatchProgress) {
				if p.Phase == issuer.PhaseIssuing && p.Done >= 8 {
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			// As if the process died after committing rows 1-8 but writing only 1-5 and half of 6.
			b, _ := os.ReadFile(out)
			lines := strings.SplitAfter(string(b), "\n")
			if len(lines) < 10 {
				t.Fatalf("%d lines", len(lines))
			}
			cut := strings.Join(lines[:6], "") + lines[6][:len(lines[6])/2]
			if err := os.WriteFile(out, []byte(cut), 0o600); err != nil {
				t.Fatal(err)
			}
			var before string
			if holder {
				_, rows := readResultPrefix(t, out, 5)
				before = rows[4][1]
			}
			res, err := d.RunBatch(ctx, "marriage-certificate", in, filepath.Join(dir, "ignored.csv"), issuer.BatchOptions{ChunkRows: 4, OfferURI: code})
			if err != nil || res.Out != out || res.Resumed < 8 || res.Resumed+res.Count != 17 {
				t.Fatalf("%+v %v", res, err)
			}
			checkResult(t, d, l, clk.now(), res, 17, holder)
			_, rows := readResult(t, out)
			if holder && rows[4][1] != before {
				t.Fatal("a written row changed")
			}
			if !holder {
				// Row 7's offer was re-keyed: its new code and PIN redeem it, once.
				var n int
				if err := dbCount(d, &n); err != nil || n != 17 {
					t.Fatalf("%d offers %v", n, err)
				}
				for _, i := range []int{0, 6} {
					if _, err := d.RedeemOffer(ctx, rows[i][3], rows[i][2], 5); err != nil {
						t.Fatalf("row %d: %v", i+1, err)
					}
				}
			}
		})
	}
}

func dbCount(d *issuer.Department, n *int) error {
	_, total, err := d.PendingOffers(context.Background(), 1)
	*n = total
	return err
}

// readResultPrefix reads the first n rows of a result file that may end in a partial line.
func readResultPrefix(t testing.TB, path string, n int) ([]string, [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	all, err := csv.NewReader(strings.NewReader(strings.Join(lines[:n+1], ""))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return all[0], all[1:]
}

// TestBatchManyLists: with lists of 16 entries, 50 credentials fill lists 0-2 and part of 3,
// each list opened on the ledger before its first credential, indices unique per list and
// random within it, and the credentials name their list; a reopened department continues
// on the current list.
func TestBatchManyLists(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Now())
	l, err := issuertest.New(clk.now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := issuer.WithListSize(issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l,
		DBPath: filepath.Join(dir, "i.db"), Sealer: testSealer("civil-affairs"), Now: clk.now}, 16)
	d, err := issuer.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.RunBatch(ctx, "marriage-certificate", writeFile(t, dir, "in.csv", marriageCSV(50, true, nil)), filepath.Join(dir, "out.csv"), issuer.BatchOptions{ChunkRows: 7})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, d, l, clk.now(), res, 50, true)
	perList := map[int]int{}
	recs, _ := d.Records(ctx, issuer.ListFilter{})
	for _, r := range recs {
		perList[r.StatusList]++
		if r.StatusIndex >= 16 {
			t.Fatalf("index %d of a 16-entry list", r.StatusIndex)
		}
	}
	if perList[0] != 16 || perList[1] != 16 || perList[2] != 16 || perList[3] != 2 || d.CurrentStatusList() != 3 {
		t.Fatalf("per list %v, current %d", perList, d.CurrentStatusList())
	}
	if l.Txs != 3 { // lists 1, 2 and 3 opened
		t.Fatalf("%d ledger transactions", l.Txs)
	}
	d.Close()
	d, err = issuer.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 14 { // the rest of list 3, then list 4 is opened
		if _, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)}); err != nil {
			t.Fatal(err)
		}
	}
	if d.CurrentStatusList() != 3 || l.Txs != 3 {
		t.Fatalf("list %d after filling list 3, %d txs", d.CurrentStatusList(), l.Txs)
	}
	is, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	if err != nil || is.Record.StatusList != 4 || l.Txs != 4 {
		t.Fatalf("%+v %v (%d txs)", is, err, l.Txs)
	}
	// The list is named in both forms (with a public base URL: the token URL and the two
	// list credentials).
	l.PublicBaseURL = "https://lz.example.gov.cn"
	is, err = d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	if err != nil || !strings.Contains(is.SDJWT, "") {
		t.Fatal(err)
	}
	st := is.W3C["credentialStatus"].([]any)[0].(map[string]any)
	if st["statusListCredential"] != ledger.StatusListCredentialURL(l.PublicBaseURL, "civil-affairs", 4, ledger.PurposeRevocation) {
		t.Fatal(st)
	}
}
