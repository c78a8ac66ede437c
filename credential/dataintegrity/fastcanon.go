package dataintegrity

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/piprate/json-gold/ld"

	"lianzheng/credential/ldcontext"
)

// The RDFC-1.0 fast path: canonical N-Quads of our credential shapes without running the
// JSON-LD processor. See the package documentation for the design and the threat; in short:
//
//  1. shape.match reads a document against a small grammar (objects whose members are
//     scalars, the credential's subject and status entries one level down, verbatim "type",
//     "cryptosuite", "proofPurpose" and @context). It produces a key that spells out the
//     whole document except the scalar values (every member name, every verbatim value,
//     the @context, and per scalar its kind: string, IRI of a given scheme, number,
//     boolean), and the list of those scalars, the slots. Anything outside the grammar is
//     not matched and goes to the general path.
//  2. The first time a key is seen the general path canonicalises the document; the second
//     time a template is built (buildTemplate) from a probe document of the same key whose
//     slots hold unique markers, and checked against the general path on two more probes
//     with hostile values (quotes, backslashes, controls, newlines, Unicode, empty strings,
//     integral and fractional numbers, both booleans, other IRIs) and on the document at
//     hand. A template that fails any check is remembered as unsupported: that key always
//     takes the general path.
//  3. template.render fills the slots (IRIs verbatim, strings escaped as json-gold escapes
//     them, numbers and booleans as json-gold's literals), sorts the lines as URDNA2015
//     does, keeps one of two equal lines where json-gold keeps one quad (sameValue), and
//     refuses (general path again) where it cannot tell, or where the general path would
//     refuse the document (a strict-mode sentinel IRI, a number out of range).

// Bounds: a key or a slot list beyond them is not worth a template (and keeps hostile input
// from filling memory); the cache holds at most fastMaxTemplates keys.
const (
	fastMaxKey       = 8 << 10
	fastMaxSlots     = 256
	fastMaxMembers   = 128
	fastMaxEntries   = 8
	fastMaxTemplates = 1024
	fastMaxIRI       = 2000
)

type slotClass uint8

const (
	slotStr  slotClass = iota + 1 // a string that is not an IRI of an accepted scheme
	slotIRI                       // an absolute IRI json-gold keeps as it is (see iriScheme)
	slotNum                       // a JSON number
	slotBool                      // a JSON boolean
)

// slot is one scalar of a matched document: its value and where it sits (so that a probe
// document can put another value there).
type slot struct {
	class  slotClass
	scheme string // slotIRI: https, http, urn or did
	s      string // slotStr, slotIRI: the string; slotNum: the number's JSON text
	b      bool   // slotBool
	obj    map[string]any
	member string
}

// shape is a matched document: its key and its slots, in key order.
type shape struct {
	key   []byte
	slots []slot
}

var shapePool = sync.Pool{New: func() any { return &shape{key: make([]byte, 0, 1024), slots: make([]slot, 0, 48)} }}

func (s *shape) release() {
	clear(s.slots) // drop the references to the caller's maps
	s.slots = s.slots[:0]
	s.key = s.key[:0]
	shapePool.Put(s)
}

// match reports whether doc is within the fast path's grammar, filling s.
func (s *shape) match(doc map[string]any) bool {
	s.key, s.slots = s.key[:0], s.slots[:0]
	_, proof := doc["cryptosuite"]
	if proof {
		s.key = append(s.key, 'P')
	} else {
		s.key = append(s.key, 'C')
	}
	return s.node(doc, true, proof) && len(s.key) <= fastMaxKey && len(s.slots) <= fastMaxSlots
}

func (s *shape) str(v string) {
	s.key = binary.AppendUvarint(s.key, uint64(len(v)))
	s.key = append(s.key, v...)
}

