// Package sdjwtcbor is the compact CBOR form of SD-JWT presentations: the body of the
// wallet's answer QR (LZ1R, and inside LZ1W; see credential/wire).
//
// An SD-JWT+KB is text: base64url of JSON, separated by '.' and '~'. Sent as is, a 4-of-10
// claim driving licence needs ~1,900 Base45 characters; QR version 20-M holds 861. The
// compact form re-encodes the same presentation losslessly — Decode rebuilds the exact
// original string, which the verifier then checks with the standard SD-JWT verifier — and
// leaves out what the verifier knows or can recompute:
//
//   - base64url and JSON are replaced by CBOR: signatures, salts and digests travel as bytes,
//     and well-known claim names and values ("iss", "_sd", "EdDSA", ...) as small integers;
//   - a digest in _sd (or "...") that belongs to a presented disclosure travels as the
//     disclosure's index, since the verifier recomputes it; a sorted _sd array travels as one
//     byte string of the hidden digests plus those indices;
//   - strings the verifier holds (issuer DIDs, key ids, credential types, status-list URIs,
//     claim names — Context.Known, built by wire.Dictionary) travel as a short SHA-256 prefix;
//   - a KB-JWT in our canonical form travels as its iat and signature only: nonce and audience
//     are the verifier's own and sd_hash is recomputed.
//
// Every JSON segment is re-encoded structurally only when the canonical JSON serialisation
// (jws.Marshal: sorted keys, no whitespace, no HTML escaping — what LianZheng issuers
// produce) reproduces it byte for byte; anything else travels as raw bytes. So the form is
// lossless for any valid SD-JWT, and compact for ours. Encode checks its own output by
// decoding it.
//
// # Threats
//
// Decode reads what the citizen's phone shows, so its input is hostile. It bounds nesting
// (48), array and map sizes, the number of presentations (MaxPresentations) and the size of
// the rebuilt texts (256 KiB), refuses indefinite lengths, duplicate keys, invalid UTF-8 and
// cycles between disclosures, and never resolves a known-string reference that is not
// unique. It gives no authenticity: the rebuilt texts are verified by the SD-JWT verifier
// with the window's own nonce and DID, so a forged or re-targeted answer rebuilds to a text
// whose signatures fail. Errors wrap ErrMalformed or ErrTooLarge (ErrUnknownReference and
// ErrAmbiguousReference wrap ErrMalformed); FuzzDecodeCompact covers Decode.
//
// CDDL (version 1):
//
//	Response     = [1, [+ Presentation]]
//	Presentation = [IssuerHeader: JSONSeg, IssuerPayload: JSONSeg, IssuerSig: bstr,
//	                Disclosures: [* JSONSeg], KB: KB / null]
//	JSONSeg      = bstr (raw JSON) / Value
//	KB           = [Header: uint (0 EdDSA, 1 ES256) / bstr, Payload: uint (iat) / bstr, Sig: bstr]
//	Value        = tstr / bstr (base64url string) / int / float / bool / null / [* Value] /
//	               {* Key => Value} / #6.6(bstr .size (2..8)) (known string by SHA-256 prefix) /
//	               #6.7(uint) (static value dictionary) / #6.10([bstr, * uint]) (sorted _sd) /
//	               #6.11(bstr / [bstr, bstr]) (Ed25519 / P-256 JWK) /
//	               #6.12(Value) ({"alg":"EdDSA","kid":Value,"typ":"dc+sd-jwt"}) /
//	               #6.14([uint, Value]) ({"status_list":{"idx":uint,"uri":Value}}) /
//	               #6.100(int) ("YYYY-MM-DD" as days since 1970-01-01, RFC 8943)
//	Key          = tstr / uint (static key dictionary)
//
// Inside an _sd array or as the value of "...", a uint is the index of the presented
// disclosure whose digest stands there.
package sdjwtcbor

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
)

// Version is the version number of the compact form.
const Version = 1

// Limits of the compact form, enforced while decoding untrusted input.
const (
	MaxPresentations = 8
	maxCompactDepth  = 48
	maxCompactOutput = 256 << 10
)

const (
	tagKnown     = 6   // #6.6(bstr): a string the verifier knows, by SHA-256 prefix
	tagDict      = 7   // #6.7(uint): a string from valueDict
	tagSorted    = 10  // #6.10([bstr, * uint]): a sorted _sd array
	tagJWK       = 11  // #6.11(bstr .size 32 / [x, y]): an Ed25519 or P-256 public JWK
	tagJOSE      = 12  // #6.12(Value): {"alg":"EdDSA","kid":Value,"typ":"dc+sd-jwt"}
	tagStatus    = 14  // #6.14([uint, Value]): {"status_list":{"idx":uint,"uri":Value}}
	tagDays      = 100 // #6.100(int): "YYYY-MM-DD" as days since 1970-01-01 (RFC 8943)
	digestLen    = sha256.Size
	dateLayout   = "2006-01-02"
	secondsInDay = 86400
)

