package app

import (
	"context"
	"errors"
	"lianzheng/internal/bilingual"
	"time"

	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// Fakes of the cores with fixed demo data, for screen tests that need no ledger.

var fixedNow = time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)

type fakeWindow struct {
	scanned []string
	verdict *verifier.Verdict
	closed  int
	offline bool
	regions []verifier.RegionTrust // the trust bar's recognised regions
}

func (f *fakeWindow) Items(context.Context) ([]ledger.ServiceItem, error) {
	var out []ledger.ServiceItem
	for _, w := range catalogue().Windows {
		for _, it := range w.ServiceItems {
			out = append(out, ledger.ServiceItem{ID: it.ID, Name: ledger.Text{Zh: it.Name.Zh, En: it.Name.En},
				Purpose: ledger.Text{Zh: it.Purpose.Zh, En: it.Purpose.En}})
		}
	}
	return out, nil
}

func (f *fakeWindow) NewRequest(ctx context.Context, item string) (*verifier.Request, error) {
	return nil, context.Canceled
}

func (f *fakeWindow) Verify(ctx context.Context, s string) *verifier.Verdict {
	f.scanned = append(f.scanned, s)
	return f.verdict
}
func (f *fakeWindow) VerifyPNG(ctx context.Context, b []byte) *verifier.Verdict { return f.verdict }
func (f *fakeWindow) Trust(ctx context.Context, refresh bool) (verifier.TrustInfo, error) {
	return verifier.TrustInfo{Source: "online", Height: 1234, Age: 90 * time.Second, MaxAge: 24 * time.Hour, Regions: f.regions}, nil
}
func (f *fakeWindow) CloseSession() { f.closed++ }
func (f *fakeWindow) SaveSnapshot(context.Context) (verifier.TrustInfo, error) {
	return verifier.TrustInfo{Source: "snapshot", Height: 1234, MaxAge: 24 * time.Hour}, nil
}
func (f *fakeWindow) SetOffline(ctx context.Context, offline bool) (verifier.TrustInfo, error) {
	f.offline = offline
	if offline {
		return verifier.TrustInfo{Source: "snapshot", Height: 1200, Age: 2 * time.Hour, MaxAge: 24 * time.Hour}, nil
	}
	return f.Trust(ctx, false)
}
func (f *fakeWindow) HandReceipt(context.Context, string) (*home.QRResult, error) {
	return nil, errors.New("no receipts in the fake")
}

func passVerdict() *verifier.Verdict {
	return &verifier.Verdict{OK: true, Message: bilingual.Text{Zh: "证照真实有效", En: "All credentials are genuine and valid"},
		Mode: "request", ItemName: bilingual.Text{Zh: "不动产登记", En: "Real-estate registration"},
		Credentials: []verifier.CredentialVerdict{
			{Type: "household-register", TypeName: bilingual.Text{Zh: "居民户口簿", En: "Household register"}, OK: true,
				Issuer: "did:lz:public-security", Message: bilingual.Text{Zh: "有效", En: "valid"},
				Fields: []verifier.Field{
					{Name: "name", Label: bilingual.Text{Zh: "姓名", En: "Name"}, Value: "测试用户甲"},
					{Name: "id_number", Label: bilingual.Text{Zh: "公民身份号码", En: "ID number"}, Value: "TEST00000000000001"},
				}, Hidden: 5},
			{Type: "marriage-certificate", TypeName: bilingual.Text{Zh: "结婚证", En: "Marriage certificate"}, OK: true,
				Issuer: "did:lz:civil-affairs", Message: bilingual.Text{Zh: "有效", En: "valid"},
				Fields: []verifier.Field{
					{Name: "spouse_name", Label: bilingual.Text{Zh: "配偶姓名", En: "Spouse"}, Value: "王龑"},
				}},
		},
		Trust: verifier.TrustInfo{Source: "online", Height: 1234, Age: 90 * time.Second}}
}

type fakeCitizen struct {
	items   []wallet.Item
	regions []ledgerclient.Recognised
}

func (f *fakeCitizen) RecognisedIn(context.Context, string) ([]ledgerclient.Recognised, error) {
	return f.regions, nil
}

