package demonet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"lianzheng/assets"
	"lianzheng/ledger"
)

func TestDemoConsortiumGenesis(t *testing.T) {
	vk := make([]byte, 32)
	vk[0] = 1
	c, err := NewConsortium("x", time.Now(), map[string][]byte{"civil-affairs": vk})
	if err != nil {
		t.Fatal(err)
	}
	st := c.State
	if st.Params.Approvals != 3 || len(st.Members) != 5 {
		t.Fatalf("params %+v, %d members", st.Params, len(st.Members))
	}
	want := []string{"public-security", "civil-affairs", "market-regulation", "vehicle-admin", "realestate"}
	for i, m := range st.Members {
		if m.ID != want[i] || m.DID != "did:lz:"+want[i] || m.Name.Zh == "" {
			t.Errorf("member %d: %+v", i, m)
		}
		if (m.Validator != "") != (m.ID == "civil-affairs") {
			t.Errorf("member %s validator %q", m.ID, m.Validator)
		}
	}
	if len(st.Windows) != 2 || st.Windows[0].DID != "did:lz:realestate-window-01" || st.Windows[0].Department != "realestate" ||
		st.Windows[0].Online() {
		t.Fatalf("windows %+v", st.Windows)
	}
	// the online real-estate service asks exactly what the hall window asks (docs/portal.md)
	if p := st.Windows[1]; p.DID != "did:lz:realestate-portal" || !p.Online() || p.Department != "realestate" ||
		!reflect.DeepEqual(p.ServiceItems[0].Requests, st.Windows[0].ServiceItems[0].Requests) {
		t.Fatalf("online service %+v", p)
	}
	reqs := st.Windows[0].ServiceItems[0].Requests
	if len(reqs) != 2 || reqs[0].Type != "household-register" || reqs[1].Type != "marriage-certificate" {
		t.Fatalf("service item requests %+v", reqs)
	}
	var issuers = map[string]string{}
	for _, ty := range st.Types {
		issuers[ty.ID] = strings.Join(ty.Issuers, ",")
	}
	if issuers["household-register"] != "public-security" || issuers["marriage-certificate"] != "civil-affairs" {
		t.Errorf("issuers %v", issuers)
	}
	for _, h := range st.DIDs {
		if h.DID == "did:lz:realestate-window-01" && h.Controller != "did:lz:realestate" {
			t.Errorf("window controller %q", h.Controller)
		}
	}
	// ledger's own genesis validation accepts it, through the wire form.
	b, _ := json.Marshal(st)
	if _, err := ledger.ParseGenesis(b); err != nil {
		t.Fatal(err)
	}
	// Keys round-trip through files, which are private and marked.
	dir := filepath.Join(t.TempDir(), "demo-keys")
	if err := WriteKeys(dir, c.KeyList()); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeys(dir, c.KeyList()[:1]); err == nil {
		t.Error("overwrote a key file")
	}
	for _, id := range append(want, "realestate-window-01") {
		fi, err := os.Stat(filepath.Join(dir, id+".json"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", id, err, fi)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, id+".json"))
		if !strings.Contains(string(raw), "DEMO KEY") {
			t.Errorf("%s not marked", id)
		}
		k, err := LoadKey(dir, id)
		if err != nil || !k.PrivateKey().Equal(c.Key(id).PrivateKey()) {
			t.Fatalf("%s: %v", id, err)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "realestate.json"))
	os.WriteFile(filepath.Join(dir, "forged.json"), []byte(strings.Replace(string(raw), `"realestate"`, `"forged"`, 1)), 0o600)
	if _, err := LoadKey(dir, "forged"); err == nil {
		t.Error("loaded a key whose id does not match")
	}
}

// TestRegionBGenesis: the second demo region (示例乙市) makes a valid genesis of its own: three
// members, each a validator here, none sharing an id with the demo city, issuing the
// household register and marriage certificate.
func TestRegionBGenesis(t *testing.T) {
	cat, err := assets.RegionBCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]byte{}
	for i, d := range cat.Departments {
		vk := make([]byte, 32)
		vk[0] = byte(i + 1)
		vals[d.ID] = vk
	}
	c, err := NewConsortiumFrom(cat, "lz-region-b", time.Now(), vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.State.Members) != 3 || len(c.State.Types) != 2 || len(c.State.Windows) != 1 {
		t.Fatalf("%d members, %d types, %d windows", len(c.State.Members), len(c.State.Types), len(c.State.Windows))
	}
	for _, m := range c.State.Members {
		if !strings.HasPrefix(m.ID, "yi-") || m.Validator == "" || c.Key(m.ID) == nil {
			t.Errorf("member %+v", m)
		}
	}
	if _, err := c.Genesis(); err != nil {
		t.Fatal(err)
	}
}
