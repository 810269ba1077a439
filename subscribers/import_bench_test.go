package subscribers_test

import (
	"bytes"
	"context"
	"fmt"
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
