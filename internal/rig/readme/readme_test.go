// Package readme holds the tests that keep a newcomer's first hour working: every command line
// README.md shows (in its code blocks and in its command tables) runs as typed on a fresh
// machine, `make package` leaves the tree as it found it, and no file of the repository names
// a package-registry host. It has no production code.
//
// Why: the README once told people to type `go run ./cmd/lz …`, which fails wherever the
// machine's Go defaults to GOTOOLCHAIN=local ("go.mod requires go >= 1.27.3"), and nothing
// noticed. Now each command line is classified and checked:
//
//   - `make T …`: T is a rule of the Makefile and `make -n T` succeeds;
//   - `./bin/lz CMD …`: the README has said `make lz` before it; the test runs `make lz` (as
//     typed, in the repository, with GOTOOLCHAIN unset; bin/ is ignored by git), then
//     `./bin/lz help` must list CMD and `./bin/lz CMD [SUB] -h` must exit 0 (`./bin/lz help`
//     itself is run as typed);
//   - `bash scripts/x.sh`, `scripts/x.sh`, `./scripts/x.sh`: the script exists, is executable
//     and parses (`bash -n`);
//   - `go …` is refused (it needs the right toolchain already on PATH); anything else is
//     refused until this test learns how to check it.
//
// The registry check keeps the build honest about where code comes from: Go's default module
// proxy setting already serves modules, apt its own sources; a host written into the Makefile
// or a script overrides the machine's own (possibly mirrored or air-gapped) configuration.
package readme

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// root is the repository root: the nearest directory above the test's with a go.mod.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = up
	}
}

// A command is one command line shown in the README, with where it was shown.
type command struct {
	line  string // as shown, without prompt or trailing comment
	where string // "README.md:12"
}

var (
	fence      = regexp.MustCompile("^\\s*```\\s*([A-Za-z0-9_-]*)")
	tableCell  = regexp.MustCompile("^`([^`]+)`$")
	shellFence = map[string]bool{"": true, "sh": true, "bash": true, "shell": true, "console": true}
)

// commands extracts every command line from a README: each line of a shell code block (a
// `$ ` prompt and a trailing `# comment` removed) and the first cell of each row of a table
// whose first header cell is "command" or "命令". A command-table row whose first cell is not
// a single code span is an error: the table promises a command there.
func commands(name string, text []byte) ([]command, error) {
	var (
		out      []command
		inFence  bool
		shell    bool
		cmdTable bool
		inTable  bool
		errs     []error
	)
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		where := name + ":" + strconv.Itoa(n)
		if m := fence.FindStringSubmatch(line); m != nil {
			if inFence {
				inFence = false
			} else {
				inFence, shell = true, shellFence[strings.ToLower(m[1])]
			}
			continue
		}
		if inFence {
			if !shell {
				continue
			}
			l := strings.TrimSpace(line)
			l = strings.TrimPrefix(l, "$ ")
			if i := strings.Index(l, " #"); i >= 0 {
				l = l[:i]
			}
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, command{l, where})
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		if !strings.HasPrefix(trimmed, "|") {
			inTable, cmdTable = false, false
			continue
		}
		cells := strings.Split(strings.Trim(trimmed, "|"), "|")
		first := strings.TrimSpace(cells[0])
		if !inTable { // the header row
			inTable = true
			cmdTable = strings.EqualFold(first, "command") || first == "命令"
			continue
		}
		if !cmdTable || strings.Trim(first, "-: ") == "" { // not a command table, or the --- row
			continue
		}
		m := tableCell.FindStringSubmatch(first)
		if m == nil {
			errs = append(errs, errors.New(where+": command table row without one `command`: "+first))
			continue
		}
		out = append(out, command{strings.TrimSpace(m[1]), where})
	}
	return out, errors.Join(errs...)
}

// makeTargets are the rules a Makefile defines (`name:` at the start of a line, not `:=`).
func makeTargets(mk []byte) map[string]bool {
	rule := regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+(?:[ \t]+[A-Za-z0-9_.-]+)*)[ \t]*:([^=]|$)`)
	out := map[string]bool{}
	for _, m := range rule.FindAllSubmatch(mk, -1) {
		for _, t := range strings.Fields(string(m[1])) {
			out[t] = true
		}
	}
	return out
}

// placeholder reports whether a word stands for something the reader fills in (DIR, <file>).
func placeholder(w string) bool {
	if strings.HasPrefix(w, "<") || strings.HasPrefix(w, "-") {
		return true
	}
	return strings.ToUpper(w) == w && strings.ToLower(w) != w
}

func TestReadmeOpensWithRunAndTest(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := commands("README.md", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) < 2 || cmds[0].line != "make run" || cmds[1].line != "make test" {
		t.Fatalf("README.md must open with `make run` and `make test`; its first commands are %v", cmds[:min(2, len(cmds))])
	}
}

// TestCommandsExtracted pins the extractor on a sample, so that a README check that finds
// nothing cannot pass by accident.
func TestCommandsExtracted(t *testing.T) {
	sample := "# x\n\n```sh\n$ make run    # launch\n# a comment\nmake test\n```\n\n```json\n{\"a\": 1}\n```\n\n" +
		"| command | what |\n|---|---|\n| `make lz` | builds |\n| `./bin/lz demo --out DIR` | demo |\n\n" +
		"| file | what |\n|---|---|\n| `docs/app.md` | not a command |\n"
	got, err := commands("S", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, c.line)
	}
	want := "make run|make test|make lz|./bin/lz demo --out DIR"
	if strings.Join(lines, "|") != want {
		t.Fatalf("extracted %q, want %q", strings.Join(lines, "|"), want)
	}
	if _, err := commands("S", []byte("| command | what |\n|---|---|\n| make lz | no code span |\n")); err == nil {
		t.Fatal("a command-table row without a code span was accepted")
	}
	mk := makeTargets([]byte("export A := b\nB ?= c\n.PHONY: x\nall: test\nrun lz: deps\n\t@echo x: y\nclean:\n"))
	for _, want := range []string{"all", "run", "lz", "clean"} {
		if !mk[want] {
			t.Errorf("makeTargets missed %q: %v", want, mk)
		}
	}
	if mk["export"] || mk["A"] || mk["B"] {
		t.Errorf("makeTargets took an assignment for a rule: %v", mk)
	}
}

