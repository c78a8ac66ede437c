package assets

import (
	"slices"
	"testing"
)

// The catalogues are consistent: every reference resolves, every disclosable and requested
// field is a claim of its type, every label exists in both languages; the two regions share
// no department id (did:lz ids are unique across federated regions).
func TestDemoCatalogueConsistent(t *testing.T) {
	a, err := DemoCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	b, err := RegionBCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range b.Departments {
		if _, ok := a.Department(d.ID); ok {
			t.Errorf("department id %s is in both regions", d.ID)
		}
	}
	checkCatalogue(t, a)
	checkCatalogue(t, b)
}

func checkCatalogue(t *testing.T, c *Catalogue) {
	names := func(ct *CredentialType) []string {
		var out []string
		for _, cl := range ct.Claims {
			if cl.Label.Zh == "" || cl.Label.En == "" {
				t.Errorf("%s.%s: missing label", ct.ID, cl.Name)
			}
			out = append(out, cl.Name)
		}
		return out
	}
	for i := range c.Types {
		ct := &c.Types[i]
		all := names(ct)
		for _, d := range ct.Disclosable {
			if !slices.Contains(all, d) {
				t.Errorf("%s: disclosable %q is not a claim", ct.ID, d)
			}
		}
		for _, is := range ct.Issuers {
			if _, ok := c.Department(is); !ok {
				t.Errorf("%s: unknown issuer %q", ct.ID, is)
			}
		}
	}
	for _, w := range c.Windows {
		if _, ok := c.Department(w.Department); !ok {
			t.Errorf("window %s: unknown department", w.ID)
		}
		for _, si := range w.ServiceItems {
			for _, r := range si.Requests {
				ct, ok := c.Type(r.Type)
				if !ok {
					t.Fatalf("window %s: unknown type %q", w.ID, r.Type)
				}
				for _, f := range r.Fields {
					if !slices.Contains(ct.Disclosable, f) {
						t.Errorf("window %s asks for %s.%s, which is not disclosable", w.ID, r.Type, f)
					}
				}
				for _, f := range r.Optional {
					if !slices.Contains(r.Fields, f) {
						t.Errorf("window %s: optional %s.%s is not asked", w.ID, r.Type, f)
					}
				}
			}
		}
	}
}
