package chain

import (
	"slices"

	"lianzheng/ledger"
)

// regionPayload is recognition.remove's payload.
type regionPayload struct {
	Region string `json:"region"`
}

// checkRecognitionPut: the record is well formed (ledger.Recognition.Validate), names another
// chain than ours, and maps onto our catalogue: each AcceptedAs is one of our types, each
// renamed claim one of that type's claims, each service item registered at one of our
// windows (hall or online) and asking for the AcceptedAs type.
func (c *txCtx) checkRecognitionPut(v any) *txError {
	r := v.(*ledger.Recognition)
	if err := r.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "%v", err)
	}
	if r.ChainID == c.chain {
		return reject(ledger.CodeInvalid, "recognition %s: chain %s is this ledger's own", r.Region, ledger.Quote(r.ChainID))
	}
	ws, e := c.st.windows()
	if e != nil {
		return internal(e)
	}
	for _, t := range r.Types {
		ours, e := c.st.credType(t.AcceptedAs)
		if e != nil {
			return internal(e)
		}
		if ours == nil {
			return reject(ledger.CodeNotFound, "recognition %s type %s: accepted_as %s is not in our catalogue", r.Region, t.Type, ledger.Quote(t.AcceptedAs))
		}
		for _, rn := range t.Claims {
			if !slices.ContainsFunc(ours.Claims, func(cl ledger.Claim) bool { return cl.Name == rn.Ours }) {
				return reject(ledger.CodeInvalid, "recognition %s type %s: %s has no claim %s", r.Region, t.Type, ours.ID, ledger.Quote(rn.Ours))
			}
		}
		for _, si := range t.ServiceItems {
			if !itemAsksFor(ws, si, t.AcceptedAs) {
				return reject(ledger.CodeNotFound, "recognition %s type %s: no registered service item %s asks for %s", r.Region, t.Type, ledger.Quote(si), t.AcceptedAs)
			}
		}
	}
	return nil
}

// itemAsksFor reports whether some window has service item id asking for credential type typ.
func itemAsksFor(ws []ledger.Window, id, typ string) bool {
	for _, w := range ws {
		for _, si := range w.ServiceItems {
			if si.ID == id && slices.ContainsFunc(si.Requests, func(r ledger.FieldRequest) bool { return r.Type == typ }) {
				return true
			}
		}
	}
	return false
}

func (c *txCtx) applyRecognitionPut(v any) *txError {
	r := v.(*ledger.Recognition)
	if err := c.st.putJSON(ledger.KeyRecognition(r.Region), r); err != nil {
		return internal(err)
	}
	c.emit("lz.recognition", "region", r.Region, "op", "put")
	return nil
}

func (c *txCtx) checkRecognitionRemove(v any) *txError {
	id := v.(*regionPayload).Region
	var r ledger.Recognition
	ok, e := c.st.getJSON(ledger.KeyRecognition(id), &r)
	if e != nil {
		return internal(e)
	}
	if !ok {
		return reject(ledger.CodeNotFound, "recognition.remove: no recognition of region %s", ledger.Quote(id))
	}
	return nil
}

func (c *txCtx) applyRecognitionRemove(v any) *txError {
	id := v.(*regionPayload).Region
	c.st.remove(ledger.KeyRecognition(id))
	c.emit("lz.recognition", "region", id, "op", "remove")
	return nil
}
