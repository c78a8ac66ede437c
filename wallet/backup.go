package wallet

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"

	"lianzheng/internal/keystore"
)

// Backup file format (version 1), all integers big-endian:
//
//	magic "LZWBAK" | version u8 = 1 | argon2 time u32 | memory KiB u32 | threads u8 |
//	salt [16] | nonce [12] | AES-256-GCM(key = Argon2id(passphrase, salt), AAD = everything
//	before the ciphertext) of the JSON payload {"keystore": sealed keystore file,
//	"store": wallet.db copy}
//
// The keystore inside stays sealed under the wallet PIN; the backup passphrase protects
// the credentials and history and wraps the sealed keys once more.
const (
	backupMagic   = "LZWBAK"
	backupVersion = 1
	backupHeader  = len(backupMagic) + 1 + 4 + 4 + 1 + 16 + 12
	maxBackup     = 256 << 20
)

// ErrBackup: the backup is damaged, tampered with, or the passphrase is wrong.
var ErrBackup = errors.New("wallet: backup damaged or wrong passphrase (nothing was changed)")

type backupPayload struct {
	Keystore []byte `json:"keystore"`
	Store    []byte `json:"store"`
}

// BackupKDF is the Argon2id setting of new backups (tests may lower it).
var BackupKDF = keystore.KDFParams{Time: 3, Memory: 64 * 1024, Threads: 2}

// Backup writes one encrypted file holding the credentials, history, settings and the
// sealed keys.
func (w *Wallet) Backup(path, passphrase string) error {
	if err := keystore.ValidSecret(passphrase); err != nil {
		return err
	}
	var ks, st bytes.Buffer
	if err := w.Keys.WriteSealed(&ks); err != nil {
		return err
	}
	if err := w.Store.writeTo(&st); err != nil {
		return err
	}
	pt, err := json.Marshal(backupPayload{Keystore: ks.Bytes(), Store: st.Bytes()})
	if err != nil {
		return err
	}
	p := BackupKDF
	hdr := make([]byte, 0, backupHeader)
	hdr = append(hdr, backupMagic...)
	hdr = append(hdr, backupVersion)
	hdr = binary.BigEndian.AppendUint32(hdr, p.Time)
	hdr = binary.BigEndian.AppendUint32(hdr, p.Memory)
	hdr = append(hdr, p.Threads)
	salt, nonce := make([]byte, 16), make([]byte, 12)
	rand.Read(salt)
	rand.Read(nonce)
	hdr = append(append(hdr, salt...), nonce...)
	gcm := backupAEAD(passphrase, salt, p)
	out := gcm.Seal(hdr, nonce, pt, hdr)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func backupAEAD(pass string, salt []byte, p keystore.KDFParams) cipher.AEAD {
	k := argon2.IDKey([]byte(pass), salt, p.Time, p.Memory, p.Threads, 32)
	b, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(b)
	return g
}

// Restore installs a backup into home, which must not hold a wallet. A damaged file or a
// wrong passphrase returns ErrBackup and leaves home untouched.
func Restore(path, passphrase, home string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) > maxBackup || len(data) < backupHeader+16 || string(data[:len(backupMagic)]) != backupMagic {
		return ErrBackup
	}
	hdr := data[:backupHeader]
	if hdr[len(backupMagic)] != backupVersion {
		return fmt.Errorf("wallet: backup version %d not supported", hdr[len(backupMagic)])
	}
	o := len(backupMagic) + 1
	p := keystore.KDFParams{Time: binary.BigEndian.Uint32(hdr[o:]), Memory: binary.BigEndian.Uint32(hdr[o+4:]), Threads: hdr[o+8]}
	// bound the KDF a hostile file can make us run
	if p.Time < 1 || p.Time > 32 || p.Memory < 8*1024 || p.Memory > 1<<20 || p.Threads < 1 || p.Threads > 16 {
		return ErrBackup
	}
	salt, nonce := hdr[o+9:o+25], hdr[o+25:o+37]
	pt, err := backupAEAD(passphrase, salt, p).Open(nil, nonce, data[backupHeader:], hdr)
	if err != nil {
		return ErrBackup
	}
	var bp backupPayload
	if err := json.Unmarshal(pt, &bp); err != nil || len(bp.Keystore) == 0 || len(bp.Store) == 0 {
		return ErrBackup
	}
	if keystore.Exists(keyDir(home)) || fileExists(filepath.Join(home, StoreFile)) {
		return fmt.Errorf("wallet: %s already holds a wallet; restore into an empty directory", home)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(home, StoreFile+".restore")
	if err := os.WriteFile(tmp, bp.Store, 0o600); err != nil {
		return err
	}
	if err := keystore.RestoreSealed(keyDir(home), bp.Keystore); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, filepath.Join(home, StoreFile))
}
