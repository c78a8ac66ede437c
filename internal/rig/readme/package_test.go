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
# the tarball as fyne lays it out: <exe>/Makefile, <exe>/usr/local/{bin,share/applications,share/pixmaps}
stage=$(mktemp -d)
mkdir -p "$stage/lianzheng/usr/local/bin" "$stage/lianzheng/usr/local/share/applications" "$stage/lianzheng/usr/local/share/pixmaps"
printf '#!/bin/sh\n' > "$stage/lianzheng/usr/local/bin/lianzheng"
chmod 755 "$stage/lianzheng/usr/local/bin/lianzheng"
printf 'PNG' > "$stage/lianzheng/usr/local/share/pixmaps/cn.gov.demo.lianzheng.png"
# fyne tools v1.7.4's Makefile template, rendered for our app (cmd/fyne/internal/templates/data/Makefile)
{
  printf 'PREFIX ?= /usr/local\n\nAppID := "cn.gov.demo.lianzheng"\nExec := "lianzheng"\nIcon := "cn.gov.demo.lianzheng.png"\n\n'
  printf 'install:\n'
  printf '\tinstall -Dm00644 usr/local/share/applications/$(AppID).desktop $(DESTDIR)$(PREFIX)/share/applications/$(AppID).desktop\n'
  printf '\tinstall -Dm00755 usr/local/bin/$(Exec) $(DESTDIR)$(PREFIX)/bin/$(Exec)\n'
  printf 'uninstall:\n\t-rm $(DESTDIR)$(PREFIX)/bin/$(Exec)\n\n'
  printf 'user-install:\n'
  printf '\tinstall -Dm00644 usr/local/share/applications/$(AppID).desktop $(DESTDIR)$(HOME)/.local/share/applications/$(AppID).desktop\n'
  printf '\tsed -i -e "s,Exec=$(Exec),Exec=$(DESTDIR)$(HOME)/.local/bin/$(Exec),g" $(DESTDIR)$(HOME)/.local/share/applications/$(AppID).desktop\n\n'
  printf 'user-uninstall:\n\t-rm $(DESTDIR)$(HOME)/.local/bin/$(Exec)\n'
} > "$stage/lianzheng/Makefile"
exec_line="Exec=lianzheng"
mime=""
if [ "${FAKE_MODE:-ok}" = canopen ]; then exec_line="Exec=lianzheng %F"; mime="MimeType=text/plain"; fi
{
  printf '[Desktop Entry]\nType=Application\nName=链证通\nGenericName=LianZheng digital credentials\n%s\n' "$exec_line"
  printf 'Icon=cn.gov.demo.lianzheng\nCategories=Office;\nKeywords=credential;wallet;证照;\n'
  if [ -n "$mime" ]; then printf '%s\n\n' "$mime"; fi
  printf 'StartupWMClass=链证通\n\n'
} > "$stage/lianzheng/usr/local/share/applications/cn.gov.demo.lianzheng.desktop"
tar -Jcf 链证通.tar.xz -C "$stage" lianzheng
rm -rf "$stage"
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

