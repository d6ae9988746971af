-- Domains, records, their payloads (rendered formats, zstd-compressed) and the
-- dissemination state per record and format that OAI-PMH lists are read from.
-- Times are Unix seconds (UTC); flags are 0/1.

CREATE TABLE domain (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    parent_id   INTEGER REFERENCES domain(id),
    title       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE record (
    id              INTEGER PRIMARY KEY,
    domain_id       INTEGER NOT NULL REFERENCES domain(id),
    local_id        TEXT    NOT NULL,
    oai_identifier  TEXT    NOT NULL UNIQUE,
    parent_id       INTEGER REFERENCES record(id) ON DELETE SET NULL,
    title           TEXT,
    released        INTEGER NOT NULL DEFAULT 0,
    deleted         INTEGER NOT NULL DEFAULT 0,
    content_hash    TEXT    NOT NULL,
    set_specs       TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (domain_id, local_id)
);
CREATE INDEX record_local_id ON record (local_id);
CREATE INDEX record_parent ON record (parent_id);

CREATE TABLE parent_ref (
    record_id  INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    ref        TEXT    NOT NULL,
    PRIMARY KEY (record_id, ref)
);
CREATE INDEX parent_ref_ref ON parent_ref (ref);

-- Configured-set memberships. A record that leaves a set keeps its row with current = 0,
-- so set-based incremental harvests still list it (with its new datestamp and without
-- that setSpec) and learn that it left.
CREATE TABLE record_set (
    record_id        INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    owner_domain_id  INTEGER NOT NULL REFERENCES domain(id),
    spec             TEXT    NOT NULL,
    current          INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (owner_domain_id, spec, record_id)
);
CREATE INDEX record_set_record ON record_set (record_id);

CREATE TABLE payload (
    record_id  INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    prefix     TEXT    NOT NULL,
    body       BLOB    NOT NULL,
    PRIMARY KEY (record_id, prefix)
);

CREATE TABLE dissemination (
    record_id  INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    prefix     TEXT    NOT NULL,
    domain_id  INTEGER NOT NULL REFERENCES domain(id),
    datestamp  INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    PRIMARY KEY (record_id, prefix)
);
CREATE INDEX dissemination_list ON dissemination (prefix, datestamp, record_id);

CREATE TABLE setting (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
