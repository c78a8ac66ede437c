//go:build !unix

package home

import (
	"errors"
	"os"
)

var errNoControl = errors.New("no control socket on this system")

// Without Unix file ownership a department's service makes no control socket (the commands
// wait for the home as before) and no command trusts one.
func privateDir(string) error            { return errNoControl }
func privateSocket(fi os.FileInfo) error { return errNoControl }
