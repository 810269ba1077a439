package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
)

// The SMTP sink runs in a child process (this program with -sink), so that
// the memory and CPU figures of the run are the product's alone.

// serveSink runs the sink: it prints its address, serves until stdin closes,
// then prints the number of messages it accepted and its own peak memory.
func serveSink(stdin io.Reader, stdout io.Writer) error {
	srv, err := smtptest.Listen("127.0.0.1:0", smtptest.Discard())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, srv.Addr)
	_, _ = io.Copy(io.Discard, stdin)
	n := srv.Count()
	_ = srv.Close()
	fmt.Fprintf(stdout, "%d %d\n", n, peakRSS())
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
	Accepted int
	PeakRSS  int64 // bytes
	CPU      time.Duration
}

func (s *sinkProcess) stop() (sinkResult, error) {
	var r sinkResult
	_ = s.stdin.Close()
	line, err := s.out.ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("SMTP sink: %w", err)
	}
	if _, err := fmt.Sscan(line, &r.Accepted, &r.PeakRSS); err != nil {
		return r, fmt.Errorf("SMTP sink said %q: %w", line, err)
	}
	if err := s.cmd.Wait(); err != nil {
		return r, err
	}
	r.CPU = s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
	return r, nil
}
