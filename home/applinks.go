package home

// The app's link socket: an online service's openid4vp:// link opened while the app runs.
//
// The desktop opens a link by starting `lianzheng openid4vp://…` (the package's desktop entry
// is the scheme's handler, docs/portal.md). While a copy of the app already runs on the demo
// home, a second copy cannot open the home (its node, key store and records are held), so it
// hands the link to the running copy instead: the running app listens on <home>/app-links.sock
// (ListenLinks) and the new process sends the link there (SendLink) and exits; the running
// app shows the consent screen for it.
//
// Threats, and what holds them:
//   - Another local user sending links: the socket is bound inside a fresh 0700 directory,
//     made 0600 and renamed into place, in a home directory of this user that no one else
//     can write (the control socket's rules, control.go), so only this user reaches it; and a
//     link only opens the consent screen — nothing is disclosed without the citizen's consent.
//   - A planted socket harvesting links: SendLink sends only to a socket owned by this user
//     with no group or other permissions, in a private directory (ErrUnsafeControl's checks).
//     A link is a request, not a secret, but it need not leak.
//   - Bounded input: one line of at most MaxLinkLength bytes per connection, a 5-second
//     deadline, and only text starting with openid4vp: is taken; the wallet core parses it.
//   - A killed app leaves its socket behind: one no one answers on is stale, and the next
//     ListenLinks replaces it (never a file that is not a socket).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LinkSocket is the link socket's file name in the app's home.
const LinkSocket = "app-links.sock"

// MaxLinkLength bounds a link handed over the socket.
const MaxLinkLength = 8 << 10

// ErrNoApp: no running app answers on the home's link socket.
var ErrNoApp = errors.New("home: no running app answers on this home's link socket")

// ErrLinkRefused: the running app did not take the text as an online service's link.
var ErrLinkRefused = errors.New("home: the running app refused the link")

const linkScheme = "openid4vp:"

func isLink(s string) bool {
	return len(s) > len(linkScheme) && len(s) <= MaxLinkLength && strings.EqualFold(s[:len(linkScheme)], linkScheme) &&
		!strings.ContainsAny(s, "\r\n")
}

// SendLink hands link to the app running on the home in dir (ErrNoApp when none answers).
func SendLink(ctx context.Context, dir, link string) error {
	if !isLink(link) {
		return fmt.Errorf("%w: not an openid4vp link", ErrLinkRefused)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, LinkSocket)
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return ErrNoApp
	} else if err != nil {
		return err
	}
	if err := privateDir(dir); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafeControl, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%w: %s is not a socket", ErrUnsafeControl, path)
	}
	if err := privateSocket(fi); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnsafeControl, path, err)
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoApp, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte(link + "\n")); err != nil {
		return fmt.Errorf("%w: %w", ErrNoApp, err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoApp, err)
	}
	if strings.TrimSpace(reply) != "ok" {
		return ErrLinkRefused
	}
	return nil
}

// LinkListener receives links for a running app; Close stops it and removes its socket.
type LinkListener struct {
	ln   *net.UnixListener
	path string
	fi   os.FileInfo
	wg   sync.WaitGroup
	once sync.Once
}

// ListenLinks listens on the link socket of the home in dir (the app holds the home, so no
// other app does) and calls open, from its own goroutine, with each link handed over.
func ListenLinks(dir string, open func(link string)) (*LinkListener, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := privateDir(dir); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsafeControl, err)
	}
	// as the control socket: bound in a fresh 0700 directory, 0600, renamed into place
	ln, path, fi, err := listenPrivate(dir, LinkSocket, ".links")
	if err != nil {
		return nil, err
	}
	l := &LinkListener{ln: ln, path: path, fi: fi}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed
			}
			l.handle(conn, open)
		}
	}()
	return l, nil
}

// handle reads one link from conn (bounded, with a deadline) and answers ok or no.
func (l *LinkListener) handle(conn net.Conn, open func(string)) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReaderSize(conn, MaxLinkLength+2).ReadSlice('\n')
	link := strings.TrimRight(string(line), "\r\n")
	if err != nil || !isLink(link) {
		conn.Write([]byte("no\n"))
		return
	}
	conn.Write([]byte("ok\n"))
	open(link)
}

// Close stops listening and removes the socket if it is still the one it made.
func (l *LinkListener) Close() error {
	var err error
	l.once.Do(func() {
		err = l.ln.Close()
		l.wg.Wait()
		if fi, e := os.Lstat(l.path); e == nil && os.SameFile(fi, l.fi) {
			os.Remove(l.path)
		}
	})
	return err
}
