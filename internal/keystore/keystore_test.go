package keystore

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/tink/go/insecurecleartextkeyset"
	"github.com/google/tink/go/keyset"
	ed25519pb "github.com/google/tink/go/proto/ed25519_go_proto"
	"google.golang.org/protobuf/proto"

	"lianzheng/internal/benchfloor"
)

// testKDF is a cheap Argon2id setting for tests that are not about the KDF.
var testKDF = &KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}

func TestSignVerifyLockUnlock(t *testing.T) {
	dir := t.TempDir()
	ks, err := Init(dir, "123456", &Options{KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	kid, err := ks.NewEd25519()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ks.Signer(kid)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello 链证通")
	sig, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(s.Public().(ed25519.PublicKey), msg, sig) {
		t.Fatal("signature does not verify")
	}
	ks.Lock()
	if _, err := s.Sign(msg); !errors.Is(err, ErrLocked) {
		t.Fatalf("sign while locked: %v", err)
	}
	if _, err := ks.NewEd25519(); !errors.Is(err, ErrLocked) {
		t.Fatalf("create while locked: %v", err)
	}
	ks.Close()

	ks, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if err := ks.Unlock("654321"); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("wrong pin: %v", err)
	}
	if err := ks.Unlock("123456"); err != nil {
		t.Fatal(err)
	}
	pub, err := ks.Public(kid)
	if err != nil || !bytes.Equal(pub, s.Public().(ed25519.PublicKey)) {
		t.Fatalf("public after reopen: %v", err)
	}
	s2, _ := ks.Signer(kid)
	sig2, err := s2.Sign(msg)
	if err != nil || !ed25519.Verify(pub, msg, sig2) {
		t.Fatalf("sign after reopen: %v", err)
	}
	if f, _, _ := ks.Status(); f != 0 {
		t.Fatalf("failures not reset: %d", f)
	}
	if _, err := ks.Public("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown kid: %v", err)
	}
}

func TestWeakSecret(t *testing.T) {
	for _, s := range []string{"", "12345", "1234567", "abc", "12345a"} {
		if ValidSecret(s) == nil {
			t.Errorf("%q accepted", s)
		}
	}
	for _, s := range []string{"000000", "correct horse", "八个汉字的口令短语"} {
		if ValidSecret(s) != nil {
			t.Errorf("%q refused", s)
		}
	}
	if _, err := Init(t.TempDir(), "123", nil); !errors.Is(err, ErrWeakSecret) {
		t.Fatal(err)
	}
}

// attempts are the two ways to try a secret: Unlock, and Verify (the check of a service that
// holds the store open). Both must count, back off and lock out the same.
var attemptOps = []struct {
	name string
	try  func(*Store, string) error
}{
	{"unlock", (*Store).Unlock},
	{"verify", (*Store).Verify},
}

// TestLockout: failures back off exponentially, the state survives a restart, and the
// store locks for good after MaxAttempts — for Unlock and for Verify.
func TestLockout(t *testing.T) {
	for _, op := range attemptOps {
		t.Run(op.name, func(t *testing.T) { testLockout(t, op.try) })
	}
}