func (s *shape) node(m map[string]any, top, proof bool) bool {
	if len(m) > fastMaxMembers {
		return false
	}
	var buf [24]string
	names := buf[:0]
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	s.key = append(s.key, '{')
	s.key = binary.AppendUvarint(s.key, uint64(len(names)))
	for _, k := range names {
		v := m[k]
		s.str(k)
		switch {
		case k == "@context":
			if !top || !s.context(v) {
				return false
			}
		case k == "type":
			if !s.types(v) {
				return false
			}
		case top && proof && (k == "cryptosuite" || k == "proofPurpose"):
			// proofPurpose is @vocab-typed: its value names a term, so it is structure.
			t, ok := v.(string)
			if !ok || !safeName(t) && !safeToken(t) {
				return false
			}
			s.key = append(s.key, 'v')
			s.str(t)
		case top && !proof && k == "credentialSubject":
			sub, ok := v.(map[string]any)
			if !ok {
				return false
			}
			s.key = append(s.key, 'o')
			if !s.node(sub, false, false) {
				return false
			}
		case top && !proof && k == "credentialStatus":
			switch t := v.(type) {
			case map[string]any:
				s.key = append(s.key, 'o')
				if !s.node(t, false, false) {
					return false
				}
			case []any:
				if len(t) == 0 || len(t) > fastMaxEntries {
					return false
				}
				s.key = append(s.key, '[', byte(len(t)))
				for _, e := range t {
					em, ok := e.(map[string]any)
					if !ok || !s.node(em, false, false) {
						return false
					}
				}
			default:
				return false
			}
		case k == "id" || safeName(k):
			if !s.scalar(m, k, v) {
				return false
			}
		default:
			return false
		}
	}
	s.key = append(s.key, '}')
	return true
}

// context accepts [VC 2.0, then at most two of: the LianZheng context, the W3C examples
// context, a consortium context URL (ldcontext.ConsortiumContext: @vocab <url>#),
// {"@vocab": <absolute http(s) IRI ending in #>}], verbatim into the key.
func (s *shape) context(v any) bool {
	l, ok := v.([]any)
	if !ok || len(l) == 0 || len(l) > 3 {
		return false
	}
	s.key = append(s.key, '[', byte(len(l)))
	for i, e := range l {
		switch t := e.(type) {
		case string:
			first := i == 0 && t == ldcontext.CredentialsV2
			_, consortium := ldcontext.ConsortiumContext(t)
			later := i > 0 && (t == ldcontext.LianZhengV1 || t == ldcontext.CredentialsExamplesV2 ||
				consortium && len(t) < 512 && safeVocab(t+"#"))
			if !first && !later {
				return false
			}
			s.key = append(s.key, 'u')
			s.str(t)
		case map[string]any:
			vocab, ok := t["@vocab"].(string)
			if i == 0 || len(t) != 1 || !ok || !safeVocab(vocab) {
				return false
			}
			s.key = append(s.key, 'V')
			s.str(vocab)
		default:
			return false
		}
	}
	return true
}

// types accepts a type name or a list of up to four, verbatim into the key.
func (s *shape) types(v any) bool {
	switch t := v.(type) {
	case string:
		if !safeName(t) {
			return false
		}
		s.key = append(s.key, 't')
		s.str(t)
	case []any:
		if len(t) == 0 || len(t) > 4 {
			return false
		}
		s.key = append(s.key, 'T', byte(len(t)))
		for _, e := range t {
			n, ok := e.(string)
			if !ok || !safeName(n) {
				return false
			}
			s.str(n)
		}
	default:
		return false
	}
	return true
}

func (s *shape) scalar(m map[string]any, k string, v any) bool {
	sl := slot{obj: m, member: k}
	switch t := v.(type) {
	case string:
		if !utf8.ValidString(t) {
			return false
		}
		sl.s = t
		if scheme := iriScheme(t); scheme != "" {
			sl.class, sl.scheme = slotIRI, scheme
			s.key = append(s.key, 'i')
			s.str(scheme)
		} else {
			sl.class = slotStr
			s.key = append(s.key, 's')
		}
	case json.Number:
		sl.class, sl.s = slotNum, string(t)
		s.key = append(s.key, 'n')
	case bool:
		sl.class, sl.b = slotBool, t
		s.key = append(s.key, 'b')
	default:
		return false
	}
	s.slots = append(s.slots, sl)
	return true
}

