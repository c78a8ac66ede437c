package ledger

import (
	"errors"
	"testing"
)

func TestCheckPublicBaseURL(t *testing.T) {
	for _, ok := range []string{"https://gateway.example.gov.cn", "https://h.example/lz/public", "http://127.0.0.1:8480",
		"http://[::1]:9000", "http://localhost:8480", "https://h.example:8443/a-b"} {
		if err := CheckPublicBaseURL(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "http://gateway.example", "ftp://h.example", "https://", "https://h.example/",
		"https://u@h.example", "https://h.example?x=1", "https://h.example#f", "https://h.example/a%20b", "h.example",
		"https://h.example/a b", "urn:lz:x", "https:h.example"} {
		if err := CheckPublicBaseURL(bad); !errors.Is(err, ErrPublicBaseURL) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestStatusReference(t *testing.T) {
	const base = "https://gw.example/lz"
	for _, c := range []struct {
		uri  string
		want StatusRef
	}{
		{StatusListURI("public-security", 0), StatusRef{Member: "public-security"}},
		{StatusListURL(base, "civil-affairs", 3), StatusRef{Base: base, Member: "civil-affairs", List: 3}},
		{StatusListCredentialURL(base, "civil-affairs", 0, PurposeRevocation), StatusRef{Base: base, Member: "civil-affairs", Purpose: PurposeRevocation}},
		{StatusListCredentialURL("http://127.0.0.1:8480", "m", 1, PurposeSuspension), StatusRef{Base: "http://127.0.0.1:8480", Member: "m", List: 1, Purpose: PurposeSuspension}},
		{StatusListURL("https://gw.example/status", "m", 0), StatusRef{Base: "https://gw.example/status", Member: "m"}},
	} {
		got, ok := ParseStatusReference(c.uri)
		if !ok || got != c.want || got.String() != c.uri {
			t.Errorf("%q: %+v %v", c.uri, got, ok)
		}
	}
	for _, bad := range []string{base + "/status/m", base + "/status/m/01/token", base + "/status/M/0/token", base + "/status/m/0/other",
		base + "/status/m/0/revocation/x", base + "/statuses/m/0/token", "http://gw.example/status/m/0/token", base + "/status//0/token",
		"/status/m/0/token", "status/m/0/token", base + "/status/m/0/", base + "/status/m/1048577/token", base + "/status/m/0",
		base + "/status/m/token", base + "/status/m/0/token/token"} {
		if r, ok := ParseStatusReference(bad); ok {
			t.Errorf("%q accepted as %+v", bad, r)
		}
	}
	// ParseStatusListURI takes the 2-bit list only.
	if m, n, ok := ParseStatusListURI(StatusListURL(base, "m", 2)); !ok || m != "m" || n != 2 {
		t.Errorf("URL form: %q %d %v", m, n, ok)
	}
	if _, _, ok := ParseStatusListURI(StatusListCredentialURL(base, "m", 2, PurposeRevocation)); ok {
		t.Error("a W3C list credential URL read as the 2-bit list")
	}
}

// FuzzParseStatusReference: a status reference comes from a credential; what is accepted is
// exactly what the URL and URN writers produce.
func FuzzParseStatusReference(f *testing.F) {
	f.Add("urn:lz:status:public-security:0")
	f.Add("https://gw.example/status/civil-affairs/0/token")
	f.Add("http://127.0.0.1:8480/status/m/1/suspension")
	f.Fuzz(func(t *testing.T, s string) {
		if r, ok := ParseStatusReference(s); ok && r.String() != s {
			t.Fatalf("%q read as %+v", s, r)
		}
	})
}
