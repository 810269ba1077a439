package main

import (
	"fmt"
	"net"

	"github.com/kommune21/digest/feedback"
	"github.com/kommune21/digest/mailbox"
	"github.com/kommune21/digest/subscribers"
)

// validateInbound checks the settings for returned mail; messages name the
// variable and never show the mailbox password.
func (c *Config) validateInbound() error {
	if c.ReturnPath != "" {
		// The signer only matters for making tags; any valid key checks the address.
		s, _ := subscribers.NewSigner("validate-only-0123456789")
		if _, err := feedback.NewReturnPath(c.ReturnPath, s); err != nil {
			return fmt.Errorf("DIGEST_RETURN_PATH: %w", err)
		}
	}
	if c.Mailbox != "" {
		if _, err := mailbox.ParseURL(c.Mailbox); err != nil {
			return fmt.Errorf("DIGEST_MAILBOX: %w", err)
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("DIGEST_METRICS_ADDR=%q: give host:port, e.g. 127.0.0.1:9090", c.MetricsAddr)
		}
	}
	return nil
}
