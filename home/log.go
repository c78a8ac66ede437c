package home

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// MaxLogBytes is the size past which OpenLogFile starts a new log file (the old one is kept
// as <path>.1, replacing the one before it).
const MaxLogBytes = 8 << 20

// OpenLogFile opens the log file a home's services write to — appended, mode 0600, turned
// over once it exceeds MaxLogBytes — and returns a text logger writing every line of level
// info and above to it, and lines of level warn and above also to echo (nil: the file only),
// with the file to close once the services have stopped. The services log operational facts
// only (see the package comment): the file holds no personal data.
func OpenLogFile(path string, echo io.Writer) (*slog.Logger, io.Closer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("home: log: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxLogBytes {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, nil, fmt.Errorf("home: log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("home: log: %w", err)
	}
	h := slog.Handler(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if echo != nil {
		h = slog.NewMultiHandler(h, slog.NewTextHandler(echo, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(h), f, nil
}
