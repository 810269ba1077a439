package digest

import "testing"

func TestMemoryLimitFor(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}
	if got := MemoryLimitFor(env("")); got != 160<<20 {
		t.Errorf("without GOMEMLIMIT: %d, want 160 MiB", got)
	}
	for _, v := range []string{"1GiB", "off"} {
		if got := MemoryLimitFor(env(v)); got != 0 {
			t.Errorf("GOMEMLIMIT=%s: %d, want 0 (the runtime's own)", v, got)
		}
	}
}