// Errors returned by Decode (and by Encode's self-check) wrap one of these, so that callers
// map them to reason codes with errors.Is; the *Error carries the detail.
var (
	// ErrMalformed: the input is not a compact form this decoder accepts.
	ErrMalformed = errors.New("malformed input")
	// ErrTooLarge: the input nests too deeply or rebuilds to more than the limit.
	ErrTooLarge = errors.New("input too large")
	// ErrUnknownReference: a known-string reference names no string of Context.Known (the
	// verifier's trust data may be out of date). Wraps ErrMalformed.
	ErrUnknownReference = fmt.Errorf("%w: unknown known-string reference", ErrMalformed)
	// ErrAmbiguousReference: a known-string reference matches several strings of
	// Context.Known (the encoder used a smaller list). Wraps ErrMalformed.
	ErrAmbiguousReference = fmt.Errorf("%w: ambiguous known-string reference", ErrMalformed)
)

// Error is the concrete error of Decode.
type Error struct {
	Kind   error  // one of the Err* values above
	Detail string // what exactly was wrong, for logs and developers
}

func (e *Error) Error() string { return "sdjwtcbor: " + e.Kind.Error() + ": " + e.Detail }

// Unwrap returns the Kind.
func (e *Error) Unwrap() error { return e.Kind }

func malformed(format string, a ...any) error {
	return &Error{Kind: ErrMalformed, Detail: fmt.Sprintf(format, a...)}
}

func tooLarge(format string, a ...any) error {
	return &Error{Kind: ErrTooLarge, Detail: fmt.Sprintf(format, a...)}
}

// Context is what wallet and verifier both know, so it need not travel.
type Context struct {
	Nonce    string   // the request's nonce
	Audience string   // the window's DID
	Known    []string // strings the verifier holds: DIDs, key ids, vcts, status URIs, claim names
	// Index, when set, is used instead of Known: the same kind of list, prepared once by
	// NewKnownIndex (a verifier keeps one per trust view rather than hashing Known for
	// every response).
	Index *KnownIndex
}

var keyDict = []string{"iss", "vct", "iat", "exp", "nbf", "cnf", "jwk", "kty", "crv", "x", "y",
	"status", "status_list", "idx", "uri", "_sd", "_sd_alg", "...", "alg", "typ", "kid", "sub"}

var valueDict = []string{"sha-256", "EdDSA", "ES256", "dc+sd-jwt", "kb+jwt", "OKP", "Ed25519", "EC", "P-256"}

var kbAlgs = []string{jws.AlgEdDSA, jws.AlgES256}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// The codec rebuilds exactly what the credential packages produce, with their own helpers:
// jws.B64 (strict unpadded base64url), sdjwt.Digest (base64url(SHA-256)) and jws.Marshal
// (canonical JSON). jws.Marshal writes encoding/json's output without HTML escaping after a
// round trip through generic values; for the values serialised here that round trip changes
// nothing, because their object keys are valid UTF-8 (CBOR text is checked by the decoder,
// JSON is read with encoding/json) — TestMarshalIsSinglePass checks it.

// appendJSON appends jws.Marshal(v) to dst for the values the decoder builds (objects,
// arrays, strings, json.Number, integers, booleans, null), without encoding/json's
// reflection. Whatever it is not certain to write exactly as encoding/json does — a string
// that needs escaping, an object key outside ASCII, a float — it hands to jws.Marshal.
// TestAppendJSONMatchesCanonical checks it against jws.Marshal.
func appendJSON(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		return appendJSONString(dst, t)
	case json.Number:
		if !plainInteger(string(t)) {
			return appendCanonical(dst, t)
		}
		return append(dst, t...), nil
	case uint64:
		return strconv.AppendUint(dst, t, 10), nil
	case int64:
		return strconv.AppendInt(dst, t, 10), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case nil:
		return append(dst, "null"...), nil
	case []any:
		dst = append(dst, '[')
		for i, x := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, x); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		var buf [16]string
		keys := buf[:0]
		for k := range t {
			for i := 0; i < len(k); i++ {
				if k[i] >= utf8.RuneSelf {
					return appendCanonical(dst, t)
				}
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONString(dst, k); err != nil {
				return nil, err
			}
			dst = append(dst, ':')
			if dst, err = appendJSON(dst, t[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	default:
		return appendCanonical(dst, t)
	}
}

func appendCanonical(dst []byte, v any) ([]byte, error) {
	b, err := jws.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendJSONString writes s quoted; strings with nothing to escape (no '"', '\\', control
// character, invalid UTF-8, U+2028 or U+2029) are copied as they are.
func appendJSONString(dst []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return appendCanonical(dst, s)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			return appendCanonical(dst, s)
		}
		i += n
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), nil
}

// plainInteger: an optional '-' and decimal digits without a leading zero (or "0").
func plainInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// known indexes Known strings by SHA-256: the hashes sorted, so that a reference (a hash
// prefix) is found by binary search and the shortest unambiguous prefix of a string is
// read off its neighbours.
type known struct {
	pos    map[string]int // string -> index into hashes/list
	hashes [][32]byte     // sorted
	list   []string       // list[i] has hash hashes[i]
}

func newKnown(list []string) *known {
	type entry struct {
		h [32]byte
		s string
	}
	seen := make(map[string]bool, len(list))
	es := make([]entry, 0, len(list))
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			es = append(es, entry{sha256.Sum256([]byte(s)), s})
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if c := bytes.Compare(es[i].h[:], es[j].h[:]); c != 0 {
			return c < 0
		}
		return es[i].s < es[j].s
	})
	k := &known{pos: make(map[string]int, len(es)), hashes: make([][32]byte, len(es)), list: make([]string, len(es))}
	for i, e := range es {
		k.hashes[i], k.list[i], k.pos[e.s] = e.h, e.s, i
	}
	return k
}

