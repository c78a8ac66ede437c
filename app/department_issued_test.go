package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledger"
)

// The fake department has no records to search and no open offers.
func (f *fakeDept) Search(context.Context, issuer.SearchFilter) (*issuer.Page, error) {
	p := &issuer.Page{Total: len(f.records)}
	for _, r := range f.records {
		p.Records = append(p.Records, issuer.Listed{Record: r})
	}
	return p, nil
}
func (f *fakeDept) PendingOffers(context.Context, int) ([]issuer.PendingOffer, int, error) {
	return nil, 0, nil
}
func (f *fakeDept) WithdrawOffer(context.Context, string) error { return nil }

// coreDept is a DepartmentCore over a real issuer core on the in-memory ledger stand-in
// (issuertest): real records, offers, holder index and search, without a CometBFT node.
type coreDept struct{ d *issuer.Department }

var _ DepartmentCore = coreDept{}

func newCoreDepts(t testing.TB, ids ...string) map[string]coreDept {
	t.Helper()
	l, err := issuertest.New(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]coreDept{}
	for _, id := range ids {
		d, err := issuer.Open(context.Background(), issuer.Config{ID: id, Signer: l.Signer(id), Ledger: l,
			DBPath: filepath.Join(t.TempDir(), id+".db"), Sealer: issuer.DemoSealer([]byte(id))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		out[id] = coreDept{d}
	}
	return out
}

const coreIssuerURL = "http://127.0.0.1:8470"

// Agreements: the in-memory ledger has no agreements.
func (c coreDept) Agreements(context.Context) ([]ledger.Recognition, error) { return nil, nil }

func (c coreDept) ID() string { return c.d.ID }
func (c coreDept) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	return c.d.Types(ctx)
}
func (c coreDept) Check(ctx context.Context, r issuer.Request) error { return c.d.Check(ctx, r) }
func (c coreDept) Offer(ctx context.Context, r issuer.Request) (*home.OfferResult, error) {
	o, err := c.d.CreateOffer(ctx, r, 0)
	if err != nil {
		return nil, err
	}
	png, err := oid4vci.OfferQR(coreIssuerURL, o)
	if err != nil {
		return nil, err
	}
	return &home.OfferResult{ID: o.ID, Type: o.Type, Text: oid4vci.OfferURI(coreIssuerURL, o), PNG: png, PIN: o.PIN, Expires: o.Expires}, nil
}
func (c coreDept) Records(ctx context.Context) ([]issuer.Record, error) {
	return c.d.Records(ctx, issuer.ListFilter{})
}
func (c coreDept) Search(ctx context.Context, f issuer.SearchFilter) (*issuer.Page, error) {
	return c.d.Search(ctx, f)
}
func (c coreDept) PendingOffers(ctx context.Context, limit int) ([]issuer.PendingOffer, int, error) {
	return c.d.PendingOffers(ctx, limit)
}
func (c coreDept) WithdrawOffer(ctx context.Context, id string) error {
	return c.d.WithdrawOffer(ctx, id)
}
func (c coreDept) SetStatus(ctx context.Context, id, action string) error {
	_, _, err := c.d.SetStatus(ctx, id, action)
	return err
}
func (c coreDept) Batch(context.Context, home.BatchJob, func(issuer.BatchProgress)) (*issuer.BatchResult, error) {
	return nil, fmt.Errorf("no batches here")
}
func (c coreDept) Batches(context.Context) ([]issuer.BatchInfo, error) { return nil, nil }
func (c coreDept) BatchStates(context.Context, string) (map[string]int, error) {
	return nil, nil
}
func (c coreDept) BulkStatus(context.Context, home.BulkJob, func(issuer.BulkProgress)) (*issuer.BulkResult, error) {
	return nil, fmt.Errorf("no batches here")
}

func testHolderKey(t testing.TB) did.PublicKey {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	p, err := did.NewPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newDeptUI is the department role over the given departments (the first selected).
func newDeptUI(t *testing.T, l string, size fyne.Size, deps map[string]coreDept, first string) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	a.Preferences().SetString(prefRole, RoleDepartment)
	a.Preferences().SetString(prefLang, l)
	svc := &Services{Window: &fakeWindow{verdict: passVerdict()}, Citizen: &fakeCitizen{items: demoItems()},
		Department: deps[first], Departments: map[string]DepartmentCore{}}
	for id, d := range deps {
		svc.Departments[id] = d
	}
	u := uiOver(t, a, svc, l, size)
	u.Refresh()
	return u
}

func householdClaims(name, id string) map[string]any {
	return map[string]any{"name": name, "id_number": id, "birth_date": "1990-03-07", "relation_to_head": "户主",
		"household_number": "HH-1", "address": "示例路 1 号", "marital_status": "未婚"}
}

// capture writes what w shows to $LZ_CAPTURE_DIR/name, when set, to be looked at: these
// screens hold random PINs, codes and times, so they are not golden images.
func capture(t *testing.T, w fyne.Window, name string) {
	dir := os.Getenv("LZ_CAPTURE_DIR")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

var sizes = []struct {
	name string
	size fyne.Size
}{{"desktop", fyne.NewSize(1100, 760)}, {"phone", fyne.NewSize(390, 780)}}

// TestIssuedSearch: 已签发 shows whose credential each record is (masked), finds a holder by
// the exact full name or ID number, filters by type and state and pages (20 a page) — on a
// desktop and a phone, in both languages. The full name and number are never on screen.
func TestIssuedSearch(t *testing.T) {
	ctx := context.Background()
	deps := newCoreDepts(t, "public-security", "civil-affairs")
	d := deps["public-security"].d
	var zhang []string
	for i := range 43 {
		c := householdClaims(fmt.Sprintf("测试人%d", i), fmt.Sprintf("1101011990030700%02d", i))
		if i == 7 || i == 30 {
			c = householdClaims("张三", "11010119900307002X")
		}
		is, err := d.Issue(ctx, issuer.Request{Type: "household-register", Claims: c, Holder: testHolderKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 7 || i == 30 {
			zhang = append(zhang, is.Record.ID)
		}
	}
	if _, _, err := d.Suspend(ctx, zhang[0]); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{LangZh, LangEn} {
		for _, sz := range sizes {
			t.Run(l+"/"+sz.name, func(t *testing.T) {
				u := newDeptUI(t, l, sz.size, deps, "public-security")
				s := u.dept
				s.tabs.SelectIndex(2)
				is := s.issued
				if is.Page == nil || is.Page.Total != 43 || len(is.Page.Records) != issuedPageSize {
					t.Fatalf("first page: %+v", is.Page)
				}
				content := u.Win.Canvas().Content()
				if !hasText(content, fmt.Sprintf(T("dept.page"), 1, 3, 43)) || !hasText(content, "1101**********00") {
					t.Fatal("page or masked holder not on screen")
				}
				if !is.Prev.Disabled() || is.Next.Disabled() {
					t.Fatal("pager buttons")
				}
				test.Tap(is.Next)
				test.Tap(is.Next)
				if len(is.Page.Records) != 3 || !is.Next.Disabled() || !hasText(content, fmt.Sprintf(T("dept.page"), 3, 3, 43)) {
					t.Fatalf("last page: %d records", len(is.Page.Records))
				}
				// by the exact full name: both of 张三's credentials
				test.Type(is.Query, "张三")
				is.Query.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
				if is.Page.Total != 2 || !slices.Contains(zhang, is.Page.Records[0].ID) || !slices.Contains(zhang, is.Page.Records[1].ID) {
					t.Fatalf("by name: %+v", is.Page)
				}
				// (the query box holds what the clerk typed; the list shows masked forms only)
				if hasText(s.list, "张三") || hasText(s.list, "11010119900307002X") || !hasText(s.list, "张* 1101**********002X") {
					t.Fatal("the full name or number is listed")
				}
				// and state
				is.StateSel.SetSelectedIndex(2) // suspended
				if is.Page.Total != 1 || is.Page.Records[0].ID != zhang[0] {
					t.Fatalf("by name and state: %+v", is.Page)
				}
				// by the full ID number, typed with a lower-case x
				is.StateSel.SetSelectedIndex(0)
				is.Query.SetText("11010119900307002x")
				is.search()
				if is.Page.Total != 2 {
					t.Fatalf("by ID number: %d", is.Page.Total)
				}
				// a partial name finds nothing, and says so
				is.Query.SetText("张")
				is.search()
				if is.Page.Total != 0 || !hasText(content, T("dept.search.none")) {
					t.Fatal("partial name")
				}
				// type filter: every record is a household register
				is.Query.SetText("")
				is.TypeSel.SetSelectedIndex(1)
				if is.Page.Total != 43 {
					t.Fatalf("type filter: %d", is.Page.Total)
				}
				capture(t, u.Win, "dept_issued_"+l+"_"+sz.name+".png")
				// another department: its own records (none), not public security's
				s.which.SetSelected(departmentName("civil-affairs"))
				if is.Page.Total != 0 || hasText(s.list, "1101**********") {
					t.Fatalf("civil affairs lists %d records", is.Page.Total)
				}
			})
		}
	}
}

// assertInView fails unless what o draws lies wholly inside the window and inside the
// scroll's viewport (nothing to scroll to see it). o draws its content centred (the QR, the
// PIN), its minimum width wide, whatever width its container gives it.
func assertInView(t *testing.T, u *UI, what string, o fyne.CanvasObject) {
	t.Helper()
	if o == nil || !o.Visible() {
		t.Fatalf("%s not shown", what)
	}
	drv := fyne.CurrentApp().Driver()
	pos, size := drv.AbsolutePositionForObject(o), o.Size()
	drawn := min(size.Width, o.MinSize().Width)
	left := pos.X + (size.Width-drawn)/2
	win := u.Win.Canvas().Size()
	sp, ss := drv.AbsolutePositionForObject(u.dept.scroll), u.dept.scroll.Size()
	if size.Width <= 0 || size.Height <= 0 || left < 0 || left+drawn > win.Width || pos.Y < 0 || pos.Y+size.Height > win.Height ||
		pos.Y < sp.Y || pos.Y+size.Height > sp.Y+ss.Height {
		t.Fatalf("%s at %v size %v (drawn from x=%v, %v wide): outside the window %v or the visible area %v+%v",
			what, pos, size, left, drawn, win, sp, ss)
	}
}

// TestOfferInViewAndKept: after 生成领取码 the QR and the PIN are in view without scrolling
// (1100×760 and a phone, both languages); switching department, role or language keeps an
// open offer — listed under 待领取 with its expiry, and shown again.
func TestOfferInViewAndKept(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		for _, sz := range sizes {
			t.Run(l+"/"+sz.name, func(t *testing.T) {
				deps := newCoreDepts(t, "public-security", "civil-affairs")
				u := newDeptUI(t, l, sz.size, deps, "public-security")
				s := u.dept
				if s.dep == nil || s.dep.ID() != "public-security" || s.selected() == nil || s.selected().ID != "household-register" {
					t.Fatalf("household register form not on screen")
				}
				for k, v := range householdClaims("王小明", "110101199001010011") {
					s.Fields[k].SetText(v.(string))
				}
				s.submit()
				o := s.LastOffer
				if o == nil || o.PIN == "" {
					t.Fatal("no offer")
				}
				u.Win.Resize(sz.size)
				assertInView(t, u, "QR", s.OfferQR)
				assertInView(t, u, "PIN", s.OfferPIN)
				expiry := fmt.Sprintf(T("dept.offer.expires"), clock(o.Expires))
				pendingTitle := fmt.Sprintf(T("dept.pending.title"), 1)
				kept := func(how string) {
					t.Helper()
					s := u.dept
					if s.LastOffer == nil || s.LastOffer.ID != o.ID {
						t.Fatalf("%s: the open offer is gone from the screen", how)
					}
					if len(s.pending.Offers) != 1 || s.pending.Offers[0].ID != o.ID || s.pending.Offers[0].Holder.String() != "王** 1101**********0011" {
						t.Fatalf("%s: 待领取 %+v", how, s.pending.Offers)
					}
					content := u.Win.Canvas().Content()
					if !hasText(content, pendingTitle) || !hasText(content, expiry) || !hasText(content, "王** 1101**********0011") {
						t.Fatalf("%s: 待领取 with its expiry not on screen", how)
					}
					assertInView(t, u, how+": QR", s.OfferQR)
					assertInView(t, u, how+": PIN", s.OfferPIN)
				}
				kept("after 生成领取码")
				capture(t, u.Win, "dept_offer_"+l+"_"+sz.name+".png")

				// another department: its own screen, without public security's offer
				s.which.SetSelected(departmentName("civil-affairs"))
				if s.dep.ID() != "civil-affairs" || len(s.pending.Offers) != 0 || s.LastOffer != nil ||
					hasText(u.Win.Canvas().Content(), pendingTitle) {
					t.Fatal("civil affairs shows public security's offer")
				}
				s.which.SetSelected(departmentName("public-security"))
				kept("after switching department and back")

				// another role and back: a new screen
				u.SetRole(RoleCitizen)
				u.SetRole(RoleDepartment)
				kept("after switching role and back")

				// the language
				other := LangEn
				if l == LangEn {
					other = LangZh
				}
				u.SetLang(other)
				expiry = fmt.Sprintf(T("dept.offer.expires"), clock(o.Expires))
				pendingTitle = fmt.Sprintf(T("dept.pending.title"), 1)
				kept("after switching language")
				u.SetLang(l)

				// 收起 hides it from the top; it stays under 待领取 with 显示领取码
				tap(t, u.Win, T("dept.offer.hide"))
				if u.dept.LastOffer != nil || len(u.dept.pending.Offers) != 1 {
					t.Fatal("收起")
				}
				tap(t, u.Win, T("dept.pending.show"))
				if u.dept.LastOffer == nil || u.dept.LastOffer.ID != o.ID {
					t.Fatal("显示领取码")
				}
				// 撤回: confirmed, the offer is gone from 待领取 and from the screen
				tap(t, u.Win, T("dept.pending.withdraw"))
				confirm := findButton(u.Win.Canvas().Overlays().Top(), T("dept.pending.withdraw"))
				if confirm == nil || findButton(u.Win.Canvas().Overlays().Top(), T("common.cancel")) == nil {
					t.Fatal("no 取消 / 撤回 confirmation")
				}
				test.Tap(confirm)
				if u.dept.LastOffer != nil || u.dept.pending.Total != 0 {
					t.Fatal("withdrawn offer still open")
				}
				if st, _, _ := deps["public-security"].d.OfferState(context.Background(), o.ID); st != issuer.OfferBurned {
					t.Fatalf("withdrawn offer: %s", st)
				}
			})
		}
	}
}
