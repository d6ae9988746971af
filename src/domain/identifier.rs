//! Record identifiers: the `LocalId` a record has in its workflow system and the
//! `OaiIdentifier` (`oai:{repositoryIdentifier}:{localId}`) harvesters match on forever.

use super::InvalidValue;
use std::fmt;

/// The local identifier of a record (MODS recordIdentifier, METS `@OBJID`, or given on
/// ingest): 1–255 characters, no control characters, no surrounding white space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(String);

impl LocalId {
    /// Parses a local identifier.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let bad = |reason| InvalidValue::new("local identifier", value, reason);
        if value.is_empty() || value.len() > 255 {
            return Err(bad("it must have 1 to 255 bytes"));
        }
        if value.trim() != value {
            return Err(bad("it must not start or end with white space"));
        }
        if value.chars().any(char::is_control) {
            return Err(bad("it must not contain control characters"));
        }
        Ok(LocalId(value.to_string()))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OAI identifier following the `oai-identifier` scheme: `oai:`, the repository
/// identifier, `:`, and the local identifier with every character outside the scheme's
/// alphabet (and `%` itself) escaped as `%XX` with upper-case hex. Comparison is
/// case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OaiIdentifier(String);

impl OaiIdentifier {
    /// Builds the identifier of a record.
    pub fn new(repository_identifier: &str, local: &LocalId) -> Self {
        let mut out = String::with_capacity(local.0.len() + repository_identifier.len() + 5);
        out.push_str("oai:");
        out.push_str(repository_identifier);
        out.push(':');
        for byte in local.0.bytes() {
            if is_unreserved(byte) {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        OaiIdentifier(out)
    }

    /// Parses an identifier given by a harvester. Anything that is not of the
    /// `oai:` form is still a legal OAI identifier (it is simply unknown here), so this
    /// only checks that the value is not empty.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        if value.is_empty() {
            return Err(InvalidValue::new("identifier", value, "it is empty"));
        }
        Ok(OaiIdentifier(value.to_string()))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OaiIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters the oai-identifier scheme allows in the local part, less `%` (the escape).
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-_.!~*'();/?:@&=+$,".contains(&byte)
}

/// Checks a repository identifier (a domain name in DNS form, e.g. `digital.ulb.de`).
pub fn check_repository_identifier(value: &str) -> Result<(), InvalidValue> {
    let ok = !value.is_empty()
        && value.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && value.as_bytes()[0].is_ascii_alphabetic();
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::new(
            "repository identifier",
            value,
            "it must be a domain name such as digital.example.org",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_escaped_with_upper_case_hex() {
        let local = LocalId::parse("PPN 12%3#ä").unwrap();
        let id = OaiIdentifier::new("digital.example.org", &local);
        assert_eq!(id.as_str(), "oai:digital.example.org:PPN%2012%253%23%C3%A4");
    }

    #[test]
    fn identifiers_keep_slashes_and_colons() {
        let local = LocalId::parse("1981185920/34743").unwrap();
        assert_eq!(
            OaiIdentifier::new("x.org", &local).as_str(),
            "oai:x.org:1981185920/34743"
        );
    }

    #[test]
    fn repository_identifiers_are_domain_names() {
        assert!(check_repository_identifier("digital.ulb.de").is_ok());
        assert!(check_repository_identifier("localhost").is_ok());
        assert!(check_repository_identifier("bad_name.de").is_err());
        assert!(check_repository_identifier("").is_err());
    }
}
