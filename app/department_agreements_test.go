package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// testRegions: a credential recognised in one other region, at two of its service items.
func testRegions() []ledgerclient.Recognised {
	return []ledgerclient.Recognised{{Region: "region-b", Name: ledger.Text{Zh: "示例乙市", En: "Example City B"},
		AcceptedAs: "household-register", ServiceItems: []string{"property-transfer", "settle"}, ValidUntil: "2031-01-01T00:00:00Z"}}
}

// testAgreements: one agreement in force (with a claim renamed), one expired.
func testAgreements() []ledger.Recognition {
	in := ledger.Recognition{Region: "region-b", Name: ledger.Text{Zh: "示例乙市", En: "Example City B"},
		ChainID: "lz-region-b", GenesisSHA256: strings.Repeat("0f1e", 16), InitialHeight: 1,
		Validators: []ledger.RootValidator{{PubKey: "AA==", Power: 10}, {PubKey: "AQ==", Power: 10}, {PubKey: "Ag==", Power: 10}},
		Nodes:      []string{"https://ledger.region-b.example"},
		Types: []ledger.RecognisedType{{Type: "household-register", AcceptedAs: "household-register",
			ServiceItems: []string{"property-transfer", "property-transfer-online"}, Claims: []ledger.ClaimRename{{Theirs: "full_name", Ours: "name"}}}},
		ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2099-01-01T00:00:00Z", MaxAgeSeconds: 86400}
	old := in
	old.Region, old.Name = "region-c", ledger.Text{Zh: "示例丙市", En: "Example City C"}
	old.ValidFrom, old.ValidUntil = "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
	return []ledger.Recognition{in, old}
}

// TestDepartmentAgreements: 跨区域互认 (the issue tab's last button) lists the ledger's agreements in the clerk's
// words, in both languages and at desktop size: the region, in force or not, the validity,
// the 互认清单 line (their type, ours, the service items, the renamed claim), and — behind 详情
// — the other chain and its genesis SHA-256 to check out of band; with none, it says so and
// how agreements are made.
func TestDepartmentAgreements(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		u, _ := newTestUI(t, RoleDepartment, l, fyne.NewSize(1280, 800))
		fd := u.dept.dep.(*fakeDept)
		test.Tap(u.dept.agreements.Show)
		body := u.dept.agreements.body
		if !hasText(body, T("dept.agreements.none")) {
			t.Errorf("%s: no agreements: it does not say so", l)
		}
		fd.agreements = testAgreements()
		test.Tap(u.dept.agreements.Show)
		for _, want := range []string{"示例乙市", T("dept.agreements.in_force"), T("dept.agreements.not_in_force"), "full_name → name",
			"property-transfer", "2099"} {
			if l == LangEn && want == "示例乙市" {
				want = "Example City B"
			}
			if !hasText(body, want) {
				t.Errorf("%s: the agreements lack %q", l, want)
			}
		}
	}
	SetLanguage(LangZh)
}
