package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// pgSampler adds up the CPU time of the PostgreSQL backends that serve one
// database (server and benchmark on the same machine): every interval it
// reads /proc/<pid>/stat of each process whose title names the database
// ("postgres: … digest_bench_… 127.0.0.1(…) idle") and keeps each one's
// latest total. A backend that exits loses at most one interval; the
// server's shared processes (WAL writer, checkpointer) are not counted.
type pgSampler struct {
	db   []byte
	stop chan struct{}
	done sync.WaitGroup
	mu   sync.Mutex
	cpu  map[int]time.Duration // pid → utime + stime
	base map[int]time.Duration // at the start, for backends that existed then
}

func samplePostgres(dbName string, every time.Duration) *pgSampler {
	p := &pgSampler{db: []byte(" " + dbName + " "), stop: make(chan struct{}), cpu: map[int]time.Duration{}}
	p.base = p.read()
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			now := p.read()
			p.mu.Lock()
			for pid, c := range now {
				p.cpu[pid] = c
			}
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// end stops sampling and returns the CPU time the database's backends used
// since samplePostgres.
func (p *pgSampler) end() time.Duration {
	close(p.stop)
	p.done.Wait()
	var sum time.Duration
	for pid, c := range p.cpu {
		sum += c - p.base[pid]
	}
	return sum
}

func (p *pgSampler) read() map[int]time.Duration {
	out := map[int]time.Duration{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmd, []byte("postgres:")) || !bytes.Contains(cmd, p.db) {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name in parentheses: utime and stime
		// are the 14th and 15th, in clock ticks (100 per second on Linux).
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(string(f[11]), 10, 64)
		st, _ := strconv.ParseInt(string(f[12]), 10, 64)
		pid, _ := strconv.Atoi(filepath.Base(d))
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}
