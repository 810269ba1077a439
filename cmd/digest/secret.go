package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/kommune21/digest/subscribers"
)

// linkSecretSetting is the settings row that keeps the generated link key.
const linkSecretSetting = "link_secret"

// signer returns the signer of the links in emails: DIGEST_SECRET when set,
// otherwise a random key generated on first use and kept in the database
// (settings.link_secret, key id "0"), so every process on the same database
// signs and verifies alike. To move to DIGEST_SECRET later without breaking
// links already sent, list the stored key as an old key: "1:NEWKEY,0:STOREDKEY".
// The key never appears in logs or errors.
func (a *app) signer() (*subscribers.Signer, error) {
	if a.cfg.Secret != "" {
		s, err := subscribers.NewSigner(a.cfg.Secret)
		if err != nil {
			return nil, fmt.Errorf("DIGEST_SECRET: %w", err)
		}
		return s, nil
	}
	db, err := a.openDB()
	if err != nil {
		return nil, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("generate link secret: %w", err)
	}
	// Insert-if-missing then read: when two processes start at once, both
	// read the key that won.
	if _, err := db.ExecContext(a.ctx, db.Rebind(`INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
		linkSecretSetting, base64.RawURLEncoding.EncodeToString(raw[:])); err != nil {
		return nil, fmt.Errorf("store link secret: %w", err)
	}
	var key string
	if err := db.GetContext(a.ctx, &key, db.Rebind(`SELECT value FROM settings WHERE name = ?`), linkSecretSetting); err != nil {
		return nil, fmt.Errorf("read link secret: %w", err)
	}
	s, err := subscribers.NewSigner(key)
	if err != nil {
		return nil, fmt.Errorf("link secret stored in the database (settings.%s) is unusable: %w; delete that row to generate a new one (links already sent stop working) or set DIGEST_SECRET", linkSecretSetting, err)
	}
	return s, nil
}
