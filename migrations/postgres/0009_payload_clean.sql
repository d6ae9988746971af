-- Whether a payload is sent as stored: 1 when, as it was written, its body was checked to
-- hold no character illegal in XML 1.0, so that a response can count its bytes from the
-- frame header and decompress it only when it is sent. Rows stored before keep 0 and are
-- checked (and cleaned if need be) when served, as before; nothing stored changes.
ALTER TABLE payload ADD COLUMN clean BIGINT NOT NULL DEFAULT 0;
