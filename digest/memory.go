package digest

// MemoryLimit is the soft limit of the Go runtime's memory that the digest
// command (and the benchmark, which runs the same code) sets when GOMEMLIMIT is
// not set: 160 MiB. Near it the garbage collector runs sooner instead of
// letting the heap grow to twice what is live, so that planning a
// 1,000,000-subscriber edition (some 300,000 groups, about 125 MB live at its
// peak) stays under 200 MB resident; a smaller edition never reaches it and
// pays nothing. It is soft: a process that needs more gets more (the
// collector then runs often), and GOMEMLIMIT (e.g. GOMEMLIMIT=1GiB, or off)
// overrides it. See BENCHMARKS.md, "Issue 12: a soft memory limit".
const MemoryLimit = 160 << 20

// MemoryLimitFor is the limit to set given the environment: MemoryLimit,
// or 0 (leave the runtime's own) when GOMEMLIMIT is set.
func MemoryLimitFor(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	return MemoryLimit
}
