package readme

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeFyne behaves like `fyne package -os linux` (fyne.io/tools v1.7.4) towards the source
// tree: it writes fyne_metadata_init.go while it builds, writes the package, and after a
// successful run increments Build in FyneApp.toml. FAKE_MODE=fail stops half-way (Build
// already bumped, the metadata file left behind); FAKE_MODE=stray also leaves a new file.
const fakeFyne = `#!/usr/bin/env bash
set -eu
[ "$1 $2 $3" = "package -os linux" ] || { echo "fake fyne: unexpected args $*" >&2; exit 2; }
echo 'package main' > fyne_metadata_init.go
if [ "${FAKE_MODE:-ok}" = fail ]; then
  sed -i 's/^Build = .*/Build = 99/' FyneApp.toml
  exit 1
fi
rm fyne_metadata_init.go
printf 'package' > 链证通.tar.xz
if [ "${FAKE_MODE:-ok}" = stray ]; then echo x > stray-build-file; fi
b=$(sed -n 's/^Build = //p' FyneApp.toml)
sed -i "s/^Build = .*/Build = $((b + 1))/" FyneApp.toml
`

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.invalid", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestPackageLeavesTreeClean runs scripts/package.sh in a scratch git repository with a
// stand-in for fyne that changes FyneApp.toml the way the real one does. Before the script,
// `make package` ran fyne directly and every run left FyneApp.toml modified (Build = 2, 3, …).
func TestPackageLeavesTreeClean(t *testing.T) {
	for _, tool := range []string{"git", "bash", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed here", tool)
		}
	}
	src := root(t)
	toml, err := os.ReadFile(filepath.Join(src, "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		mode    string
		wantErr bool
		note    string
	}{
		{"ok", false, "a good run leaves FyneApp.toml as committed"},
		{"fail", true, "a failed run still restores FyneApp.toml and removes the metadata file"},
		{"stray", true, "a run that leaves a new file in the tree fails"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"scripts/package.sh", "scripts/progress.sh"} {
				b, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			must(t, os.WriteFile(filepath.Join(dir, "FyneApp.toml"), toml, 0o644))
			must(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("*.tar.xz\n"), 0o644))
			fake := filepath.Join(t.TempDir(), "fyne.sh")
			must(t, os.WriteFile(fake, []byte(fakeFyne), 0o755))
			gitRun(t, dir, "init", "-q")
			gitRun(t, dir, "add", ".")
			gitRun(t, dir, "commit", "-q", "-m", "scratch")

			cmd := exec.Command("bash", "scripts/package.sh")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "FYNE_CMD=bash "+fake, "FAKE_MODE="+tc.mode)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s: package.sh error = %v, want error %v\n%s", tc.note, err, tc.wantErr, out)
			}
			got, err := os.ReadFile(filepath.Join(dir, "FyneApp.toml"))
			must(t, err)
			if string(got) != string(toml) {
				t.Errorf("%s: FyneApp.toml changed:\n%s", tc.note, got)
			}
			if _, err := os.Stat(filepath.Join(dir, "fyne_metadata_init.go")); err == nil {
				t.Errorf("%s: fyne_metadata_init.go left in the tree", tc.note)
			}
			status := gitRun(t, dir, "status", "--porcelain", "--untracked-files=all")
			want := ""
			if tc.mode == "stray" {
				want = "?? stray-build-file\n"
				if !strings.Contains(string(out), "stray-build-file") {
					t.Errorf("the failure does not name the stray file:\n%s", out)
				}
			}
			if status != want {
				t.Errorf("%s: git status after packaging:\n%s", tc.note, status)
			}
		})
	}
}

// TestMakePackageUsesTheScript: `make package` goes through scripts/package.sh (the script
// above), not straight to fyne.
func TestMakePackageUsesTheScript(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed here")
	}
	cmd := exec.Command(makeBin, "-n", "package")
	cmd.Dir = root(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n package: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "scripts/package.sh") {
		t.Fatalf("make package does not run scripts/package.sh:\n%s", out)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
