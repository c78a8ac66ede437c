package issuer_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lianzheng/assets"
	"lianzheng/issuer"
)

// testSealer seals a test department's personal data (the same for a reopened database).
func testSealer(id string) issuer.Sealer { return issuer.DemoSealer([]byte("issuer test " + id)) }

func household(name, id string) map[string]any {
	return map[string]any{"name": name, "id_number": id, "birth_date": "1990-03-07", "relation_to_head": "户主",
		"household_number": "HH-0001", "address": "示例市示例区示例路 1 号", "marital_status": "未婚"}
}

// TestHolderClaimsOfCatalogue: every demo catalogue type names whose credential it is; the
// marriage certificate is its holder's (never the spouse's), the business licence an
// organisation's.
func TestHolderClaimsOfCatalogue(t *testing.T) {
	cat, err := assets.DemoCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]issuer.HolderClaims{
		"household-register":   {Name: "name", Number: "id_number"},
		"marriage-certificate": {Name: "holder_name"},
		"driving-licence":      {Name: "name", Number: "id_number"},
		"business-licence":     {Name: "entity_name", Number: "credit_code", Entity: true},
		"residence-permit":     {Name: "name", Number: "id_number"},
	}
	for _, ty := range cat.Types {
		var names []string
		for _, c := range ty.Claims {
			names = append(names, c.Name)
		}
		got := issuer.HolderClaimsOf(names)
		w, ok := want[ty.ID]
		if !ok {
			t.Errorf("%s: a catalogue type this test does not know: add it (holder %+v)", ty.ID, got)
			continue
		}
		if got != w {
			t.Errorf("%s: holder claims %+v, want %+v", ty.ID, got, w)
		}
	}
	if got := issuer.HolderClaimsOf([]string{"full_name", "passport"}); got != (issuer.HolderClaims{Name: "full_name"}) {
		t.Errorf("full_name: %+v", got)
	}
}