// TestPackageDeclaresSchemeHandler: the Linux package's desktop entry makes the app the
// handler of openid4vp:// links (an online service's request opens the consent screen):
// `MimeType=x-scheme-handler/openid4vp;` and `Exec=lianzheng %u`, whether fyne wrote no
// MimeType (our FyneApp.toml) or one from [CanOpen] with %F; the other members are kept and
// the tree is left clean. The stand-in for fyne writes a tarball laid out as fyne's.
func TestPackageDeclaresSchemeHandler(t *testing.T) {
	for _, tool := range []string{"git", "bash", "sed", "tar", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed here", tool)
		}
	}
	src := root(t)
	for _, tc := range []struct{ mode, wantMime string }{
		{"ok", "MimeType=x-scheme-handler/openid4vp;"},
		{"canopen", "MimeType=text/plain;x-scheme-handler/openid4vp;"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(dir, "scripts"), 0o755))
			for _, f := range []string{"scripts/package.sh", "scripts/progress.sh", "FyneApp.toml"} {
				b, err := os.ReadFile(filepath.Join(src, f))
				must(t, err)
				must(t, os.WriteFile(filepath.Join(dir, f), b, 0o755))
			}
			must(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("*.tar.xz\n"), 0o644))
			fake := filepath.Join(t.TempDir(), "fyne.sh")
			must(t, os.WriteFile(fake, []byte(fakeFyne), 0o755))
			gitRun(t, dir, "init", "-q")
			gitRun(t, dir, "add", ".")
			gitRun(t, dir, "commit", "-q", "-m", "scratch")

			cmd := exec.Command("bash", "scripts/package.sh")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "FYNE_CMD=bash "+fake, "FAKE_MODE="+tc.mode)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("package.sh: %v\n%s", err, out)
			}
			list, err := exec.Command("tar", "-tJf", filepath.Join(dir, "链证通.tar.xz")).Output()
			must(t, err)
			for _, m := range []string{"lianzheng/Makefile", "lianzheng/usr/local/bin/lianzheng",
				"lianzheng/usr/local/share/pixmaps/cn.gov.demo.lianzheng.png", "lianzheng/usr/local/share/applications/cn.gov.demo.lianzheng.desktop"} {
				if !strings.Contains(string(list), m+"\n") {
					t.Errorf("the package lacks %s:\n%s", m, list)
				}
			}
			entry, err := exec.Command("tar", "-xJOf", filepath.Join(dir, "链证通.tar.xz"),
				"lianzheng/usr/local/share/applications/cn.gov.demo.lianzheng.desktop").Output()
			must(t, err)
			lines := strings.Split(string(entry), "\n")
			count := func(prefix string) (n int, last string) {
				for _, l := range lines {
					if strings.HasPrefix(l, prefix) {
						n, last = n+1, l
					}
				}
				return
			}
			if n, l := count("Exec="); n != 1 || l != "Exec=lianzheng %u" {
				t.Errorf("Exec lines %d, %q; want one, Exec=lianzheng %%u:\n%s", n, l, entry)
			}
			if n, l := count("MimeType="); n != 1 || l != tc.wantMime {
				t.Errorf("MimeType lines %d, %q; want one, %s:\n%s", n, l, tc.wantMime, entry)
			}
			if lines[0] != "[Desktop Entry]" || strings.Count(string(entry), "[") != 1 || !strings.Contains(string(entry), "Name=链证通\n") ||
				!strings.Contains(string(entry), "Icon=cn.gov.demo.lianzheng\n") {
				t.Errorf("the rest of the entry changed:\n%s", entry)
			}
			// The package's Makefile registers the handler after installing.
			if _, err := exec.LookPath("make"); err == nil {
				unpacked := t.TempDir()
				must(t, exec.Command("tar", "-xJf", filepath.Join(dir, "链证通.tar.xz"), "-C", unpacked).Run())
				for rule, want := range map[string][]string{
					"install":      {"update-desktop-database -q /stage/usr/share/applications"},
					"user-install": {"update-desktop-database -q /stage/home/c/.local/share/applications", `xdg-mime default "cn.gov.demo.lianzheng".desktop x-scheme-handler/openid4vp`},
					"uninstall":    nil,
				} {
					cmd := exec.Command("make", "-n", rule, "DESTDIR=/stage", "PREFIX=/usr", "HOME=/home/c")
					cmd.Dir = filepath.Join(unpacked, "lianzheng")
					out, err := cmd.CombinedOutput()
					if err != nil {
						t.Fatalf("make -n %s: %v\n%s", rule, err, out)
					}
					for _, w := range want {
						if !strings.Contains(string(out), w) {
							t.Errorf("make %s does not run %q:\n%s", rule, w, out)
						}
					}
					if want == nil && strings.Contains(string(out), "update-desktop-database") {
						t.Errorf("make %s registers the handler:\n%s", rule, out)
					}
				}
			}
			if st := gitRun(t, dir, "status", "--porcelain", "--untracked-files=all"); st != "" {
				t.Errorf("git status after packaging:\n%s", st)
			}
		})
	}
}
