-- Sharing a job run between instances, and runs that die.
--
-- job_run.phase: 'preparing' (the coordinator marks records undefined), 'validating'
-- (other instances may join), 'sweeping' (the coordinator takes over what is left),
-- 'done'. A run still 'running' when a new run of its job and domain starts is dead and
-- becomes 'killed'.
ALTER TABLE job_run ADD COLUMN phase TEXT NOT NULL DEFAULT 'done';

-- Each instance that took part in a run: the coordinator and the workers that joined it,
-- with how many results each stored (updated with every stored batch).
CREATE TABLE job_run_instance (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER NOT NULL REFERENCES job_run(id) ON DELETE CASCADE,
    instance           TEXT    NOT NULL,
    role               TEXT    NOT NULL,
    validated          INTEGER NOT NULL DEFAULT 0,
    changed_meanwhile  INTEGER NOT NULL DEFAULT 0,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER
);
CREATE INDEX job_run_instance_run ON job_run_instance (run_id);

-- Records a run could not validate, with the reason (stored with the batch).
CREATE TABLE job_run_error (
    run_id     INTEGER NOT NULL REFERENCES job_run(id) ON DELETE CASCADE,
    record_id  INTEGER NOT NULL,
    message    TEXT    NOT NULL
);
CREATE INDEX job_run_error_run ON job_run_error (run_id);

-- validation_run: the last run that took the record (whatever came of it), so that a
-- run takes each record once. validated_by: the job_run_instance whose result is stored.
-- validation_count: how many results were ever stored for the record.
ALTER TABLE record ADD COLUMN validation_run INTEGER;
ALTER TABLE record ADD COLUMN validated_by INTEGER;
ALTER TABLE record ADD COLUMN validation_count INTEGER NOT NULL DEFAULT 0;

-- The records waiting for validation, in id order: where every claim starts.
CREATE INDEX record_undefined ON record (id) WHERE zmods_validation = 'undefined';
