package sdjwtcbor

import (
	"bytes"
	"crypto/sha256"
	"math"
	"math/rand"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"lianzheng/credential/sdjwt"
)

func randCBORValue(r *rand.Rand, known []string, depth int) any {
	k := r.Intn(16)
	if depth > 4 && k >= 12 {
		k = r.Intn(12)
	}
	switch k {
	case 0:
		return randJSONString(r)
	case 1:
		return []byte(randJSONString(r))
	case 2:
		return uint64(r.Intn(5))
	case 3:
		return -int64(r.Intn(1000))
	case 4:
		return []float64{0.5, math.NaN(), 1e300, -3}[r.Intn(4)]
	case 5:
		return r.Intn(2) == 0
	case 6:
		return nil
	case 7:
		return cbor.Tag{Number: tagDict, Content: uint64(r.Intn(len(valueDict) + 1))}
	case 8:
		h := sha256.Sum256([]byte(known[r.Intn(len(known))]))
		return cbor.Tag{Number: tagKnown, Content: h[:2+r.Intn(3)]}
	case 9:
		return cbor.Tag{Number: tagDays, Content: uint64(r.Intn(30000))}
	case 10:
		switch r.Intn(4) {
		case 0:
			return cbor.Tag{Number: tagJWK, Content: make([]byte, 32)}
		case 1:
			return cbor.Tag{Number: tagJOSE, Content: randCBORValue(r, known, depth+1)}
		case 2:
			return cbor.Tag{Number: tagStatus, Content: []any{uint64(7), "urn:x"}}
		default:
			return cbor.Tag{Number: 99, Content: uint64(1)}
		}
	case 11:
		return float32(1)
	case 12, 13:
		out := make([]any, r.Intn(4))
		for i := range out {
			out[i] = randCBORValue(r, known, depth+1)
		}
		return out
	default:
		m := map[any]any{}
		for i := r.Intn(6); i > 0; i-- {
			var key any
			switch r.Intn(5) {
			case 0:
				key = uint64(r.Intn(len(keyDict) + 1)) // sometimes out of range
			case 1:
				key = []string{"_sd", "...", "iss", "é", "b"}[r.Intn(5)]
			case 2:
				key = int64(-1)
			default:
				key = randJSONString(r)
			}
			switch {
			case key == "_sd" || key == uint64(15):
				if r.Intn(2) == 0 {
					m[key] = cbor.Tag{Number: tagSorted, Content: []any{make([]byte, 32*r.Intn(3)), uint64(r.Intn(3))}}
				} else {
					m[key] = []any{uint64(r.Intn(3)), make([]byte, 32)}
				}
			case key == "..." || key == uint64(17):
				m[key] = []any{uint64(r.Intn(3)), "x", make([]byte, 32)}[r.Intn(3)]
			default:
				m[key] = randCBORValue(r, known, depth+1)
			}
		}
		return m
	}
}

// appendValue writes what appendJSON(value(...)) wrote, and refuses what it refused.
func TestAppendValueMatchesValue(t *testing.T) {
	known := []string{"did:lz:a", "did:lz:a#k1", "urn:lz:vct:x", "name", "birth_date"}
	d := &decoder{known: newKnown(known), digests: []string{sdjwt.Digest("a"), sdjwt.Digest("b"), ""}}
	r := rand.New(rand.NewSource(11))
	accepted, maps := 0, 0
	for i := 0; i < 50000; i++ {
		v := randCBORValue(r, known, 0)
		got, err1 := d.appendValue(nil, v, 0)
		var want []byte
		j, err2 := d.value(v, 0)
		if err2 == nil {
			want, err2 = serialised(appendJSON(nil, j))
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%#v: errors differ: %v / %v", v, err1, err2)
		}
		if err1 == nil {
			accepted++
			if m, ok := v.(map[any]any); ok && len(m) >= 2 {
				maps++
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
			}
		}
	}
	t.Logf("%d of 50000 accepted, %d of them objects of 2 or more members", accepted, maps)
	if accepted < 5000 || maps < 500 {
		t.Fatalf("only %d of 50000 random values accepted: the test exercises too little", accepted)
	}
}
