package receipt

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	mrand "math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"

	"lianzheng/credential/jws"
)

// receiptJSON must carry exactly Receipt's members (same JSON names, options and
// types), in sorted order.
func TestReceiptJSONMirrorsReceipt(t *testing.T) {
	want, got := reflect.TypeOf(Receipt{}), reflect.TypeOf(receiptJSON{})
	members := func(tp reflect.Type) map[string]string {
		m := map[string]string{}
		for i := 0; i < tp.NumField(); i++ {
			f := tp.Field(i)
			m[f.Tag.Get("json")] = f.Type.String()
		}
		return m
	}
	if w, g := members(want), members(got); !reflect.DeepEqual(w, g) {
		t.Fatalf("receiptJSON %v does not mirror Receipt %v", g, w)
	}
	prev := ""
	for i := 0; i < got.NumField(); i++ {
		name, _, _ := strings.Cut(got.Field(i).Tag.Get("json"), ",")
		if name <= prev {
			t.Fatalf("receiptJSON member %q is out of order", name)
		}
		prev = name
	}
}

// signReference is the plain way to sign a receipt: canonical JSON by jws.Marshal, then
// jws.Sign. Signer must produce exactly its bytes.
func signReference(r *Receipt, kid string, key ed25519.PrivateKey) (string, error) {
	if r.ID == "" || r.Window == "" || r.Time == 0 || (r.Result != ResultAccepted && r.Result != ResultRejected) {
		return "", fmt.Errorf("receipt: id, window, time and result are required")
	}
	for _, fs := range r.Fields {
		sort.Strings(fs)
	}
	b, err := jws.Marshal(r)
	if err != nil {
		return "", err
	}
	return jws.Sign(map[string]any{"typ": Typ, "kid": kid}, b, jws.NewEd25519Signer(key))
}

// Signer produces byte for byte what signReference does.
func TestSignerMatchesReference(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	kid := "did:lz:window-1#key-1"
	s, err := NewSigner(kid, key)
	if err != nil {
		t.Fatal(err)
	}
	cases := []Receipt{
		{ID: NewID(), Window: "did:lz:window-1", Department: "dept", Item: "property-transfer", Purpose: "不动产登记",
			Types: []string{"household-register", "marriage-certificate"}, Time: 1700000000, Result: ResultAccepted,
			PresentationHash: "abc", Fields: map[string][]string{"marriage-certificate": {"spouse", "date"}, "household-register": {}}},
		{ID: "x", Window: "w", Time: 1, Result: ResultRejected, Reasons: []string{"malformed", "revoked"}, Fields: map[string][]string{}},
		{ID: "x", Window: "w", Time: -5, Result: ResultRejected, Fields: map[string][]string{"t": nil}},
		// Strings a scanner or a registration might hold: HTML characters, escapes, control
		// characters, U+2028, invalid UTF-8.
		{ID: "<id>&", Window: "w\"\\/", Item: "a\tb\nc\u0001\u007f", Purpose: "x\u2028y\u2029<>&", PresentationHash: "\xff\xfe",
			Time: 42, Result: ResultAccepted, Types: []string{"é", ""}, Fields: map[string][]string{"<b>": {"z", "a", "\x00"}}},
		{ID: "x", Window: "w", Time: 1, Result: ResultAccepted},
		{ID: "x", Window: "w", Time: 1, Result: ResultAccepted, Types: []string{}, Reasons: []string{},
			Fields: map[string][]string{"户籍": {"姓名"}, "z": {"b", "a"}, "a": {}, "é": nil, "😀": {"x"}, "￿": {"y"}}},
	}
	r := mrand.New(mrand.NewSource(3))
	pick := func() string {
		p := []string{"", "a", "Z9", "<&>", "\"", "\\", "\n", "\x01", "é", "中", "\u2028", "\xff", "-", "_"}
		return p[r.Intn(len(p))] + p[r.Intn(len(p))]
	}
	for i := 0; i < 300; i++ {
		c := Receipt{ID: "id" + pick(), Window: "w" + pick(), Department: pick(), Item: pick(), Purpose: pick(),
			PresentationHash: pick(), Time: int64(r.Intn(3e9)) - 1e9 + 1, Result: ResultRejected, Fields: map[string][]string{}}
		if c.Time == 0 {
			c.Time = 1
		}
		for j := r.Intn(4); j > 0; j-- {
			c.Fields[pick()] = []string{pick(), pick()}
			c.Types = append(c.Types, pick())
			c.Reasons = append(c.Reasons, pick())
		}
		cases = append(cases, c)
	}
	for i, c := range cases {
		a, b := c, c
		a.Fields, b.Fields = cloneFields(c.Fields), cloneFields(c.Fields)
		want, err1 := signReference(&a, kid, key)
		got, err2 := s.Sign(&b)
		if err1 != nil || err2 != nil {
			t.Fatalf("case %d: %v / %v", i, err1, err2)
		}
		if got != want {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
	for _, bad := range []Receipt{{Window: "w", Time: 1, Result: ResultAccepted}, {ID: "x", Time: 1, Result: ResultAccepted},
		{ID: "x", Window: "w", Result: ResultAccepted}, {ID: "x", Window: "w", Time: 1, Result: "maybe"}} {
		if _, err := s.Sign(&bad); err == nil {
			t.Fatalf("signed an incomplete receipt %+v", bad)
		}
	}
}

func cloneFields(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := map[string][]string{}
	for k, v := range m {
		if v == nil {
			out[k] = nil
		} else {
			out[k] = append([]string{}, v...)
		}
	}
	return out
}
