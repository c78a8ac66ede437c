package wallet

import (
	"bufio"
	"fmt"
	"lianzheng/credential"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashEnv = "LZ_WALLET_CRASH_WRITER"

// TestCrashWriter is the subprocess of TestCrashConsistency: it writes credentials in a
// loop and acknowledges each on stdout after PutCredential returned (committed, fsynced).
func TestCrashWriter(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("subprocess of TestCrashConsistency")
	}
	s, err := OpenStore(dir)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	start, _ := strconv.Atoi(os.Getenv(crashEnv + "_START"))
	pad := strings.Repeat("~WyJzYWx0IiwibmFtZSIsInZhbHVlIl0", 40) // a realistic ~1.3 KB SD-JWT
	for i := start; ; i++ {
		id := fmt.Sprintf("c%06d", i)
		c := &Credential{ID: id, SDJWT: "eyJ.eyJ.sig" + pad, Type: "household-register", Received: time.Now()}
		if err := s.PutCredential(c); err != nil {
			fmt.Println("ERR", err)
			os.Exit(3)
		}
		fmt.Println("ACK", id)
	}
}

// TestCrashConsistency SIGKILLs a writer at random moments, 20 times; after each kill the
// store opens and every acknowledged credential is present and intact.
func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("20 subprocess kills")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	next := 0
	for round := range 20 {
		cmd := exec.Command(exe, "-test.run=^TestCrashWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, crashEnv+"_START="+strconv.Itoa(next))
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killAt := time.Now().Add(time.Duration(30+rand.IntN(250)) * time.Millisecond)
		killed := false
		for sc.Scan() {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "ACK "); ok {
				acked[id] = true
				n, _ := strconv.Atoi(id[1:])
				next = max(next, n+1)
			} else if strings.HasPrefix(line, "ERR") {
				t.Fatalf("round %d: writer: %s", round, line)
			}
			if !killed && time.Now().After(killAt) {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		cmd.Wait()
		s, err := OpenStore(dir)
		if err != nil {
			t.Fatalf("round %d: store does not open after SIGKILL: %v", round, err)
		}
		cs, err := s.Credentials()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		have := map[string]bool{}
		for _, c := range cs {
			if !strings.HasPrefix(c.SDJWT, "eyJ.eyJ.sig~") {
				t.Fatalf("round %d: credential %s damaged", round, c.ID)
			}
			have[c.ID] = true
		}
		for id := range acked {
			if !have[id] {
				t.Fatalf("round %d: acknowledged credential %s lost", round, id)
			}
		}
		s.Close()
		next += 1000 // a write in flight at the kill may or may not have committed
	}
	if len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged", len(acked))
	}
	t.Logf("%d acknowledged writes over 20 SIGKILLs, none lost", len(acked))
}

// TestPortalRefusal: the app reads a refused online answer's reason through PortalRefusal,
// whatever the stored words.
func TestPortalRefusal(t *testing.T) {
	for _, c := range []struct {
		result string
		code   credential.Code
		ok     bool
	}{
		{historyRefusedPrefix + string(credential.CodeExpired), credential.CodeExpired, true},
		{HistoryPresented, "", false},
		{HistoryNoAnswer, "", false},
		{"accepted", "", false},
	} {
		code, ok := HistoryEntry{Mode: HistoryModeOnline, Result: c.result}.PortalRefusal()
		if code != c.code || ok != c.ok {
			t.Errorf("%q: PortalRefusal() = %q, %v; want %q, %v", c.result, code, ok, c.code, c.ok)
		}
	}
}
