package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// IndexFile is the export's index of what it wrote: each file's URL path, content type and
// ETag, so that whoever publishes the copy can set the headers a static server cannot guess
// (application/statuslist+jwt in particular: OWF's sd-jwt-vc refuses a status list served
// as anything else).
const IndexFile = "gateway-index.json"

// ExportEntry is one exported file.
type ExportEntry struct {
	Path        string `json:"path"` // URL path under the base, e.g. /status/civil-affairs/0
	ContentType string `json:"content_type"`
	ETag        string `json:"etag"`
	MaxAge      int    `json:"max_age"`
}

// ExportIndex is the content of IndexFile.
type ExportIndex struct {
	PublicBaseURL string        `json:"public_base_url"`
	Height        int64         `json:"ledger_height"`
	Files         []ExportEntry `json:"files"`
}

// Export writes everything the gateway serves (as of its last Refresh) under dir, each at
// its URL path below the base, and IndexFile. A path's ':' (DIDs, vct) stays as it is.
func (s *Server) Export(dir string) (*ExportIndex, error) {
	st := s.cur.Load()
	if st == nil {
		return nil, ErrNotYet
	}
	idx := &ExportIndex{PublicBaseURL: st.base, Height: st.height}
	paths := make([]string, 0, len(st.files))
	for p := range st.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		res := st.files[p]
		rel := filepath.FromSlash(strings.TrimPrefix(p, "/"))
		if rel == "" || strings.Contains(p, "..") {
			return nil, fmt.Errorf("gateway: export: bad path %q", p)
		}
		f := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(f, res.body, 0o644); err != nil {
			return nil, err
		}
		idx.Files = append(idx.Files, ExportEntry{Path: p, ContentType: res.ctype, ETag: res.etag, MaxAge: res.maxAge})
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFile), b, 0o644); err != nil {
		return nil, err
	}
	return idx, nil
}
