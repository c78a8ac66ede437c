package ledger

import "slices"

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
