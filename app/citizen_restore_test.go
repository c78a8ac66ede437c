package app

import (
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"lianzheng/home"
)

// TestRestoreThroughUI: a wallet backed up on one device is restored on another from the
// PIN set-up screen (从备份恢复), then unlocked with the PIN it had; a wrong passphrase is
// refused and leaves the new device without a wallet.
func TestRestoreThroughUI(t *testing.T) {
	ks := testKeystore
	old := home.NewCitizen(filepath.Join(t.TempDir(), "wallet"), nil, &home.Options{Keystore: ks})
	if err := old.Setup("135790"); err != nil {
		t.Fatal(err)
	}
	bak := filepath.Join(t.TempDir(), "wallet.lzbak")
	if err := old.Backup(bak, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	old.Close()

	fresh := home.NewCitizen(filepath.Join(t.TempDir(), "wallet"), nil, &home.Options{Keystore: ks})
	t.Cleanup(func() { fresh.Close() })
	a := test.NewTempApp(t)
	a.Preferences().SetString(prefRole, RoleCitizen)
	u := uiOver(t, a, &Services{Citizen: fresh}, LangZh, fyne.NewSize(1000, 700))
	w := u.Win
	u.Refresh()

	if !hasText(w.Canvas().Content(), T("citizen.pin.setup")) {
		t.Fatal("no PIN set-up screen on a device without a wallet")
	}
	tap(t, w, T("citizen.restore"))
	cs := u.citizen
	for _, tc := range []struct {
		pass string
		ok   bool
	}{{"wrong passphrase", false}, {"correct horse battery", true}} {
		cs.RestorePath.SetText(bak)
		cs.RestorePass.SetText(tc.pass)
		tap(t, w, T("common.confirm"))
		exists, _ := fresh.Ready()
		if exists != tc.ok {
			t.Fatalf("passphrase %q: wallet exists = %v", tc.pass, exists)
		}
		if !tc.ok && len(w.Canvas().Overlays().List()) == 0 {
			t.Fatal("wrong passphrase: nothing shown")
		}
		closeOverlays(w)
	}
	if !hasText(w.Canvas().Content(), T("citizen.unlock")) {
		t.Fatal("no unlock screen after restore")
	}
	if err := fresh.Unlock("135790"); err != nil {
		t.Fatalf("restored wallet does not unlock with its PIN: %v", err)
	}
}
