package app

import (
	"lianzheng/internal/bilingual"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lianzheng/credential"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

var phone = fyne.NewSize(390, 780)

// overAskPlan is a window request that asks for one household-register field beyond the
// service item's registration (the wallet core refuses it; the consent screen says so).
func overAskPlan() (*wallet.Plan, map[string]map[string]string) {
	labels := map[string]bilingual.Text{
		"name": {Zh: "姓名", En: "Name"}, "id_number": {Zh: "公民身份号码", En: "ID number"},
		"birth_date": {Zh: "出生日期", En: "Date of birth"},
	}
	p := &wallet.Plan{
		WindowName: bilingual.Text{Zh: "不动产登记中心 1 号窗口", En: "Real-estate registry, window 1"},
		ItemName:   bilingual.Text{Zh: "不动产转移登记（夫妻共有）", En: "Property transfer (joint spouses)"},
		Purpose:    bilingual.Text{Zh: "核实申请人身份及婚姻关系", En: "Verify the applicant's identity and marriage"},
		Department: "realestate", DepartmentName: bilingual.Text{Zh: "示例市不动产登记中心", En: "Real Estate Registration Centre (demo)"},
		OverAsk: true,
		Warning: bilingual.Text{Zh: "该窗口请求的信息超出其在链上登记的范围", En: "This window asked for more than it registered on the ledger"},
		Asks: []wallet.Ask{{Type: "household-register", TypeName: bilingual.Text{Zh: "居民户口簿", En: "Household register"},
			Requested: []string{"name", "id_number", "birth_date"}, Allowed: []string{"name", "id_number"},
			Refused: []string{"birth_date"}, Labels: labels, Candidates: demoItems()[:1], Chosen: "c1"}},
	}
	return p, map[string]map[string]string{"household-register": {"name": "测试用户甲", "id_number": "TEST00000000000001"}}
}

// failVerdict: a revoked credential, as the clerk sees it.
func failVerdict() *verifier.Verdict {
	v := passVerdict()
	v.OK, v.Code = false, credential.Code("revoked")
	v.Message = bilingual.Text{Zh: "凭证已被签发部门撤销", En: "The credential was revoked by its issuer"}
	v.Credentials = v.Credentials[:1]
	v.Credentials[0].OK = false
	v.Credentials[0].Message = bilingual.Text{Zh: "已撤销", En: "revoked"}
	v.Credentials[0].Fields = nil
	v.Trust = verifier.TrustInfo{Source: "snapshot", Height: 1200, Age: 2 * time.Hour}
	return v
}

// TestConsentAndFailGoldens: the over-asking consent screen (citizen, phone size) and a
// failed verdict from an offline window (desktop), in zh-Hans and en, against golden images.
func TestConsentAndFailGoldens(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		u, _ := newTestUI(t, RoleCitizen, l, phone)
		u.citizen.tabs.SelectIndex(2)
		p, vals := overAskPlan()
		u.citizen.consent(p, vals)
		c := u.Win.Canvas().Content()
		if !hasText(c, "⚠") || !hasText(c, "测试用户甲") || findButton(c, T("citizen.consent.agree")) == nil {
			t.Fatalf("%s: over-asking consent screen incomplete", l)
		}
		test.AssertImageMatches(t, l+"_consent_overask_phone.png", u.Win.Canvas().Capture())

		w, _ := newTestUI(t, RoleWindow, l, desktop)
		w.window.showVerdict(failVerdict())
		if !hasText(w.Win.Canvas().Content(), T("window.verdict.fail")) {
			t.Fatalf("%s: failed verdict not shown", l)
		}
		test.AssertImageMatches(t, l+"_verdict_fail.png", w.Win.Canvas().Capture())
		w.window.clearVerdict()
	}
}
