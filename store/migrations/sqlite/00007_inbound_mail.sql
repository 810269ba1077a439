-- +goose Up
-- Mails that came back: bounces, complaints, unsubscribe mails, auto-replies
-- and anything else read from the return mailbox or imported by staff. One
-- row per distinct mail (fingerprint), with what was done about it.
CREATE TABLE inbound_mails (
    id            INTEGER PRIMARY KEY,
    fingerprint   TEXT NOT NULL UNIQUE,
    message_id    TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    received_at   TIMESTAMP NOT NULL,
    mail_date     TIMESTAMP,
    sender        TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL CHECK (kind IN ('bounce', 'complaint', 'unsubscribe', 'auto-reply', 'other')),
    severity      TEXT NOT NULL DEFAULT '' CHECK (severity IN ('', 'hard', 'soft')),
    status_code   TEXT NOT NULL DEFAULT '',
    diagnostic    TEXT NOT NULL DEFAULT '',
    recipient     TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL CHECK (outcome IN ('applied', 'recorded', 'ignored', 'unmatched')),
    matched_by    TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    run_id        BIGINT REFERENCES runs (id) ON DELETE SET NULL,
    delivery_id   BIGINT REFERENCES deliveries (id) ON DELETE SET NULL,
    subscriber_id BIGINT REFERENCES subscribers (id) ON DELETE SET NULL
);
CREATE INDEX inbound_mails_run ON inbound_mails (run_id);
CREATE INDEX inbound_mails_delivery ON inbound_mails (delivery_id);
CREATE INDEX inbound_mails_subscriber ON inbound_mails (subscriber_id);
CREATE INDEX inbound_mails_outcome ON inbound_mails (outcome, id);

-- Why a subscriber left (complaint, unsubscribe mail, bounce …) and the mail
-- that said so; soft_bounces is the current run of soft-bounced editions.
ALTER TABLE subscribers ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN status_mail_id BIGINT REFERENCES inbound_mails (id) ON DELETE SET NULL;
ALTER TABLE subscribers ADD COLUMN soft_bounces INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE subscribers DROP COLUMN soft_bounces;
ALTER TABLE subscribers DROP COLUMN status_mail_id;
ALTER TABLE subscribers DROP COLUMN status_reason;
DROP TABLE inbound_mails;
