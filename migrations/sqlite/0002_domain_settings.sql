-- Per-domain settings changed from the command line (`vitrine domain set`); they take
-- precedence over the configuration file. key is a dotted setting name
-- (oai.formats.zmets.on), value its TOML or plain-text value.
CREATE TABLE domain_setting (
    domain_id  INTEGER NOT NULL REFERENCES domain(id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (domain_id, key)
);
