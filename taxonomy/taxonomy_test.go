package taxonomy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/taxonomy"
)

func TestStore_Defaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := taxonomy.NewStore(db)
		rs, err := s.Regions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 17 || rs[0] != (taxonomy.Region{Code: "DE", Name: "Bundesweit"}) || rs[16] != (taxonomy.Region{Code: "DE-TH", Name: "Thüringen"}) {
			t.Fatalf("regions = %v", rs)
		}
		ts, err := s.Topics(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 20 || ts[4] != (taxonomy.Topic{Slug: "kuenstliche-intelligenz", Name: "Künstliche Intelligenz"}) {
			t.Fatalf("topics = %v", ts)
		}
	})
}

func TestStore_AddTopic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := taxonomy.NewStore(db)
		t.Run("OK", func(t *testing.T) {
			if err := s.AddTopic(ctx, taxonomy.Topic{Slug: "open-data", Name: "Open Data"}); err != nil {
				t.Fatal(err)
			}
			ts, _ := s.Topics(ctx)
			if last := ts[len(ts)-1]; last.Slug != "open-data" {
				t.Fatalf("new topic not last: %v", last)
			}
		})
		t.Run("ErrTopicExists", func(t *testing.T) {
			err := s.AddTopic(ctx, taxonomy.Topic{Slug: "it-sicherheit", Name: "Sicherheit"})
			if !errors.Is(err, taxonomy.ErrTopicExists) || !strings.Contains(err.Error(), "it-sicherheit") {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run("ErrBadSlug", func(t *testing.T) {
			for _, slug := range []string{"", "Open Data", "-x", "x--y", "ümlaut"} {
				if err := s.AddTopic(ctx, taxonomy.Topic{Slug: slug, Name: "X"}); err == nil {
					t.Errorf("slug %q accepted", slug)
				}
			}
		})
		t.Run("Rename", func(t *testing.T) {
			if err := s.RenameTopic(ctx, "smart-city", "Smart City & Region"); err != nil {
				t.Fatal(err)
			}
			set, _ := s.Load(ctx)
			if tp, _ := set.Topic("smart-city"); tp.Name != "Smart City & Region" {
				t.Fatalf("renamed topic = %v", tp)
			}
			if err := s.RenameTopic(ctx, "nope", "X"); err == nil {
				t.Fatal("renaming a missing topic succeeded")
			}
		})
	})
}

func TestSet_Normalise(t *testing.T) {
	set := taxonomy.NewSet(
		[]taxonomy.Region{{Code: "DE", Name: "Bundesweit"}, {Code: "DE-BY", Name: "Bayern"}, {Code: "DE-TH", Name: "Thüringen"}},
		[]taxonomy.Topic{{Slug: "smart-city", Name: "Smart City"}, {Slug: "it-sicherheit", Name: "IT-Sicherheit"}},
	)
	got, err := set.RegionCodes([]string{" de-th", "DE-BY", "de-th", ""})
	if err != nil || strings.Join(got, ",") != "DE-BY,DE-TH" {
		t.Fatalf("RegionCodes = %v, %v", got, err)
	}
	_, err = set.RegionCodes([]string{"DE-XX"})
	if err == nil || !strings.Contains(err.Error(), `"DE-XX"`) || !strings.Contains(err.Error(), "DE-BY") {
		t.Fatalf("unknown region error = %v, want the value and the valid codes", err)
	}
	got, err = set.TopicSlugs([]string{"IT-Sicherheit", "smart-city"})
	if err != nil || strings.Join(got, ",") != "smart-city,it-sicherheit" {
		t.Fatalf("TopicSlugs = %v, %v", got, err)
	}
	if _, err := set.TopicSlugs([]string{"ki"}); err == nil || !strings.Contains(err.Error(), "it-sicherheit") {
		t.Fatalf("unknown topic error = %v", err)
	}
}

// TestDefault_MatchesMigration keeps taxonomy.Default equal to what a new
// database holds.
func TestDefault_MatchesMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := taxonomy.NewStore(db)
		got, err := s.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		def := taxonomy.Default()
		if !slices.Equal(got.Regions, def.Regions) {
			t.Errorf("regions: database %v, Default %v", got.Regions, def.Regions)
		}
		if !slices.Equal(got.Topics, def.Topics) {
			t.Errorf("topics: database %v, Default %v", got.Topics, def.Topics)
		}
	})
}
