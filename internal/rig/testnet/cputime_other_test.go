//go:build !linux

package testnet

import "time"

// processCPU and verifyCPU are measured on Linux only; 0 leaves cpu-x-floor out.
func processCPU() time.Duration { return 0 }
func verifyCPU() time.Duration  { return 0 }
