package mailer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// fileTransport writes every message to DIR/<message-id>.eml: the embedded
// default and the way to look at what would be sent.
type fileTransport struct {
	dir  string
	dkim dkimSetup
}

func (t *fileTransport) String() string { return "file:" + t.dir }

func (t *fileTransport) Open(ctx context.Context) (Conn, error) {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return nil, fmt.Errorf("mail transport %s: %w", t, err)
	}
	return &fileConn{t: t, signer: t.dkim.signer()}, nil
}

type fileConn struct {
	t      *fileTransport
	signer *gomail.DKIMSigner
	buf    bytes.Buffer
}

// Send writes the message atomically (temporary file, then rename): a reader
// never sees half a message, and sending the same Message-ID again replaces
// the file.
func (c *fileConn) Send(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := build(m, c.signer)
	if err != nil {
		return err
	}
	c.buf.Reset()
	if _, err := msg.WriteTo(&c.buf); err != nil {
		return fmt.Errorf("render message %s: %w", m.MessageID, err)
	}
	if err := m.hold(); err != nil {
		return err
	}
	name := filepath.Join(c.t.dir, FileName(m.MessageID))
	tmp, err := os.CreateTemp(c.t.dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("write message %s: %w", m.MessageID, err)
	}
	_, err = tmp.Write(c.buf.Bytes())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write message %s: %w", m.MessageID, err)
	}
	return nil
}

func (c *fileConn) Close() error { return nil }

// FileName is the file a Message-ID is written to by the file transport:
// letters, digits and "._@+-" are kept, anything else becomes "_" and then a
// short hash of the original ID keeps different IDs apart.
func FileName(messageID string) string {
	var b strings.Builder
	changed := false
	for i, r := range messageID {
		ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("._@+-", r)) && !(i == 0 && r == '.')
		if ok && b.Len() < 120 {
			b.WriteRune(r)
			continue
		}
		changed = true
		if b.Len() < 120 {
			b.WriteByte('_')
		}
	}
	if changed || b.Len() == 0 {
		sum := sha256.Sum256([]byte(messageID))
		b.WriteString("-" + hex.EncodeToString(sum[:4]))
	}
	return b.String() + ".eml"
}