func (f *fakeCitizen) Ready() (bool, bool)                         { return true, true }
func (f *fakeCitizen) Setup(string) error                          { return nil }
func (f *fakeCitizen) Unlock(string) error                         { return nil }
func (f *fakeCitizen) List(context.Context) ([]wallet.Item, error) { return f.items, nil }
func (f *fakeCitizen) Detail(ctx context.Context, id string) (*wallet.Item, error) {
	return &f.items[0], nil
}
func (f *fakeCitizen) Receive(context.Context, string, string) ([]*wallet.Credential, error) {
	return nil, &wallet.Refusal{Code: "wrong_pin", Msg: bilingual.Text{Zh: "领取密码错误", En: "wrong PIN"}}
}
func (f *fakeCitizen) PlanRequest(context.Context, string) (*wallet.Plan, error) {
	return nil, context.Canceled
}
func (f *fakeCitizen) Present(context.Context, *wallet.Plan) (*wallet.Response, error) {
	return nil, context.Canceled
}
func (f *fakeCitizen) PlanOnline(context.Context, string) (*wallet.Plan, error) {
	return nil, context.Canceled
}
func (f *fakeCitizen) PresentOnline(context.Context, *wallet.Plan) (*wallet.OnlineResult, error) {
	return nil, context.Canceled
}
func (f *fakeCitizen) Restore(string, string) error { return errors.New("no backups in the fake") }
func (f *fakeCitizen) ImportReceipt(context.Context, string) (*wallet.HistoryEntry, error) {
	return nil, errors.New("no receipts in the fake")
}
func (f *fakeCitizen) History() ([]wallet.HistoryEntry, error) {
	return []wallet.HistoryEntry{{ID: "h1", Time: fixedNow, Mode: "request", WindowName: "示例市不动产登记中心 1 号窗口",
		ItemName: "不动产登记", Fields: map[string][]string{"household-register": {"name", "id_number"}},
		VerifiedLedger: true}}, nil
}

func demoItems() []wallet.Item {
	return []wallet.Item{
		{Credential: wallet.Credential{ID: "c1", Type: "household-register", Issuer: "did:lz:public-security",
			Expires: fixedNow.AddDate(10, 0, 0)}, Name: bilingual.Text{Zh: "居民户口簿", En: "Household register"},
			Status: wallet.StatusValid},
		{Credential: wallet.Credential{ID: "c2", Type: "marriage-certificate", Issuer: "did:lz:civil-affairs",
			Expires: fixedNow.AddDate(50, 0, 0)}, Name: bilingual.Text{Zh: "结婚证", En: "Marriage certificate"},
			Status: wallet.StatusSuspended},
	}
}

type fakeDept struct {
	records     []issuer.Record
	batches     []issuer.BatchInfo
	batchStates map[string]int
	bulked      []home.BulkJob // bulk changes asked
	agreements  []ledger.Recognition
}

func (f *fakeDept) bulk() (*issuer.BulkResult, error) {
	return &issuer.BulkResult{Changed: f.batchStates[issuer.StateValid], Txs: 1}, nil
}

func (f *fakeDept) ID() string { return "public-security" }
func (f *fakeDept) Agreements(context.Context) ([]ledger.Recognition, error) {
	return f.agreements, nil
}
func (f *fakeDept) Types(context.Context) ([]ledger.CredentialType, error) {
	var out []ledger.CredentialType
	for _, t := range catalogue().Types {
		for _, is := range t.Issuers {
			if is == "public-security" {
				lt := ledger.CredentialType{ID: t.ID, VCT: t.VCT, Name: ledger.Text{Zh: t.Name.Zh, En: t.Name.En}}
				for _, c := range t.Claims {
					lt.Claims = append(lt.Claims, ledger.Claim{Name: c.Name, Type: c.Type, Required: c.Required,
						Label: ledger.Text{Zh: c.Label.Zh, En: c.Label.En}})
				}
				out = append(out, lt)
			}
		}
	}
	return out, nil
}
func (f *fakeDept) Check(ctx context.Context, r issuer.Request) error {
	ts, _ := f.Types(ctx)
	for _, t := range ts {
		if t.ID == r.Type {
			_, err := issuer.ValidateClaims(&t, r.Claims)
			return err
		}
	}
	return nil
}
func (f *fakeDept) Offer(context.Context, issuer.Request) (*home.OfferResult, error) { return nil, nil }
func (f *fakeDept) Records(context.Context) ([]issuer.Record, error)                 { return f.records, nil }
func (f *fakeDept) SetStatus(context.Context, string, string) error                  { return nil }
func (f *fakeDept) Batch(context.Context, home.BatchJob, func(issuer.BatchProgress)) (*issuer.BatchResult, error) {
	return nil, errors.New("no batches in the fake")
}
func (f *fakeDept) Batches(context.Context) ([]issuer.BatchInfo, error) { return f.batches, nil }
func (f *fakeDept) BatchStates(context.Context, string) (map[string]int, error) {
	return f.batchStates, nil
}
func (f *fakeDept) BulkStatus(_ context.Context, j home.BulkJob, _ func(issuer.BulkProgress)) (*issuer.BulkResult, error) {
	f.bulked = append(f.bulked, j)
	return f.bulk()
}

func (f *fakeCitizen) Backup(path, passphrase string) error { return nil }
