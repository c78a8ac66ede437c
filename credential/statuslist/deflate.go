package statuslist

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/adler32"
)

// zlibCompress returns the smaller of two valid zlib streams of src: Go's compress/zlib at
// BestCompression, and our single-block fixed-Huffman encoder below.
//
// Why two: Go's compressor always ends the stream with an extra empty final block, so it
// cannot reproduce the byte strings zlib (C) produces and the IETF draft prints for its
// examples ("eNrbuRgAAhcBXQ"); the fixed-Huffman block can, and for sparse status lists
// (long zero runs) it is also as small as anything. Any valid zlib stream is conformant:
// this only makes our output match the published examples byte for byte.
func zlibCompress(src []byte) []byte {
	fixed := zlibFixed(src)
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, zlib.BestCompression)
	if err == nil {
		_, err = w.Write(src)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil || b.Len() >= len(fixed) {
		return fixed
	}
	return b.Bytes()
}

// zlibFixed wraps deflateFixed in the zlib format (RFC 1950) with the header zlib uses at
// its highest compression level (0x78 0xDA).
func zlibFixed(src []byte) []byte {
	out := []byte{0x78, 0xDA}
	out = append(out, deflateFixed(src)...)
	return binary.BigEndian.AppendUint32(out, adler32.Checksum(src))
}

// bitWriter writes DEFLATE's LSB-first bit stream.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// code writes a Huffman code, which DEFLATE packs most significant bit first.
func (w *bitWriter) code(c uint32, n uint) {
	var r uint32
	for i := uint(0); i < n; i++ {
		r = r<<1 | (c>>i)&1
	}
	w.bits(uint64(r), n)
}

func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc, w.n = 0, 0
	}
	return w.out
}

// literal writes a literal/length symbol (0..287) with the fixed code (RFC 1951 §3.2.6).
func (w *bitWriter) literal(sym int) {
	switch {
	case sym < 144:
		w.code(uint32(0x30+sym), 8)
	case sym < 256:
		w.code(uint32(0x190+sym-144), 9)
	case sym < 280:
		w.code(uint32(sym-256), 7)
	default:
		w.code(uint32(0xC0+sym-280), 8)
	}
}

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func (w *bitWriter) match(length, dist int) {
	i := 28
	for lengthBase[i] > length {
		i--
	}
	w.literal(257 + i)
	w.bits(uint64(length-lengthBase[i]), lengthExtra[i])
	j := 29
	for distBase[j] > dist {
		j--
	}
	w.code(uint32(j), 5)
	w.bits(uint64(dist-distBase[j]), distExtra[j])
}

const (
	minMatch   = 3
	maxMatch   = 258
	window     = 32768
	hashBits   = 15
	chainLimit = 64
)

// deflateFixed compresses src as one final DEFLATE block using the fixed Huffman code and
// greedy LZ77 matching over a 32 KiB window.
func deflateFixed(src []byte) []byte {
	w := &bitWriter{out: make([]byte, 0, len(src)/8+16)}
	w.bits(1, 1) // BFINAL
	w.bits(1, 2) // BTYPE = 01, fixed Huffman
	head := make([]int32, 1<<hashBits)
	for i := range head {
		head[i] = -1
	}
	prev := make([]int32, len(src))
	hash := func(p int) uint32 {
		return (uint32(src[p])<<16 | uint32(src[p+1])<<8 | uint32(src[p+2])) * 2654435761 >> (32 - hashBits)
	}
	insert := func(p int) {
		if p+minMatch <= len(src) {
			h := hash(p)
			prev[p] = head[h]
			head[h] = int32(p)
		}
	}
	for p := 0; p < len(src); {
		bestLen, bestDist := 0, 0
		if p+minMatch <= len(src) {
			limit := min(maxMatch, len(src)-p)
			for c, n := head[hash(p)], 0; c >= 0 && p-int(c) <= window && n < chainLimit; c, n = prev[c], n+1 {
				l := 0
				for l < limit && src[int(c)+l] == src[p+l] {
					l++
				}
				if l > bestLen {
					bestLen, bestDist = l, p-int(c)
					if l == limit {
						break
					}
				}
			}
		}
		if bestLen >= minMatch {
			w.match(bestLen, bestDist)
			for i := 0; i < bestLen; i++ {
				insert(p + i)
			}
			p += bestLen
			continue
		}
		w.literal(int(src[p]))
		insert(p)
		p++
	}
	w.literal(256) // end of block
	return w.flush()
}
