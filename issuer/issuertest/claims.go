package issuertest

import (
	"slices"

	"lianzheng/ledger"
)

// SampleValue is the test value of claim c as a form or CSV would give it: a recognisable
// text per claim name (so that a test can search logs and files for it), a fixed date for
// "date", 42 for "number", true for "boolean".
func SampleValue(c ledger.Claim) string {
	switch c.Type {
	case "date":
		return "2020-02-29"
	case "number":
		return "42"
	case "boolean":
		return "true"
	}
	return "测试值·" + c.Name
}

// SampleClaims fills every claim of t with SampleValue except those named in empty, which
// are left out (an optional field the clerk left blank).
func SampleClaims(t ledger.CredentialType, empty ...string) map[string]any {
	out := make(map[string]any, len(t.Claims))
	for _, c := range t.Claims {
		if !slices.Contains(empty, c.Name) {
			out[c.Name] = SampleValue(c)
		}
	}
	return out
}

// Optional lists the claims of t the catalogue marks optional.
func Optional(t ledger.CredentialType) []string {
	var out []string
	for _, c := range t.Claims {
		if !c.Required {
			out = append(out, c.Name)
		}
	}
	return out
}

// EmptyCases are the ways a form of type t can leave optional fields empty: none, each
// optional field alone, and (when there are several) all of them. Each case lists the
// fields left empty.
func EmptyCases(t ledger.CredentialType) [][]string {
	opt := Optional(t)
	cases := [][]string{nil}
	for _, o := range opt {
		cases = append(cases, []string{o})
	}
	if len(opt) > 1 {
		cases = append(cases, opt)
	}
	return cases
}
