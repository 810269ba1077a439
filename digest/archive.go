package digest

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

// ErrNotArchived means a selection has no browser view: it does not exist,
// none of its deliveries was sent, or its article list was pruned (see
// PruneSentLog).
var ErrNotArchived = errors.New("this digest has no browser view")

// ArchiveView renders the browser view of selection id ("Im Browser
// ansehen"): the articles it held, grouped as its recipients got them, with
// nothing personal (templates.Set.WebView). Only a selection of which at
// least one delivery was sent has a view; otherwise, and once its article
// list is pruned, it returns ErrNotArchived. It reads the one selection and
// its articles, not the run's.
func ArchiveView(ctx context.Context, db *store.DB, tmpl *templates.Set, selectionID int64) ([]byte, error) {
	var run Run
	err := db.GetContext(ctx, &run, db.Rebind(`SELECT r.id, r.cadence, r.edition, r.at, r.created_at, r.planned_at, r.finished_at
		FROM selections sel JOIN runs r ON r.id = sel.run_id
		WHERE sel.id = ? AND EXISTS (SELECT 1 FROM deliveries d WHERE d.selection_id = sel.id AND d.status = ?)`),
		selectionID, StatusSent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotArchived
	}
	if err != nil {
		return nil, fmt.Errorf("browser view of selection %d: %w", selectionID, err)
	}
	tax, err := taxonomy.NewStore(db).Load(ctx)
	if err != nil {
		return nil, err
	}
	lib := &library{run: run, tmpl: tmpl, tax: tax, selections: map[int64]*selection{},
		articles: map[int64]templates.Article{}, cache: map[int64]*list.Element{}, lru: list.New(), size: 1}
	if err := lib.loadArticles(ctx, db, db.DB, `JOIN (SELECT u.value AS article_id FROM selections s CROSS JOIN `+db.EachID("s.article_ids", "u")+` WHERE s.id = ?) x ON x.article_id = a.id`, selectionID); err != nil {
		return nil, fmt.Errorf("browser view of selection %d: %w", selectionID, err)
	}
	if err := lib.readSelections(ctx, db, db.DB, selectionID, 1); err != nil {
		return nil, err
	}
	sel := lib.selections[selectionID]
	if sel == nil || len(sel.Articles) == 0 {
		return nil, ErrNotArchived // pruned
	}
	return tmpl.WebView(lib.digestOf(sel))
}
