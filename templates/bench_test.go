package templates

import (
	"bytes"
	"testing"

	"github.com/kommune21/digest/internal/benchcpu"
)

// BenchmarkRender measures the per-recipient cost: one prepared 20-article
// digest, filled in for a recipient into reused buffers.
func BenchmarkRender(b *testing.B) {
	s := mustNew(b)
	p := mustPrepare(b, s, bigDigest(20))
	r := goldenRecipient()
	var h, x bytes.Buffer
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		h.Reset()
		x.Reset()
		p.Render(r, &h, &x)
	}
	cpu.Report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "digests/s")
	b.ReportMetric(float64(h.Len()+x.Len()), "bytes/digest")
}

// BenchmarkPrepare measures the once-per-distinct-digest cost.
func BenchmarkPrepare(b *testing.B) {
	s := mustNew(b)
	d := bigDigest(20)
	if _, err := s.Prepare(d); err != nil { // the article fragments are warm, as in a run
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		if _, err := s.Prepare(d); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "prepares/s")
}

// BenchmarkNew measures the start-up cost: parsing and inlining the CSS once.
func BenchmarkNew(b *testing.B) {
	site := testSite()
	for b.Loop() {
		if _, err := New(site); err != nil {
			b.Fatal(err)
		}
	}
}