func commonPrefix(a, b *[32]byte) int {
	n := 0
	for n < len(a) && a[n] == b[n] {
		n++
	}
	return n
}

// ref returns the shortest unambiguous hash prefix (2..8 bytes) of s, or nil.
func (k *known) ref(s string) []byte {
	i, ok := k.pos[s]
	if !ok {
		return nil
	}
	h := &k.hashes[i]
	// The longest prefix s shares with another string is shared with a neighbour in the
	// sorted order.
	shared := 0
	if i > 0 {
		shared = max(shared, commonPrefix(h, &k.hashes[i-1]))
	}
	if i+1 < len(k.hashes) {
		shared = max(shared, commonPrefix(h, &k.hashes[i+1]))
	}
	n := max(2, shared+1)
	if n > 8 {
		return nil
	}
	out := make([]byte, n)
	copy(out, h[:n])
	return out
}

func (k *known) lookup(ref []byte) (string, error) {
	if len(ref) < 2 || len(ref) > 8 {
		return "", malformed("known-string reference of %d bytes", len(ref))
	}
	i := sort.Search(len(k.hashes), func(i int) bool { return bytes.Compare(k.hashes[i][:len(ref)], ref) >= 0 })
	n := 0
	for j := i; j < len(k.hashes) && n < 2 && bytes.Equal(k.hashes[j][:len(ref)], ref); j++ {
		n++
	}
	switch n {
	case 0:
		return "", &Error{Kind: ErrUnknownReference, Detail: fmt.Sprintf("reference %x names no string this verifier knows (trust data out of date?)", ref)}
	case 1:
		return k.list[i], nil
	default:
		return "", &Error{Kind: ErrAmbiguousReference, Detail: fmt.Sprintf("reference %x is ambiguous", ref)}
	}
}

// KnownIndex is a Context.Known list prepared once (its strings hashed and sorted),
// for a verifier or wallet that encodes or decodes many responses against the same list.
// Safe for concurrent use.
type KnownIndex struct{ k *known }

// NewKnownIndex prepares list (duplicates are ignored, as in Context.Known).
func NewKnownIndex(list []string) *KnownIndex { return &KnownIndex{k: newKnown(list)} }

func (c *Context) knownIndex() *known {
	if c.Index != nil && c.Index.k != nil {
		return c.Index.k
	}
	return newKnown(c.Known)
}

// ---- encoding ----

type encoder struct {
	ctx     *Context
	known   *known
	discIdx map[string]int // digest -> disclosure index
}

func (e *encoder) str(s string) any {
	if i := indexOf(valueDict, s); i >= 0 {
		return cbor.Tag{Number: tagDict, Content: uint64(i)}
	}
	if r := e.known.ref(s); r != nil && len(r)+2 < len(s)+1 {
		return cbor.Tag{Number: tagKnown, Content: r}
	}
	if len(s) == len(dateLayout) {
		if t, err := time.Parse(dateLayout, s); err == nil && t.Format(dateLayout) == s {
			return cbor.Tag{Number: tagDays, Content: t.Unix() / secondsInDay}
		}
	}
	if len(s) >= 8 {
		if b, err := jws.B64.DecodeString(s); err == nil {
			return b
		}
	}
	return s
}

