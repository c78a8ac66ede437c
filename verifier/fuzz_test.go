package verifier

import (
	"context"
	"strings"
	"testing"
	"time"

	"lianzheng/qr"
)

// FuzzVerify runs the whole pipeline, from the text a scanner typed to the verdict, on
// hostile input: it must never panic (recovery is switched off here) and never accept.
func FuzzVerify(f *testing.F) {
	now := time.Now()
	m := newMemWindow(f, now)
	m.v.noRecover = true
	good := m.referenceAnswer(f, now)
	f.Add(good)
	f.Add(strings.ToLower(good) + "\r\n")
	f.Add(good[:len(good)/2])
	f.Add("LZ1R:")
	f.Add("LZ1W:" + good[5:])
	f.Add(qr.Encode("LZ1R", []byte{0x82, 0x01, 0x81, 0x85, 0x40, 0x40, 0x40, 0x80, 0xf6}))
	f.Add(qr.Encode("LZ1W", []byte{0x84, 0x01, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x40}))
	f.Add("ＬＺ１Ｒ：ABC")
	ctx := context.Background()
	first := true
	f.Fuzz(func(t *testing.T, s string) {
		vd := m.v.Verify(ctx, s)
		if vd.OK && !(first && s == good) {
			// Only the one genuine answer, once, may pass.
			if s != good {
				t.Fatalf("accepted a mutated answer: %q", s)
			}
		}
		if s == good {
			first = false
		}
		if vd.Message.Zh == "" || (vd.Receipt != "") != seenData(vd) {
			t.Fatal("verdict without a message, or with a receipt although no credential verified (or none although one did)")
		}
	})
}

// FuzzVerifyBody mutates the compact body under the Base45/zlib framing (which the text-level
// fuzzing rarely gets through), with several requests open and one answered: matching an
// answer to its request (match.go) must never panic, and only the genuine answer may pass.
func FuzzVerifyBody(f *testing.F) {
	now := time.Now()
	m := newMemWindow(f, now)
	m.v.noRecover = true
	ctx := context.Background()
	hr, mc := m.issue(f, "household-register", now), m.issue(f, "marriage-certificate", now)
	var bodies [][]byte
	for i := 0; i < 4; i++ {
		_, body, err := qr.Decode(m.realEstateAnswer(f, hr, mc), MaxBody)
		if err != nil {
			f.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	if vd := m.v.Verify(ctx, qr.Encode("LZ1R", bodies[3])); !vd.OK { // the newest request answered
		f.Fatalf("%s %s", vd.Code, vd.Detail)
	}
	for _, b := range bodies {
		f.Add(b)
	}
	genuine := map[string]bool{string(bodies[0]): true, string(bodies[1]): true, string(bodies[2]): true}
	f.Fuzz(func(t *testing.T, body []byte) {
		vd := m.v.Verify(ctx, qr.Encode("LZ1R", body))
		if vd.OK && !genuine[string(body)] {
			t.Fatalf("accepted a mutated answer: %x", body)
		}
		if vd.OK {
			delete(genuine, string(body)) // once
		}
		if vd.Message.Zh == "" || (vd.OK && vd.Receipt == "") {
			t.Fatal("verdict without message, or accepted without a receipt")
		}
	})
}
