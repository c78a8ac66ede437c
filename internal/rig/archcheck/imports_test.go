// Package archcheck holds the tests that keep the tree the design: DESIGN §2's import rules,
// checked over `go list -json`, so that they can no longer drift; the picture in
// docs/architecture.md checked against the tree; and no file reading outside the repository.
// It has no production code.
package archcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const module = "lianzheng"

// rule says which of our packages a package (matched by pattern) may import directly.
// Patterns: "x" is the package x; "x/..." is x and everything below it.
type rule struct {
	pkg   string
	may   []string
	phone bool // linked into a citizen's phone: no validator code, no GUI, in the full deps
}

// utilities are the bottom-layer helpers under internal/ that any package may import.
var utilities = []string{"internal/strictjson", "internal/edkey", "internal/bilingual", "internal/testvectors", "internal/benchfloor", "internal/keystore", "internal/ratelimit", "internal/democitizen"}

var rules = []rule{
	{pkg: "assets", may: []string{"internal/bilingual"}},
	{pkg: "internal/bilingual", may: nil},
	{pkg: "qr", may: nil},
	{pkg: "internal/strictjson", may: nil},
	{pkg: "internal/edkey", may: nil},
	{pkg: "internal/testvectors", may: nil},
	{pkg: "internal/benchfloor", may: nil},
	{pkg: "internal/keystore", may: nil},
	{pkg: "internal/ratelimit", may: nil},
	{pkg: "internal/democitizen", may: nil},
	{pkg: "did", may: utilities, phone: true},
	{pkg: "credential/...", may: append([]string{"did", "credential/..."}, utilities...), phone: true},
	// The protocol home frames its messages with qr (a bottom layer that imports nothing of ours).
	{pkg: "credential/wire", may: append([]string{"did", "credential/...", "qr"}, utilities...), phone: true},
	{pkg: "ledger", may: append([]string{"did"}, utilities...), phone: true},
	{pkg: "ledger/chain", may: append([]string{"did", "ledger"}, utilities...)},
	{pkg: "ledger/node", may: append([]string{"did", "ledger", "ledger/chain"}, utilities...)},
	{pkg: "ledgerclient", may: append([]string{"did", "ledger"}, utilities...), phone: true},
	{pkg: "wallet", may: append([]string{"credential/...", "did", "qr", "ledger", "ledgerclient"}, utilities...), phone: true},
	{pkg: "verifier", may: append([]string{"credential/...", "did", "qr", "ledger", "ledgerclient"}, utilities...), phone: true},
	// issuer may render its offer QR with qr (a bottom layer that imports nothing of ours).
	{pkg: "issuer/...", may: append([]string{"issuer/...", "credential/...", "did", "qr", "ledger", "ledgerclient", "assets"}, utilities...), phone: true},
	{pkg: "gateway", may: append([]string{"credential/...", "did", "ledger", "ledgerclient"}, utilities...), phone: true},
	// The online-service portal: thin HTTP handlers over the verifier core.
	{pkg: "portal", may: append([]string{"verifier", "credential/...", "did", "qr", "ledger", "ledgerclient"}, utilities...), phone: true},
	{pkg: "home/...", may: []string{"home/...", "gateway", "portal", "wallet", "verifier", "issuer/...", "credential/...", "did", "qr", "ledger/...", "ledgerclient", "assets", "internal/..."}},
	{pkg: "internal/rig/...", may: []string{"home/...", "gateway", "portal", "wallet", "verifier", "issuer/...", "credential/...", "did", "qr", "ledger/...", "ledgerclient", "assets", "internal/..."}},
	{pkg: "cmd/...", may: []string{"home/...", "gateway", "portal", "wallet", "verifier", "issuer/...", "credential/...", "did", "qr", "ledger/...", "ledgerclient", "assets", "internal/..."}},
	{pkg: "app/...", may: []string{"app/...", "home/...", "wallet", "verifier", "issuer/...", "credential/...", "did", "qr", "ledger", "ledgerclient", "assets", "internal/strictjson", "internal/bilingual", "internal/keystore", "internal/benchfloor", "internal/testvectors"}},
	{pkg: "", may: []string{"app/...", "assets"}}, // main.go: the GUI entry point
}

// forbiddenOnPhone are the parts of CometBFT that only validators run.
var forbiddenOnPhone = regexp.MustCompile(`^github\.com/cometbft/cometbft/(node|p2p|consensus|mempool|privval|blocksync|statesync|rpc|light|proxy|state|store|evidence)(/|$)|^fyne\.io/`)

type pkgInfo struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func match(pattern, rel string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == p || strings.HasPrefix(rel, p+"/")
	}
	return rel == pattern
}

