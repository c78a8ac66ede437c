package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// probeEnv makes the test binary exit at once (TestMain): Fyne's lang package has read the
// locale in its initialisation by then, so its stderr shows whether Fyne complained about it.
const probeEnv = "LZ_LOCALE_PROBE"

// TestMakeRunLaunchesWithoutLocaleError: `make run` on a fresh machine (no LANG, so the
// Makefile's C.UTF-8) once printed "Fyne error: Error parsing user locale C" at every start:
// Fyne reads the locale before main runs, where the app cannot correct it. The launch line of
// `make run` is run as make would run it (the binary replaced by this test binary, which exits
// as soon as Fyne has initialised) and must leave stderr free of Fyne errors; the same binary
// started without that line's environment shows the error, so the check can fail.
func TestMakeRunLaunchesWithoutLocaleError(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed here")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(makeBin, "-n", "run")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	var launch string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasSuffix(strings.TrimSpace(l), "./bin/lianzheng") {
			launch = strings.TrimSpace(l)
		}
	}
	if launch == "" {
		t.Fatalf("make -n run shows no line launching ./bin/lianzheng:\n%s", out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func(line string) string {
		t.Helper()
		c := exec.Command("/bin/sh", "-c", line)
		c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8", probeEnv + "=1"}
		var stderr bytes.Buffer
		c.Stderr = &stderr
		if err := c.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, stderr.String())
		}
		return stderr.String()
	}
	quoted := "'" + strings.ReplaceAll(self, "'", `'\''`) + "'"
	if got := run(strings.TrimSuffix(launch, "./bin/lianzheng") + quoted); strings.Contains(got, "Fyne error") {
		t.Errorf("`%s` with LANG=C.UTF-8: Fyne logs an error at start:\n%s", launch, got)
	}
	if got := run(quoted); !strings.Contains(got, "Error parsing user locale") {
		t.Errorf("control: the binary started with LANG=C.UTF-8 alone logged no locale error, so this test cannot tell:\n%q", got)
	}
}
