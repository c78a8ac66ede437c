package keystore

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// killKDF costs enough that a kill can land in the middle of the derivation.
var killKDF = &KDFParams{Time: 1, Memory: 32 * 1024, Threads: 1}

// killIterations bounds the kill -9 test in `make test`; scripts/soak-keystore.sh runs more.
func killIterations() int {
	if n, err := strconv.Atoi(os.Getenv("LZ_KILL_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return 14 // more than MaxAttempts (10): the old code locked the wallet for good
}

// TestUnlockChild is the child process of the kill tests: it opens the store and unlocks
// (or, with LZ_KEYSTORE_CHILD_OP=verify, verifies the PIN).
func TestUnlockChild(t *testing.T) {
	dir := os.Getenv("LZ_KEYSTORE_CHILD_DIR")
	if dir == "" {
		t.Skip("child process of TestUnlockSurvivesKills")
	}
	ks, err := Open(dir, &Options{FreeAttempts: 1000, MaxAttempts: 1000})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	fmt.Println("ready") // the parent kills at a random point after this line
	try := ks.Unlock
	if os.Getenv("LZ_KEYSTORE_CHILD_OP") == "verify" {
		try = ks.Verify
	}
	if err := try(os.Getenv("LZ_KEYSTORE_CHILD_PIN")); err != nil {
		fmt.Println("unlock:", err)
		os.Exit(4)
	}
	os.Exit(0)
}

// runChild starts an unlock in a child process and SIGKILLs it `after` the child said it is
// about to unlock (or lets it finish when after is 0). It reports whether the child's unlock
// returned before the kill.
func runChild(t *testing.T, op, dir, pin string, after time.Duration) (finished bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnlockChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LZ_KEYSTORE_CHILD_DIR="+dir, "LZ_KEYSTORE_CHILD_PIN="+pin, "LZ_KEYSTORE_CHILD_OP="+op)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	done := make(chan error, 1)
	go func() {
		<-ready
		done <- cmd.Wait()
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child did not start")
	}
	if after > 0 {
		select {
		case err := <-done:
			return err == nil || exitCode(err) == 4
		case <-time.After(after):
			_ = cmd.Process.Kill()
			err := <-done
			return err == nil || exitCode(err) == 4
		}
	}
	err = <-done
	return err == nil || exitCode(err) == 4
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// unlockCost measures one key derivation with the store's parameters.
func unlockCost() time.Duration {
	p := *killKDF
	p.Salt = make([]byte, 16)
	start := time.Now()
	derive("123456", p)
	return time.Since(start)
}

// TestUnlockSurvivesKills: unlocks killed at random points (kill -9, as a phone OS does to an
// app in the background) never lock the wallet, however many there are: only a PIN judged
// wrong counts. The right PIN works afterwards, with no failure recorded. The same holds
// for Verify.
func TestUnlockSurvivesKills(t *testing.T) {
	for _, op := range attemptOps {
		t.Run(op.name, func(t *testing.T) { testSurvivesKills(t, op.name) })
	}
}

func testSurvivesKills(t *testing.T, op string) {
	dir := t.TempDir()
	ks, err := Init(dir, "123456", &Options{KDF: killKDF})
	if err != nil {
		t.Fatal(err)
	}
	ks.Close()
	cost := unlockCost()
	for range killIterations() {
		after := time.Duration(rand.Int64N(int64(cost))) + time.Millisecond // mid-derivation
		runChild(t, op, dir, "123456", after)
	}
	ks, err = Open(dir, nil) // production limits: 10 attempts
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if f, wait, out := ks.Status(); f != 0 || wait != 0 || out {
		t.Fatalf("after %d killed unlocks: failures %d, wait %v, locked out %v", killIterations(), f, wait, out)
	}
	if err := ks.Unlock("123456"); err != nil {
		t.Fatalf("right PIN after killed unlocks: %v", err)
	}
}

// TestWrongGuessesCountedDespiteKills: a wrong PIN whose unlock finished is always counted
// (killing the process afterwards erases nothing), and one killed before its outcome is
// known is not — by Unlock and by Verify.
func TestWrongGuessesCountedDespiteKills(t *testing.T) {
	for _, op := range attemptOps {
		t.Run(op.name, func(t *testing.T) { testWrongCounted(t, op.name) })
	}
}

func testWrongCounted(t *testing.T, op string) {
	dir := t.TempDir()
	ks, err := Init(dir, "123456", &Options{KDF: killKDF})
	if err != nil {
		t.Fatal(err)
	}
	ks.Close()
	cost := unlockCost()
	started, finished := 0, 0
	for range killIterations() {
		after := time.Duration(rand.Int64N(int64(cost)*3)) + time.Millisecond // before or after judging
		started++
		if runChild(t, op, dir, "000000", after) {
			finished++
		}
	}
	ks, err = Open(dir, &Options{FreeAttempts: 1000, MaxAttempts: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	f, _, _ := ks.Status()
	if f < finished || f > started {
		t.Fatalf("failures %d: want between %d judged and %d started", f, finished, started)
	}
	t.Logf("%d wrong attempts started, %d judged before the kill, %d counted", started, finished, f)
}
