-- ZVDD validation state per record (SPEC §2 zmods_validation): 'undefined' until the
-- OaiOutputValidator job has validated the current METS; every change of the METS, a
-- release or a withdrawal sets it back to 'undefined'.
ALTER TABLE record ADD COLUMN zmods_validation TEXT NOT NULL DEFAULT 'undefined';
ALTER TABLE record ADD COLUMN validation_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE record ADD COLUMN validated_at INTEGER;
ALTER TABLE record ADD COLUMN rule_set_version TEXT;
CREATE INDEX record_validation ON record (zmods_validation, domain_id);

-- Every finding of the last validation: found in the METS as stored, and whether a
-- repair of the zmets fixed it (repaired = 1) or it remains in what harvesters receive.
-- Findings that only the repaired METS shows have stage 'after'.
CREATE TABLE finding (
    record_id  INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    stage      TEXT    NOT NULL,
    rule_id    TEXT    NOT NULL,
    class      TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    location   TEXT    NOT NULL,
    repaired   INTEGER NOT NULL
);
CREATE INDEX finding_record ON finding (record_id);
CREATE INDEX finding_rule ON finding (rule_id);

-- Each repair applied to the zmets of a record at its last validation.
CREATE TABLE repair (
    record_id  INTEGER NOT NULL REFERENCES record(id) ON DELETE CASCADE,
    rule_id    TEXT    NOT NULL,
    xpath      TEXT    NOT NULL,
    before     TEXT    NOT NULL,
    after      TEXT    NOT NULL
);
CREATE INDEX repair_record ON repair (record_id);

-- Runs of jobs, with what they did (JSON texts for the per-state and per-rule figures).
CREATE TABLE job_run (
    id            INTEGER PRIMARY KEY,
    job           TEXT    NOT NULL,
    mode          TEXT    NOT NULL,
    domain_id     INTEGER NOT NULL REFERENCES domain(id),
    started_by    TEXT    NOT NULL,
    full_run      INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    validated     INTEGER NOT NULL DEFAULT 0,
    report        TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX job_run_domain ON job_run (domain_id, job, started_at);