// safeName: a member or type name that is a plain JSON-LD term: an ASCII letter or '_'
// then letters, digits and '_' (no '@', ':', '/', '#': never a keyword, a compact IRI or
// an IRI).
func safeName(n string) bool {
	if len(n) == 0 || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// safeToken: a verbatim value such as "eddsa-rdfc-2022": a safe name that may also hold '-'.
func safeToken(n string) bool {
	return safeName(strings.ReplaceAll(n, "-", "_")) && !strings.HasPrefix(n, "-")
}

// iriSafe reports whether c may appear in an IRI slot: ASCII letters and digits and the
// RFC 3986 unreserved and reserved characters except '[' and ']' (plus '%'). Nothing
// json-gold's N-Quads escaping touches, nothing its N-Quads parser refuses in an IRI.
func iriSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#@!$&'()*+,;=%", c) >= 0
}

// iriScheme returns the scheme of v if v is an IRI the fast path may copy verbatim, ""
// otherwise. Such an IRI has one of four schemes, only iriSafe characters, and passes the
// very checks json-gold applies to it: ld.IsAbsoluteIri (else it is expanded against the
// base, or its triple dropped) and, for http(s), ld.IsURL (else its triples are dropped).
// Whether its scheme is a prefix term of the active context is decided by the template
// (the scheme is in the key).
func iriScheme(v string) string {
	var scheme string
	switch {
	case strings.HasPrefix(v, "https://"):
		scheme = "https"
	case strings.HasPrefix(v, "http://"):
		scheme = "http"
	case strings.HasPrefix(v, "urn:"):
		scheme = "urn"
	case strings.HasPrefix(v, "did:"):
		scheme = "did"
	default:
		return ""
	}
	if len(v) <= len(scheme)+1 || len(v) > fastMaxIRI {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if !iriSafe(v[i]) {
			return ""
		}
	}
	if scheme == "https" || scheme == "http" {
		if !httpIRI(v) {
			return ""
		}
	} else if !opaqueIRI(v, scheme) {
		return ""
	}
	return scheme
}

// opaqueIRI is ld.IsAbsoluteIri (that is, url.Parse succeeds and finds a scheme) for a urn:
// or did: IRI of iriSafe characters, without parsing in the common case: url.Parse cuts the
// fragment off, takes any scheme:rest whose rest does not start with '/' as opaque (no
// further checks; iriSafe excludes the control bytes it refuses), and then only unescapes
// the fragment, which cannot fail without a '%'. Other cases ask json-gold.
func opaqueIRI(v, scheme string) bool {
	u, frag, _ := strings.Cut(v, "#")
	if !strings.HasPrefix(u[len(scheme)+1:], "/") && strings.IndexByte(frag, '%') < 0 {
		return true
	}
	return ld.IsAbsoluteIri(v)
}

// safeVocab: an @vocab the fast path accepts (it is part of the key, so the template is
// made with it): an http(s) IRI of iriSafe characters with one '#', at the end.
func safeVocab(v string) bool {
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") || len(v) > 512 ||
		!strings.HasSuffix(v, "#") || strings.IndexByte(v, '#') != len(v)-1 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !iriSafe(v[i]) {
			return false
		}
	}
	return true
}

// httpIRI is ld.IsAbsoluteIri(v) && ld.IsURL(v) (json-gold drops every triple with an
// http(s) IRI IsURL refuses) with a bounded cache. Status entry ids are <list URL>#<index>:
// a fragment of letters, digits, '_' and '-' after the only '#' does not change either
// answer, so such IRIs share one entry, <list URL>#0. (url.Parse cuts the fragment off
// first and only unescapes it, which cannot fail without a '%'. In IsURL's pattern a '#'
// can only be matched by the path group, which then takes every non-space character to the
// end; the user-info group would need an '@' after it. IsURL's rune-count limit is checked
// on the real IRI.)
func httpIRI(v string) bool {
	if len(v) >= 2083 {
		return ld.IsAbsoluteIri(v) && ld.IsURL(v)
	}
	var kb [256]byte
	k := kb[:0]
	if h := strings.IndexByte(v, '#'); h >= 0 && h == strings.LastIndexByte(v, '#') && h+1 < len(v) {
		frag := v[h+1:]
		plain := true
		for i := 0; i < len(frag); i++ {
			c := frag[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				plain = false
				break
			}
		}
		if plain {
			k = append(append(k, v[:h+1]...), '0')
		}
	}
	if len(k) == 0 {
		k = append(k, v...)
	}
	urlCache.mu.RLock()
	ok, hit := urlCache.m[string(k)] // no allocation for a lookup
	urlCache.mu.RUnlock()
	if hit {
		return ok
	}
	key := string(k)
	ok = ld.IsAbsoluteIri(key) && ld.IsURL(key)
	urlCache.mu.Lock()
	if len(urlCache.m) >= 4096 {
		clear(urlCache.m)
	}
	urlCache.m[key] = ok
	urlCache.mu.Unlock()
	return ok
}

