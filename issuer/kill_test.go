package issuer_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/ledger"
)

// batchKillIterations bounds the batch kill -9 test in `go test`; scripts/soak-batch.sh
// runs more (LZ_KILL_ITERATIONS).
func batchKillIterations() int {
	if n, err := strconv.Atoi(os.Getenv("LZ_KILL_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return 6
}

// Small lists and chunks, so that kills land across list openings and chunk commits.
const (
	killListSize = 40
	killChunk    = 7
)

func openKillDept(t testing.TB, dir string) (*issuer.Department, *issuertest.Ledger) {
	t.Helper()
	l, err := issuertest.New(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	d, err := issuer.Open(context.Background(), issuer.WithListSize(issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"),
		Ledger: l, DBPath: filepath.Join(dir, "issuer.db"), Sealer: testSealer("civil-affairs")}, killListSize))
	if err != nil {
		t.Fatal(err)
	}
	return d, l
}

func codeURI(o *issuer.Offer) string { return o.Code }

// TestBatchChild is the child process of TestBatchSurvivesKills: it runs the batch of
// LZ_BATCH_CHILD_DIR (in.csv → out.csv) to its end, or until it is killed.
func TestBatchChild(t *testing.T) {
	dir := os.Getenv("LZ_BATCH_CHILD_DIR")
	if dir == "" {
		t.Skip("child process of TestBatchSurvivesKills")
	}
	d, _ := openKillDept(t, dir)
	fmt.Println("ready") // the parent kills at a random point after this line
	_, err := d.RunBatch(context.Background(), "marriage-certificate", filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.csv"),
		issuer.BatchOptions{ChunkRows: killChunk, Workers: 2, OfferURI: codeURI})
	if err != nil && !errors.Is(err, issuer.ErrBatchDone) {
		fmt.Println("batch:", err)
		os.Exit(4)
	}
	os.Exit(0)
}

// runBatchChild runs the batch in a child process and SIGKILLs it `after` it said ready (0:
// let it finish). It reports whether the child finished on its own.
func runBatchChild(t *testing.T, dir string, after time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBatchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LZ_BATCH_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var said strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			said.WriteString(sc.Text() + "\n")
			if sc.Text() == "ready" {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("child ended before it was ready: %v\n%s", err, said.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child did not start")
	}
	if after > 0 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("child failed: %v", err)
			}
			return true
		case <-time.After(after):
			_ = cmd.Process.Kill()
			<-done
			return false
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("child failed: %v", err)
	}
	return true
}

// TestBatchSurvivesKills: a batch SIGKILLed at random points — while checking, signing,
// committing a chunk, writing the result file, opening a status list — and run again each
// time with the same file, ends with every row issued exactly once: the result file holds
// rows 1..N once each, in order, each naming the record (or offer) the batch committed for
// that row; the records are exactly N, on distinct status entries, and each credential names
// its own record and entry; every offer's code and PIN in the file redeem it.
func TestBatchSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	// Each round kills a fresh batch up to 8 times (40-440 ms after the child starts: the
	// check, the first chunks, list openings), then lets it finish and checks it; the kill
	// budget is spread over the rounds.
	budget := batchKillIterations()
	rounds := max(1, budget/8)
	for _, tc := range []struct {
		name   string
		rows   int
		holder bool
	}{{"credentials", 300, true}, {"offers", 2000, false}} {
		t.Run(tc.name, func(t *testing.T) {
			kills := 0
			for round := range rounds {
				dir := t.TempDir()
				writeFile(t, dir, "in.csv", marriageCSV(tc.rows, tc.holder, nil))
				finished := false
				for i := 0; i < min(8, budget) && !finished; i++ {
					after := time.Duration(rand.Int64N(int64(400*time.Millisecond))) + 40*time.Millisecond
					if finished = runBatchChild(t, dir, after); !finished {
						kills++
					}
				}
				if !finished {
					runBatchChild(t, dir, 0)
				}
				checkKilledBatch(t, dir, tc.rows, tc.holder)
				if round%10 == 9 {
					t.Logf("round %d: %d kills so far", round+1, kills)
				}
			}
			t.Logf("%d rounds, %d kills", rounds, kills)
		})
	}
}

func checkKilledBatch(t *testing.T, dir string, n int, holder bool) {
	ctx := context.Background()
	d, _ := openKillDept(t, dir)
	defer d.Close()
	bs, err := d.Batches(ctx, 0)
	if err != nil || len(bs) != 1 || bs[0].Committed != n || bs[0].Finished.IsZero() {
		t.Fatalf("batches %+v %v", bs, err)
	}
	f, err := os.Open(filepath.Join(dir, "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := all[1:]
	if len(rows) != n {
		t.Fatalf("%d result rows, want %d", len(rows), n)
	}
	seen := map[string]bool{}
	slots := map[[2]int]bool{}
	for i, r := range rows {
		if r[0] != strconv.Itoa(i+1) || seen[r[1]] {
			t.Fatalf("result row %d is %q (again: %v)", i+1, r[0], seen[r[1]])
		}
		seen[r[1]] = true
		if !holder {
			if _, err := d.RedeemOffer(ctx, r[3], r[2], 5); err != nil {
				t.Fatalf("row %d: the offer's code and PIN: %v", i+1, err)
			}
			continue
		}
		rec, err := d.Record(ctx, r[1])
		if err != nil || rec.BatchID != bs[0].ID || rec.BatchRow != i+1 {
			t.Fatalf("row %d: record %+v %v", i+1, rec, err)
		}
		sl := [2]int{rec.StatusList, rec.StatusIndex}
		if slots[sl] || rec.StatusIndex >= killListSize {
			t.Fatalf("row %d: status entry %v", i+1, sl)
		}
		slots[sl] = true
		var vc struct {
			ID     string `json:"id"`
			Status []struct {
				Index string `json:"statusListIndex"`
				List  string `json:"statusListCredential"`
			} `json:"credentialStatus"`
		}
		if err := json.Unmarshal([]byte(r[3]), &vc); err != nil || vc.ID != "urn:uuid:"+rec.ID || len(vc.Status) != 2 ||
			vc.Status[0].Index != strconv.Itoa(rec.StatusIndex) || vc.Status[0].List != ledger.StatusListURI("civil-affairs", rec.StatusList) {
			t.Fatalf("row %d: credential %+v %v, record %+v", i+1, vc, err, rec)
		}
		if !strings.Contains(r[2], "~") {
			t.Fatalf("row %d: not an SD-JWT", i+1)
		}
	}
	if holder {
		if c, _ := d.CountRecords(ctx); c != n {
			t.Fatalf("%d records, want %d", c, n)
		}
	} else if _, total, _ := d.PendingOffers(ctx, 1); total != 0 { // all redeemed just now
		t.Fatalf("%d offers left pending", total)
	}
}
