package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