func testLockout(t *testing.T, try func(*Store, string) error) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	o := &Options{KDF: testKDF, MaxAttempts: 6, FreeAttempts: 2, BaseDelay: time.Second, Now: clock}
	ks, err := Init(dir, "123456", o)
	if err != nil {
		t.Fatal(err)
	}
	ks.Close()
	open := func() *Store {
		s, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ks = open()
	for i := 1; i <= 2; i++ {
		if err := try(ks, "000000"); !errors.Is(err, ErrWrongPIN) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// third failure starts the back-off: 1 s
	if err := try(ks, "000000"); !errors.Is(err, ErrWrongPIN) {
		t.Fatal(err)
	}
	var be *BackoffError
	if err := try(ks, "123456"); !errors.As(err, &be) || be.Wait != time.Second {
		t.Fatalf("want 1s back-off, got %v", err)
	}
	ks.Close()
	ks = open() // restart does not reset
	if err := try(ks, "123456"); !errors.Is(err, ErrBackoff) {
		t.Fatalf("restart reset the back-off: %v", err)
	}
	now = now.Add(time.Second)
	if err := try(ks, "000000"); !errors.Is(err, ErrWrongPIN) { // 4th: 2 s
		t.Fatal(err)
	}
	if _, w, _ := ks.Status(); w != 2*time.Second {
		t.Fatalf("4th failure wait %v, want 2s", w)
	}
	now = now.Add(2 * time.Second)
	if err := try(ks, "000000"); !errors.Is(err, ErrWrongPIN) { // 5th: 4 s
		t.Fatal(err)
	}
	if _, w, _ := ks.Status(); w != 4*time.Second {
		t.Fatalf("5th failure wait %v, want 4s", w)
	}
	now = now.Add(4 * time.Second)
	if err := try(ks, "000000"); !errors.Is(err, ErrLockedOut) { // 6th: locked out
		t.Fatalf("6th failure: %v", err)
	}
	now = now.Add(24 * time.Hour)
	if err := try(ks, "123456"); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("right PIN after lockout: %v", err)
	}
	ks.Close()
}

// TestSuccessResetsCounter: a right PIN before the limit resets the failures (Unlock and
// Verify).
func TestSuccessResetsCounter(t *testing.T) {
	for _, op := range attemptOps {
		t.Run(op.name, func(t *testing.T) { testSuccessResets(t, op.try) })
	}
}

func testSuccessResets(t *testing.T, try func(*Store, string) error) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	o := &Options{KDF: testKDF, MaxAttempts: 4, FreeAttempts: 3, Now: func() time.Time { return now }}
	ks, _ := Init(dir, "123456", o)
	defer ks.Close()
	for range 3 {
		try(ks, "999999")
	}
	if err := try(ks, "123456"); err != nil {
		t.Fatal(err)
	}
	if f, _, out := ks.Status(); f != 0 || out {
		t.Fatalf("failures %d out %v", f, out)
	}
}

// TestVerifyLeavesState: Verify answers without changing the store: a locked store stays
// locked after a right secret, and an unlocked one keeps signing after a wrong one.
func TestVerifyLeavesState(t *testing.T) {
	dir := t.TempDir()
	ks, err := Init(dir, "123456", &Options{KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	kid, err := ks.NewEd25519()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ks.Signer(kid)
	if err := ks.Verify("000000"); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("wrong secret: %v", err)
	}
	if f, _, _ := ks.Status(); f != 1 {
		t.Fatalf("failures %d, want 1", f)
	}
	if _, err := s.Sign([]byte("m")); err != nil || !ks.Unlocked() {
		t.Fatalf("a wrong Verify locked the store: %v", err)
	}
	if err := ks.Verify("123456"); err != nil {
		t.Fatal(err)
	}
	if f, _, _ := ks.Status(); f != 0 {
		t.Fatalf("failures %d after a right secret", f)
	}
	ks.Lock()
	if err := ks.Verify("123456"); err != nil {
		t.Fatal(err)
	}
	if ks.Unlocked() {
		t.Fatal("Verify unlocked the store")
	}
	if _, err := s.Sign([]byte("m")); !errors.Is(err, ErrLocked) {
		t.Fatalf("sign after Verify on a locked store: %v", err)
	}
}

// TestNoRawKeyOnDisk scans every file in the data directory for the raw private key
// bytes (the 32-byte seed and the 64-byte expanded key) of imported and created keys.
func TestNoRawKeyOnDisk(t *testing.T) {
	dir := t.TempDir()
	ks, err := Init(dir, "correct horse battery", &Options{KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	for range 5 {
		_, priv, _ := ed25519.GenerateKey(nil)
		if _, err := ks.ImportEd25519(priv); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, priv.Seed(), priv)
	}
	for range 5 {
		kid, err := ks.NewEd25519()
		if err != nil {
			t.Fatal(err)
		}
		priv := privateOf(t, ks, kid)
		secrets = append(secrets, priv.Seed(), priv)
	}
	ks.Close()
	// the sealing does hide something: the plaintext check must not be on disk either
	secrets = append(secrets, checkText)
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s contains raw secret bytes %x…", p, s[:8])
			}
			for i := 0; i+16 <= len(s); i += 8 { // any 16-byte window of a key
				if len(s) >= 32 && bytes.Contains(b, s[i:i+16]) {
					t.Errorf("%s contains 16 bytes of a private key at offset %d", p, i)
					break
				}
			}
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no file scanned")
	}
}

