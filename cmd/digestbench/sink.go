package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// The SMTP sink runs in a child process (this program with -sink), so that
// the memory and CPU figures of the run are the product's alone.
//
// It is a lean SMTP server written for the benchmark, not go-smtp: go-smtp's
// sink used 84 CPU seconds for 96,655 messages on the same two cores as the
// product, which made the sink, not the product, a bottleneck. This one reads
// commands and DATA through a 256 KB buffered reader a line at a time
// (bufio.ReadSlice, which scans with IndexByte), answers 250 and throws the
// body away. It still counts messages, bytes and distinct recipients and
// catches duplicates (a recipient who got more than one message).

// leanSink is the sink's state, shared by its connections.
type leanSink struct {
	ln net.Listener

	mu       sync.Mutex
	messages int
	bytes    int64
	perRcpt  map[string]int
	conns    int
	wg       sync.WaitGroup
}

func listenSink(addr string) (*leanSink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &leanSink{ln: ln, perRcpt: map[string]int{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *leanSink) Addr() string { return s.ln.Addr().String() }

func (s *leanSink) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = s.serve(c)
		}()
	}
}

// sinkStats is what the sink saw.
type sinkStats struct {
	Messages, Recipients, Duplicates, Connections int
	Bytes                                         int64 // DATA bytes as transmitted (dot-stuffed, CRLF)
}

func (s *leanSink) stats() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := sinkStats{Messages: s.messages, Recipients: len(s.perRcpt), Bytes: s.bytes, Connections: s.conns}
	for _, n := range s.perRcpt {
		st.Duplicates += n - 1
	}
	return st
}

func (s *leanSink) close() {
	_ = s.ln.Close()
}

// serve speaks just enough ESMTP for go-mail: EHLO (8BITMIME, SMTPUTF8,
// PIPELINING announced), MAIL, RCPT, DATA, RSET, NOOP, QUIT. The replies to
// commands that arrived together are written together.
func (s *leanSink) serve(c net.Conn) error {
	r := bufio.NewReaderSize(c, 256<<10)
	w := bufio.NewWriterSize(c, 4<<10)
	// reply flushes unless the next command is already buffered: the
	// replies to pipelined commands (RFC 2920) go out in one write, as a
	// production relay (Postfix) sends them.
	reply := func(line string) error {
		w.WriteString(line)
		w.WriteString("\r\n")
		if next, _ := r.Peek(r.Buffered()); bytes.IndexByte(next, '\n') >= 0 {
			return nil
		}
		return w.Flush()
	}
	if err := reply("220 digestbench sink ESMTP"); err != nil {
		return err
	}
	var rcpts []string
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		cmd := strings.TrimRight(string(line), "\r\n")
		verb := strings.ToUpper(cmd[:min(4, len(cmd))])
		switch verb {
		case "EHLO":
			err = reply("250-digestbench\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n250 SIZE 10485760")
		case "HELO":
			err = reply("250 digestbench")
		case "MAIL":
			rcpts = rcpts[:0]
			err = reply("250 2.1.0 OK")
		case "RCPT":
			addr := cmd
			if i := strings.IndexByte(addr, '<'); i >= 0 {
				addr = addr[i+1:]
				if j := strings.IndexByte(addr, '>'); j >= 0 {
					addr = addr[:j]
				}
			}
			rcpts = append(rcpts, strings.ToLower(addr))
			err = reply("250 2.1.5 OK")
		case "DATA":
			if err = reply("354 go ahead"); err != nil {
				return err
			}
			n, derr := readData(r)
			if derr != nil {
				return derr
			}
			s.mu.Lock()
			s.messages++
			s.bytes += n
			for _, a := range rcpts {
				s.perRcpt[a]++
			}
			s.mu.Unlock()
			rcpts = rcpts[:0]
			err = reply("250 2.0.0 OK queued")
		case "RSET":
			rcpts = rcpts[:0]
			err = reply("250 2.0.0 OK")
		case "NOOP":
			err = reply("250 2.0.0 OK")
		case "QUIT":
			_ = reply("221 2.0.0 bye")
			_ = w.Flush()
			return nil
		default:
			err = reply("502 5.5.2 not implemented")
		}
		if err != nil {
			return err
		}
	}
}

// readData reads a DATA body up to the line "." and returns its size.
func readData(r *bufio.Reader) (int64, error) {
	var n int64
	for {
		line, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return n, err
		}
		if err == nil && len(line) <= 3 && bytes.Equal(bytes.TrimRight(line, "\r\n"), []byte(".")) {
			return n, nil
		}
		n += int64(len(line))
	}
}

// serveSink runs the sink: it prints its address, serves until stdin closes,
// then prints what it saw and its own peak memory.
func serveSink(stdin io.Reader, stdout io.Writer) error {
	srv, err := listenSink("127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, srv.Addr())
	_, _ = io.Copy(io.Discard, stdin)
	srv.close()
	st := srv.stats()
	fmt.Fprintf(stdout, "%d %d %d %d %d %d\n", st.Messages, st.Recipients, st.Duplicates, st.Connections, st.Bytes, peakRSS())
	return nil
}

// sinkProcess is a running sink child.
type sinkProcess struct {
	Addr  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startSink() (*sinkProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-sink")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start SMTP sink: %w", err)
	}
	s := &sinkProcess{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := s.out.ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("start SMTP sink: %w", err)
	}
	s.Addr = strings.TrimSpace(line)
	return s, nil
}

// sinkResult is what the sink reports when it stops.
type sinkResult struct {
	sinkStats
	PeakRSS int64 // bytes
	CPU     time.Duration
}

func (s *sinkProcess) stop() (sinkResult, error) {
	var r sinkResult
	_ = s.stdin.Close()
	line, err := s.out.ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("SMTP sink: %w", err)
	}
	if _, err := fmt.Sscan(line, &r.Messages, &r.Recipients, &r.Duplicates, &r.Connections, &r.Bytes, &r.PeakRSS); err != nil {
		return r, fmt.Errorf("SMTP sink said %q: %w", line, err)
	}
	if err := s.cmd.Wait(); err != nil {
		return r, err
	}
	r.CPU = s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
	return r, nil
}
