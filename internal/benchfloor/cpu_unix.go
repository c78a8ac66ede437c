//go:build unix

package benchfloor

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user + system) the process has used so far, on every core:
// the difference over a benchmark's loop is the work it did, whatever else held the cores
// meanwhile (a ratio of it to a floor is steadier than wall time on a shared machine).
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
