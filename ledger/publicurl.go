package ledger

// The consortium's public base URL and the layout of everything under it. This file is the
// one home of that layout: the issuer writes these URLs into credentials, the public gateway
// (package gateway) serves them, the static export writes files at these paths, and wallets
// and windows read a credential's status reference back with ParseStatusReference.
//
//	<base>/status/<member>/<list>/token         IETF Token Status List JWT (2-bit entries)
//	<base>/status/<member>/<list>/revocation    W3C BitstringStatusListCredential, 1 bit: revoked
//	<base>/status/<member>/<list>/suspension    W3C BitstringStatusListCredential, 1 bit: suspended
//
// (Every published thing is a leaf, so that a static copy is plain files in directories.)
//	<base>/1.0/identifiers/<did>                DID Resolution HTTP binding (did:lz, did:key)
//	<base>/vct/<vct>                            SD-JWT VC type metadata of a catalogue type
//	<base>/ns/credentials/v1                    the W3C form's claims context ({"@vocab": "<base>/ns/credentials/v1#"})
//
// The base is set by governance (Params.PublicBaseURL, params.set): an https URL, or http
// on a loopback host (tests, demos). Credentials issued while no base is set name their list
// as urn:lz:status:<member>:<list> (StatusListURI); both forms stay readable for good.

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// MaxPublicBaseURL bounds Params.PublicBaseURL.
const MaxPublicBaseURL = 256

// ErrPublicBaseURL: a public base URL that is not an https URL (or http on loopback) with
// a host, without query, fragment, user information or trailing slash.
var ErrPublicBaseURL = errors.New("ledger: public base URL")

// W3C status purposes of the two 1-bit list credentials derived from a 2-bit ledger list.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// CheckPublicBaseURL validates a public base URL.
func CheckPublicBaseURL(s string) error { return checkBaseURL(s, ErrPublicBaseURL) }

// ErrPortalURL: an online service's URL (Window.URL) that is not an https URL (or http on
// loopback) with a host, without query, fragment, user information or trailing slash.
var ErrPortalURL = errors.New("ledger: online service URL")

// CheckPortalURL validates an online service's URL (Window.URL): the same form as a public
// base URL.
func CheckPortalURL(s string) error { return checkBaseURL(s, ErrPortalURL) }

func checkBaseURL(s string, kind error) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", kind, s, why) }
	if s == "" || len(s) > MaxPublicBaseURL {
		return bad(fmt.Sprintf("must be 1-%d characters", MaxPublicBaseURL))
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
	default:
		return bad("must be https (http only on a loopback host)")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.HasSuffix(s, "/") || strings.ContainsAny(s, "?#% ") || u.String() != s {
		return bad("needs a host, and no user, query, fragment, escapes or trailing slash")
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// StatusListURL is the URL of a member's list as an IETF Token Status List JWT; credentials
// in SD-JWT VC form name it in status.status_list.uri.
func StatusListURL(base, member string, list int) string {
	return statusListDir(base, member, list) + "/" + statusTokenLeaf
}

const statusTokenLeaf = "token"

func statusListDir(base, member string, list int) string {
	return base + "/status/" + member + "/" + strconv.Itoa(list)
}

// StatusListCredentialURL is the URL of the W3C BitstringStatusListCredential of one purpose
// (PurposeRevocation, PurposeSuspension) derived from a member's list.
func StatusListCredentialURL(base, member string, list int, purpose string) string {
	return statusListDir(base, member, list) + "/" + purpose
}

// DIDResolutionURL is where the DID Resolution HTTP binding resolves d.
func DIDResolutionURL(base, d string) string { return base + "/1.0/identifiers/" + d }

// TypeMetadataURL is where the SD-JWT VC type metadata of a catalogue vct is served.
func TypeMetadataURL(base, vct string) string { return base + "/vct/" + vct }

// VocabularyURL is the JSON-LD context of the W3C form's claims and types (the second
// @context of a credential issued under base); its only definition is @vocab
// VocabularyIRI, so every claim IRI dereferences to this document. It must equal
// ldcontext.ConsortiumContextURL(base) (a test checks; the ledger model imports no
// credential package).
func VocabularyURL(base string) string { return base + "/ns/credentials/v1" }

// VocabularyIRI is the @vocab a W3C credential issued under base names its claims with.
func VocabularyIRI(base string) string { return VocabularyURL(base) + "#" }

// StatusListNames are the strings by which a credential may name a member's list: the URN
// (credentials issued before a base was set) and, when base is set, its URL.
func StatusListNames(base, member string, list int) []string {
	out := []string{StatusListURI(member, list)}
	if base != "" {
		out = append(out, StatusListURL(base, member, list))
	}
	return out
}

// StatusRef is a parsed status reference: a member's list, the base URL it was named under
// ("" for the URN form) and, for a W3C list credential URL, its purpose.
type StatusRef struct {
	Base    string
	Member  string
	List    int
	Purpose string // "" (the 2-bit list itself), PurposeRevocation or PurposeSuspension
}

// String writes the reference back in the form it was read from.
func (r StatusRef) String() string {
	switch {
	case r.Base == "":
		return StatusListURI(r.Member, r.List)
	case r.Purpose == "":
		return StatusListURL(r.Base, r.Member, r.List)
	default:
		return StatusListCredentialURL(r.Base, r.Member, r.List, r.Purpose)
	}
}

// ParseStatusReference reads a status reference from a credential (so untrusted): the URN
// form, or a URL made by StatusListURL / StatusListCredentialURL under any valid public base
// URL (which base is the consortium's is for the caller to decide; our own wallet and
// window read the list from the ledger by member and number, whatever host was named). What
// it accepts is exactly what those functions write: String() gives the input back.
func ParseStatusReference(uri string) (StatusRef, bool) {
	if m, n, ok := parseStatusURN(uri); ok {
		return StatusRef{Member: m, List: n}, true
	}
	// From the right: /token or /<purpose>, /<list>, /<member>, /status, and the base.
	var r StatusRef
	rest := uri
	cut := func() string {
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			rest = ""
			return ""
		}
		seg := rest[i+1:]
		rest = rest[:i]
		return seg
	}
	switch leaf := cut(); leaf {
	case statusTokenLeaf:
	case PurposeRevocation, PurposeSuspension:
		r.Purpose = leaf
	default:
		return StatusRef{}, false
	}
	n, ok := listNumber(cut())
	if !ok {
		return StatusRef{}, false
	}
	r.List, r.Member = n, cut()
	if !validID(r.Member) || cut() != "status" || CheckPublicBaseURL(rest) != nil {
		return StatusRef{}, false
	}
	r.Base = rest
	return r, true
}

func listNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxStatusListNumber || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}
