package receipt

import (
	"bytes"
	"encoding/json"
)

// remarshal turns a strictly parsed JSON object into a Receipt, refusing unknown members.
func remarshal(m map[string]any, r *Receipt) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(r)
}
