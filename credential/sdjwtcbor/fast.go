package sdjwtcbor

import (
	"bytes"
	"crypto/sha256"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"lianzheng/credential/jws"
)

// Decode's fast path: the compact forms LianZheng wallets produce, read straight from the
// CBOR bytes into the rebuilt texts — no generic CBOR values, no intermediate maps, one
// scratch buffer per call.
//
// It is an accelerator, not a second definition of the format: it accepts a strict subset
// of what the general decoder (decodeGeneral: the CBOR library, then the generic values)
// accepts, and for that subset writes the same texts. Whatever falls outside — floats,
// undefined and other simple values, tags other than the compact form's, non-ASCII member
// names, strings the general path would hand to encoding/json, nesting past 40 levels,
// more than 1,024 array items or 256 map pairs, and every error of any kind — makes it
// give up, and the general decoder decides (so every error, and its kind, is the general
// decoder's). FuzzFastMatchesGeneral and TestFastMatchesGeneral check that whatever the
// fast path decodes, the general decoder decodes to the same texts.

// citem is one CBOR data item of the input, in preorder: an array's items, a map's keys and
// values (alternating) and a tag's content follow it, and next is the index just past its
// subtree.
type citem struct {
	major uint8  // CBOR major type
	ai    uint8  // additional information of the initial byte
	arg   uint64 // integer value; string length; array items; map pairs; tag number
	off   int    // strings: offset of the content in the input
	next  int    // index just past this item's subtree
}

const (
	fastMaxDepth = 40   // below the general decoder's 48 (counted the same: arrays, maps, tags)
	fastMaxArray = 1024 // below its 4,096
	fastMaxPairs = 256  // below its 1,024
)

// fastState is the per-call scratch of the fast path, pooled.
type fastState struct {
	data    []byte
	items   []citem
	js      []byte     // the JSON of the segment being written
	texts   []byte     // the base64url texts of the disclosures, back to back
	spans   [][2]int   // where each disclosure's text is in texts
	starts  []int      // the item of each disclosure
	dg      [][43]byte // digest of each disclosure (base64url SHA-256 of its text)
	state   []uint8    // per disclosure: 0 todo, 1 in progress, 2 done
	refs    []int
	members []member
	sdList  [][43]byte
	known   *known
}

type member struct {
	key []byte
	val int
}

// The keyDict numbers of the digest positions' member names.
var keySD, keyDots = uint64(indexOf(keyDict, "_sd")), uint64(indexOf(keyDict, "..."))

var fastPool = sync.Pool{New: func() any { return new(fastState) }}

// keyDictBytes is keyDict as byte slices (member names compared without conversions).
var keyDictBytes = func() [][]byte {
	out := make([][]byte, len(keyDict))
	for i, k := range keyDict {
		out[i] = []byte(k)
	}
	return out
}()

