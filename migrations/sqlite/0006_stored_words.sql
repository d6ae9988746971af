-- The words vitrine stores in its state columns, each from a closed list (the enums of
-- src/domain/states.rs and the finding class of src/schematron/report.rs): any other
-- value is refused by the database, whoever writes it. SQLite cannot add a CHECK
-- constraint to an existing table without rebuilding it (and the record table with its
-- indexes and references), so triggers refuse the insert or update instead, with the
-- same lists as the CHECK constraints on PostgreSQL. Rows written by earlier versions
-- satisfy the lists already.

CREATE TRIGGER record_zmods_validation_word_insert BEFORE INSERT ON record
WHEN NEW.zmods_validation NOT IN ('undefined', 'invalid', 'valid_warn', 'valid')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: record.zmods_validation must be one of undefined, invalid, valid_warn, valid');
END;

CREATE TRIGGER record_zmods_validation_word_update BEFORE UPDATE OF zmods_validation ON record
WHEN NEW.zmods_validation NOT IN ('undefined', 'invalid', 'valid_warn', 'valid')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: record.zmods_validation must be one of undefined, invalid, valid_warn, valid');
END;

CREATE TRIGGER job_run_status_word_insert BEFORE INSERT ON job_run
WHEN NEW.status NOT IN ('running', 'finished', 'failed', 'killed')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: job_run.status must be one of running, finished, failed, killed');
END;

CREATE TRIGGER job_run_status_word_update BEFORE UPDATE OF status ON job_run
WHEN NEW.status NOT IN ('running', 'finished', 'failed', 'killed')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: job_run.status must be one of running, finished, failed, killed');
END;

CREATE TRIGGER job_run_phase_word_insert BEFORE INSERT ON job_run
WHEN NEW.phase NOT IN ('preparing', 'validating', 'sweeping', 'done')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: job_run.phase must be one of preparing, validating, sweeping, done');
END;

CREATE TRIGGER job_run_phase_word_update BEFORE UPDATE OF phase ON job_run
WHEN NEW.phase NOT IN ('preparing', 'validating', 'sweeping', 'done')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: job_run.phase must be one of preparing, validating, sweeping, done');
END;

CREATE TRIGGER job_run_instance_role_word_insert BEFORE INSERT ON job_run_instance
WHEN NEW.role NOT IN ('coordinator', 'worker')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: job_run_instance.role must be one of coordinator, worker');
END;

CREATE TRIGGER job_run_instance_role_word_update BEFORE UPDATE OF role ON job_run_instance
WHEN NEW.role NOT IN ('coordinator', 'worker')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: job_run_instance.role must be one of coordinator, worker');
END;

CREATE TRIGGER finding_class_word_insert BEFORE INSERT ON finding
WHEN NEW.class NOT IN ('error', 'warn', 'info')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: finding.class must be one of error, warn, info');
END;

CREATE TRIGGER finding_class_word_update BEFORE UPDATE OF class ON finding
WHEN NEW.class NOT IN ('error', 'warn', 'info')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: finding.class must be one of error, warn, info');
END;

CREATE TRIGGER finding_stage_word_insert BEFORE INSERT ON finding
WHEN NEW.stage NOT IN ('before', 'after')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: finding.stage must be one of before, after');
END;

CREATE TRIGGER finding_stage_word_update BEFORE UPDATE OF stage ON finding
WHEN NEW.stage NOT IN ('before', 'after')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: finding.stage must be one of before, after');
END;
