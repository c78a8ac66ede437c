package issuer_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"lianzheng/issuer"
)

// FuzzReadCSV: a batch file is whatever a department clerk picked; ReadCSV never panics, and
// what it accepts has only header columns as claims (the holder column apart) and no empty
// values.
func FuzzReadCSV(f *testing.F) {
	f.Add("\ufeffholder_name,spouse_name,holder\n测试用户甲,测试配偶,did:key:z6Mk\n")
	f.Add("a,a\n1,2\n")
	f.Add("a,b\n\"1\n2\",\"x\"\"y\"\n,\n")
	f.Add("a\n1,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := issuer.ReadCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		head, err := csv.NewReader(strings.NewReader(in)).Read()
		if err != nil {
			t.Fatalf("accepted a file whose header does not read: %v", err)
		}
		cols := map[string]bool{}
		for i, h := range head {
			if i == 0 {
				h = strings.TrimPrefix(h, "\ufeff")
			}
			cols[strings.TrimSpace(h)] = true
		}
		for _, r := range rows {
			for k, v := range r.Claims {
				if k == "" || k == issuer.HolderColumn || !cols[k] {
					t.Fatalf("claim %q not a header column of %q", k, head)
				}
				if s, _ := v.(string); strings.TrimSpace(s) == "" {
					t.Fatalf("empty value kept for %q", k)
				}
			}
		}
	})
}
