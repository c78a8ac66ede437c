package statuslist

import (
	"bytes"
	"testing"
)

func FuzzDecodeW3C(f *testing.F) {
	l, _ := New(MinSize, 1)
	l.Set(3, 1)
	s, _ := l.EncodeW3C()
	f.Add(s, 1)
	f.Add(w3cSpecExample, 1)
	f.Add("u", 2)
	f.Add("uH4sI", 1)
	f.Fuzz(func(t *testing.T, s string, size int) {
		d, err := DecodeW3C(s, size)
		if err != nil {
			return
		}
		if d.Size() < MinSize || len(d.Bytes()) > MaxInflatedBytes {
			t.Fatalf("accepted a list of %d entries", d.Size())
		}
		re, err := d.EncodeW3C()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := DecodeW3C(re, size)
		if err != nil || !bytes.Equal(d2.Bytes(), d.Bytes()) {
			t.Fatalf("re-encoding does not round trip: %v", err)
		}
	})
}

func FuzzDecodeIETF(f *testing.F) {
	for _, ex := range ietfExamples {
		f.Add(ex.lst, ex.bits)
	}
	f.Add("", 1)
	f.Add("eNo", 8)
	f.Fuzz(func(t *testing.T, lst string, bits int) {
		d, err := DecodeIETF(IETFStatusList{Bits: bits, Lst: lst})
		if err != nil {
			return
		}
		if len(d.Bytes()) > MaxInflatedBytes || d.Size() == 0 {
			t.Fatalf("accepted a list of %d bytes", len(d.Bytes()))
		}
		for _, i := range []int{0, d.Size() - 1} {
			if _, err := d.Get(i); err != nil {
				t.Fatal(err)
			}
		}
		d2, err := DecodeIETF(d.EncodeIETF())
		if err != nil || !bytes.Equal(d2.Bytes(), d.Bytes()) {
			t.Fatalf("re-encoding does not round trip: %v", err)
		}
	})
}
