package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// ErrNoNode: Node.js or the interop packages are not installed (run `make interop`).
var ErrNoNode = errors.New("interop: node or interop/node_modules missing (run make interop)")

// Dir is the repository's interop/ folder (the npm project with the pinned packages).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "interop")
}

// RunNode runs interop/<script> with input as JSON on stdin and decodes the one JSON object
// it prints on stdout into out (if not nil). A non-zero exit is an error carrying the
// script's stderr and stdout, so a library's disagreement reads as a test failure message;
// out is still filled from what it printed, so the caller can say which case disagreed.
func RunNode(ctx context.Context, script string, input, out any) error {
	node, err := exec.LookPath("node")
	if err != nil {
		return ErrNoNode
	}
	if _, err := os.Stat(filepath.Join(Dir(), "node_modules")); err != nil {
		return ErrNoNode
	}
	in, err := json.Marshal(input)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(Dir(), script))
	cmd.Dir = Dir()
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if out != nil {
			// The observations still count: the caller asserts them, so a failure names the case.
			json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), out)
		}
		return fmt.Errorf("interop: node %s: %w\n--- stderr\n%s\n--- stdout\n%s", script, err, stderr.String(), stdout.String())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), out); err != nil {
		return fmt.Errorf("interop: node %s printed no JSON object: %w\n%s\n--- stderr\n%s", script, err, stdout.String(), stderr.String())
	}
	return nil
}

// Session is a Node script that stays up while the Go test talks to it line by line: the
// test writes one JSON object per line on the script's stdin (a command), the script writes
// one JSON object per line on stdout (an event or a reply). Used where the outside party must
// serve HTTP while our code answers it (an outside OpenID4VP verifier's request_uri and
// response_uri).
type Session struct {
	script  string
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	stdin   io.WriteCloser
	lines   *bufio.Scanner
	stderr  bytes.Buffer
	done    chan error
	once    sync.Once
	waited  bool
	waitErr error
}

// StartNode starts interop/<script> as a Session, its stdin kept open for commands. The
// session ends with Close (or when ctx ends, or after ten minutes).
func StartNode(ctx context.Context, script string) (*Session, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, ErrNoNode
	}
	if _, err := os.Stat(filepath.Join(Dir(), "node_modules")); err != nil {
		return nil, ErrNoNode
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	s := &Session{script: script, cancel: cancel, done: make(chan error, 1)}
	s.cmd = exec.CommandContext(ctx, node, filepath.Join(Dir(), script))
	s.cmd.Dir = Dir()
	s.cmd.Stderr = &lockedWriter{b: &s.stderr}
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		cancel()
		return nil, err
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	s.lines = bufio.NewScanner(out)
	s.lines.Buffer(make([]byte, 0, 64<<10), 8<<20)
	return s, nil
}

// Send writes one command (a JSON object on one line).
func (s *Session) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("interop: node %s: %w\n--- stderr\n%s", s.script, err, s.Stderr())
	}
	return nil
}

// Recv reads the script's next line into out. At the end of its output (it exited or
// failed) the error carries its stderr.
func (s *Session) Recv(out any) error {
	if !s.lines.Scan() {
		err := s.lines.Err()
		if err == nil {
			err = io.EOF
		}
		return fmt.Errorf("interop: node %s ended: %w (%v)\n--- stderr\n%s", s.script, err, s.wait(), s.Stderr())
	}
	if err := json.Unmarshal(s.lines.Bytes(), out); err != nil {
		return fmt.Errorf("interop: node %s printed %q: %w\n--- stderr\n%s", s.script, s.lines.Text(), err, s.Stderr())
	}
	return nil
}

// Call sends a command and reads the reply.
func (s *Session) Call(cmd, reply any) error {
	if err := s.Send(cmd); err != nil {
		return err
	}
	return s.Recv(reply)
}

// Stderr is what the script wrote on stderr so far.
func (s *Session) Stderr() string {
	lw := s.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return s.stderr.String()
}

// wait waits (at most ten seconds) for the script to exit, once its output has been read
// to the end; later calls return the same.
func (s *Session) wait() error {
	s.once.Do(func() { go func() { s.done <- s.cmd.Wait() }() })
	if s.waited {
		return s.waitErr
	}
	select {
	case s.waitErr = <-s.done:
		s.waited = true
		return s.waitErr
	case <-time.After(10 * time.Second):
		return errors.New("still running")
	}
}

// Close ends the script's input (a script exits when its stdin closes) and waits for it; it
// returns the script's exit error, if any (a non-zero exit: the library disagreed).
func (s *Session) Close() error {
	defer s.cancel()
	_ = s.stdin.Close()
	for s.lines.Scan() { // drain what is left so the script is not blocked writing
	}
	err := s.wait()
	if err != nil {
		return fmt.Errorf("interop: node %s: %w\n--- stderr\n%s", s.script, err, s.Stderr())
	}
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