// special encodes the fixed shapes that recur in every LianZheng credential in a few bytes;
// it returns nil for anything else. jsonSeg's round-trip check guards exactness.
func (e *encoder) special(m map[string]any) any {
	str := func(k string) string { s, _ := m[k].(string); return s }
	switch {
	case len(m) == 3 && str("kty") == "OKP" && str("crv") == "Ed25519":
		if x, err := jws.B64.DecodeString(str("x")); err == nil && len(x) == 32 {
			return cbor.Tag{Number: tagJWK, Content: x}
		}
	case len(m) == 4 && str("kty") == "EC" && str("crv") == "P-256":
		x, err1 := jws.B64.DecodeString(str("x"))
		y, err2 := jws.B64.DecodeString(str("y"))
		if err1 == nil && err2 == nil && len(x) == 32 && len(y) == 32 {
			return cbor.Tag{Number: tagJWK, Content: []any{x, y}}
		}
	case len(m) == 3 && str("alg") == "EdDSA" && str("typ") == "dc+sd-jwt" && str("kid") != "":
		return cbor.Tag{Number: tagJOSE, Content: e.str(str("kid"))}
	case len(m) == 1:
		sl, _ := m["status_list"].(map[string]any)
		n, _ := sl["idx"].(json.Number)
		if len(sl) == 2 && str2(sl, "uri") != "" {
			if idx, err := strconv.ParseUint(string(n), 10, 64); err == nil {
				return cbor.Tag{Number: tagStatus, Content: []any{idx, e.str(str2(sl, "uri"))}}
			}
		}
	}
	return nil
}

func str2(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func (e *encoder) digest(s string) any {
	if i, ok := e.discIdx[s]; ok {
		return uint64(i)
	}
	if b, err := jws.B64.DecodeString(s); err == nil && len(b) == digestLen {
		return b
	}
	return e.str(s)
}

func (e *encoder) value(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if sp := e.special(t); sp != nil {
			return sp
		}
		out := make(map[any]any, len(t))
		for k, val := range t {
			var key any = k
			if i := indexOf(keyDict, k); i >= 0 {
				key = uint64(i)
			}
			switch {
			case k == "_sd":
				out[key] = e.sd(val)
			case k == "...":
				if s, ok := val.(string); ok {
					out[key] = e.digest(s)
				} else {
					out[key] = e.value(val)
				}
			default:
				out[key] = e.value(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = e.value(x)
		}
		return out
	case string:
		return e.str(t)
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(string(t), 10, 64); err == nil {
			return u
		}
		f, _ := strconv.ParseFloat(string(t), 64)
		return f
	default: // bool, nil
		return t
	}
}

// sd encodes an _sd array; a sorted array of 32-byte digests gets the #6.10 form.
func (e *encoder) sd(v any) any {
	list, ok := v.([]any)
	if !ok {
		return e.value(v)
	}
	strs := make([]string, len(list))
	sorted := true
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return e.value(v)
		}
		if b, err := jws.B64.DecodeString(s); err != nil || len(b) != digestLen {
			sorted = false
		}
		strs[i] = s
	}
	if sorted && sort.StringsAreSorted(strs) {
		var hidden []byte
		form := []any{nil}
		for _, s := range strs {
			if i, ok := e.discIdx[s]; ok {
				form = append(form, uint64(i))
			} else {
				b, _ := jws.B64.DecodeString(s)
				hidden = append(hidden, b...)
			}
		}
		form[0] = hidden
		if hidden == nil {
			form[0] = []byte{}
		}
		return cbor.Tag{Number: tagSorted, Content: form}
	}
	out := make([]any, len(strs))
	for i, s := range strs {
		out[i] = e.digest(s)
	}
	return out
}

// jsonSeg encodes one JSON segment structurally if that is lossless, else as raw bytes.
func (e *encoder) jsonSeg(raw []byte, digests []string) any {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return raw
	}
	c := e.value(v)
	// Check through a real CBOR round trip with the real decoder.
	b, err := encMode.Marshal(c)
	if err != nil {
		return raw
	}
	var back any
	if err := decMode.Unmarshal(b, &back); err != nil {
		return raw
	}
	dec := &decoder{known: e.known, digests: digests}
	got, err := dec.jsonSeg(back)
	if err != nil || !bytes.Equal(got, raw) {
		return raw
	}
	return c
}

var encMode, decMode = func() (cbor.EncMode, cbor.DecMode) {
	em, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic, ShortestFloat: cbor.ShortestFloatNone}.EncMode()
	if err != nil {
		panic(err)
	}
	dm, err := cbor.DecOptions{
		MaxNestedLevels:  maxCompactDepth,
		MaxArrayElements: 4096,
		MaxMapPairs:      1024,
		IndefLength:      cbor.IndefLengthForbidden,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		DefaultMapType:   reflect.TypeOf(map[any]any(nil)),
		UTF8:             cbor.UTF8RejectInvalid,
		TagsMd:           cbor.TagsAllowed,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return em, dm
}()

