// Package imaptest runs a real IMAP server on loopback for tests: go-imap
// v2's imapserver with its in-memory backend (imapmemserver), plaintext
// login allowed (loopback only). Tests put mails in with Append and look at
// the folders with Messages, both over IMAP.
package imaptest

import (
	"bytes"
	"net"
	"sort"
	"strconv"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Server is a running IMAP server with one user and an INBOX.
type Server struct {
	Addr     string // 127.0.0.1:port
	User     string
	Password string
	tb       testing.TB
}

// Start starts a server on 127.0.0.1 and stops it at the end of the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	mem := imapmemserver.New()
	s := &Server{User: "bounces", Password: "p@ss:w/rd secret", tb: tb}
	u := imapmemserver.NewUser(s.User, s.Password)
	if err := u.Create("INBOX", nil); err != nil {
		tb.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discard{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return s
}

type discard struct{}

func (discard) Printf(string, ...any) {}

// URL is the DIGEST_MAILBOX value for this server (password percent-encoded).
func (s *Server) URL() string {
	return "imap://" + s.User + ":" + urlEscape(s.Password) + "@" + s.Addr + "/INBOX?tls=none"
}

func urlEscape(p string) string {
	var b bytes.Buffer
	for _, c := range []byte(p) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strconv.FormatInt(int64(c)>>4, 16) + strconv.FormatInt(int64(c)&15, 16))
		}
	}
	return b.String()
}

func (s *Server) client() *imapclient.Client {
	s.tb.Helper()
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		s.tb.Fatal(err)
	}
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		s.tb.Fatal(err)
	}
	return c
}

// Append puts a mail into a folder.
func (s *Server) Append(folder string, raw []byte) {
	s.tb.Helper()
	c := s.client()
	defer c.Close()
	cmd := c.Append(folder, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		s.tb.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		s.tb.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		s.tb.Fatalf("append to %s: %v", folder, err)
	}
}

// Messages returns the mails in a folder, in UID order (nil when the folder
// does not exist).
func (s *Server) Messages(folder string) [][]byte {
	s.tb.Helper()
	c := s.client()
	defer c.Close()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return nil
	}
	sec := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		return nil
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].UID < msgs[j].UID })
	var out [][]byte
	for _, m := range msgs {
		out = append(out, m.FindBodySection(sec))
	}
	return out
}

// Folders lists the folder names.
func (s *Server) Folders() []string {
	s.tb.Helper()
	c := s.client()
	defer c.Close()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		s.tb.Fatal(err)
	}
	var out []string
	for _, l := range list {
		out = append(out, l.Mailbox)
	}
	sort.Strings(out)
	return out
}
