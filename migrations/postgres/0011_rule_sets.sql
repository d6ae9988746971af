-- Rule sets beside or instead of the bundled zvdd.sch (jobs.oai_output_validator.rules).
--
-- finding.rule_set: the rule set that reported the finding, 'zvdd' for the bundled one,
-- else the name of the configured file (without .sch); finding.role: the rule's @role
-- as written (fatal, error, warn, info, ...), NULL when it has none. Findings stored
-- before were all the bundled set's.
ALTER TABLE finding ADD COLUMN rule_set TEXT NOT NULL DEFAULT 'zvdd';
ALTER TABLE finding ADD COLUMN role TEXT;

-- record.rule_set_version now names every set of the list with its version
-- ('zvdd@1a2b3c4d5e6f+ddb@…'); results stored before came from the bundled set alone,
-- under its bare version. A result whose version differs from the domain's list is stale
-- and validated again by the next run.
UPDATE record SET rule_set_version = 'zvdd@' || rule_set_version
WHERE rule_set_version IS NOT NULL AND rule_set_version NOT LIKE '%@%';

-- The QA aggregates per rule, now per rule set and rule (two sets may use the same id),
-- with the rule's role and one of its messages for the pages.
ALTER TABLE qa_rule_stat ADD COLUMN rule_set TEXT NOT NULL DEFAULT 'zvdd';
ALTER TABLE qa_rule_stat ADD COLUMN role TEXT;
ALTER TABLE qa_rule_stat ADD COLUMN message TEXT NOT NULL DEFAULT '';
ALTER TABLE qa_rule_stat DROP CONSTRAINT qa_rule_stat_pkey;
ALTER TABLE qa_rule_stat ADD PRIMARY KEY (domain_id, state, rule_set, rule_id);

ALTER TABLE qa_rule_example ADD COLUMN rule_set TEXT NOT NULL DEFAULT 'zvdd';
DROP INDEX qa_rule_example_domain;
CREATE INDEX qa_rule_example_domain ON qa_rule_example (domain_id, rule_set, rule_id);
