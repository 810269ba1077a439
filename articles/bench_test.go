package articles

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// benchTexts are the kicker, title and teaser of testdata/tagging.tsv.
func benchTexts(b *testing.B) []Text {
	b.Helper()
	data, err := os.ReadFile("testdata/tagging.tsv")
	if err != nil {
		b.Fatal(err)
	}
	var out []Text
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, "\t")
		if line == "" || strings.HasPrefix(line, "#") || len(f) < 3 {
			continue
		}
		out = append(out, Text{Kicker: f[0], Title: f[1], Teaser: f[2]})
	}
	return out
}

// BenchmarkTag reports articles tagged per second (articles/s).
func BenchmarkTag(b *testing.B) {
	tg := mustTagger(b)
	texts := benchTexts(b)
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		tg.Tag(texts[i%len(texts)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "articles/s")
}

// BenchmarkNewTagger measures loading the embedded gazetteer and rules and
// reports the live heap they take (heap-MB, after a garbage collection).
func BenchmarkNewTagger(b *testing.B) {
	var heap float64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tg := mustTagger(b)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / (1 << 20)
		runtime.KeepAlive(tg)
	}
	b.ReportMetric(heap, "heap-MB")
}
