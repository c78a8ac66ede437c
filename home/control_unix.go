//go:build unix

package home

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// privateDir checks that dir (a department home holding a control socket) is a directory of
// this user that no one else can write to: nobody else can replace the socket in it.
func privateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := ownedByMe(fi); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s can be written by group or others (chmod go-w)", dir)
	}
	return nil
}

// privateSocket checks that a control socket is this user's and no one else's.
func privateSocket(fi os.FileInfo) error {
	if err := ownedByMe(fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("mode %v: open to group or others", fi.Mode().Perm())
	}
	return nil
}

func ownedByMe(fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("owner unknown")
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not this user (%d)", st.Uid, os.Geteuid())
	}
	return nil
}