// TestReadmeCommandsRunAsTyped: every command line of README.md, checked as described in the
// package comment.
func TestReadmeCommandsRunAsTyped(t *testing.T) {
	dir := root(t)
	text, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := commands("README.md", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) < 4 {
		t.Fatalf("found only %d command lines in README.md: %v", len(cmds), cmds)
	}
	mkText, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := makeTargets(mkText)
	makeBin, makeErr := exec.LookPath("make")

	var (
		builtLz  bool // `make lz` shown so far
		lzOnce   sync.Once
		lzHelp   string
		lzFailed bool
	)
	buildLz := func(t *testing.T) {
		lzOnce.Do(func() {
			cmd := exec.Command(makeBin, "lz")
			cmd.Dir = dir
			cmd.Env = freshEnv() // as on a machine whose Go defaults to GOTOOLCHAIN=local
			if out, err := cmd.CombinedOutput(); err != nil {
				lzFailed = true
				t.Errorf("make lz: %v\n%s", err, out)
				return
			}
			cmd = exec.Command(filepath.Join(dir, "bin", "lz"), "help")
			out, err := cmd.CombinedOutput()
			if err != nil {
				lzFailed = true
				t.Errorf("./bin/lz help: %v\n%s", err, out)
				return
			}
			lzHelp = string(out)
		})
	}

	for _, c := range cmds {
		for _, part := range strings.Split(c.line, "&&") {
			words := strings.Fields(part)
			if len(words) == 0 {
				continue
			}
			t.Run(strings.Join(words, "_"), func(t *testing.T) {
				switch {
				case words[0] == "make":
					if makeErr != nil {
						t.Skip("make is not installed here; the README's first command needs it")
					}
					for _, w := range words[1:] {
						if strings.Contains(w, "=") || strings.HasPrefix(w, "-") {
							continue
						}
						if !targets[w] {
							t.Fatalf("%s: `%s`: the Makefile has no target %q", c.where, c.line, w)
						}
						cmd := exec.Command(makeBin, "-n", w)
						cmd.Dir = dir
						if out, err := cmd.CombinedOutput(); err != nil {
							t.Fatalf("%s: make -n %s: %v\n%s", c.where, w, err, out)
						}
						if w == "lz" {
							builtLz = true
						}
					}
				case words[0] == "./bin/lz":
					if !builtLz {
						t.Fatalf("%s: `%s` before the README has said `make lz`", c.where, c.line)
					}
					if makeErr != nil {
						t.Skip("make is not installed here")
					}
					buildLz(t)
					if lzFailed {
						t.FailNow()
					}
					var sub []string
					for _, w := range words[1:] {
						if placeholder(w) {
							break
						}
						sub = append(sub, w)
					}
					args := append(sub, "-h")
					if len(sub) > 0 && sub[0] == "help" {
						args = words[1:] // `./bin/lz help` runs as typed
					} else if len(sub) == 0 {
						t.Fatalf("%s: `%s` names no lz command", c.where, c.line)
					} else if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(sub[0]) + `\s`).MatchString(lzHelp) {
						t.Fatalf("%s: `./bin/lz help` does not list %q:\n%s", c.where, sub[0], lzHelp)
					}
					cmd := exec.Command(filepath.Join(dir, "bin", "lz"), args...)
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("%s: ./bin/lz %s: %v\n%s", c.where, strings.Join(args, " "), err, out)
					}
				case words[0] == "bash" && len(words) > 1, strings.HasPrefix(words[0], "scripts/"), strings.HasPrefix(words[0], "./scripts/"):
					script := words[0]
					if script == "bash" {
						script = words[1]
					}
					checkScript(t, dir, c, script)
				case words[0] == "go":
					t.Fatalf("%s: `%s`: a `go` command fails where the machine's Go defaults to GOTOOLCHAIN=local and is older than go.mod asks; give a make target or ./bin/lz", c.where, c.line)
				default:
					t.Fatalf("%s: `%s`: this test does not know how to check a %q command; teach it, or give a make target", c.where, c.line, words[0])
				}
			})
		}
	}
}

// freshEnv is the test's environment without GOTOOLCHAIN, so that `make lz` must bring its own
// (a machine's Go may default to GOTOOLCHAIN=local and be older than go.mod asks).
func freshEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOTOOLCHAIN=") {
			env = append(env, kv)
		}
	}
	return env
}

// checkScript: the script exists, is executable and parses.
func checkScript(t *testing.T, dir string, c command, script string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(script, "./")))
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("%s: `%s`: %v", c.where, c.line, err)
	}
	if fi.Mode()&0o111 == 0 {
		t.Fatalf("%s: `%s`: %s is not executable", c.where, c.line, script)
	}
	if strings.HasSuffix(p, ".sh") {
		if out, err := exec.Command("bash", "-n", p).CombinedOutput(); err != nil {
			t.Fatalf("%s: bash -n %s: %v\n%s", c.where, script, err, out)
		}
	}
}
