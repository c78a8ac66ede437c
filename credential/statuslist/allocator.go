package statuslist

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"sync"
)

// ErrFull is returned by Allocate when every index has been used.
var ErrFull = errors.New("statuslist: every index is in use")

// Allocator hands out status list indices drawn uniformly at random (crypto/rand) from the
// indices not yet used, and never hands out the same index twice — also across restarts,
// if its state (MarshalBinary) is persisted after each allocation. Random indices stop
// anyone from inferring issuance order or volume from a credential's index.
// It is safe for concurrent use.
type Allocator struct {
	mu   sync.Mutex
	size int
	used []uint64 // bit i%64 of word i/64 set = index i used
	free int
}

// NewAllocator returns an allocator over [0, size).
func NewAllocator(size int) (*Allocator, error) {
	if size <= 0 || size > MaxInflatedBytes*8 {
		return nil, fmt.Errorf("statuslist: allocator size %d out of range", size)
	}
	return &Allocator{size: size, used: make([]uint64, (size+63)/64), free: size}, nil
}

// Size is the number of indices managed.
func (a *Allocator) Size() int { return a.size }

// Remaining is the number of indices not yet used.
func (a *Allocator) Remaining() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.free
}

// Used reports whether index i has been handed out (or marked used).
func (a *Allocator) Used(i int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return i >= 0 && i < a.size && a.used[i/64]&(1<<(i%64)) != 0
}

// MarkUsed records that index i is taken (for example by a credential issued before the
// allocator state was kept). Marking a used index again is an error.
func (a *Allocator) MarkUsed(i int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i < 0 || i >= a.size {
		return fmt.Errorf("%w: index %d of %d", ErrRange, i, a.size)
	}
	if a.used[i/64]&(1<<(i%64)) != 0 {
		return fmt.Errorf("statuslist: index %d already used", i)
	}
	a.used[i/64] |= 1 << (i % 64)
	a.free--
	return nil
}

// Allocate returns an unused index chosen uniformly at random among the unused ones and
// marks it used. Each call costs one crypto/rand draw and a scan of the bitmap.
func (a *Allocator) Allocate() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.free == 0 {
		return 0, ErrFull
	}
	kb, err := rand.Int(rand.Reader, big.NewInt(int64(a.free)))
	if err != nil {
		return 0, fmt.Errorf("statuslist: random index: %w", err)
	}
	k := int(kb.Int64()) // the k-th (0-based) unused index
	for w, word := range a.used {
		freeBits := ^word
		if w == len(a.used)-1 && a.size%64 != 0 {
			freeBits &= 1<<(a.size%64) - 1
		}
		n := bits.OnesCount64(freeBits)
		if k >= n {
			k -= n
			continue
		}
		for ; k > 0; k-- {
			freeBits &= freeBits - 1 // clear the lowest free bit
		}
		b := bits.TrailingZeros64(freeBits)
		a.used[w] |= 1 << b
		a.free--
		return w*64 + b, nil
	}
	return 0, errors.New("statuslist: allocator state inconsistent")
}

// allocatorMagic starts the persisted form: "LZSA" version 1.
var allocatorMagic = [5]byte{'L', 'Z', 'S', 'A', 1}

// MarshalBinary persists the allocator: magic "LZSA" 0x01, size (uint32 big-endian), then
// the bitmap of used indices, index 0 in the most significant bit of the first byte.
func (a *Allocator) MarshalBinary() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]byte, 0, len(allocatorMagic)+4+(a.size+7)/8)
	out = append(out, allocatorMagic[:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(a.size))
	bm := make([]byte, (a.size+7)/8)
	for i := 0; i < a.size; i++ {
		if a.used[i/64]&(1<<(i%64)) != 0 {
			bm[i/8] |= 0x80 >> (i % 8)
		}
	}
	return append(out, bm...), nil
}

// UnmarshalBinary restores an allocator persisted by MarshalBinary.
func (a *Allocator) UnmarshalBinary(b []byte) error {
	h := len(allocatorMagic) + 4
	if len(b) < h || [5]byte(b[:5]) != allocatorMagic {
		return fmt.Errorf("%w: not an allocator state", ErrMalformed)
	}
	size := int(binary.BigEndian.Uint32(b[5:9]))
	if size <= 0 || size > MaxInflatedBytes*8 || len(b) != h+(size+7)/8 {
		return fmt.Errorf("%w: allocator state has the wrong length", ErrMalformed)
	}
	bm := b[h:]
	if size%8 != 0 && bm[len(bm)-1]&(0xFF>>(size%8)) != 0 {
		return fmt.Errorf("%w: allocator state marks indices beyond its size", ErrMalformed)
	}
	used := make([]uint64, (size+63)/64)
	free := size
	for i := 0; i < size; i++ {
		if bm[i/8]&(0x80>>(i%8)) != 0 {
			used[i/64] |= 1 << (i % 64)
			free--
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.size, a.used, a.free = size, used, free
	return nil
}
