package readme

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// host joins labels with dots, so that this file never names the hosts it looks for.
func host(labels ...string) string { return strings.Join(labels, ".") }

// registryHosts are package registries and their well-known mirrors. Naming one in the repo
// (the Makefile once exported GOPROXY with the first) overrides the machine's own setting.
var registryHosts = []string{
	host("proxy", "golang", "org"), host("sum", "golang", "org"), host("goproxy", "cn"), host("goproxy", "io"),
	host("mirrors", "aliyun", "com"), host("mirrors", "tuna", "tsinghua", "edu", "cn"), host("mirrors", "ustc", "edu", "cn"),
	host("registry", "npmjs", "org"), host("registry", "yarnpkg", "com"), host("registry", "npmmirror", "com"),
	host("deb", "debian", "org"), host("security", "debian", "org"), host("ftp", "debian", "org"),
	host("archive", "ubuntu", "com"), host("security", "ubuntu", "com"), host("dl-cdn", "alpinelinux", "org"),
	host("pypi", "org"), host("files", "pythonhosted", "org"), host("pypi", "tuna", "tsinghua", "edu", "cn"),
	host("crates", "io"), host("static", "crates", "io"), host("index", "crates", "io"),
	host("repo", "maven", "apache", "org"), host("repo1", "maven", "org"), host("rubygems", "org"),
	host("registry-1", "docker", "io"),
}

// repoFiles lists the repository's files: git's tracked and untracked-but-not-ignored files
// when git is there, else every file under the root outside .git, bin and .lz.
func repoFiles(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := exec.LookPath("git"); err == nil {
		cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
		cmd.Dir = dir
		if out, err := cmd.Output(); err == nil {
			var files []string
			for _, f := range strings.Split(string(out), "\x00") {
				if f != "" {
					files = append(files, f)
				}
			}
			return files
		}
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && (rel == ".git" || rel == "bin" || rel == ".lz") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestNoRegistryHost: no file of the repository names a package-registry host.
func TestNoRegistryHost(t *testing.T) {
	dir := root(t)
	files := repoFiles(t, dir)
	if len(files) < 50 {
		t.Fatalf("found only %d files under %s", len(files), dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			if os.IsNotExist(err) { // deleted in the worktree, not yet committed
				continue
			}
			t.Fatal(err)
		}
		b = bytes.ToLower(b)
		for _, h := range registryHosts {
			if i := bytes.Index(b, []byte(h)); i >= 0 {
				line := 1 + bytes.Count(b[:i], []byte("\n"))
				t.Errorf("%s:%d names the package registry %s; leave the choice of registry or mirror to the machine (Go's default module proxy setting already serves)", f, line, h)
			}
		}
	}
}

// TestHostCheckFindsTheMakefileLine: the check finds the line the Makefile used to have.
func TestHostCheckFindsTheMakefileLine(t *testing.T) {
	old := []byte("export GOPROXY ?= https://" + host("proxy", "golang", "org") + ",direct\n")
	found := false
	for _, h := range registryHosts {
		found = found || bytes.Contains(bytes.ToLower(old), []byte(h))
	}
	if !found {
		t.Fatal("the old Makefile's GOPROXY line passes the registry check")
	}
}
