package issuer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/argon2"
)

// The department's signing key is kept in a sealed key file until the shared sealed key
// store (internal/keystore: aries localkms + Argon2id secret lock) lands: the Ed25519 seed
// encrypted with AES-256-GCM under a key derived from the passphrase with Argon2id
// (DESIGN §5: at least 64 MiB). The DID URL of the key is the AEAD's additional data, so a
// sealed seed cannot be relabelled as another department's key.

// KDF parameters of newly sealed files. Opening accepts any memory ≥ MinArgonMemoryKiB.
const (
	ArgonMemoryKiB    = 64 * 1024
	ArgonTime         = 3
	ArgonThreads      = 2
	MinArgonMemoryKiB = 64 * 1024
	keyFileFormat     = "lianzheng-issuer-key/1"
)

// ErrWrongPassphrase is returned when a sealed key file does not open with the passphrase.
var ErrWrongPassphrase = errors.New("issuer: wrong passphrase (or the key file was altered)")

type sealedKey struct {
	Format  string `json:"format"`
	KeyID   string `json:"key_id"`
	KDF     string `json:"kdf"`
	Memory  uint32 `json:"m_kib"`
	Time    uint32 `json:"t"`
	Threads uint8  `json:"p"`
	Salt    []byte `json:"salt"`
	Nonce   []byte `json:"nonce"`
	Sealed  []byte `json:"sealed"`
}

func kek(pass []byte, s *sealedKey) (cipher.AEAD, error) {
	k := argon2.IDKey(pass, s.Salt, s.Time, s.Memory, s.Threads, 32)
	defer clear(k)
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// SealKey encrypts key (labelled with its DID URL keyID) under passphrase.
func SealKey(keyID string, key ed25519.PrivateKey, passphrase []byte) ([]byte, error) {
	if len(passphrase) < 8 {
		return nil, errors.New("issuer: the passphrase must have at least 8 characters")
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("issuer: not an Ed25519 private key")
	}
	s := &sealedKey{Format: keyFileFormat, KeyID: keyID, KDF: "argon2id", Memory: ArgonMemoryKiB, Time: ArgonTime,
		Threads: ArgonThreads, Salt: make([]byte, 16), Nonce: make([]byte, 12)}
	if _, err := rand.Read(s.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(s.Nonce); err != nil {
		return nil, err
	}
	a, err := kek(passphrase, s)
	if err != nil {
		return nil, err
	}
	s.Sealed = a.Seal(nil, s.Nonce, key.Seed(), []byte(keyID))
	return json.MarshalIndent(s, "", "  ")
}

// OpenKey decrypts a sealed key file, returning the key's DID URL and the key.
func OpenKey(data, passphrase []byte) (string, ed25519.PrivateKey, error) {
	var s sealedKey
	if err := json.Unmarshal(data, &s); err != nil {
		return "", nil, fmt.Errorf("issuer: key file: %w", err)
	}
	if s.Format != keyFileFormat || s.KDF != "argon2id" {
		return "", nil, fmt.Errorf("issuer: key file format %q/%q not understood", s.Format, s.KDF)
	}
	if s.Memory < MinArgonMemoryKiB || s.Memory > 4<<20 || s.Time < 1 || s.Time > 20 || s.Threads < 1 ||
		len(s.Salt) < 16 || len(s.Nonce) != 12 {
		return "", nil, errors.New("issuer: key file KDF parameters out of range")
	}
	a, err := kek(passphrase, &s)
	if err != nil {
		return "", nil, err
	}
	seed, err := a.Open(nil, s.Nonce, s.Sealed, []byte(s.KeyID))
	if err != nil {
		return "", nil, ErrWrongPassphrase
	}
	if len(seed) != ed25519.SeedSize {
		return "", nil, errors.New("issuer: key file holds no Ed25519 seed")
	}
	defer clear(seed)
	return s.KeyID, ed25519.NewKeyFromSeed(seed), nil
}

// WriteKeyFile seals key into path (mode 0600), refusing to overwrite.
func WriteKeyFile(path, keyID string, key ed25519.PrivateKey, passphrase []byte) error {
	b, err := SealKey(keyID, key, passphrase)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadKeyFile opens a sealed key file.
func ReadKeyFile(path string, passphrase []byte) (string, ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("issuer: %w", err)
	}
	return OpenKey(b, passphrase)
}