func splitJWT(s string) (h, p, sig []byte, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, nil, nil, false
	}
	var err1, err2, err3 error
	h, err1 = jws.B64.DecodeString(parts[0])
	p, err2 = jws.B64.DecodeString(parts[1])
	sig, err3 = jws.B64.DecodeString(parts[2])
	return h, p, sig, err1 == nil && err2 == nil && err3 == nil
}

// Encode encodes presentations (each an SD-JWT or SD-JWT+KB text) in the compact
// form. ctx may be nil (then nothing is elided but the structure).
func Encode(presentations []string, ctx *Context) ([]byte, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	if len(presentations) == 0 || len(presentations) > MaxPresentations {
		return nil, fmt.Errorf("sdjwtcbor: %d presentations", len(presentations))
	}
	kn := ctx.knownIndex()
	var out []any
	for n, text := range presentations {
		p, err := encodeOne(text, ctx, kn)
		if err != nil {
			return nil, fmt.Errorf("sdjwtcbor: presentation %d: %w", n, err)
		}
		out = append(out, p)
	}
	b, err := encMode.Marshal([]any{uint64(Version), out})
	if err != nil {
		return nil, fmt.Errorf("sdjwtcbor: %w", err)
	}
	back, err := Decode(b, ctx)
	if err != nil {
		return nil, fmt.Errorf("sdjwtcbor: self-check: %w", err)
	}
	for i := range back {
		if back[i] != presentations[i] {
			return nil, fmt.Errorf("sdjwtcbor: self-check: presentation %d does not round-trip", i)
		}
	}
	return b, nil
}

func encodeOne(text string, ctx *Context, kn *known) (any, error) {
	parts := strings.Split(text, "~")
	if len(parts) < 2 {
		return nil, fmt.Errorf("not an SD-JWT")
	}
	h, p, sig, ok := splitJWT(parts[0])
	if !ok {
		return nil, fmt.Errorf("issuer JWT is not a compact JWS")
	}
	discTexts := parts[1 : len(parts)-1]
	e := &encoder{ctx: ctx, known: kn, discIdx: map[string]int{}}
	digests := make([]string, len(discTexts))
	for i, d := range discTexts {
		digests[i] = sdjwt.Digest(d)
		if _, dup := e.discIdx[digests[i]]; !dup {
			e.discIdx[digests[i]] = i
		}
	}
	discs := make([]any, len(discTexts))
	for i, d := range discTexts {
		raw, err := jws.B64.DecodeString(d)
		if err != nil {
			return nil, fmt.Errorf("disclosure %d is not base64url", i)
		}
		discs[i] = e.jsonSeg(raw, digests)
	}
	var kb any
	if kbText := parts[len(parts)-1]; kbText != "" {
		kh, kp, ksig, ok := splitJWT(kbText)
		if !ok {
			return nil, fmt.Errorf("KB-JWT is not a compact JWS")
		}
		var hv, pv any = kh, kp
		for i, alg := range kbAlgs {
			if c, _ := jws.Marshal(map[string]any{"alg": alg, "typ": sdjwt.KBTyp}); bytes.Equal(c, kh) {
				hv = uint64(i)
			}
		}
		var claims struct {
			Iat json.Number `json:"iat"`
		}
		if json.Unmarshal(kp, &claims) == nil {
			if iat, err := strconv.ParseUint(string(claims.Iat), 10, 64); err == nil {
				prefix := strings.TrimSuffix(text, kbText)
				c, _ := jws.Marshal(kbPayload(ctx, iat, prefix))
				if bytes.Equal(c, kp) {
					pv = iat
				}
			}
		}
		kb = []any{hv, pv, ksig}
	}
	return []any{e.jsonSeg(h, digests), e.jsonSeg(p, digests), sig, discs, kb}, nil
}

func kbPayload(ctx *Context, iat uint64, prefix string) map[string]any {
	return kbPayloadHash(ctx, iat, sdjwt.Digest(prefix))
}

func kbPayloadHash(ctx *Context, iat uint64, sdHash string) map[string]any {
	return map[string]any{"aud": ctx.Audience, "iat": iat, "nonce": ctx.Nonce, "sd_hash": sdHash}
}

// ---- decoding ----

type decoder struct {
	known   *known
	digests []string // digest of each disclosure, in order
	depth   int
}

func (d *decoder) ref(v any) (string, bool) {
	u, ok := v.(uint64)
	if !ok {
		return "", false
	}
	if u >= uint64(len(d.digests)) || d.digests[u] == "" {
		return "", false
	}
	return d.digests[u], true
}

func (d *decoder) jsonSeg(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return d.appendValue(make([]byte, 0, 256), v, 0)
}

