package receipt

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"lianzheng/credential/jws"
)

// Signer signs receipts for one window key: the JOSE header is encoded once, and the
// payload's canonical JSON (the bytes jws.Marshal would give) is written in one pass instead
// of a marshal, parse and re-marshal. TestSignerMatchesReference checks it, byte for byte,
// against jws.Marshal + jws.Sign.
type Signer struct {
	key    ed25519.PrivateKey
	header string // base64url(canonical JSON header) "."
}

// NewSigner prepares a signer for the key kid names.
func NewSigner(kid string, key ed25519.PrivateKey) (*Signer, error) {
	hb, err := jws.Marshal(map[string]any{"alg": jws.NewEd25519Signer(key).Alg(), "kid": kid, "typ": Typ})
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, header: jws.B64.EncodeToString(hb) + "."}, nil
}

// receiptJSON is Receipt with its members in sorted order, so that encoding/json
// (which keeps struct order and sorts map keys) writes the canonical form jws.Marshal
// produces.
type receiptJSON struct {
	Department       string              `json:"department"`
	Fields           map[string][]string `json:"fields"`
	ID               string              `json:"id"`
	Item             string              `json:"item"`
	PresentationHash string              `json:"presentation_hash"`
	Purpose          string              `json:"purpose"`
	Reasons          []string            `json:"reasons,omitempty"`
	Result           string              `json:"result"`
	Time             int64               `json:"time"`
	Types            []string            `json:"types"`
	Window           string              `json:"window"`
}

// Sign signs r (its field lists are sorted in place).
func (s *Signer) Sign(r *Receipt) (string, error) {
	if r.ID == "" || r.Window == "" || r.Time == 0 || (r.Result != ResultAccepted && r.Result != ResultRejected) {
		return "", fmt.Errorf("receipt: id, window, time and result are required")
	}
	for _, fs := range r.Fields {
		sort.Strings(fs)
	}
	payload, err := appendReceiptJSON(make([]byte, 0, 512), r)
	if err != nil {
		return "", fmt.Errorf("receipt: %w", err)
	}
	b64 := jws.B64
	tok := make([]byte, 0, len(s.header)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(ed25519.SignatureSize))
	tok = append(tok, s.header...)
	tok = b64.AppendEncode(tok, payload)
	sig := ed25519.Sign(s.key, tok)
	tok = append(tok, '.')
	tok = b64.AppendEncode(tok, sig)
	return string(tok), nil
}

// appendReceiptJSON writes r as receiptJSON's canonical JSON. Strings with nothing to
// escape are copied; anything else (and any map key outside ASCII, whose order encoding/json
// decides) goes through encoding/json, so the bytes are always encoding/json's.
func appendReceiptJSON(dst []byte, r *Receipt) ([]byte, error) {
	for k := range r.Fields {
		if !plainJSONString(k) || !isASCII(k) {
			return appendEncoded(dst, receiptJSON{Department: r.Department, Fields: r.Fields, ID: r.ID, Item: r.Item,
				PresentationHash: r.PresentationHash, Purpose: r.Purpose, Reasons: r.Reasons, Result: r.Result,
				Time: r.Time, Types: r.Types, Window: r.Window})
		}
	}
	var err error
	str := func(s string) {
		if err == nil {
			dst, err = appendJSONString(dst, s)
		}
	}
	list := func(l []string) {
		if l == nil {
			dst = append(dst, "null"...)
			return
		}
		dst = append(dst, '[')
		for i, s := range l {
			if i > 0 {
				dst = append(dst, ',')
			}
			str(s)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `{"department":`...)
	str(r.Department)
	dst = append(dst, `,"fields":`...)
	if r.Fields == nil {
		dst = append(dst, "null"...)
	} else {
		keys := make([]string, 0, len(r.Fields))
		for k := range r.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			str(k)
			dst = append(dst, ':')
			list(r.Fields[k])
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"id":`...)
	str(r.ID)
	dst = append(dst, `,"item":`...)
	str(r.Item)
	dst = append(dst, `,"presentation_hash":`...)
	str(r.PresentationHash)
	dst = append(dst, `,"purpose":`...)
	str(r.Purpose)
	if len(r.Reasons) > 0 {
		dst = append(dst, `,"reasons":`...)
		list(r.Reasons)
	}
	dst = append(dst, `,"result":`...)
	str(r.Result)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, r.Time, 10)
	dst = append(dst, `,"types":`...)
	list(r.Types)
	dst = append(dst, `,"window":`...)
	str(r.Window)
	dst = append(dst, '}')
	return dst, err
}

// plainJSONString: s has no '"', '\\', control character, invalid UTF-8, U+2028 or U+2029,
// so encoding/json writes it between quotes unchanged (HTML escaping off).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += n
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func appendJSONString(dst []byte, s string) ([]byte, error) {
	if !plainJSONString(s) {
		return appendEncoded(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), nil
}

// appendEncoded appends v as encoding/json writes it without HTML escaping.
func appendEncoded(dst []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}
