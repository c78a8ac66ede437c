package main

import (
	"strings"
	"testing"
)

// TestHelpExitsZero: asking any command for help (-h, help) is no failure. `lz demo -h` and
// `lz serve -h` used to exit 1 ("flag: help requested", "serve: usage"), so a newcomer (and
// the README check in internal/rig/readme) could not tell a missing command from help.
func TestHelpExitsZero(t *testing.T) {
	ok := []string{
		"help", "-h", "--help",
		"demo -h",
		"ledger -h", "ledger help", "ledger init -h", "ledger start -h", "ledger status -h", "ledger genesis -h", "ledger testnet init -h",
		"verify -h", "verify request -h", "verify check -h", "verify snapshot -h", "verify anchor -h", "verify receipt -h",
		"wallet -h", "wallet init -h", "wallet receive -h", "wallet list -h", "wallet show -h", "wallet status -h",
		"wallet present -h", "wallet history -h", "wallet backup -h", "wallet restore -h",
		"issuer -h", "issuer init -h", "issuer types -h", "issuer issue -h", "issuer offer -h", "issuer suspend -h",
		"issuer resume -h", "issuer revoke -h", "issuer batch -h", "issuer list -h", "issuer rotate -h",
		"issuer propose -h", "issuer approve -h", "federation -h", "federation agreement -h",
		"serve -h", "serve help", "serve issuer -h",
	}
	for _, line := range ok {
		if got := run(strings.Fields(line)); got != 0 {
			t.Errorf("lz %s: exit %d, want 0", line, got)
		}
	}
	for line, want := range map[string]int{"": 2, "nope": 2, "serve": 1, "serve nope": 1} {
		if got := run(strings.Fields(line)); got != want {
			t.Errorf("lz %s: exit %d, want %d", line, got, want)
		}
	}
}
