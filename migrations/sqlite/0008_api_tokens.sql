-- Bearer tokens of the ingest API (`vitrine token create`). Only a SHA-256 hash of each
-- token is kept; the token itself is shown once when it is created. A token belongs to a
-- domain (and covers its sub-domains) and has one scope: 'ingest' (write and read) or
-- 'read'. Times are Unix seconds; a revoked or expired token is refused.
CREATE TABLE api_token (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    domain_id   INTEGER NOT NULL REFERENCES domain(id),
    scope       TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);
