package ledger

import (
	"slices"
	"strings"
	"unicode"
)

// ServiceItem returns the window's service item id (ids are unique within a window).
func (w *Window) ServiceItem(id string) (*ServiceItem, bool) {
	for i := range w.ServiceItems {
		if w.ServiceItems[i].ID == id {
			return &w.ServiceItems[i], true
		}
	}
	return nil, false
}

// Allowed returns what the item may ask for: the registered fields per credential type id
// (a fresh map of fresh slices).
func (si *ServiceItem) Allowed() map[string][]string {
	out := make(map[string][]string, len(si.Requests))
	for _, fr := range si.Requests {
		out[fr.Type] = slices.Clone(fr.Fields)
	}
	return out
}

// Optional returns the fields the item can do without, per credential type id (a fresh map
// of fresh slices; types with none are absent).
func (si *ServiceItem) Optional() map[string][]string {
	out := map[string][]string{}
	for _, fr := range si.Requests {
		if len(fr.Optional) > 0 {
			out[fr.Type] = slices.Clone(fr.Optional)
		}
	}
	return out
}

// Required reports whether the item asks field f of credential type typ and cannot do
// without it.
func (si *ServiceItem) Required(typ, f string) bool {
	for _, fr := range si.Requests {
		if fr.Type == typ {
			return slices.Contains(fr.Fields, f) && !slices.Contains(fr.Optional, f)
		}
	}
	return false
}

// W3CType maps a catalogue id to the type name its credentials carry in W3C form:
// "household-register" → "HouseholdRegisterCredential".
func W3CType(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if r == '-' || r == '_' || r == '.' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String() + "Credential"
}
