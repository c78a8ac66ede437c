//go:build linux

package testnet

import (
	"crypto/ed25519"
	"crypto/sha256"
	"runtime"
	"sync"
	"syscall"
	"time"
)

const rusageThread = 1 // RUSAGE_THREAD (Linux)

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	verifyCPUOnce sync.Once
	verifyCPUNs   time.Duration
)

// verifyCPU is the CPU time of one Ed25519 verification of a 600-byte message, measured once
// per process on one locked thread (so neither other goroutines nor other processes count).
func verifyCPU() time.Duration {
	verifyCPUOnce.Do(func() {
		seed := sha256.Sum256([]byte("benchfloor"))
		k := ed25519.NewKeyFromSeed(seed[:])
		msg := make([]byte, 600)
		sig := ed25519.Sign(k, msg)
		pub := k.Public().(ed25519.PublicKey)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		const n = 2000
		t0 := rusage(rusageThread)
		for i := 0; i < n; i++ {
			ed25519.Verify(pub, msg, sig)
		}
		verifyCPUNs = (rusage(rusageThread) - t0) / n
	})
	return verifyCPUNs
}