var urlCache = struct {
	mu sync.RWMutex
	m  map[string]bool
}{m: map[string]bool{}}

// Templates.

type partKind uint8

const (
	partText partKind = iota // fixed text
	partIRI                  // a slot's IRI, verbatim
	partLit                  // a slot's string, escaped, inside a literal's quotes
	partNum                  // a number slot's whole literal
	partBool                 // a boolean slot's whole literal
)

type part struct {
	kind partKind
	slot int
	text string
}

// template is the canonical N-Quads of one key: lines of fixed text and slots, in the
// probe's order (render sorts them).
type template struct {
	lines [][]part
}

// sameValue reports whether two template lines that rendered to the same text are one
// quad for json-gold too. Equal lines arise when two nodes share an id (the two status
// entries of a credential issued without a public base URL name the same list entry) or
// two members share a value. json-gold merges nodes with the same id and adds a value to a
// node's property only if no equal value is there (ld.AddValue, ld.CompareValues: equal
// @id, or equal @value, @type, @language and @index); the contexts the grammar accepts
// define no @index, @language or @direction and coerce nothing to xsd:string (which prints
// like a plain string), so a value object is all in its line (a test holds the contexts
// to this). With
// the same parts (the same fixed text around the same kinds of slot) equal lines mean
// equal values, because an IRI slot never holds '>' or a space and an escaped string never
// a raw '"'. Numbers are the exception: json-gold's double form has 16 significant digits,
// so two different numbers can print alike and would stay two quads. Such lines are
// refused.
func (t *template) sameValue(a, b int) bool {
	la, lb := t.lines[a], t.lines[b]
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		if la[i].kind != lb[i].kind || la[i].kind == partNum || la[i].text != lb[i].text {
			return false
		}
	}
	return true
}

var (
	nqInteger = `"^^<` + ld.XSDInteger + ">"
	nqDouble  = `"^^<` + ld.XSDDouble + ">"
	nqTrue    = `"true"^^<` + ld.XSDBoolean + ">"
	nqFalse   = `"false"^^<` + ld.XSDBoolean + ">"
)

type span struct{ start, end, line int }

var renderPool = sync.Pool{New: func() any { return &renderBuf{buf: make([]byte, 0, 4096), spans: make([]span, 0, 64)} }}

type renderBuf struct {
	buf   []byte
	spans []span
}

