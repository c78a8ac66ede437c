package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmted "github.com/cometbft/cometbft/crypto/ed25519"

	"lianzheng/ledger"
)

// TestFederationAgreement: lz federation agreement turns the other region's genesis.json and
// the flags into a recognition.put payload the ledger's own checks accept — chain id, the
// genesis SHA-256 (printed for the out-of-band check), its validators, types with their
// service items and claim renamings, the validity from --from for --years, the max age — and
// refuses malformed --type/--claim flags and a genesis without validators.
func TestFederationAgreement(t *testing.T) {
	dir := t.TempDir()
	k := cmted.GenPrivKey().PubKey().(cmted.PubKey)
	genesis := []byte(`{"genesis_time":"2026-01-01T00:00:00Z","chain_id":"lz-region-b","initial_height":"1",
"validators":[{"address":"` + k.Address().String() + `","pub_key":{"type":"tendermint/PubKeyEd25519","value":"` + ledger.ValidatorKeyString(k) + `"},"power":"10","name":"b1"}],
"app_hash":""}`)
	gpath := filepath.Join(dir, "b-genesis.json")
	if err := os.WriteFile(gpath, genesis, 0o644); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC) }
	args := []string{"--genesis", gpath, "--region", "region-b", "--name-zh", "示例乙市", "--name-en", "Example City B",
		"--node", "https://ledger.region-b.example", "--type", "hukou=household-register:property-transfer,property-transfer-online",
		"--claim", "hukou:full_name=name", "--years", "3", "--max-age", "12h"}
	var out bytes.Buffer
	if err := federationAgreement(args, &out, now); err != nil {
		t.Fatal(err)
	}
	var r ledger.Recognition
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	ty, _ := r.Type("hukou")
	if r.ChainID != "lz-region-b" || r.GenesisSHA256 != ledger.GenesisSHA256(genesis) || len(r.Validators) != 1 ||
		r.Validators[0].PubKey != ledger.ValidatorKeyString(k) || r.Validators[0].Power != 10 ||
		ty == nil || ty.AcceptedAs != "household-register" || len(ty.ServiceItems) != 2 || ty.Ours("full_name") != "name" ||
		r.ValidFrom != "2026-12-05T08:00:00Z" || r.ValidUntil != "2029-12-05T08:00:00Z" || r.MaxAgeSeconds != 12*3600 {
		t.Fatalf("agreement %+v", r)
	}
	for _, bad := range [][]string{
		{"--type", "hukou"},
		{"--type", "hukou=household-register"},
		{"--claim", "other:a=b"},
		{"--claim", "hukou:full_name"},
		{"--years", "11"},
		{"--max-age", "1s"},
	} {
		a := append(append([]string(nil), args[:len(args)-4]...), bad...)
		if err := federationAgreement(a, &out, now); err == nil {
			t.Errorf("%s: accepted", strings.Join(bad, " "))
		}
	}
	noVals := filepath.Join(dir, "empty.json")
	_ = os.WriteFile(noVals, []byte(`{"genesis_time":"2026-01-01T00:00:00Z","chain_id":"x","initial_height":"1","app_hash":""}`), 0o644)
	if err := federationAgreement(append([]string{"--genesis", noVals}, args[2:]...), &out, now); err == nil {
		t.Error("a genesis without validators made an agreement")
	}
}
