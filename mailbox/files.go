// Package mailbox reads mails from where they wait: .eml files, mbox files
// and Maildir folders that staff export, and an IMAP mailbox that the daemon
// polls (github.com/emersion/go-imap/v2). It hands every mail's bytes to a
// callback and never interprets them (package inbound does).
//
// Invariants:
//   - At most MaxMail bytes of one mail are held in memory; the rest of a
//     longer mail is skipped (a report's parts come first).
//   - IMAP: mails are never deleted. A handled mail is moved to a folder
//     below "digest" (digest/handled, digest/unmatched), named with the
//     server's hierarchy delimiter from LIST ("/" or "."); a mail whose
//     handling failed stays in the mailbox for the next poll. Only the first
//     MaxMail bytes are fetched (BODY.PEEK[]<0.N>), without setting \Seen.
//   - The password is never in an error, a log line or Config.String.
//   - imap:// without TLS is refused unless the host is a loopback address.
package mailbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxMail is how much of one mail is read.
const MaxMail = 1 << 20

// Func receives one mail: its first MaxMail bytes and where it came from
// ("FILE", "FILE#3" for the third mail of an mbox, "imap INBOX uid 7").
// An error stops the reading.
type Func func(raw []byte, source string) error

// ReadPaths reads every mail in paths: a file is one mail (.eml) or an mbox
// (it starts with "From "); a directory is a Maildir (cur/ and new/) or is
// searched for .eml and .mbox files and Maildirs, in name order.
func ReadPaths(paths []string, fn Func) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("read mail: %w", err)
		}
		if !st.IsDir() {
			if err := readFile(p, fn, true); err != nil {
				return err
			}
			continue
		}
		if isMaildir(p) {
			if err := readMaildir(p, fn); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && isMaildir(path) {
					if err := readMaildir(path, fn); err != nil {
						return err
					}
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".eml", ".mbox":
				return readFile(path, fn, false)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// readMaildir reads new/ then cur/, each in name order (Maildir names start
// with the delivery time).
func readMaildir(dir string, fn Func) error {
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return fmt.Errorf("read Maildir %s: %w", dir, err)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				if err := readFile(filepath.Join(dir, sub, e.Name()), fn, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func readFile(path string, fn Func, named bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read mail: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, err := br.Peek(5)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read mail %s: %w", path, err)
	}
	if len(bytes.TrimSpace(head)) == 0 {
		if named {
			return fmt.Errorf("read mail %s: the file is empty; give .eml files, mbox files or Maildir folders", path)
		}
		return nil
	}
	if string(head) == "From " {
		return readMbox(path, br, fn)
	}
	raw, err := io.ReadAll(io.LimitReader(br, MaxMail))
	if err != nil {
		return fmt.Errorf("read mail %s: %w", path, err)
	}
	return fn(raw, path)
}

// readMbox splits an mbox (mboxo or mboxrd) at its "From " lines and undoes
// the ">From " quoting of mboxrd.
func readMbox(path string, br *bufio.Reader, fn Func) error {
	var cur bytes.Buffer
	n, inMail, prevBlank := 0, false, true
	flush := func() error {
		if !inMail {
			return nil
		}
		n++
		raw := bytes.Clone(cur.Bytes())
		cur.Reset()
		return fn(raw, fmt.Sprintf("%s#%d", path, n))
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: keep what fits, skip the rest.
			if cur.Len() < MaxMail {
				cur.Write(line[:min(len(line), MaxMail-cur.Len())])
			}
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			prevBlank = false
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read mbox %s: %w", path, err)
			}
			continue
		}
		if len(line) > 0 {
			if prevBlank && bytes.HasPrefix(line, []byte("From ")) {
				if err := flush(); err != nil {
					return err
				}
				inMail = true
				prevBlank = false
			} else {
				if q := bytes.TrimLeft(line, ">"); len(q) < len(line) && bytes.HasPrefix(q, []byte("From ")) {
					line = line[1:]
				}
				if cur.Len()+len(line) <= MaxMail {
					cur.Write(line)
				}
				prevBlank = len(bytes.TrimRight(line, "\r\n")) == 0
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read mbox %s: %w", path, err)
		}
	}
	return flush()
}