// render fills t with slots. ok is false when the result might differ from the general
// path's (equal lines it cannot vouch for, a sentinel IRI, a number json-gold refuses):
// the caller then takes the general path.
func (t *template) render(slots []slot) (out []byte, ok bool) {
	rb := renderPool.Get().(*renderBuf)
	defer renderPool.Put(rb)
	buf, spans := rb.buf[:0], rb.spans[:0]
	for li, line := range t.lines {
		start := len(buf)
		for _, p := range line {
			switch p.kind {
			case partText:
				buf = append(buf, p.text...)
			case partIRI:
				v := slots[p.slot].s
				if strings.HasPrefix(v, undefinedTermVocab) || strings.HasPrefix(v, relativeIRIBase) {
					rb.buf, rb.spans = buf, spans
					return nil, false // the general path refuses this document; let it say why
				}
				buf = append(buf, v...)
			case partLit:
				v := slots[p.slot].s
				if strings.IndexByte(v, '<') >= 0 && (strings.Contains(v, "<"+undefinedTermVocab) || strings.Contains(v, "<"+relativeIRIBase)) {
					rb.buf, rb.spans = buf, spans
					return nil, false
				}
				buf = appendNQuadsEscaped(buf, v)
			case partNum:
				if buf, ok = appendNumberLiteral(buf, slots[p.slot].s); !ok {
					rb.buf, rb.spans = buf, spans
					return nil, false
				}
			case partBool:
				if slots[p.slot].b {
					buf = append(buf, nqTrue...)
				} else {
					buf = append(buf, nqFalse...)
				}
			}
		}
		spans = append(spans, span{start, len(buf), li})
	}
	rb.buf, rb.spans = buf, spans
	// URDNA2015 as json-gold runs it: one line per quad, sorted as Go strings (bytes).
	slices.SortFunc(spans, func(a, b span) int { return bytes.Compare(buf[a.start:a.end], buf[b.start:b.end]) })
	out = make([]byte, 0, len(buf))
	for i, sp := range spans {
		l := buf[sp.start:sp.end]
		if i > 0 && bytes.Equal(l, buf[spans[i-1].start:spans[i-1].end]) {
			if !t.sameValue(sp.line, spans[i-1].line) {
				return nil, false
			}
			continue // one quad, as json-gold keeps it
		}
		out = append(out, l...)
	}
	// The strict-mode sentinels (canon.go) cannot be in the output: the fixed text has
	// none (the general path accepted probe A), and one that a slot would complete is
	// refused above: an IRI slot fills a whole <...>, a string slot a whole "..." (and the
	// sentinels hold neither '"' nor '>'); numbers and booleans hold no '<'.
	return out, true
}

// appendNQuadsEscaped escapes s exactly as json-gold's N-Quads serialiser does (v0.4.2
// ld.escape: backslash, double quote, LF, CR and TAB; nothing else).
func appendNQuadsEscaped(buf []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '"':
			esc = `\"`
		case '\n':
			esc = `\n`
		case '\r':
			esc = `\r`
		case '\t':
			esc = `\t`
		default:
			continue
		}
		buf = append(buf, s[last:i]...)
		buf = append(buf, esc...)
		last = i + 1
	}
	return append(buf, s[last:]...)
}

// appendNumberLiteral writes a JSON number's literal as the general path does: the number
// is parsed to a float64 (forJSONLD) and json-gold's objectToRDF writes an integral value
// as xsd:integer with %d of its int64, anything else as xsd:double in its canonical form.
func appendNumberLiteral(buf []byte, num string) ([]byte, bool) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return buf, false // forJSONLD refuses it
	}
	buf = append(buf, '"')
	if f == float64(int64(f)) { // the very test json-gold makes
		buf = strconv.AppendInt(buf, int64(f), 10)
		return append(buf, nqInteger...), true
	}
	buf = append(buf, ld.GetCanonicalDouble(f)...)
	return append(buf, nqDouble...), true
}

// Template cache.

type templateCache struct {
	mu    sync.RWMutex
	known map[string]*template // nil: unsupported, always the general path
	seen  map[string]struct{}  // keys seen once
}

var templates = newTemplateCache()

func newTemplateCache() *templateCache {
	return &templateCache{known: map[string]*template{}, seen: map[string]struct{}{}}
}

func (c *templateCache) lookup(key []byte) (t *template, known bool) {
	c.mu.RLock()
	t, known = c.known[string(key)]
	c.mu.RUnlock()
	return t, known
}

// learn is called after the general path canonicalised doc (matched as sh) to out. The
// first sighting of a key is only noted (so that input that never repeats costs no probes);
// the second builds the template.
func (c *templateCache) learn(sh *shape, doc map[string]any, out []byte) {
	k := string(sh.key)
	c.mu.Lock()
	if _, done := c.known[k]; done {
		c.mu.Unlock()
		return
	}
	if _, again := c.seen[k]; !again {
		if len(c.seen) >= fastMaxTemplates {
			clear(c.seen)
		}
		c.seen[k] = struct{}{}
		c.mu.Unlock()
		return
	}
	delete(c.seen, k)
	c.mu.Unlock()
	c.store(k, buildChecked(sh, doc, out))
}

func (c *templateCache) store(k string, t *template) {
	c.mu.Lock()
	if len(c.known) >= fastMaxTemplates {
		for old := range c.known { // evict one, arbitrary
			delete(c.known, old)
			break
		}
	}
	c.known[k] = t
	c.mu.Unlock()
}