// appendValue appends appendJSON(d.value(v, depth)) to dst, without building the
// intermediate maps for objects and arrays (TestAppendValueMatchesValue).
func (d *decoder) appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxCompactDepth {
		return nil, tooLarge("nested deeper than %d", maxCompactDepth)
	}
	if s, ok, err := d.str(v); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return serialised(appendJSONString(dst, s))
	}
	switch t := v.(type) {
	case uint64:
		return strconv.AppendUint(dst, t, 10), nil
	case int64:
		return strconv.AppendInt(dst, t, 10), nil
	case []any:
		dst = append(dst, '[')
		for i, x := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = d.appendValue(dst, x, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[any]any:
		type member struct {
			key string
			val any
		}
		var buf [16]member
		ms := buf[:0]
		for k, x := range t {
			key, err := compactKey(k)
			if err != nil {
				return nil, err
			}
			for i := 0; i < len(key); i++ {
				if key[i] >= utf8.RuneSelf { // encoding/json decides the order of such keys
					j, err := d.value(v, depth)
					if err != nil {
						return nil, err
					}
					return serialised(appendJSON(dst, j))
				}
			}
			ms = append(ms, member{key, x})
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].key < ms[j].key })
		dst = append(dst, '{')
		for i, m := range ms {
			if i > 0 {
				if m.key == ms[i-1].key {
					return nil, malformed("duplicate key %q", m.key)
				}
				dst = append(dst, ',')
			}
			var err error
			if dst, err = serialised(appendJSONString(dst, m.key)); err != nil {
				return nil, err
			}
			dst = append(dst, ':')
			switch m.key {
			case "_sd":
				var sd any
				if sd, err = d.sd(m.val, depth+1); err == nil {
					dst, err = serialised(appendJSON(dst, sd))
				}
			case "...":
				var dg string
				if dg, err = d.digest(m.val); err == nil {
					dst, err = serialised(appendJSONString(dst, dg))
				}
			default:
				dst, err = d.appendValue(dst, m.val, depth+1)
			}
			if err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	default: // floats, booleans, null, tags, and what is refused
		j, err := d.value(v, depth)
		if err != nil {
			return nil, err
		}
		return serialised(appendJSON(dst, j))
	}
}

func serialised(b []byte, err error) ([]byte, error) {
	if err != nil {
		return nil, malformed("cannot serialise: %v", err)
	}
	return b, nil
}

func (d *decoder) str(v any) (string, bool, error) {
	switch t := v.(type) {
	case string:
		return t, true, nil
	case []byte:
		return jws.B64.EncodeToString(t), true, nil
	case cbor.Tag:
		switch t.Number {
		case tagDict:
			u, ok := t.Content.(uint64)
			if !ok || u >= uint64(len(valueDict)) {
				return "", false, malformed("bad dictionary value")
			}
			return valueDict[u], true, nil
		case tagKnown:
			r, ok := t.Content.([]byte)
			if !ok {
				return "", false, malformed("bad known-string reference")
			}
			s, err := d.known.lookup(r)
			return s, true, err
		case tagDays:
			var days int64
			switch n := t.Content.(type) {
			case uint64:
				days = int64(min(n, 1<<32))
			case int64:
				days = n
			default:
				return "", false, malformed("bad date")
			}
			if days < -1<<20 || days > 1<<22 {
				return "", false, malformed("date out of range")
			}
			return time.Unix(days*secondsInDay, 0).UTC().Format(dateLayout), true, nil
		}
	}
	return "", false, nil
}

func (d *decoder) digest(v any) (string, error) {
	if s, ok := d.ref(v); ok {
		return s, nil
	}
	if _, isUint := v.(uint64); isUint {
		return "", malformed("digest reference %v out of range", v)
	}
	s, ok, err := d.str(v)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", malformed("digest of type %T", v)
	}
	return s, nil
}

func (d *decoder) value(v any, depth int) (any, error) {
	if depth > maxCompactDepth {
		return nil, tooLarge("nested deeper than %d", maxCompactDepth)
	}
	if s, ok, err := d.str(v); err != nil || ok {
		return s, err
	}
	switch t := v.(type) {
	case uint64:
		return json.Number(strconv.FormatUint(t, 10)), nil
	case int64:
		return json.Number(strconv.FormatInt(t, 10)), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, malformed("non-finite number")
		}
		return t, nil
	case float32:
		return nil, malformed("float32 is not used")
	case bool, nil:
		return t, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			var err error
			if out[i], err = d.value(x, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			key, err := compactKey(k)
			if err != nil {
				return nil, err
			}
			if _, dup := out[key]; dup {
				return nil, malformed("duplicate key %q", key)
			}
			switch key {
			case "_sd":
				out[key], err = d.sd(x, depth+1)
			case "...":
				out[key], err = d.digest(x)
			default:
				out[key], err = d.value(x, depth+1)
			}
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	case cbor.Tag:
		return d.special(t, depth)
	default:
		return nil, malformed("unexpected CBOR item %T", v)
	}
}

