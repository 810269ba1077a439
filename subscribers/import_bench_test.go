package subscribers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
)

// generatedCSV returns an import file of n subscribers with 0–2 regions and 0–3 topics each.
func generatedCSV(n int) []byte {
	regions := []string{"DE", "DE-BW", "DE-BY", "DE-BE", "DE-HE", "DE-NW", "DE-SN", "DE-TH"}
	topics := []string{"it-sicherheit", "open-source", "smart-city", "ozg-onlinedienste", "beschaffung", "schule-bildung"}
	var b bytes.Buffer
	b.WriteString("email,name,regions,topics,cadence\n")
	for i := 0; i < n; i++ {
		var rs, ts string
		switch i % 3 {
		case 1:
			rs = regions[i%len(regions)]
		case 2:
			rs = regions[i%len(regions)] + ";" + regions[(i/3)%len(regions)]
		}
		for j := 0; j < i%4; j++ {
			if j > 0 {
				ts += ";"
			}
			ts += topics[(i+j)%len(topics)]
		}
		cadence := "weekly"
		if i%10 == 0 {
			cadence = "daily"
		}
		fmt.Fprintf(&b, "user%06d@example.org,\"Müller, Person %d\",%s,%s,%s\n", i, i, rs, ts, cadence)
	}
	return b.Bytes()
}

// BenchmarkImport100k imports 100,000 generated rows into an empty database:
//
//	go test -run '^$' -bench Import100k -benchtime 1x ./subscribers/
func BenchmarkImport100k(b *testing.B) {
	data := generatedCSV(100_000)
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db := open(b)
				set, err := taxonomy.NewStore(db).Load(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				s := subscribers.NewStore(db, time.Now)
				b.StartTimer()
				start := time.Now()
				f, err := subscribers.ReadCSV(bytes.NewReader(data), "bench.csv")
				if err != nil {
					b.Fatal(err)
				}
				res, err := s.Import(context.Background(), set, f, subscribers.ImportOptions{Confirmed: true})
				if err != nil || res.Added != 100_000 {
					b.Fatalf("%+v, %v", res, err)
				}
				first := time.Since(start)
				// The same file again: every row unchanged, nothing written.
				start = time.Now()
				res, err = s.Import(context.Background(), set, f, subscribers.ImportOptions{Confirmed: true})
				if err != nil || res.Unchanged != 100_000 {
					b.Fatalf("%+v, %v", res, err)
				}
				b.ReportMetric(first.Seconds(), "s/import")
				b.ReportMetric(time.Since(start).Seconds(), "s/reimport")
			}
		})
	}
}

// peakHeap samples the live heap every millisecond while fn runs and returns
// the highest value above the heap before fn.
func peakHeap(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkImportMemory imports 100,000 and 400,000 generated rows into an
// empty SQLite database from a file, held in memory (ReadCSV + Import) and
// streamed (ImportFile), and reports the peak live heap and its share per row:
//
//	go test -run '^$' -bench ImportMemory -benchtime 1x ./subscribers/
//
// Streamed, the heap per row is the key set's (about 20–50 bytes a row with
// the map's growth), whatever the size of the file.
func BenchmarkImportMemory(b *testing.B) {
	for _, n := range []int{100_000, 400_000} {
		path := filepath.Join(b.TempDir(), "people.csv")
		if err := os.WriteFile(path, generatedCSV(n), 0o600); err != nil {
			b.Fatal(err)
		}
		open := func() (io.ReadCloser, error) { return os.Open(path) }
		for _, mode := range []string{"inmemory", "streamed"} {
			b.Run(fmt.Sprintf("%s/%dk", mode, n/1000), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					db := storetest.SQLite(b)
					set, err := taxonomy.NewStore(db).Load(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					s := subscribers.NewStore(db, time.Now)
					b.StartTimer()
					var res subscribers.ImportResult
					peak := peakHeap(func() {
						if mode == "streamed" {
							res, err = s.ImportFile(context.Background(), set, "bench.csv", open, subscribers.ImportOptions{Confirmed: true})
							return
						}
						f, rerr := os.Open(path)
						if rerr != nil {
							err = rerr
							return
						}
						defer f.Close()
						file, rerr := subscribers.ReadCSV(f, "bench.csv")
						if rerr != nil {
							err = rerr
							return
						}
						res, err = s.Import(context.Background(), set, file, subscribers.ImportOptions{Confirmed: true})
					})
					if err != nil || res.Added != n {
						b.Fatalf("%+v, %v", res.Added, err)
					}
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
					b.ReportMetric(float64(peak)/float64(n), "peak-heap-B/row")
				}
			})
		}
	}
}