// buildChecked builds the template of sh's key and checks it on doc itself, whose general
// canonical form is out. nil: unsupported.
func buildChecked(sh *shape, doc map[string]any, out []byte) *template {
	t := buildTemplate(sh, doc)
	if t == nil {
		return nil
	}
	if got, ok := t.render(sh.slots); ok && !bytes.Equal(got, out) {
		return nil
	}
	return t
}

// fastCanonical returns the canonical form of doc by template, or ok false (doc is not of a
// known supported shape, or this rendering must be left to the general path). learnable
// reports that doc matched the grammar under a key not yet decided.
func fastCanonical(doc map[string]any) (out []byte, ok bool, sh *shape) {
	sh = shapePool.Get().(*shape)
	if !sh.match(doc) {
		sh.release()
		return nil, false, nil
	}
	t, known := templates.lookup(sh.key)
	if !known {
		return nil, false, sh // the caller learns from the general path, then releases
	}
	if t != nil {
		out, ok = t.render(sh.slots)
	}
	sh.release()
	return out, ok, nil
}

// Building a template.

// probeDoc returns a deep copy of doc with the value of slot i replaced by value(i, slot),
// and the copy's shape (nil if the copy no longer matches).
func probeDoc(doc map[string]any, value func(int, slot) any) (map[string]any, *shape) {
	cp := deepCopyJSON(doc).(map[string]any)
	sh := &shape{}
	if !sh.match(cp) {
		return nil, nil
	}
	for i, sl := range sh.slots {
		sl.obj[sl.member] = value(i, sl)
	}
	after := &shape{}
	if !after.match(cp) {
		return cp, nil
	}
	return cp, after
}

func deepCopyJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopyJSON(e)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = deepCopyJSON(e)
		}
		return a
	default:
		return v
	}
}

// probeMarker is slot i's marker in probe A: unique in the output thanks to the nonce.
func probeMarker(nonce string, i int) string { return nonce + strconv.Itoa(i) + "z" }

// probeA: every slot holds its marker, in an IRI of the slot's scheme for IRI slots and
// as a string for all others (numbers and booleans included: the string finds the line).
func probeA(nonce string, i int, sl slot) string {
	m := probeMarker(nonce, i)
	if sl.class != slotIRI {
		return m
	}
	switch sl.scheme {
	case "https", "http":
		return sl.scheme + "://" + m + ".example/"
	default:
		return sl.scheme + ":" + m
	}
}

// probeValue: the check probes. Variant 1 has hostile strings, fractional negative numbers,
// false and IRIs full of reserved characters; variant 2 empty strings, integers, true and
// IRIs of another form.
func probeValue(variant, i int, sl slot) any {
	n := strconv.Itoa(i)
	switch sl.class {
	case slotStr:
		if variant == 1 {
			return "B\"\\\n\r\t\x00\x01\x1f\x7f é中文😀\u2028\u00a0<>&'{}|^`_:b0 @id urn:x:y https://e.x/ \\\"" + n
		}
		if i%2 == 0 {
			return ""
		}
		return "C 😀 \\\\ \"q\" " + n
	case slotNum:
		if variant == 1 {
			return json.Number("-" + n + ".5")
		}
		return json.Number(strconv.Itoa((i + 1) * 1000003))
	case slotBool:
		return variant != 1
	}
	switch {
	case variant == 1 && sl.scheme == "urn":
		return "urn:lzb-" + n + ":a.b_c~d-e/f?g=h&i;j=k(l)m*n+o,p!q$r'@s#t"
	case variant == 1 && sl.scheme == "did":
		return "did:lzb:" + n + ":x%41y#key-1"
	case variant == 1:
		return sl.scheme + "://b" + n + ".lzprobe.example:8443/a/b;c?d=e&f#g"
	case sl.scheme == "urn":
		return "urn:uuid:00000000-0000-4000-8000-" + strings.Repeat("0", 12-len(n)) + n
	case sl.scheme == "did":
		return "did:key:z6MkC" + n + "#z6MkC" + n
	default:
		return sl.scheme + "://c.lzprobe.example/s/" + n + "#" + strconv.Itoa(i*7)
	}
}

