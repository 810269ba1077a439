-- +goose Up
CREATE TABLE regions (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE topics (
    slug     TEXT PRIMARY KEY CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*' AND slug NOT GLOB '-*' AND slug NOT GLOB '*-' AND slug NOT GLOB '*--*'),
    name     TEXT NOT NULL UNIQUE,
    position INTEGER NOT NULL
);

CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    url          TEXT NOT NULL,
    title        TEXT NOT NULL,
    kicker       TEXT NOT NULL DEFAULT '',
    teaser       TEXT NOT NULL DEFAULT '',
    categories   TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    published_at TIMESTAMP NOT NULL,
    ingested_at  TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    tags_manual  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX articles_published_at ON articles (published_at);

CREATE TABLE article_regions (
    article_id  BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    region_code TEXT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (article_id, region_code)
);

CREATE TABLE article_topics (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic_slug TEXT NOT NULL REFERENCES topics (slug) ON UPDATE CASCADE,
    PRIMARY KEY (article_id, topic_slug)
);

CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL,
    email_key       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
    cadence         TEXT NOT NULL DEFAULT 'weekly' CHECK (cadence IN ('weekly', 'daily')),
    consent_at      TIMESTAMP,
    consent_method  TEXT NOT NULL DEFAULT '',
    consent_source  TEXT NOT NULL DEFAULT '',
    consent_ip      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    confirmed_at    TIMESTAMP,
    unsubscribed_at TIMESTAMP
);
CREATE INDEX subscribers_status_cadence ON subscribers (status, cadence);

CREATE TABLE subscriber_regions (
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    region_code   TEXT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (subscriber_id, region_code)
);

CREATE TABLE subscriber_topics (
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic_slug    TEXT NOT NULL REFERENCES topics (slug) ON UPDATE CASCADE,
    PRIMARY KEY (subscriber_id, topic_slug)
);

-- One run per (cadence, edition); a repeated run resumes it.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    cadence     TEXT NOT NULL CHECK (cadence IN ('weekly', 'daily')),
    edition     TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    planned_at  TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (cadence, edition)
);

-- A selection is the article list shared by all subscribers of a run whose
-- choices (choice_key) and recent history (history_key) are the same.
CREATE TABLE selections (
    id          INTEGER PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    choice_key  TEXT NOT NULL,
    history_key TEXT NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_id, choice_key, history_key)
);

CREATE TABLE selection_articles (
    selection_id BIGINT NOT NULL REFERENCES selections (id) ON DELETE CASCADE,
    article_id   BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (selection_id, article_id)
);

-- The outbox: one delivery per (run, subscriber). The sent log is the sent
-- deliveries' selections. subscriber_id becomes NULL when a subscriber is erased;
-- the anonymous counts stay.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    run_id          BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    subscriber_id   BIGINT REFERENCES subscribers (id) ON DELETE SET NULL,
    selection_id    BIGINT REFERENCES selections (id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'retry', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMP,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (run_id, subscriber_id)
);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
CREATE INDEX deliveries_open ON deliveries (run_id, id) WHERE status IN ('pending', 'retry');

-- Small key/value settings owned by the program (e.g. the generated link-signing key).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE deliveries;
DROP TABLE selection_articles;
DROP TABLE selections;
DROP TABLE runs;
DROP TABLE subscriber_topics;
DROP TABLE subscriber_regions;
DROP TABLE subscribers;
DROP TABLE article_topics;
DROP TABLE article_regions;
DROP TABLE articles;
DROP TABLE topics;
DROP TABLE regions;
