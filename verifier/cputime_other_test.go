//go:build !unix

package verifier

import "time"

// processCPU is unknown here: the CPU ratio is not reported.
func processCPU() time.Duration { return 0 }
