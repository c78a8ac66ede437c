package ledger

import (
	"strconv"
	"testing"
)

func TestParseStatusListURI(t *testing.T) {
	for _, c := range []struct {
		member string
		list   int
	}{{"public-security", 0}, {"civil-affairs", 1}, {"a:b", 7}, {"x", 1 << 20}} {
		m, l, ok := ParseStatusListURI(StatusListURI(c.member, c.list))
		if !ok || m != c.member || l != c.list {
			t.Fatalf("%+v: %q %d %v", c, m, l, ok)
		}
	}
	for _, bad := range []string{"", "urn:lz:status:", "urn:lz:status:m", "urn:lz:status::0", "urn:lz:status:m:",
		"urn:lz:status:m:-1", "urn:lz:status:m:+1", "urn:lz:status:m:01", "urn:lz:status:m:1048577",
		"urn:lz:status:m:1 ", "https://example.org/status/1", "https://example.org/status/m/0/revocation", "URN:LZ:STATUS:m:0"} {
		if m, l, ok := ParseStatusListURI(bad); ok {
			t.Errorf("%q accepted as %q %d", bad, m, l)
		}
	}
}

// FuzzParseStatusListURI: a status URI comes from a credential; what is accepted is exactly
// what StatusListURI or StatusListURL writes.
func FuzzParseStatusListURI(f *testing.F) {
	f.Add("urn:lz:status:public-security:0")
	f.Add("urn:lz:status:a:b:" + strconv.Itoa(1<<20))
	f.Add("https://gw.example/status/m/0/token")
	f.Fuzz(func(t *testing.T, s string) {
		m, l, ok := ParseStatusListURI(s)
		if !ok {
			return
		}
		r, _ := ParseStatusReference(s)
		if StatusListURI(m, l) != s && StatusListURL(r.Base, m, l) != s {
			t.Fatalf("%q read as %q %d", s, m, l)
		}
	})
}
