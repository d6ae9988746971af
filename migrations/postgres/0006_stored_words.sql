-- The words vitrine stores in its state columns, each from a closed list (the enums of
-- src/domain/states.rs and the finding class of src/schematron/report.rs): any other
-- value is refused by the database, whoever writes it. Rows written by earlier versions
-- satisfy the lists already.
ALTER TABLE record ADD CONSTRAINT record_zmods_validation_word
    CHECK (zmods_validation IN ('undefined', 'invalid', 'valid_warn', 'valid'));
ALTER TABLE job_run ADD CONSTRAINT job_run_status_word
    CHECK (status IN ('running', 'finished', 'failed', 'killed'));
ALTER TABLE job_run ADD CONSTRAINT job_run_phase_word
    CHECK (phase IN ('preparing', 'validating', 'sweeping', 'done'));
ALTER TABLE job_run_instance ADD CONSTRAINT job_run_instance_role_word
    CHECK (role IN ('coordinator', 'worker'));
ALTER TABLE finding ADD CONSTRAINT finding_class_word
    CHECK (class IN ('error', 'warn', 'info'));
ALTER TABLE finding ADD CONSTRAINT finding_stage_word
    CHECK (stage IN ('before', 'after'));
