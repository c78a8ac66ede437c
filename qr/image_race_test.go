//go:build race

package qr

// raceEnabled lets slow tests shrink under the race detector (5-20x slower).
const raceEnabled = true
