package issuer

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Whose credential is it? The catalogue names claims, not roles: which claim is the holder's
// name and which the holder's identifying number is decided here, by claim name, from one
// small explicit table. A type without either (none in the demo catalogue) lists as "—".

// HolderClaims are the claims of a credential type that say whose credential it is.
type HolderClaims struct {
	Name   string // the holder's full name, or an organisation's registered name
	Number string // the citizen ID number, or the unified social credit code
	Entity bool   // the holder is an organisation (business licence)
}

// holderNameClaims and holderNumberClaims are the catalogue claim names that identify a
// credential's holder, in order of preference. Claims about someone else (a marriage
// certificate's spouse_name and spouse_id_number, a legal representative) are deliberately
// absent: the list must say whose credential it is, not who else it names.
var (
	holderNameClaims = []struct {
		claim  string
		entity bool
	}{
		{"name", false},        // 居民户口簿, 驾驶证, 居住证: 姓名
		{"full_name", false},   // (other catalogues)
		{"holder_name", false}, // 结婚证: 持证人
		{"entity_name", true},  // 营业执照: 名称 (an organisation, not a person)
	}
	holderNumberClaims = []string{
		"id_number",   // 公民身份号码
		"credit_code", // 营业执照: 统一社会信用代码
	}
)

// HolderClaimsOf picks the holder's name and number claims among a type's claim names (or
// the claims present in an offer). Either may be empty.
func HolderClaimsOf(claimNames []string) HolderClaims {
	var h HolderClaims
	for _, c := range holderNameClaims {
		if slices.Contains(claimNames, c.claim) {
			h.Name, h.Entity = c.claim, c.entity
			break
		}
	}
	for _, c := range holderNumberClaims {
		if slices.Contains(claimNames, c) {
			h.Number = c
			break
		}
	}
	return h
}

// Holder is what the department's list shows of a credential's holder: the masked name (an
// organisation's name in full: it is public in the enterprise credit register) and the
// masked number. Never the full personal values.
type Holder struct {
	Name   string `json:"name,omitempty"`
	Number string `json:"number,omitempty"`
	Entity bool   `json:"entity,omitempty"`
}

// NoHolder is shown for a record whose holder is not known (issued before the department
// kept a holder index, or of a type without holder claims).
const NoHolder = "—"

// String is the list's form: "张* 1101**********002X"; NoHolder when nothing is known.
func (h *Holder) String() string {
	if h == nil || (h.Name == "" && h.Number == "") {
		return NoHolder
	}
	if h.Name == "" {
		return NoHolder + " " + h.Number
	}
	if h.Number == "" {
		return h.Name
	}
	return h.Name + " " + h.Number
}

// holderOf extracts and masks the holder from claim values, with the normalised full values
// for the keyed hashes (nameKey, numberKey: "" when absent).
func holderOf(claims map[string]any) (h Holder, nameKey, numberKey string) {
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	hc := HolderClaimsOf(names)
	h.Entity = hc.Entity
	if s, ok := claims[hc.Name].(string); ok && hc.Name != "" {
		if n := NormaliseName(s); n != "" {
			nameKey = n
			if hc.Entity {
				h.Name = n
			} else {
				h.Name = MaskName(n)
			}
		}
	}
	if s, ok := claims[hc.Number].(string); ok && hc.Number != "" {
		if n := NormaliseNumber(s); n != "" {
			numberKey = n
			h.Number = MaskNumber(n)
		}
	}
	return h, nameKey, numberKey
}

// fullWidth maps a full-width ASCII form (ＡＢＣ１２３, as typed with a Chinese input
// method) to ASCII, and the ideographic space to a space.
func fullWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFF01 + '!'
	case r == 0x3000:
		return ' '
	}
	return r
}

// nameDots are the middle dots used between the parts of a transliterated name
// (阿依古丽·买买提); all are read as U+00B7.
const nameDots = "·•‧・･﹒"

// NormaliseName is the form of a name that is hashed for lookup and masked for display:
// full-width ASCII folded to ASCII, every middle-dot variant to "·", surrounding space
// trimmed and inner runs of space collapsed to one. Case is kept (the hash folds it).
func NormaliseName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		r = fullWidth(r)
		if strings.ContainsRune(nameDots, r) {
			r = '·'
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NormaliseNumber is the form of an ID number or credit code that is hashed and masked:
// full-width folded to ASCII, every space removed, letters upper-cased (a final x is X).
func NormaliseNumber(s string) string {
	var b strings.Builder
	for _, r := range s {
		r = fullWidth(r)
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// MaskName keeps a person's name's first character and masks every other letter with "*",
// one per character, keeping spaces and middle dots: 张 → *, 张三 → 张*, 张小明 → 张**,
// 阿依古丽·买买提 → 阿***·***. A one-character name is masked entirely.
func MaskName(s string) string {
	s = NormaliseName(s)
	if utf8.RuneCountInString(s) <= 1 {
		return strings.Repeat("*", utf8.RuneCountInString(s))
	}
	var b strings.Builder
	first := true
	for _, r := range s {
		switch {
		case r == ' ' || r == '·':
			b.WriteRune(r)
		case first:
			b.WriteRune(r)
			first = false
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}

// MaskNumber shows the ends of an identifying number and masks the middle, one "*" per
// character: 15 characters or more keep 4 at each end (11010119900307002X →
// 1101**********002X), 8–14 keep 2 at each end, shorter numbers are masked entirely.
func MaskNumber(s string) string {
	r := []rune(NormaliseNumber(s))
	keep := 0
	switch n := len(r); {
	case n >= 15:
		keep = 4
	case n >= 8:
		keep = 2
	}
	for i := keep; i < len(r)-keep; i++ {
		r[i] = '*'
	}
	return string(r)
}
