package mailer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

type testKey struct {
	name string
	pem  []byte
	txt  string // the DNS record a receiver would find
}

func testKeys(t *testing.T) []testKey {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	return []testKey{
		{"rsa", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}),
			"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub)},
		{"ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER}),
			"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edPub)},
	}
}

// verify checks data's DKIM signature with txt as the only DNS answer.
func verify(t *testing.T, data []byte, txt string) []*dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "mail2026._domainkey.kommune21.example" {
				return nil, fmt.Errorf("unexpected DNS lookup %q", domain)
			}
			return []string{txt}, nil
		},
	})
	if err != nil {
		t.Fatalf("dkim verify: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d DKIM signatures, want 1", len(vs))
	}
	return vs
}

func TestDKIM_SignatureVerifies(t *testing.T) {
	for _, k := range testKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "dkim.pem")
			if err := os.WriteFile(keyFile, k.pem, 0o600); err != nil {
				t.Fatal(err)
			}
			d := mailer.DKIMConfig{Domain: "kommune21.example", Selector: "mail2026", KeyFile: keyFile}

			s := smtptest.Start(t)
			cfg, _ := mailer.ParseURL("smtp://" + s.Addr + "?tls=none")
			cfg.DKIM = d
			tr, err := mailer.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := open(t, tr)
			m := sample("dkim1@x.example", "a@example.org")
			m.To.Name = `Ännchen "Anna" von Thüringen-Süd \ Große Kreisstadt`
			m.Subject = strings.Repeat("Wochenüberblick mit sehr langem Betreff über Digitalisierung ", 3)
			for i := range 2 { // two messages on one Conn: the signer is reused
				m.MessageID = fmt.Sprintf("dkim%d@x.example", i)
				if err := c.Send(context.Background(), m); err != nil {
					t.Fatal(err)
				}
			}
			got := s.WaitFor(t, 2, 5*time.Second)
			for _, r := range got {
				v := verify(t, r.Data, k.txt)[0]
				if v.Err != nil {
					t.Errorf("signature does not verify: %v\n%s", v.Err, r.Data[:bytes.Index(r.Data, []byte("\r\n\r\n"))])
				}
				if v.Domain != "kommune21.example" || !strings.EqualFold(strings.Join(v.HeaderKeys, ":"), "From:To:Subject:Date:Message-ID:List-Unsubscribe:List-Unsubscribe-Post") {
					t.Errorf("signature covers %v for %s", v.HeaderKeys, v.Domain)
				}
			}
			// A changed subject breaks the signature: the test can fail.
			tampered := bytes.Replace(got[0].Data, []byte("Subject:"), []byte("Subject: =?UTF-8?q?Gewinnspiel?=\r\nX-Old-Subject:"), 1)
			if v := verify(t, tampered, k.txt)[0]; v.Err == nil {
				t.Errorf("tampered message still verifies")
			}

			// The file transport writes the same signed bytes.
			dir := t.TempDir()
			fc := fileConn(t, dir, d)
			if err := fc.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, mailer.FileName(m.MessageID)))
			if err != nil {
				t.Fatal(err)
			}
			if v := verify(t, data, k.txt)[0]; v.Err != nil {
				t.Errorf("file transport signature: %v", v.Err)
			}
		})
	}
}

func TestDKIM_BadKey(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	_ = os.WriteFile(bad, []byte("not a key"), 0o600)
	for name, d := range map[string]mailer.DKIMConfig{
		"missing file": {Domain: "k.example", Selector: "s", KeyFile: filepath.Join(dir, "nope.pem")},
		"not PEM":      {Domain: "k.example", Selector: "s", KeyFile: bad},
		"no selector":  {Domain: "k.example", KeyFile: bad},
	} {
		_, err := mailer.New(mailer.Config{Scheme: "file", Dir: dir, DKIM: d})
		if err == nil || !strings.Contains(err.Error(), "DKIM") {
			t.Errorf("%s: New = %v, want a DKIM error", name, err)
		}
	}
}
