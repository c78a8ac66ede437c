package app

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lianzheng/issuer"
	"lianzheng/wallet"
)

// TestDepartmentWhileServing (issue 11.5): the app's departments run in its own process with
// their issuance services running (the demo home), so the department screen works while its
// service serves — on a phone: an offer made on the screen is in view, the wallet redeems it
// through the running service, a second offer made after that is redeemed too, and a
// revocation from the department reaches the ledger (the wallet sees it).
func TestDepartmentWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc := startTestDemo(t, ctx, t.TempDir())
	u := uiOver(t, test.NewTempApp(t), svc, LangZh, fyne.NewSize(390, 780))
	if err := svc.Citizen.Setup("246810"); err != nil {
		t.Fatal(err)
	}
	offer := func(name, number string) (text, pin string) {
		t.Helper()
		u.SetRole(RoleDepartment)
		d := u.dept
		d.which.SetSelected(departmentName("public-security"))
		for i, ty := range d.types {
			if ty.ID == "household-register" {
				d.typeSel.SetSelectedIndex(i)
			}
		}
		for k, v := range householdClaims(name, number) {
			d.Fields[k].SetText(v.(string))
		}
		d.submit()
		if d.LastOffer == nil || d.LastOffer.PIN == "" {
			t.Fatal("no offer on screen")
		}
		assertInView(t, u, "QR", d.OfferQR)
		assertInView(t, u, "PIN", d.OfferPIN)
		return d.LastOffer.Text, d.LastOffer.PIN
	}
	receive := func(text, pin string) {
		t.Helper()
		cs, err := svc.Citizen.Receive(ctx, text, pin)
		if err != nil || len(cs) != 1 || cs[0].Type != "household-register" {
			t.Fatalf("receive through the running service: %v", err)
		}
	}
	receive(offer("王小明", "110101199001010011"))
	receive(offer("王小红", "110101199001010022"))

	u.SetRole(RoleDepartment)
	dep := u.dept.dep
	recs, err := dep.Records(ctx)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records: %d %v", len(recs), err)
	}
	if err := dep.SetStatus(ctx, recs[0].ID, issuer.ActionRevoke); err != nil {
		t.Fatal(err)
	}
	items, err := svc.Citizen.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revoked := 0
	for _, it := range items {
		if it.Status == wallet.StatusRevoked {
			revoked++
		}
	}
	if revoked != 1 {
		t.Fatalf("%d of %d credentials revoked in the wallet's view, want 1", revoked, len(items))
	}
}
