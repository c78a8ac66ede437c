package verifier

import (
	"encoding/json"

	"fmt"
	"lianzheng/credential/request"
	"os"
	"path/filepath"
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
	return s, nil
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
	out := s.st.Requests[:0]
	for _, r := range s.st.Requests {
		if r.Expires >= cut {
			out = append(out, r)
		} else {
			delete(s.st.byNonce, r.Nonce)
		}
	}
	s.st.Requests = out
	for n, t := range s.st.OneWay {
		if t < cut {
			delete(s.st.OneWay, n)
		}
	}
}
