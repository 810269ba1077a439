package mailer

import (
	"fmt"
	"io"
)

// Write writes m as a complete message (headers and MIME body, unsigned) to w:
// the same bytes the file transport stores, for previews.
func Write(w io.Writer, m *Message) error {
	msg, err := build(m, nil)
	if err != nil {
		return err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return fmt.Errorf("render message %s: %w", m.MessageID, err)
	}
	return nil
}
