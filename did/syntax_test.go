package did

import (
	"errors"
	"strings"
	"testing"
)

func TestLZSyntax(t *testing.T) {
	ok := []string{"a", "0", "gaj-beijing", "mca-310000-window-12", "a-b", "a--b", strings.Repeat("a", 64), strings.Repeat("9", 64)}
	bad := []string{"", "-", "-a", "a-", strings.Repeat("a", 65), "A", "Gaj", "gaj_bj", "gaj.bj", "gaj%2dbj", "%61",
		"a:b", "a/b", "a?x", "a#k", "é", "公安", " a", "a ", "a\n", "a\x00"}
	for _, id := range ok {
		if !ValidLZID(id) {
			t.Errorf("ValidLZID(%q) = false", id)
		}
		did, err := LZ(id)
		if err != nil || did != "did:lz:"+id {
			t.Errorf("LZ(%q) = %q, %v", id, did, err)
		}
		got, err := ParseLZ("did:lz:" + id)
		if err != nil || got != id {
			t.Errorf("ParseLZ(did:lz:%s) = %q, %v", id, got, err)
		}
		if m, err := ParseDID("did:lz:" + id); err != nil || m != MethodLZ {
			t.Errorf("ParseDID(did:lz:%s) = %q, %v", id, m, err)
		}
	}
	for _, id := range bad {
		if ValidLZID(id) {
			t.Errorf("ValidLZID(%q) = true", id)
		}
		if _, err := LZ(id); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("LZ(%q) err = %v", id, err)
		}
		if _, err := ParseLZ("did:lz:" + id); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("ParseLZ(did:lz:%q) err = %v", id, err)
		}
	}
	for _, s := range []string{"did:LZ:abc", "DID:lz:abc", "did:lz:", "did:lz", "lz:abc", "did:lz:abc#key-1",
		"did:lz:abc/path", "did:lz:abc?x=1", "did:lz:ab%63", "did:lz::abc", "did:lz:abc:def", "did:key:abc"} {
		if _, err := ParseLZ(s); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("ParseLZ(%q) err = %v", s, err)
		}
	}
}

func TestParseDIDURL(t *testing.T) {
	const key = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	good := []struct {
		in           string
		did, m, frag string
	}{
		{"did:lz:gaj#key-1", "did:lz:gaj", MethodLZ, "key-1"},
		{"did:lz:gaj", "did:lz:gaj", MethodLZ, ""},
		{"did:lz:gaj#K_1.x~y", "did:lz:gaj", MethodLZ, "K_1.x~y"},
		{key + "#" + key[8:], key, MethodKey, key[8:]},
		{key, key, MethodKey, ""},
	}
	for _, c := range good {
		u, err := ParseDIDURL(c.in)
		if err != nil {
			t.Errorf("ParseDIDURL(%q): %v", c.in, err)
			continue
		}
		if u.DID != c.did || u.Method != c.m || u.Fragment != c.frag || u.String() != c.in {
			t.Errorf("ParseDIDURL(%q) = %+v", c.in, u)
		}
	}
	for _, s := range []string{"", "#key-1", "did:lz:gaj#", "did:lz:gaj#a#b", "did:lz:gaj#key 1", "did:lz:gaj#key%31",
		"did:lz:gaj?q=1#k", "did:lz:gaj/p#k", "did:lz:GAJ#k", "did:lz:gaj#" + strings.Repeat("k", 129), "did:lz:gaj#é",
		key + "x#k", "did:example:123#k", "did:web:example.com#k"} {
		if u, err := ParseDIDURL(s); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("ParseDIDURL(%q) = %+v, err %v", s, u, err)
		}
	}
	if _, err := ParseDIDURL("did:web:example.com#k"); !errors.Is(err, ErrUnsupportedMethod) {
		t.Errorf("did:web: err = %v, want ErrUnsupportedMethod", err)
	}
}
