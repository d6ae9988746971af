-- People who read the QA pages (role 'qa') and administer jobs (role 'admin'), their
-- sessions, failed logins (for throttling), and the QA aggregates the pages read.

-- domain_id: the domain the user's grant covers (with its sub-domains); NULL: the root.
-- password_hash: an argon2id PHC string.
CREATE TABLE app_user (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    role           TEXT    NOT NULL,
    domain_id      INTEGER REFERENCES domain(id),
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);

-- A login: the SHA-256 of the session cookie's value (the value itself is never
-- stored), the CSRF token of its forms, and when it ends.
CREATE TABLE app_session (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    csrf        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX app_session_user ON app_session (user_id);

-- Failed logins, by 'user:NAME' and by 'addr:IP'.
CREATE TABLE login_failure (
    key  TEXT    NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX login_failure_key ON login_failure (key, at);

-- Per domain, state and rule: the findings (in the METS as stored) of the records as the
-- last validator run covering the domain left them, how many a repair fixed, and on
-- how many records the rule fired. Replaced at the end of every run.
CREATE TABLE qa_rule_stat (
    domain_id  INTEGER NOT NULL REFERENCES domain(id),
    state      TEXT    NOT NULL,
    rule_id    TEXT    NOT NULL,
    class      TEXT    NOT NULL,
    findings   INTEGER NOT NULL,
    fixed      INTEGER NOT NULL,
    records    INTEGER NOT NULL,
    run_id     INTEGER NOT NULL,
    PRIMARY KEY (domain_id, state, rule_id)
);

-- A few records per domain, state and rule (repaired and not repaired ones), kept with
-- the aggregates: the examples the QA page links to.
CREATE TABLE qa_rule_example (
    domain_id  INTEGER NOT NULL REFERENCES domain(id),
    state      TEXT    NOT NULL,
    rule_id    TEXT    NOT NULL,
    record_id  INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    local_id   TEXT    NOT NULL,
    repaired   INTEGER NOT NULL
);
CREATE INDEX qa_rule_example_domain ON qa_rule_example (domain_id, rule_id);

-- Records per domain and state (and how many of them are exported as zmets) when a run
-- ended: the trend of the QA page.
CREATE TABLE qa_run_state (
    run_id     INTEGER NOT NULL REFERENCES job_run(id) ON DELETE CASCADE,
    domain_id  INTEGER NOT NULL REFERENCES domain(id),
    state      TEXT    NOT NULL,
    records    INTEGER NOT NULL,
    exported   INTEGER NOT NULL,
    PRIMARY KEY (run_id, domain_id, state)
);
CREATE INDEX qa_run_state_domain ON qa_run_state (domain_id, run_id);

-- Records per domain and state, and of those the exported ones (released and valid or
-- valid_warn: exactly what zmets disseminates), counted from this index alone.
CREATE INDEX record_qa ON record (domain_id, deleted, zmods_validation, released);
