//go:build unix

package home

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLinkSocket: a link handed by a second copy of the app reaches the running one; junk is
// refused and not delivered; with no app running the sender is told so (ErrNoApp); a stale
// socket is replaced; the socket is private (0600) and removed on Close; a socket open to
// others is not trusted.
func TestLinkSocket(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	link := "openid4vp://?client_id=decentralized_identifier%3Adid%3Alz%3Arealestate-portal&request_uri=https%3A%2F%2Fportal.example%2Fr"
	if err := SendLink(ctx, dir, link); !errors.Is(err, ErrNoApp) {
		t.Fatalf("no app: %v", err)
	}
	// a socket a killed app left behind
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, LinkSocket), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	if err := os.Chmod(filepath.Join(dir, LinkSocket), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SendLink(ctx, dir, link); !errors.Is(err, ErrNoApp) {
		t.Fatalf("stale socket: %v", err)
	}

	got := make(chan string, 4)
	l, err := ListenLinks(dir, func(s string) { got <- s })
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dir, LinkSocket))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", err, fi)
	}
	if err := SendLink(ctx, dir, link); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != link {
			t.Fatalf("delivered %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the link was not delivered")
	}
	for _, junk := range []string{"https://portal.example/", "openid4vp://?" + strings.Repeat("a", MaxLinkLength)} {
		if err := SendLink(ctx, dir, junk); !errors.Is(err, ErrLinkRefused) {
			t.Errorf("junk %.30q: %v", junk, err)
		}
	}
	// a raw client sending junk past the sender's own check
	conn, err := net.Dial("unix", filepath.Join(dir, LinkSocket))
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("rm -rf /\n"))
	buf := make([]byte, 8)
	n, _ := conn.Read(buf)
	conn.Close()
	if string(buf[:n]) != "no\n" {
		t.Fatalf("raw junk answered %q", buf[:n])
	}
	select {
	case s := <-got:
		t.Fatalf("junk delivered: %q", s)
	default:
	}
	// a socket open to others is not sent to
	if err := os.Chmod(filepath.Join(dir, LinkSocket), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := SendLink(ctx, dir, link); !errors.Is(err, ErrUnsafeControl) {
		t.Fatalf("open socket: %v", err)
	}
	os.Chmod(filepath.Join(dir, LinkSocket), 0o600)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, LinkSocket)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the socket is left after Close")
	}
}