// decodeFast decodes data if it lies within the fast path's subset; ok false: use the
// general decoder.
func decodeFast(data []byte, ctx *Context, kn *known) (out []string, ok bool) {
	f := fastPool.Get().(*fastState)
	defer func() {
		f.data, f.known = nil, nil
		if cap(f.items) <= 1<<14 && cap(f.js) <= 64<<10 && cap(f.texts) <= 64<<10 {
			fastPool.Put(f)
		}
	}()
	f.data, f.items, f.known = data, f.items[:0], kn
	pos, ok := f.parse(0, 0)
	if !ok || pos != len(data) {
		return nil, false
	}
	top := f.items
	if top[0].major != 4 || top[0].arg != 2 || top[1].major != 0 || top[1].arg != Version {
		return nil, false
	}
	list := 2
	if top[list].major != 4 || top[list].arg == 0 || top[list].arg > MaxPresentations {
		return nil, false
	}
	out = make([]string, 0, top[list].arg)
	total := 0
	for i, p := 0, list+1; i < int(top[list].arg); i, p = i+1, top[p].next {
		s, ok := f.presentation(p, ctx)
		if !ok {
			return nil, false
		}
		if total += len(s); total > maxCompactOutput {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// parse reads the data item at pos (depth: the containers around it) into f.items and
// returns the position after it.
func (f *fastState) parse(pos, depth int) (int, bool) {
	d := f.data
	if pos >= len(d) {
		return 0, false
	}
	ib := d[pos]
	pos++
	major, ai := ib>>5, ib&0x1f
	var arg uint64
	switch {
	case ai < 24:
		arg = uint64(ai)
	case ai <= 27:
		n := 1 << (ai - 24)
		if len(d)-pos < n {
			return 0, false
		}
		for _, c := range d[pos : pos+n] {
			arg = arg<<8 | uint64(c)
		}
		pos += n
	default: // reserved, or an indefinite length
		return 0, false
	}
	idx := len(f.items)
	f.items = append(f.items, citem{major: major, ai: ai, arg: arg})
	switch major {
	case 0, 1:
	case 2, 3:
		if arg > uint64(len(d)-pos) {
			return 0, false
		}
		f.items[idx].off = pos
		pos += int(arg)
		if major == 3 && !utf8.Valid(d[pos-int(arg):pos]) {
			return 0, false
		}
	case 4, 5:
		n := arg
		if major == 5 {
			if n > fastMaxPairs {
				return 0, false
			}
			n *= 2
		} else if n > fastMaxArray {
			return 0, false
		}
		if depth+1 > fastMaxDepth {
			return 0, false
		}
		for ; n > 0; n-- {
			var ok bool
			if pos, ok = f.parse(pos, depth+1); !ok {
				return 0, false
			}
		}
	case 6:
		switch arg {
		case tagKnown, tagDict, tagSorted, tagJWK, tagJOSE, tagStatus, tagDays:
		default:
			return 0, false
		}
		if depth+1 > fastMaxDepth {
			return 0, false
		}
		var ok bool
		if pos, ok = f.parse(pos, depth+1); !ok {
			return 0, false
		}
	default: // 7: only false, true and null (floats, undefined, other simple values: general path)
		if ai != 20 && ai != 21 && ai != 22 {
			return 0, false
		}
	}
	f.items[idx].next = len(f.items)
	return pos, true
}

func (f *fastState) bytesOf(i int) []byte {
	it := &f.items[i]
	return f.data[it.off : it.off+int(it.arg)]
}

func (f *fastState) isNull(i int) bool { return f.items[i].major == 7 && f.items[i].ai == 22 }

// presentation rebuilds one SD-JWT(+KB) text from the 5-item array at p (the general
// decoder's decodeOne).
func (f *fastState) presentation(p int, ctx *Context) (string, bool) {
	it := f.items
	if it[p].major != 4 || it[p].arg != 5 {
		return "", false
	}
	hdr := p + 1
	pay := it[hdr].next
	sig := it[pay].next
	discs := it[sig].next
	kb := it[discs].next
	if it[sig].major != 2 || it[discs].major != 4 {
		return "", false
	}
	n := int(it[discs].arg)
	f.texts = f.texts[:0]
	f.dg = slices.Grow(f.dg[:0], n)[:n]
	f.state = slices.Grow(f.state[:0], n)[:n]
	f.starts = slices.Grow(f.starts[:0], n)[:n]
	f.spans = slices.Grow(f.spans[:0], n)[:n]
	clear(f.state)
	for i, j := 0, discs+1; i < n; i, j = i+1, it[j].next {
		f.starts[i] = j
	}
	for i := 0; i < n; i++ {
		if !f.resolve(i) {
			return "", false
		}
	}
	h, ok := f.seg(f.js[:0], hdr)
	if !ok {
		return "", false
	}
	hl := len(h)
	all, ok := f.seg(h, pay)
	if !ok {
		return "", false
	}
	f.js = all
	h, pl := all[:hl], all[hl:]
	sigb := f.bytesOf(sig)
	b64 := jws.B64
	size := b64.EncodedLen(len(h)) + b64.EncodedLen(len(pl)) + b64.EncodedLen(len(sigb)) + 3 + len(f.texts) + n + kbTextEstimate
	b := make([]byte, 0, size)
	b = b64.AppendEncode(b, h)
	b = append(b, '.')
	b = b64.AppendEncode(b, pl)
	b = append(b, '.')
	b = b64.AppendEncode(b, sigb)
	b = append(b, '~')
	for _, t := range f.spans {
		b = append(b, f.texts[t[0]:t[1]]...)
		b = append(b, '~')
	}
	if f.isNull(kb) {
		return string(b), true
	}
	if it[kb].major != 4 || it[kb].arg != 3 {
		return "", false
	}
	kh := kb + 1
	kp := it[kh].next
	ks := it[kp].next
	var head []byte
	switch it[kh].major {
	case 0:
		if it[kh].arg >= uint64(len(kbAlgs)) {
			return "", false
		}
		head = kbHeaders[it[kh].arg]
	case 2:
		head = f.bytesOf(kh)
	default:
		return "", false
	}
	var payload []byte
	switch it[kp].major {
	case 0: // our canonical payload; sd_hash covers the presentation up to its last '~'
		var hash [43]byte
		sum := sha256.Sum256(b)
		b64.Encode(hash[:], sum[:])
		js := append(f.js[:0], `{"aud":`...)
		js, _ = appendJSONString(js, ctx.Audience)
		js = append(js, `,"iat":`...)
		js = strconv.AppendUint(js, it[kp].arg, 10)
		js = append(js, `,"nonce":`...)
		js, _ = appendJSONString(js, ctx.Nonce)
		js = append(js, `,"sd_hash":"`...)
		js = append(js, hash[:]...)
		payload = append(js, `"}`...)
		f.js = payload
	case 2:
		payload = f.bytesOf(kp)
	default:
		return "", false
	}
	if it[ks].major != 2 {
		return "", false
	}
	b = b64.AppendEncode(b, head)
	b = append(b, '.')
	b = b64.AppendEncode(b, payload)
	b = append(b, '.')
	b = b64.AppendEncode(b, f.bytesOf(ks))
	return string(b), true
}

// resolve writes disclosure i's text and digest, after those of the disclosures it
// references (in the general decoder's order), refusing cycles.
func (f *fastState) resolve(i int) bool {
	switch f.state[i] {
	case 2:
		return true
	case 1:
		return false
	}
	f.state[i] = 1
	mark := len(f.refs)
	f.refsIn(f.starts[i], false)
	end := len(f.refs)
	for k := mark; k < end; k++ { // resolve appends past end and truncates back to it
		if j := f.refs[k]; j < len(f.state) && j != i && !f.resolve(j) {
			return false
		}
	}
	f.refs = f.refs[:mark]
	js, ok := f.seg(f.js[:0], f.starts[i])
	if !ok {
		return false
	}
	f.js = js
	start := len(f.texts)
	f.texts = jws.B64.AppendEncode(f.texts, js)
	f.spans[i] = [2]int{start, len(f.texts)}
	sum := sha256.Sum256(f.texts[start:])
	jws.B64.Encode(f.dg[i][:], sum[:])
	f.state[i] = 2
	return true
}

// refsIn appends to f.refs the disclosure indices referenced from _sd arrays and "..."
// values inside item i — exactly the general decoder's refsIn.
func (f *fastState) refsIn(i int, sd bool) {
	it := &f.items[i]
	switch it.major {
	case 0:
		if sd && it.arg < math.MaxInt32 {
			f.refs = append(f.refs, int(it.arg))
		}
	case 4:
		for j := i + 1; j < it.next; j = f.items[j].next {
			f.refsIn(j, sd)
		}
	case 6:
		if it.arg == tagSorted {
			f.refsIn(i+1, true)
		}
	case 5:
		for k := i + 1; k < it.next; {
			v := f.items[k].next
			key := &f.items[k]
			isSD := key.major == 0 && (key.arg == keySD || key.arg == keyDots) ||
				key.major == 3 && (string(f.bytesOf(k)) == "_sd" || string(f.bytesOf(k)) == "...")
			f.refsIn(v, isSD)
			k = f.items[v].next
		}
	}
}

// seg appends the JSON of segment i (raw bytes, or a structural value).
func (f *fastState) seg(dst []byte, i int) ([]byte, bool) {
	if f.items[i].major == 2 {
		return append(dst, f.bytesOf(i)...), true
	}
	return f.value(dst, i)
}

// str appends item i as a JSON string if it stands for a string (text, base64url bytes,
// dictionary value, known-string reference, date). isStr false: it is something else.
func (f *fastState) str(dst []byte, i int) (out []byte, isStr, ok bool) {
	it := &f.items[i]
	switch it.major {
	case 3:
		b := f.bytesOf(i)
		if !plainText(b) {
			return nil, true, false
		}
		dst = append(dst, '"')
		dst = append(dst, b...)
		return append(dst, '"'), true, true
	case 2:
		dst = append(dst, '"')
		dst = jws.B64.AppendEncode(dst, f.bytesOf(i))
		return append(dst, '"'), true, true
	case 6:
		c := &f.items[i+1]
		switch it.arg {
		case tagDict:
			if c.major != 0 || c.arg >= uint64(len(valueDict)) {
				return nil, true, false
			}
			out, err := appendJSONString(dst, valueDict[c.arg])
			return out, true, err == nil
		case tagKnown:
			if c.major != 2 {
				return nil, true, false
			}
			s, err := f.known.lookup(f.bytesOf(i + 1))
			if err != nil {
				return nil, true, false
			}
			out, err := appendJSONString(dst, s)
			return out, true, err == nil
		case tagDays:
			var days int64
			switch c.major {
			case 0:
				days = int64(min(c.arg, 1<<32))
			case 1:
				if c.arg > math.MaxInt64 {
					return nil, true, false
				}
				days = -1 - int64(c.arg)
			default:
				return nil, true, false
			}
			if days < -1<<20 || days > 1<<22 {
				return nil, true, false
			}
			dst = append(dst, '"')
			dst = time.Unix(days*secondsInDay, 0).UTC().AppendFormat(dst, dateLayout)
			return append(dst, '"'), true, true
		}
	}
	return dst, false, true
}

// plainText: valid UTF-8 (as CBOR text is, once parsed) that appendJSONString copies as it
// is: no '"', '\\', control character, U+2028 or U+2029.
func plainText(b []byte) bool {
	for i, c := range b {
		switch {
		case c < 0x20 || c == '"' || c == '\\':
			return false
		case c == 0xE2 && i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9):
			return false
		}
	}
	return true
}

// value appends the JSON of item i (the general decoder's appendValue).
func (f *fastState) value(dst []byte, i int) ([]byte, bool) {
	if out, isStr, ok := f.str(dst, i); isStr || !ok {
		return out, ok && isStr
	}
	it := &f.items[i]
	switch it.major {
	case 0:
		return strconv.AppendUint(dst, it.arg, 10), true
	case 1:
		if it.arg > math.MaxInt64 {
			return nil, false
		}
		return strconv.AppendInt(dst, -1-int64(it.arg), 10), true
	case 4:
		dst = append(dst, '[')
		for j := i + 1; j < it.next; j = f.items[j].next {
			if j > i+1 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = f.value(dst, j); !ok {
				return nil, false
			}
		}
		return append(dst, ']'), true
	case 5:
		return f.object(dst, i)
	case 6:
		return f.special(dst, i)
	default: // 7
		switch it.ai {
		case 20:
			return append(dst, "false"...), true
		case 21:
			return append(dst, "true"...), true
		case 22:
			return append(dst, "null"...), true
		}
	}
	return nil, false
}

// object appends the map at i as a JSON object, members sorted by name.
func (f *fastState) object(dst []byte, i int) ([]byte, bool) {
	mark := len(f.members)
	defer func() { f.members = f.members[:mark] }()
	for k := i + 1; k < f.items[i].next; {
		v := f.items[k].next
		var key []byte
		switch it := &f.items[k]; it.major {
		case 3:
			key = f.bytesOf(k)
			for _, c := range key {
				if c >= utf8.RuneSelf { // encoding/json decides the order of such names
					return nil, false
				}
			}
		case 0:
			if it.arg >= uint64(len(keyDict)) {
				return nil, false
			}
			key = keyDictBytes[it.arg]
		default:
			return nil, false
		}
		f.members = append(f.members, member{key, v})
		k = f.items[v].next
	}
	ms := f.members[mark:]
	slices.SortFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	dst = append(dst, '{')
	for n, m := range ms {
		if n > 0 {
			if bytes.Equal(m.key, ms[n-1].key) {
				return nil, false
			}
			dst = append(dst, ',')
		}
		if !plainText(m.key) {
			return nil, false
		}
		dst = append(dst, '"')
		dst = append(dst, m.key...)
		dst = append(dst, '"', ':')
		var ok bool
		switch string(m.key) {
		case "_sd":
			dst, ok = f.sd(dst, m.val)
		case "...":
			dst, ok = f.digest(dst, m.val)
		default:
			dst, ok = f.value(dst, m.val)
		}
		if !ok {
			return nil, false
		}
	}
	return append(dst, '}'), true
}

// digest appends a digest position's value: a presented disclosure's digest by index, or a
// string.
func (f *fastState) digest(dst []byte, i int) ([]byte, bool) {
	if it := &f.items[i]; it.major == 0 {
		if it.arg >= uint64(len(f.dg)) || f.state[it.arg] != 2 {
			return nil, false
		}
		dst = append(dst, '"')
		dst = append(dst, f.dg[it.arg][:]...)
		return append(dst, '"'), true
	}
	out, isStr, ok := f.str(dst, i)
	return out, ok && isStr
}

// sd appends an _sd value: an array of digest positions, or the sorted form.
func (f *fastState) sd(dst []byte, i int) ([]byte, bool) {
	it := &f.items[i]
	switch {
	case it.major == 4:
		dst = append(dst, '[')
		for j := i + 1; j < it.next; j = f.items[j].next {
			if j > i+1 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = f.digest(dst, j); !ok {
				return nil, false
			}
		}
		return append(dst, ']'), true
	case it.major == 6 && it.arg == tagSorted:
		form := i + 1
		if f.items[form].major != 4 || f.items[form].arg < 1 {
			return nil, false
		}
		hidden := form + 1
		if f.items[hidden].major != 2 || f.items[hidden].arg%digestLen != 0 {
			return nil, false
		}
		mark := len(f.sdList)
		defer func() { f.sdList = f.sdList[:mark] }()
		hb := f.bytesOf(hidden)
		for k := 0; k < len(hb); k += digestLen {
			var s [43]byte
			jws.B64.Encode(s[:], hb[k:k+digestLen])
			f.sdList = append(f.sdList, s)
		}
		for j := f.items[hidden].next; j < f.items[form].next; j = f.items[j].next {
			r := &f.items[j]
			if r.major != 0 || r.arg >= uint64(len(f.dg)) || f.state[r.arg] != 2 {
				return nil, false
			}
			f.sdList = append(f.sdList, f.dg[r.arg])
		}
		list := f.sdList[mark:]
		slices.SortFunc(list, func(a, b [43]byte) int { return bytes.Compare(a[:], b[:]) })
		dst = append(dst, '[')
		for n := range list {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, list[n][:]...)
			dst = append(dst, '"')
		}
		return append(dst, ']'), true
	}
	return nil, false
}

// special appends the fixed shapes (JWK, JOSE header, status reference).
func (f *fastState) special(dst []byte, i int) ([]byte, bool) {
	c := i + 1
	ci := &f.items[c]
	switch f.items[i].arg {
	case tagJWK:
		switch {
		case ci.major == 2 && ci.arg == 32:
			dst = append(dst, `{"crv":"Ed25519","kty":"OKP","x":"`...)
			dst = jws.B64.AppendEncode(dst, f.bytesOf(c))
			return append(dst, `"}`...), true
		case ci.major == 4 && ci.arg == 2:
			x, y := c+1, f.items[c+1].next
			if f.items[x].major != 2 || f.items[x].arg != 32 || f.items[y].major != 2 || f.items[y].arg != 32 {
				return nil, false
			}
			dst = append(dst, `{"crv":"P-256","kty":"EC","x":"`...)
			dst = jws.B64.AppendEncode(dst, f.bytesOf(x))
			dst = append(dst, `","y":"`...)
			dst = jws.B64.AppendEncode(dst, f.bytesOf(y))
			return append(dst, `"}`...), true
		}
	case tagJOSE:
		dst = append(dst, `{"alg":"EdDSA","kid":`...)
		out, isStr, ok := f.str(dst, c)
		if !ok || !isStr {
			return nil, false
		}
		return append(out, `,"typ":"dc+sd-jwt"}`...), true
	case tagStatus:
		if ci.major != 4 || ci.arg != 2 {
			return nil, false
		}
		idx, uri := c+1, f.items[c+1].next
		if f.items[idx].major != 0 {
			return nil, false
		}
		dst = append(dst, `{"status_list":{"idx":`...)
		dst = strconv.AppendUint(dst, f.items[idx].arg, 10)
		dst = append(dst, `,"uri":`...)
		out, isStr, ok := f.str(dst, uri)
		if !ok || !isStr {
			return nil, false
		}
		return append(out, "}}"...), true
	}
	return nil, false
}
