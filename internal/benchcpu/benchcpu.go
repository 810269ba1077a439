// Package benchcpu reports a benchmark's CPU time per operation beside its
// wall time. On this shared 2-core machine the wall time of a benchmark
// moves by a factor of several with the other users' load; the process's
// CPU time (user and system, GC workers included) moves far less, so it is
// the figure to compare across sittings.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Meter is a reading of the process's CPU time.
type Meter struct{ start time.Duration }

// Start reads the process's CPU time now.
func Start() Meter { return Meter{start: used()} }

// Report adds "cpu-ns/op": the process's CPU time since Start divided by
// b.N. Call it right after the benchmark loop.
func (m Meter) Report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(used()-m.start)/float64(b.N), "cpu-ns/op")
	}
}

func used() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
