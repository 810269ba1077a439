-- +goose Up
-- What happened to a subscriber's consent, step by step (GDPR Art. 7(1): the
-- publisher must be able to show how and when each person agreed): a signup
-- or "wieder anmelden" request with the requesting IP, page and choices, the
-- confirmation through the mailed link, leaving. Erasure deletes the rows.
CREATE TABLE consent_events (
    id            INTEGER PRIMARY KEY,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    at            TIMESTAMP NOT NULL,
    kind          TEXT NOT NULL,
    ip            TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    details       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consent_events_subscriber ON consent_events (subscriber_id);

-- Mails the public pages sent to an address (confirmation, "already
-- subscribed", links), for the per-address limits. The address is kept only
-- as a SHA-256 of its identity key, and rows older than a day are deleted.
CREATE TABLE notice_mails (
    address_hash TEXT NOT NULL,
    kind         TEXT NOT NULL,
    sent_at      TIMESTAMP NOT NULL
);
CREATE INDEX notice_mails_address ON notice_mails (address_hash, sent_at);
CREATE INDEX notice_mails_sent_at ON notice_mails (sent_at);

-- +goose Down
DROP TABLE notice_mails;
DROP TABLE consent_events;