// buildTemplate makes the template of real's key from probes of doc (see the package
// documentation), or returns nil if the key is not one the fast path can serve.
func buildTemplate(real *shape, doc map[string]any) *template {
	var nb [6]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil
	}
	nonce := "lzp" + hex.EncodeToString(nb[:])
	n := len(real.slots)
	probes := make([]string, n)
	for i, sl := range real.slots {
		probes[i] = probeA(nonce, i, sl)
		if sl.class == slotIRI && iriScheme(probes[i]) != sl.scheme {
			return nil
		}
	}
	pa, _ := probeDoc(doc, func(i int, _ slot) any { return probes[i] })
	if pa == nil {
		return nil
	}
	outA, err := canonicalizeRDFCGeneral(pa)
	if err != nil {
		return nil
	}
	// At most one blank node: URDNA2015 then labels it _:c14n0 whatever the values are
	// (the first canonical identifier issued). Slots never make blank nodes: IRI slots have
	// a scheme other than "_", and the others must come out as literals (below).
	if bytes.Contains(outA, []byte("_:c14n1")) {
		return nil
	}
	t := &template{}
	used := make([]bool, n)
	prev := ""
	for _, line := range strings.SplitAfter(string(outA), "\n") {
		if line == "" {
			continue
		}
		if line == prev {
			return nil // json-gold kept two equal quads: sameValue's premise fails
		}
		prev = line
		parts, ok := extractLine(line, nonce, probes, real.slots, used)
		if !ok {
			return nil
		}
		t.lines = append(t.lines, parts)
	}
	for _, u := range used {
		if !u {
			return nil // a value the general path ignores: leave such shapes to it
		}
	}
	for variant := 1; variant <= 2; variant++ {
		pd, psh := probeDoc(doc, func(i int, sl slot) any { return probeValue(variant, i, sl) })
		if psh == nil || !bytes.Equal(psh.key, real.key) {
			return nil
		}
		want, err := canonicalizeRDFCGeneral(pd)
		if err != nil {
			return nil
		}
		if got, ok := t.render(psh.slots); !ok || !bytes.Equal(got, want) {
			return nil
		}
	}
	return t
}

// extractLine turns one line of probe A's output into parts. Every marker must be a whole
// IRI (<...>, IRI slots only), a whole string literal (` "..."`) or, for numbers and
// booleans, a whole plain literal (their literal replaces it); anything else (a marker
// inside a longer IRI or literal, escaped, typed as JSON...) fails.
func extractLine(line, nonce string, probes []string, slots []slot, used []bool) ([]part, bool) {
	var parts []part
	pos := 0
	for {
		j := strings.Index(line[pos:], nonce)
		if j < 0 {
			break
		}
		j += pos
		k := j + len(nonce)
		d := k
		for d < len(line) && '0' <= line[d] && line[d] <= '9' {
			d++
		}
		if d == k || d >= len(line) || line[d] != 'z' {
			return nil, false
		}
		i, err := strconv.Atoi(line[k:d])
		if err != nil || i >= len(probes) {
			return nil, false
		}
		pv := probes[i]
		start := j - strings.Index(pv, nonce)
		end := start + len(pv)
		if start < pos || end >= len(line) || line[start:end] != pv {
			return nil, false
		}
		var p part
		from, to := start, end
		switch {
		case slots[i].class == slotIRI && start >= 1 && line[start-1] == '<' && line[end] == '>':
			p = part{kind: partIRI, slot: i}
		case start >= 2 && line[start-2:start] == ` "` && line[end] == '"':
			switch slots[i].class {
			case slotNum, slotBool:
				if end+1 >= len(line) || line[end+1] != ' ' {
					return nil, false // typed or tagged: only plain literals here
				}
				p = part{kind: partNum, slot: i}
				if slots[i].class == slotBool {
					p.kind = partBool
				}
				from, to = start-1, end+1
			default:
				p = part{kind: partLit, slot: i}
			}
		default:
			return nil, false
		}
		if from > pos {
			parts = append(parts, part{kind: partText, text: line[pos:from]})
		}
		parts = append(parts, p)
		used[i] = true
		pos = to
	}
	if pos < len(line) {
		parts = append(parts, part{kind: partText, text: line[pos:]})
	}
	return parts, len(parts) > 0
}
