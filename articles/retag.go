package articles

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
)

// Text is what the tagger reads of a stored article.
func (a Article) Text() Text {
	return Text{Kicker: a.Kicker, Title: a.Title, Teaser: a.Teaser, Content: a.Content, Categories: a.Categories}
}

// RetagResult counts what Retag did.
type RetagResult struct {
	Checked int // articles tagged automatically that were looked at
	Changed int // of those, articles whose regions or topics changed
	Manual  int // articles left alone because staff tagged them
}

// Retag runs the tagger again over the articles published at or after since
// (all when zero) — after a change of the rules, the gazetteer or the model —
// and stores the new tags of those tagged automatically. Manual tags are never
// touched. It runs in one transaction: all changes or none.
func (im *Importer) Retag(ctx context.Context, since time.Time) (RetagResult, error) {
	var res RetagResult
	list, err := im.store.List(ctx, Filter{Since: since})
	if err != nil {
		return res, err
	}
	err = im.db.Tx(ctx, func(tx *sqlx.Tx) error {
		for _, a := range list {
			if a.TagsManual {
				res.Manual++
				continue
			}
			res.Checked++
			tags := im.tagger.Tag(a.Text())
			if slices.Equal(tags.Regions, a.Regions) && slices.Equal(tags.Topics, a.Topics) {
				continue
			}
			// the condition keeps a tag that staff set since List read it
			r, err := tx.ExecContext(ctx, im.db.Rebind(`UPDATE articles SET updated_at = updated_at WHERE id = ? AND NOT tags_manual`), a.ID)
			if err != nil {
				return fmt.Errorf("retag article %d: %w", a.ID, err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				res.Checked--
				res.Manual++
				continue
			}
			if err := im.store.replaceTags(ctx, tx, a.ID, tags.Regions, tags.Topics); err != nil {
				return err
			}
			res.Changed++
		}
		return nil
	})
	if err != nil {
		return RetagResult{}, err
	}
	return res, nil
}

// SetAuto returns an article to automatic tagging: its manual mark is cleared
// and the tagger's tags replace the ones staff set. It returns the new tags.
func (im *Importer) SetAuto(ctx context.Context, id int64) (Tags, error) {
	a, err := im.store.Get(ctx, id)
	if err != nil {
		return Tags{}, err
	}
	tags := im.tagger.Tag(a.Text())
	err = im.db.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, im.db.Rebind(`UPDATE articles SET tags_manual = ? WHERE id = ?`), false, id); err != nil {
			return fmt.Errorf("article %d: %w", id, err)
		}
		return im.store.replaceTags(ctx, tx, id, tags.Regions, tags.Topics)
	})
	return tags, err
}

// Explain returns the tagger's decision on a stored article with its reasons.
// For an article that staff tagged, the decision is what automatic tagging
// would give; the stored tags are the article's own.
func (im *Importer) Explain(a Article) Explanation { return im.tagger.Explain(a.Text()) }