func TestMasking(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"张", "*"},
		{"张三", "张*"},
		{"张小明", "张**"},
		{"欧阳娜娜", "欧***"},
		{"  张  小明 ", "张 **"},
		{"阿依古丽・买买提", "阿***·***"},
		{"Li Lei", "L* ***"},
		{"Ｌｉ", "L*"},
	} {
		if got := issuer.MaskName(c.in); got != c.want {
			t.Errorf("MaskName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"11010119900307002X", "1101**********002X"},
		{"11010119900307002x", "1101**********002X"},
		{"110101 19900307 002X", "1101**********002X"},
		{"１１０１０１１９９００３０７００２Ｘ", "1101**********002X"},
		{"110101900307002", "1101*******7002"}, // 15-digit (first generation) ID
		{"91110000MA01ABCD3X", "9111**********CD3X"},
		{"E12345678", "E1*****78"}, // 9: passport-like
		{"TEST2", "*****"},
		{"1234567", "*******"},
		{"12345678", "12****78"},
		{"", ""},
	} {
		if got := issuer.MaskNumber(c.in); got != c.want {
			t.Errorf("MaskNumber(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		h    *issuer.Holder
		want string
	}{
		{nil, "—"},
		{&issuer.Holder{}, "—"},
		{&issuer.Holder{Name: "张*", Number: "1101**********002X"}, "张* 1101**********002X"},
		{&issuer.Holder{Name: "测**"}, "测**"},
		{&issuer.Holder{Number: "1101**********002X"}, "— 1101**********002X"},
	} {
		if got := c.h.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.h, got, c.want)
		}
	}
}

// issueHousehold issues a household register to a fresh holder key, directly or through an
// offer (redeemed and collected).
func issueHousehold(t *testing.T, d *issuer.Department, viaOffer bool, claims map[string]any) issuer.Record {
	t.Helper()
	ctx := context.Background()
	r := issuer.Request{Type: "household-register", Claims: claims, Holder: holderKey(t)}
	if !viaOffer {
		is, err := d.Issue(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return is.Record
	}
	o, err := d.CreateOffer(ctx, issuer.Request{Type: r.Type, Claims: claims}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.RedeemOffer(ctx, o.Code, o.PIN, 5); err != nil {
		t.Fatal(err)
	}
	is, err := d.IssueOffer(ctx, o.ID, r.Holder)
	if err != nil {
		t.Fatal(err)
	}
	return is.Record
}

func ids(p *issuer.Page) []string {
	var out []string
	for _, r := range p.Records {
		out = append(out, r.ID)
	}
	return out
}

// TestSearch: found by exact full name or full ID number (as typed: spaces, full-width, a
// lower-case x), filtered by type and state, shown masked; issued directly, through an offer
// and in a batch.
func TestSearch(t *testing.T) {
	ctx := context.Background()
	d, _, clk, _ := setup(t, "public-security")
	a := issueHousehold(t, d, false, household("张三", "11010119900307002X"))
	clk.add(time.Second)
	b := issueHousehold(t, d, true, household("张三", "110101199203070011"))
	clk.add(time.Second)
	c := issueHousehold(t, d, false, household("李小龙", "110101198001010034"))
	clk.add(time.Second)
	rows, err := issuer.ReadCSV(strings.NewReader("name,id_number,residence_address,valid_until,holder\n" +
		"张三,11010119900307002X,示例路 2 号,2030-01-01," + holderKey(t).DIDKey() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Batch(ctx, "residence-permit", rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := res.Issued[0].Record
	if _, _, err := d.Suspend(ctx, a.ID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		f    issuer.SearchFilter
		want []string
	}{
		{"all, newest first", issuer.SearchFilter{}, []string{e.ID, c.ID, b.ID, a.ID}},
		{"name", issuer.SearchFilter{Query: "张三"}, []string{e.ID, b.ID, a.ID}},
		{"name as typed", issuer.SearchFilter{Query: " 张三　"}, []string{e.ID, b.ID, a.ID}},
		{"id number", issuer.SearchFilter{Query: "11010119900307002X"}, []string{e.ID, a.ID}},
		{"id number lower-case x, spaced", issuer.SearchFilter{Query: "110101 19900307 002x"}, []string{e.ID, a.ID}},
		{"id number full-width", issuer.SearchFilter{Query: "１１０１０１１９８００１０１００３４"}, []string{c.ID}},
		{"name and type", issuer.SearchFilter{Query: "张三", Type: "household-register"}, []string{b.ID, a.ID}},
		{"state", issuer.SearchFilter{State: issuer.StateSuspended}, []string{a.ID}},
		{"name and state", issuer.SearchFilter{Query: "张三", State: issuer.StateValid}, []string{e.ID, b.ID}},
		{"type", issuer.SearchFilter{Type: "residence-permit"}, []string{e.ID}},
		{"no partial match", issuer.SearchFilter{Query: "张"}, nil},
		{"no masked match", issuer.SearchFilter{Query: "1101**********002X"}, nil},
		{"unknown", issuer.SearchFilter{Query: "王五"}, nil},
	} {
		p, err := d.Search(ctx, tc.f)
		if err != nil {
			t.Fatal(tc.name, err)
		}
		if got := ids(p); fmt.Sprint(got) != fmt.Sprint(tc.want) || p.Total != len(tc.want) {
			t.Errorf("%s: %v (total %d), want %v", tc.name, got, p.Total, tc.want)
		}
	}
	p, _ := d.Search(ctx, issuer.SearchFilter{})
	wantShown := map[string]string{a.ID: "张* 1101**********002X", b.ID: "张* 1101**********0011",
		c.ID: "李** 1101**********0034", e.ID: "张* 1101**********002X"}
	for _, r := range p.Records {
		if got := r.Holder.String(); got != wantShown[r.ID] {
			t.Errorf("%s shown as %q, want %q", r.Type, got, wantShown[r.ID])
		}
	}
}

// TestSearchOtherHolders: a marriage certificate is its holder's (not the spouse's); a
// business licence an organisation's, found by its name or credit code.
func TestSearchOtherHolders(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := setup(t, "civil-affairs")
	m, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := d.Search(ctx, issuer.SearchFilter{Query: "测试用户甲"})
	if len(p.Records) != 1 || p.Records[0].ID != m.Record.ID || p.Records[0].Holder.String() != "测****" {
		t.Fatalf("marriage by holder: %+v", p.Records)
	}
	for _, q := range []string{"测试用户乙", "TEST00000000000002"} { // the spouse
		if p, _ := d.Search(ctx, issuer.SearchFilter{Query: q}); p.Total != 0 {
			t.Errorf("found by the spouse's %q", q)
		}
	}

	b, _, _, _ := setup(t, "market-regulation")
	is, err := b.Issue(ctx, issuer.Request{Type: "business-licence", Holder: holderKey(t), Claims: map[string]any{
		"entity_name": "示例科技有限公司", "credit_code": "91110000MA01ABCD3X", "legal_representative": "王五",
		"entity_type": "有限责任公司", "registered_capital": "100 万元", "established": "2015-06-01", "address": "示例市示例路 9 号"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"示例科技有限公司", "91110000ma01abcd3x"} {
		p, _ := b.Search(ctx, issuer.SearchFilter{Query: q})
		if len(p.Records) != 1 || p.Records[0].ID != is.Record.ID {
			t.Fatalf("business licence by %q: %+v", q, p.Records)
		}
		if h := p.Records[0].Holder; !h.Entity || h.String() != "示例科技有限公司 9111**********CD3X" {
			t.Fatalf("business licence shown as %q", h.String())
		}
	}
	if p, _ := b.Search(ctx, issuer.SearchFilter{Query: "王五"}); p.Total != 0 {
		t.Error("found by the legal representative")
	}
}

// dbFiles are a database's files on disk.
func dbFiles(dbp string) []string { return []string{dbp, dbp + "-wal", dbp + "-shm"} }

// assertNotOnDisk fails if any of the values is in the database's files, as UTF-8 bytes.
func assertNotOnDisk(t *testing.T, dbp string, values ...string) {
	t.Helper()
	for _, f := range dbFiles(dbp) {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if v != "" && bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds %q in the clear", filepath.Base(f), v)
			}
		}
	}
}

// TestNoClearHolderOnDisk: neither the full name and ID number nor their masked forms nor
// any other claim is in the database files — of issued records, of pending offers, of
// batch offers.
func TestNoClearHolderOnDisk(t *testing.T) {
	ctx := context.Background()
	d, _, clk, dbp := setup(t, "public-security")
	issueHousehold(t, d, false, household("赵钱孙", "11010119900307002X"))
	issueHousehold(t, d, true, household("周吴郑", "110101199203070011"))
	if _, err := d.CreateOffer(ctx, issuer.Request{Type: "household-register", Claims: household("冯陈褚", "110101198001010034")}, time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Second)
	rows, _ := issuer.ReadCSV(strings.NewReader("name,id_number,residence_address,valid_until\n卫蒋沈,110101197001010056,批量路 3 号,2030-01-01\n"))
	if _, err := d.Batch(ctx, "residence-permit", rows, time.Hour); err != nil {
		t.Fatal(err)
	}
	p, err := d.Search(ctx, issuer.SearchFilter{Query: "赵钱孙"})
	if err != nil || p.Total != 1 {
		t.Fatal(p, err)
	}
	pend, n, err := d.PendingOffers(ctx, 0)
	if err != nil || n != 2 || len(pend) != 2 || pend[0].Holder.String() != "卫** 1101**********0056" {
		t.Fatalf("pending %+v %d %v", pend, n, err)
	}
	secret := []string{"赵钱孙", "周吴郑", "冯陈褚", "卫蒋沈", "11010119900307002X", "110101199203070011",
		"110101198001010034", "110101197001010056", "赵**", "1101**********", "示例区示例路", "批量路", "HH-0001"}
	assertNotOnDisk(t, dbp, secret...) // while open (WAL)
	d.Close()
	assertNotOnDisk(t, dbp, secret...)
}

// TestLegacyDatabase: a database from before the holder index and sealed offers opens: its
// records list as "—", the clear claims of its offers are sealed (and gone from the files),
// the offer is still collected, and its credential is then found by name.
func TestLegacyDatabase(t *testing.T) {
	ctx := context.Background()
	d, l, clk, dbp := setup(t, "public-security")
	d.Close()
	// what the previous version left: a record without a holder, an offer's claims in the clear
	raw, err := sql.Open("sqlite", dbp)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.now().Unix()
	if _, err := raw.Exec(`INSERT INTO records (id, type, holder_thumbprint, status_index, issued_at, expires_at, state, updated_at) VALUES ('legacy-1','household-register','tp',7,?,0,'valid',?)`, now-60, now-60); err != nil {
		t.Fatal(err)
	}
	clear := `{"name":"蒋沈韩","id_number":"110101196001010078","birth_date":"1960-01-01","relation_to_head":"户主","household_number":"HH-9","address":"旧库路 5 号","marital_status":"已婚"}`
	if _, err := raw.Exec(`INSERT INTO offers (id, code_hash, pin_hash, type, claims, valid_until, created_at, expires_at, state) VALUES ('offer-1',?,?,'household-register',?,0,?,?,'pending')`,
		issuer.HashHex("the-code"), issuer.HashHex("offer-1", "123456"), clear, now, now+600); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	d, err = issuer.Open(ctx, issuer.Config{ID: "public-security", Signer: l.Signer("public-security"), Ledger: l,
		DBPath: dbp, Sealer: testSealer("public-security"), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	assertNotOnDisk(t, dbp, "蒋沈韩", "110101196001010078", "旧库路")
	p, err := d.Search(ctx, issuer.SearchFilter{})
	if err != nil || len(p.Records) != 1 || p.Records[0].Holder != nil || p.Records[0].Holder.String() != "—" {
		t.Fatalf("legacy record: %+v %v", p, err)
	}
	pend, _, err := d.PendingOffers(ctx, 0)
	if err != nil || len(pend) != 1 || pend[0].Holder.String() != "蒋** 1101**********0078" {
		t.Fatalf("legacy offer: %+v %v", pend, err)
	}
	if _, err := d.RedeemOffer(ctx, "the-code", "123456", 5); err != nil {
		t.Fatal(err)
	}
	is, err := d.IssueOffer(ctx, "offer-1", holderKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := d.Search(ctx, issuer.SearchFilter{Query: "蒋沈韩"}); len(p.Records) != 1 || p.Records[0].ID != is.Record.ID {
		t.Fatalf("legacy offer's credential not found: %+v", p)
	}
}

// TestWrongSealer: a database does not open under another key store, nor without one.
func TestWrongSealer(t *testing.T) {
	ctx := context.Background()
	d, l, clk, dbp := setup(t, "civil-affairs")
	d.Close()
	_, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l, DBPath: dbp,
		Sealer: testSealer("another"), Now: clk.now})
	if !errors.Is(err, issuer.ErrSealedElsewhere) {
		t.Fatal(err)
	}
	if _, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l, DBPath: dbp}); !errors.Is(err, issuer.ErrNoSealer) {
		t.Fatal(err)
	}
}

// searchRecords is how many records TestSearch100k lists (LZ_SEARCH_RECORDS overrides).
func searchRecords(t testing.TB) int {
	if v := os.Getenv("LZ_SEARCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return 100_000
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")

// syntheticHousehold is the i-th of n synthetic records: seven records per second of issue
// time (ties the order must break by id), every 5th suspended, every 3rd a residence permit.
func syntheticHousehold(base time.Time) func(i int) (issuer.Record, map[string]any) {
	return func(i int) (issuer.Record, map[string]any) {
		name := string([]rune{surnames[i%len(surnames)], given[(i/len(surnames))%len(given)], given[(i/7)%len(given)]})
		idNo := fmt.Sprintf("110101%08d%04d", 19500101+i%500000, i%10000)
		typ, state := "household-register", issuer.StateValid
		if i%3 == 0 {
			typ = "residence-permit"
		}
		if i%5 == 0 {
			state = issuer.StateSuspended
		}
		at := base.Add(time.Duration(i/7) * time.Second)
		return issuer.Record{ID: fmt.Sprintf("r%08d-%x", (i*7919)%1_000_003, i), Type: typ, HolderThumbprint: "tp", StatusIndex: i,
			IssuedAt: at, State: state, UpdatedAt: at}, map[string]any{"name": name, "id_number": idNo}
	}
}

// TestSearch100k: 100,000 records page through completely, in a stable order (issue time
// descending, then id), by keyset and by offset alike; exact name and ID search and the
// filters count right among them.
func TestSearch100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 records")
	}
	ctx := context.Background()
	n := searchRecords(t)
	d, _, clk, _ := setup(t, "public-security")
	gen := syntheticHousehold(clk.now().Add(-time.Duration(n) * time.Second))
	start := time.Now()
	if err := d.BulkInsertForTest(ctx, n, gen); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records inserted in %v", n, time.Since(start))

	start = time.Now()
	seen := make(map[string]bool, n)
	var prev issuer.Record
	after, pages := "", 0
	for {
		p, err := d.Search(ctx, issuer.SearchFilter{Limit: issuer.MaxPage, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != n {
			t.Fatalf("total %d", p.Total)
		}
		for _, r := range p.Records {
			if seen[r.ID] {
				t.Fatalf("%s listed twice", r.ID)
			}
			seen[r.ID] = true
			if prev.ID != "" && (r.IssuedAt.After(prev.IssuedAt) || (r.IssuedAt.Equal(prev.IssuedAt) && r.ID < prev.ID)) {
				t.Fatalf("order: %s (%v) after %s (%v)", r.ID, r.IssuedAt, prev.ID, prev.IssuedAt)
			}
			if r.Holder == nil || len([]rune(r.Holder.Name)) != 3 || !strings.HasPrefix(r.Holder.Number, "1101") {
				t.Fatalf("holder %+v", r.Holder)
			}
			prev = r.Record
		}
		pages++
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(seen) != n {
		t.Fatalf("%d of %d records listed", len(seen), n)
	}
	t.Logf("%d pages (keyset, %d per page) in %v", pages, issuer.MaxPage, time.Since(start))

	// offset paging gives the same pages, deep ones included
	for _, off := range []int{0, 50, n / 2, n - 20} {
		byOffset, err := d.Search(ctx, issuer.SearchFilter{Limit: 20, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		if off > 0 {
			before, _ := d.Search(ctx, issuer.SearchFilter{Limit: 1, Offset: off - 1})
			r := before.Records[0].Record
			byKey, err := d.Search(ctx, issuer.SearchFilter{Limit: 20, After: strconv.FormatInt(r.IssuedAt.Unix(), 10) + "." + r.ID})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(byKey)) != fmt.Sprint(ids(byOffset)) {
				t.Fatalf("offset %d: keyset and offset pages differ", off)
			}
		}
		if len(byOffset.Records) != 20 {
			t.Fatalf("offset %d: %d records", off, len(byOffset.Records))
		}
	}

	// exact search and filters among them
	r, claims := gen(n / 3)
	start = time.Now()
	p, err := d.Search(ctx, issuer.SearchFilter{Query: claims["id_number"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("search by ID number among %d in %v", n, time.Since(start))
	found := false
	for _, x := range p.Records {
		found = found || x.ID == r.ID
	}
	if !found {
		t.Fatalf("record %s not found by its ID number", r.ID)
	}
	wantByName := 0
	for i := range n {
		if _, c := gen(i); c["name"] == claims["name"] {
			wantByName++
		}
	}
	start = time.Now()
	if p, err := d.Search(ctx, issuer.SearchFilter{Query: claims["name"].(string), Limit: 10}); err != nil || p.Total != wantByName {
		t.Fatalf("by name: %d, want %d (%v)", p.Total, wantByName, err)
	}
	t.Logf("search by name among %d (%d matches) in %v", n, wantByName, time.Since(start))
	wantType, wantBoth := 0, 0
	for i := range n {
		if i%3 == 0 {
			wantType++
			if i%5 == 0 {
				wantBoth++
			}
		}
	}
	if p, _ := d.Search(ctx, issuer.SearchFilter{Type: "residence-permit"}); p.Total != wantType {
		t.Fatalf("type filter: %d, want %d", p.Total, wantType)
	}
	if p, _ := d.Search(ctx, issuer.SearchFilter{Type: "residence-permit", State: issuer.StateSuspended}); p.Total != wantBoth {
		t.Fatalf("type+state filter: %d, want %d", p.Total, wantBoth)
	}
	if _, err := d.Search(ctx, issuer.SearchFilter{After: "garbage"}); !errors.Is(err, issuer.ErrBadCursor) {
		t.Fatal(err)
	}
}