func (d *decoder) special(t cbor.Tag, depth int) (any, error) {
	switch t.Number {
	case tagJWK:
		switch c := t.Content.(type) {
		case []byte:
			if len(c) == 32 {
				return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": jws.B64.EncodeToString(c)}, nil
			}
		case []any:
			if len(c) != 2 {
				break
			}
			x, ok1 := c[0].([]byte)
			y, ok2 := c[1].([]byte)
			if ok1 && ok2 && len(x) == 32 && len(y) == 32 {
				return map[string]any{"kty": "EC", "crv": "P-256", "x": jws.B64.EncodeToString(x), "y": jws.B64.EncodeToString(y)}, nil
			}
		}
		return nil, malformed("bad JWK form")
	case tagJOSE:
		kid, ok, err := d.str(t.Content)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, malformed("bad header form")
		}
		return map[string]any{"alg": "EdDSA", "kid": kid, "typ": "dc+sd-jwt"}, nil
	case tagStatus:
		c, ok := t.Content.([]any)
		if !ok || len(c) != 2 {
			return nil, malformed("bad status form")
		}
		idx, ok := c[0].(uint64)
		uri, isStr, err := d.str(c[1])
		if err != nil {
			return nil, err
		}
		if !ok || !isStr {
			return nil, malformed("bad status form")
		}
		return map[string]any{"status_list": map[string]any{"idx": json.Number(strconv.FormatUint(idx, 10)), "uri": uri}}, nil
	}
	return nil, malformed("unexpected tag %d", t.Number)
}

