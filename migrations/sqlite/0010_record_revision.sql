-- A record's revision: raised by one with every change of its content, release or
-- deletion. A validation result is stored only if the record is still at the revision it
-- was claimed at; the datestamp alone cannot tell two changes within one second apart.
ALTER TABLE record ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
