package smtptest

import (
	"bytes"
	"net"
)

// tapListener counts the connections it accepts and, for WithoutPipelining
// and WithReadLog, wraps them to edit what the server writes and to record
// what it reads. It sits below TLS, so those two options need a server
// without TLS (Listen refuses the combination).
type tapListener struct {
	net.Listener
	s *Server
}

func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	l.s.conns++
	l.s.mu.Unlock()
	if !l.s.hidePipelining && !l.s.logReads {
		return c, nil
	}
	return &tapConn{Conn: c, s: l.s}, nil
}

type tapConn struct {
	net.Conn
	s *Server
}

// maxReadLog bounds the bytes WithReadLog keeps.
const maxReadLog = 1 << 20

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.s.logReads {
		c.s.mu.Lock()
		if c.s.readBytes+n <= maxReadLog {
			c.s.reads = append(c.s.reads, string(p[:n]))
			c.s.readBytes += n
		}
		c.s.mu.Unlock()
	}
	return n, err
}

// pipeliningLine is how go-smtp announces PIPELINING: always first among
// the extensions, so never the last line of the EHLO reply.
var pipeliningLine = []byte("250-PIPELINING\r\n")

func (c *tapConn) Write(p []byte) (int, error) {
	if c.s.hidePipelining && bytes.Contains(p, pipeliningLine) {
		if _, err := c.Conn.Write(bytes.ReplaceAll(p, pipeliningLine, nil)); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// Connections returns how many TCP connections the server accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Reads returns, with WithReadLog, what the server read from its clients,
// one string per read from a connection, in order (the first MiB). A client
// that pipelines its commands (RFC 2920) shows several of them in one read.
func (s *Server) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}