func ruleFor(rel string) (rule, bool) {
	best, found := rule{}, false
	for _, r := range rules {
		if match(r.pkg, rel) && (!found || len(r.pkg) > len(best.pkg)) {
			best, found = r, true
		}
	}
	return best, found
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatal("no go.mod above the test")
		}
	}
}

func listPackages(t *testing.T, root string) []pkgInfo {
	t.Helper()
	goCmd := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd = "go"
	}
	cmd := exec.Command(goCmd, "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkgInfo
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(importPath string) (string, bool) {
	if importPath == module {
		return "", true
	}
	r, ok := strings.CutPrefix(importPath, module+"/")
	return r, ok
}

// TestImportRules: every package of the module imports only what DESIGN §2 allows, and the
// packages a phone carries link no validator code and no GUI.
func TestImportRules(t *testing.T) {
	root := moduleRoot(t)
	for _, p := range listPackages(t, root) {
		self, _ := rel(p.ImportPath)
		r, ok := ruleFor(self)
		if !ok {
			t.Errorf("%s: no import rule (add it to rules and to docs/architecture.md)", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			other, ours := rel(imp)
			if !ours {
				continue
			}
			allowed := false
			for _, m := range r.may {
				if match(m, other) {
					allowed = true
					break
				}
			}
			if !allowed {
				t.Errorf("%s imports %s: not allowed by DESIGN §2 (may import %v)", p.ImportPath, imp, r.may)
			}
		}
		if r.phone {
			var bad []string
			for _, d := range p.Deps {
				if forbiddenOnPhone.MatchString(d) {
					bad = append(bad, d)
				}
			}
			if len(bad) > 0 {
				sort.Strings(bad)
				t.Errorf("%s links validator or GUI code (a phone must not carry it): %s", p.ImportPath, strings.Join(bad, ", "))
			}
		}
	}
}

// TestDiagramShowsTheTree: the Mermaid picture in docs/architecture.md shows every package of
// the module (rigs included), and every arrow it draws is a real import, so the picture cannot
// silently fall behind the tree or show a dependency that does not exist.
func TestDiagramShowsTheTree(t *testing.T) {
	root := moduleRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```mermaid\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/architecture.md has no mermaid block")
	}
	labels := map[string]string{} // node id -> package path
	node := regexp.MustCompile(`(\w+)\["([^"]+)"\]`)
	for _, m := range node.FindAllStringSubmatch(block, -1) {
		labels[m[1]] = m[2]
	}
	pkgs := listPackages(t, root)
	imports := map[string]map[string]bool{}
	for _, p := range pkgs {
		self, _ := rel(p.ImportPath)
		imports[self] = map[string]bool{}
		for _, imp := range p.Imports {
			if o, ours := rel(imp); ours {
				imports[self][o] = true
			}
		}
	}
	shown := map[string]bool{}
	for _, l := range labels {
		shown[l] = true
	}
	for self := range imports {
		if self != "" && !shown[self] {
			t.Errorf("docs/architecture.md's picture does not show package %q", self)
		}
	}
	// Edges: "a --> b & c --> d" chains; each arrow must be a direct import.
	for _, line := range strings.Split(block, "\n") {
		if !strings.Contains(line, "-->") {
			continue
		}
		steps := strings.Split(line, "-->")
		for i := 0; i+1 < len(steps); i++ {
			for _, from := range strings.Split(steps[i], "&") {
				for _, to := range strings.Split(steps[i+1], "&") {
					f, tt := strings.TrimSpace(from), strings.TrimSpace(to)
					fp, ok1 := labels[f]
					tp, ok2 := labels[tt]
					if !ok1 || !ok2 {
						t.Errorf("arrow %s --> %s names an unknown node", f, tt)
						continue
					}
					if fp == "(main.go)" {
						fp = ""
					}
					if !imports[fp][tp] {
						t.Errorf("arrow %s --> %s: %q does not import %q", f, tt, fp, tp)
					}
				}
			}
		}
	}
}

// TestNothingReadsOutsideTheRepository: a clone of the repository alone must pass `make test`,
// so no file of the module names the sibling ../shared folder.
func TestNothingReadsOutsideTheRepository(t *testing.T) {
	root := moduleRoot(t)
	bad := regexp.MustCompile(`\.\./shared|shared/vectors`)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".sh", ".mk", ".js", ".mjs":
		default:
			if d.Name() != "Makefile" {
				return nil
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			if bad.Match(sc.Bytes()) && !strings.HasSuffix(path, "imports_test.go") {
				r, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d reads outside the repository: %s", r, n, strings.TrimSpace(sc.Text()))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
