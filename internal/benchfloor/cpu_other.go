//go:build !unix

package benchfloor

import "time"

// ProcessCPU is unknown on this system: 0 (the CPU ratios are then not reported).
func ProcessCPU() time.Duration { return 0 }
