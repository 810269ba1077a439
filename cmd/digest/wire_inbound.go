package main

import (
	"fmt"
	"time"

	"github.com/kommune21/digest/feedback"
	"github.com/kommune21/digest/subscribers"
)

// returnPath is the VERP return path of DIGEST_RETURN_PATH (nil when unset).
func (a *app) returnPath(signer *subscribers.Signer) (*feedback.ReturnPath, error) {
	if a.cfg.ReturnPath == "" {
		return nil, nil
	}
	rp, err := feedback.NewReturnPath(a.cfg.ReturnPath, signer)
	if err != nil {
		return nil, fmt.Errorf("DIGEST_RETURN_PATH: %w", err)
	}
	return rp, nil
}

// feedbackHandler wires the matching of returned mail: the same key, return
// path and Message-ID domain as sending.
func (a *app) feedbackHandler() (*feedback.Handler, error) {
	db, err := a.openDB()
	if err != nil {
		return nil, err
	}
	signer, err := a.signer()
	if err != nil {
		return nil, err
	}
	rp, err := a.returnPath(signer)
	if err != nil {
		return nil, err
	}
	return &feedback.Handler{DB: db, ReturnPath: rp, Signer: signer, Domain: a.cfg.MailDomain(), Now: time.Now, Log: a.log}, nil
}