// privateOf extracts a created key's private seed through Tink (test-only white box).
func privateOf(t *testing.T, ks *Store, kid string) ed25519.PrivateKey {
	t.Helper()
	k, _, err := ks.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	h, err := k.Get(kid)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h.(*keyset.Handle), keyset.NewBinaryWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	ksProto, err := keyset.NewBinaryReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	var pk ed25519pb.Ed25519PrivateKey
	if err := proto.Unmarshal(ksProto.Key[0].KeyData.Value, &pk); err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(pk.KeyValue)
	pub, _ := ks.Public(kid)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Fatal("white-box extraction mismatch")
	}
	return priv
}

func TestSealedBackupRestore(t *testing.T) {
	ks, _ := Init(t.TempDir(), "123456", &Options{KDF: testKDF})
	kid, _ := ks.NewEd25519()
	pub, _ := ks.Public(kid)
	var buf bytes.Buffer
	if err := ks.WriteSealed(&buf); err != nil {
		t.Fatal(err)
	}
	ks.Close()
	dir2 := t.TempDir()
	if err := RestoreSealed(dir2, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	ks2, err := Open(dir2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ks2.Close()
	if err := ks2.Unlock("123456"); err != nil {
		t.Fatal(err)
	}
	pub2, _ := ks2.Public(kid)
	if !bytes.Equal(pub, pub2) {
		t.Fatal("restored key differs")
	}
	if err := RestoreSealed(dir2, buf.Bytes()); !errors.Is(err, ErrExists) {
		t.Fatal(err)
	}
}

func TestDefaultKDF(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the production KDF")
	}
	dir := t.TempDir()
	ks, err := Init(dir, "123456", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ks.Params()
	ks.Close()
	if p.Memory < 64*1024 || p.Time < 1 || len(p.Salt) != 16 {
		t.Fatalf("weak KDF params %+v", p)
	}
	ks, _ = Open(dir, nil)
	defer ks.Close()
	start := time.Now()
	if err := ks.Unlock("123456"); err != nil {
		t.Fatal(err)
	}
	t.Logf("Argon2id t=%d m=%d MiB p=%d: unlock %v", p.Time, p.Memory/1024, p.Threads, time.Since(start))
}

func BenchmarkUnlock(b *testing.B) {
	dir := b.TempDir()
	ks, err := Init(dir, "123456", nil)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := ks.Params()
	ks.Close()
	ks, _ = Open(dir, nil)
	defer ks.Close()
	// floor: the Argon2id derivation itself (the unlock is slow on purpose; the ratio shows
	// that everything else — attempt bookkeeping, two bbolt commits, the check — is small)
	start := time.Now()
	for range 3 {
		derive("123456", p)
	}
	floor := float64(time.Since(start).Nanoseconds()) / 3
	b.ReportMetric(float64(p.Time), "argon2-t")
	b.ReportMetric(float64(p.Memory/1024), "argon2-MiB")
	b.ResetTimer()
	for b.Loop() {
		if err := ks.Unlock("123456"); err != nil {
			b.Fatal(err)
		}
	}
	benchfloor.Report(b, floor)
}

func TestSealData(t *testing.T) {
	ks, _ := Init(t.TempDir(), "123456", &Options{KDF: testKDF})
	defer ks.Close()
	ct, err := ks.Seal([]byte("户口簿"), []byte("credentials/a"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := ks.Unseal(ct, []byte("credentials/a")); err != nil || string(pt) != "户口簿" {
		t.Fatal(pt, err)
	}
	if _, err := ks.Unseal(ct, []byte("credentials/b")); err == nil {
		t.Fatal("opened under another aad")
	}
	ks.Lock()
	if _, err := ks.Unseal(ct, []byte("credentials/a")); !errors.Is(err, ErrLocked) {
		t.Fatal(err)
	}
}
