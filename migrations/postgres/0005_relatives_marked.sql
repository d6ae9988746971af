-- Whether a run marked the parents and children of an undefined record undefined too.
-- Every change of a record (which sets it undefined) sets this back to 0, so that its
-- relatives are marked again; a run that continues a killed one leaves alone the
-- relatives of the records that one left (it marked them and validated some already).
ALTER TABLE record ADD COLUMN relatives_marked BIGINT NOT NULL DEFAULT 0;