func (d *decoder) sd(v any, depth int) (any, error) {
	if t, ok := v.(cbor.Tag); ok && t.Number == tagSorted {
		form, ok := t.Content.([]any)
		if !ok || len(form) < 1 {
			return nil, malformed("bad sorted _sd form")
		}
		hidden, ok := form[0].([]byte)
		if !ok || len(hidden)%digestLen != 0 {
			return nil, malformed("bad hidden digests")
		}
		var strs []string
		for i := 0; i < len(hidden); i += digestLen {
			strs = append(strs, jws.B64.EncodeToString(hidden[i:i+digestLen]))
		}
		for _, r := range form[1:] {
			s, ok := d.ref(r)
			if !ok {
				return nil, malformed("bad disclosure reference in _sd")
			}
			strs = append(strs, s)
		}
		sort.Strings(strs)
		out := make([]any, len(strs))
		for i, s := range strs {
			out[i] = s
		}
		return out, nil
	}
	list, ok := v.([]any)
	if !ok {
		return d.value(v, depth)
	}
	out := make([]any, len(list))
	for i, x := range list {
		var err error
		if out[i], err = d.digest(x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Decode rebuilds the exact presentation texts from the compact form. ctx must hold the
// nonce and audience of the request and the strings the verifier knows.
//
// The forms wallets produce are read by a fast path (fast.go) straight from the bytes; it
// gives up on anything else, and on every error, and the general decoder below — the
// definition of what Decode accepts and of its errors — decides.
func Decode(data []byte, ctx *Context) ([]string, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	kn := ctx.knownIndex()
	if out, ok := decodeFast(data, ctx, kn); ok {
		return out, nil
	}
	return decodeGeneral(data, ctx, kn)
}

// decodeGeneral is Decode through the CBOR library's generic values.
func decodeGeneral(data []byte, ctx *Context, kn *known) ([]string, error) {
	var top []any
	if err := decMode.Unmarshal(data, &top); err != nil {
		return nil, malformed("CBOR: %v", err)
	}
	if len(top) != 2 {
		return nil, malformed("top level has %d items", len(top))
	}
	if v, ok := top[0].(uint64); !ok || v != Version {
		return nil, malformed("unsupported version %v", top[0])
	}
	list, ok := top[1].([]any)
	if !ok || len(list) == 0 || len(list) > MaxPresentations {
		return nil, malformed("bad presentation list")
	}
	out := make([]string, len(list))
	total := 0
	for i, p := range list {
		s, err := decodeOne(p, ctx, kn)
		if err != nil {
			return nil, fmt.Errorf("presentation %d: %w", i, err)
		}
		if total += len(s); total > maxCompactOutput {
			return nil, tooLarge("rebuilt presentations exceed %d bytes", maxCompactOutput)
		}
		out[i] = s
	}
	return out, nil
}

func decodeOne(v any, ctx *Context, kn *known) (string, error) {
	p, ok := v.([]any)
	if !ok || len(p) != 5 {
		return "", malformed("presentation is not a 5-item array")
	}
	sig, ok1 := p[2].([]byte)
	discs, ok2 := p[3].([]any)
	if !ok1 || !ok2 {
		return "", malformed("bad signature or disclosure list")
	}
	// Disclosures may reference each other's digests (nested selective disclosure):
	// resolve them in dependency order, refusing cycles.
	d := &decoder{known: kn, digests: make([]string, len(discs))}
	texts := make([]string, len(discs))
	state := make([]byte, len(discs)) // 0 todo, 1 in progress, 2 done
	var resolve func(i int) error
	resolve = func(i int) error {
		switch state[i] {
		case 2:
			return nil
		case 1:
			return malformed("disclosures reference each other in a cycle")
		}
		state[i] = 1
		for _, j := range refsIn(discs[i]) {
			if j < len(discs) && j != i {
				if err := resolve(j); err != nil {
					return err
				}
			}
		}
		raw, err := d.jsonSeg(discs[i])
		if err != nil {
			return err
		}
		texts[i] = jws.B64.EncodeToString(raw)
		d.digests[i] = sdjwt.Digest(texts[i])
		state[i] = 2
		return nil
	}
	for i := range discs {
		if err := resolve(i); err != nil {
			return "", err
		}
	}
	h, err := d.jsonSeg(p[0])
	if err != nil {
		return "", err
	}
	pl, err := d.jsonSeg(p[1])
	if err != nil {
		return "", err
	}
	size := jws.B64.EncodedLen(len(h)) + jws.B64.EncodedLen(len(pl)) + jws.B64.EncodedLen(len(sig)) + 3
	for _, t := range texts {
		size += len(t) + 1
	}
	b := make([]byte, 0, size+kbTextEstimate)
	b = jws.B64.AppendEncode(b, h)
	b = append(b, '.')
	b = jws.B64.AppendEncode(b, pl)
	b = append(b, '.')
	b = jws.B64.AppendEncode(b, sig)
	b = append(b, '~')
	for _, t := range texts {
		b = append(b, t...)
		b = append(b, '~')
	}
	if p[4] == nil {
		return string(b), nil
	}
	kb, ok := p[4].([]any)
	if !ok || len(kb) != 3 {
		return "", malformed("bad KB-JWT form")
	}
	var kh, kp []byte
	switch t := kb[0].(type) {
	case uint64:
		if t >= uint64(len(kbAlgs)) {
			return "", malformed("bad KB-JWT alg %d", t)
		}
		kh = kbHeaders[t]
	case []byte:
		kh = t
	default:
		return "", malformed("bad KB-JWT header")
	}
	switch t := kb[1].(type) {
	case uint64:
		sum := sha256.Sum256(b) // sd_hash: over the presentation up to and including the last '~'
		kp, _ = appendJSON(make([]byte, 0, 256), kbPayloadHash(ctx, t, jws.B64.EncodeToString(sum[:])))
	case []byte:
		kp = t
	default:
		return "", malformed("bad KB-JWT payload")
	}
	ksig, ok := kb[2].([]byte)
	if !ok {
		return "", malformed("bad KB-JWT signature")
	}
	b = jws.B64.AppendEncode(b, kh)
	b = append(b, '.')
	b = jws.B64.AppendEncode(b, kp)
	b = append(b, '.')
	b = jws.B64.AppendEncode(b, ksig)
	return string(b), nil
}

// kbTextEstimate is room for a KB-JWT in our canonical form (header, payload, signature).
const kbTextEstimate = 400

// kbHeaders are the canonical KB-JWT headers, by index into kbAlgs.
var kbHeaders = func() [][]byte {
	out := make([][]byte, len(kbAlgs))
	for i, alg := range kbAlgs {
		out[i], _ = jws.Marshal(map[string]any{"alg": alg, "typ": sdjwt.KBTyp})
	}
	return out
}()

// refsIn lists disclosure indices referenced from _sd arrays and "..." values inside v.
func refsIn(v any) []int {
	var out []int
	var walk func(v any, sd bool)
	walk = func(v any, sd bool) {
		switch t := v.(type) {
		case uint64:
			if sd && t < math.MaxInt32 {
				out = append(out, int(t))
			}
		case []any:
			for _, x := range t {
				walk(x, sd)
			}
		case cbor.Tag:
			if t.Number == tagSorted {
				walk(t.Content, true)
			}
		case map[any]any:
			for k, x := range t {
				isSD := k == uint64(indexOf(keyDict, "_sd")) || k == "_sd" ||
					k == uint64(indexOf(keyDict, "...")) || k == "..."
				walk(x, isSD)
			}
		}
	}
	walk(v, false)
	return out
}

// compactKey is the member name a compact-form map key stands for: itself, or an entry of
// keyDict by number.
func compactKey(k any) (string, error) {
	switch kt := k.(type) {
	case string:
		return kt, nil
	case uint64:
		if kt >= uint64(len(keyDict)) {
			return "", malformed("bad dictionary key %d", kt)
		}
		return keyDict[kt], nil
	}
	return "", malformed("map key of type %T", k)
}
