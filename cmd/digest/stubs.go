package main

import (
	"errors"

	"github.com/kommune21/digest/store"
)

// errNotImplemented is returned by commands whose issue has not landed yet.
var errNotImplemented = errors.New("not implemented yet")

func openUnchecked(a *app) (*store.DB, error) {
	db, err := store.Open(a.ctx, a.cfg.DB)
	if err != nil {
		return nil, err
	}
	a.db = db
	return db, nil
}
