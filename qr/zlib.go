package qr

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"math"
	"sync"
)

// deflaters reuses zlib writers: setting one up at the best level allocates and clears
// about a megabyte of tables, which dominated building a response QR.
var deflaters = sync.Pool{New: func() any {
	w, err := zlib.NewWriterLevel(io.Discard, zlib.BestCompression)
	if err != nil { // only for an invalid level, which this is not
		panic("qr: " + err.Error())
	}
	return w
}}

// inflaters reuses zlib readers (each holds a 32 KiB window and Huffman tables); Reset
// re-initialises one completely for the next stream.
var inflaters sync.Pool

// Deflate compresses data as a zlib stream (RFC 1950) at the best compression level.
func Deflate(data []byte) []byte {
	var buf bytes.Buffer
	w := deflaters.Get().(*zlib.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	// Writes to a bytes.Buffer cannot fail.
	_, _ = w.Write(data)
	_ = w.Close()
	return buf.Bytes()
}

// Inflate decompresses a zlib stream (RFC 1950) of untrusted origin, producing at
// most max bytes. It reads at most max+1 bytes of output: if the stream holds more
// it stops there and returns an error wrapping ErrTooLarge, so a zlib bomb costs
// at most max+1 bytes of memory and the time to inflate them. A bad header, a
// corrupt or truncated stream, a wrong Adler-32 checksum, a preset dictionary, or
// any bytes after the end of the stream give an error wrapping ErrMalformed.
func Inflate(data []byte, max int) ([]byte, error) {
	if max < 0 {
		return nil, malformed("zlib", "negative output limit %d", max)
	}
	// bytes.Reader is an io.ByteReader, so the decompressor reads exactly the
	// bytes of the stream and nothing beyond; what remains afterwards is trailing
	// garbage.
	src := bytes.NewReader(data)
	var zr io.ReadCloser
	if r, ok := inflaters.Get().(io.ReadCloser); ok {
		if err := r.(zlib.Resetter).Reset(src, nil); err != nil {
			inflaters.Put(r)
			return nil, zlibError(err)
		}
		zr = r
	} else {
		r, err := zlib.NewReader(src)
		if err != nil {
			return nil, zlibError(err)
		}
		zr = r
	}
	defer func() {
		_ = zr.Close()
		inflaters.Put(zr)
	}()
	// Grow the output as it arrives rather than trusting any size the input
	// suggests; start small so a tiny payload with a large max stays cheap.
	initial := 4 * len(data)
	if initial > max {
		initial = max + 1
	}
	if initial < 64 {
		initial = 64
	}
	out := bytes.NewBuffer(make([]byte, 0, initial))
	limit := int64(max)
	if limit < math.MaxInt64 {
		limit++
	}
	n, err := io.Copy(out, io.LimitReader(zr, limit))
	if err != nil {
		return nil, zlibError(err)
	}
	if n > int64(max) {
		return nil, tooLarge("zlib", "inflated data exceeds the limit of %d bytes", max)
	}
	// io.Copy stopped at io.EOF, which the zlib reader returns only after it has
	// verified the Adler-32 checksum.
	if src.Len() != 0 {
		return nil, malformed("zlib", "%d bytes of trailing data after the end of the stream", src.Len())
	}
	return out.Bytes(), nil
}

func zlibError(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("zlib", "truncated stream")
	case errors.Is(err, zlib.ErrChecksum):
		return malformed("zlib", "checksum mismatch")
	case errors.Is(err, zlib.ErrDictionary):
		return malformed("zlib", "preset dictionaries are not supported")
	case errors.Is(err, zlib.ErrHeader):
		return malformed("zlib", "invalid header")
	default:
		return malformed("zlib", "corrupt stream: %v", err)
	}
}
