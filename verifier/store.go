package verifier

import (
	"encoding/json"

	"fmt"
	"lianzheng/credential/request"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// store keeps the window's protocol state: requests (open, expired, answered), the hashes
// of presentations seen, one-way nonces seen, receipts and anchors. With a directory it is
// persisted as JSON files (state.json, receipts.json) written atomically, so that `lz verify
// request` and `lz verify check` can run as separate processes; none of it holds personal
// data (requests, hashes, receipts only).
type store struct {
	dir string
	mu  sync.Mutex
	st  state
}

type storedRequest struct {
	Nonce   string `json:"nonce"` // base64url
	Text    string `json:"text"`  // LZ1Q text
	Item    string `json:"item"`
	Expires int64  `json:"expires"`
	Used    bool   `json:"used,omitempty"`

	cache *bindingCache // parsed form for one trust view (not persisted)
}

type bindingCache struct {
	view *View
	b    *binding
	reqs []request.FieldRequest
}

type storedReceipt struct {
	ID     string `json:"id"`
	JWS    string `json:"jws"`
	Time   int64  `json:"time"`
	Anchor int    `json:"anchor"` // index+1 into Anchors; 0: not anchored yet
}

// Anchor is a batch of receipts whose Merkle root was posted to the ledger.
type Anchor struct {
	Root     string    `json:"root"`
	Count    int       `json:"count"`
	Height   int64     `json:"height"`
	TxHash   string    `json:"tx_hash"`
	Seq      uint64    `json:"seq,omitempty"`
	Time     time.Time `json:"time"`
	Receipts []string  `json:"receipts"` // receipt ids in leaf order
}

type state struct {
	Requests []*storedRequest `json:"requests"`
	Seen     map[string]int64 `json:"seen"`    // presentation hash → time
	OneWay   map[string]int64 `json:"one_way"` // one-way nonce → time
	Receipts []*storedReceipt `json:"receipts"`
	Anchors  []*Anchor        `json:"anchors"`
	byNonce  map[string]*storedRequest

	// unused are the requests not yet answered (Used false), in the order of Requests:
	// the only ones that can be open, so that finding the open requests does not walk a
	// day's worth of answered ones. indexed is len(Requests) when unused was last made
	// consistent; any other length (Requests changed behind the store's back) rebuilds it.
	unused  []*storedRequest
	indexed int
}

func openStore(dir string) (*store, error) {
	s := &store{dir: dir, st: state{Seen: map[string]int64{}, OneWay: map[string]int64{}}}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("verifier: %w", err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "state.json"))
		if err == nil {
			if err := json.Unmarshal(b, &s.st); err != nil {
				return nil, fmt.Errorf("verifier: state.json: %w", err)
			}
		} else if !os.IsNotExist(err) {
			return nil, fmt.Errorf("verifier: %w", err)
		}
		if s.st.Seen == nil {
			s.st.Seen = map[string]int64{}
		}
		if s.st.OneWay == nil {
			s.st.OneWay = map[string]int64{}
		}
	}
	s.st.byNonce = map[string]*storedRequest{}
	for _, r := range s.st.Requests {
		s.st.byNonce[r.Nonce] = r
	}
	s.reindex()
	return s, nil
}

// reindex rebuilds the list of unused requests (caller holds mu).
func (s *store) reindex() {
	s.st.unused = s.st.unused[:0]
	for _, r := range s.st.Requests {
		if !r.Used {
			s.st.unused = append(s.st.unused, r)
		}
	}
	s.st.indexed = len(s.st.Requests)
}

// addRequest appends a new (unused) request (caller holds mu).
func (s *store) addRequest(r *storedRequest) {
	if s.st.indexed != len(s.st.Requests) {
		s.reindex()
	}
	s.st.Requests = append(s.st.Requests, r)
	s.st.byNonce[r.Nonce] = r
	if !r.Used {
		s.st.unused = append(s.st.unused, r)
	}
	s.st.indexed = len(s.st.Requests)
}

// markUsed marks r answered and reports whether it already was (caller holds mu).
func (s *store) markUsed(r *storedRequest) (was bool) {
	was, r.Used = r.Used, true
	if !was {
		if i := slices.Index(s.st.unused, r); i >= 0 {
			s.st.unused = slices.Delete(s.st.unused, i, i+1)
		}
	}
	return was
}

// candidates returns the requests an answer is tried against, at most max: the open ones
// (not answered, not expired at now with skew), most recent first, then the closed ones
// (answered or expired), most recent first. Caller holds mu.
func (s *store) candidates(now time.Time, skew time.Duration, max int) []*storedRequest {
	if s.st.indexed != len(s.st.Requests) {
		s.reindex()
	}
	var out []*storedRequest
	for i := len(s.st.unused) - 1; i >= 0 && len(out) < max; i-- {
		if r := s.st.unused[i]; !closed(r, now, skew) {
			out = append(out, r)
		}
	}
	for i := len(s.st.Requests) - 1; i >= 0 && len(out) < max; i-- {
		if r := s.st.Requests[i]; closed(r, now, skew) {
			out = append(out, r)
		}
	}
	return out
}

// save writes the state (caller holds mu).
func (s *store) save() error {
	if s.dir == "" {
		return nil
	}
	b, err := json.Marshal(&s.st)
	if err != nil {
		return err
	}
	p := filepath.Join(s.dir, "state.json")
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	return os.Rename(p+".tmp", p)
}

// prune forgets requests and one-way nonces long past expiry (keep: how long an answered
// or expired request is still recognised, to say "replayed"/"request_expired").
func (s *store) prune(now time.Time, keep time.Duration) {
	cut := now.Add(-keep).Unix()
	before, stale := len(s.st.Requests), s.st.indexed != len(s.st.Requests)
	out := s.st.Requests[:0]
	for _, r := range s.st.Requests {
		if r.Expires >= cut {
			out = append(out, r)
		} else {
			delete(s.st.byNonce, r.Nonce)
		}
	}
	s.st.Requests = out
	if stale || len(out) != before {
		s.reindex()
	}
	for n, t := range s.st.OneWay {
		if t < cut {
			delete(s.st.OneWay, n)
		}
	}
}
