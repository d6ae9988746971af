//! `DomainName` (`dname`): the short name of a tenant, used in URLs (`/{dname}/oai`) and
//! as a setSpec segment in the endpoints of its ancestors.

use super::InvalidValue;
use std::fmt;

/// A domain's short name: 1–64 characters of `a-z 0-9 - _`, starting with a letter or digit.
/// These characters are all legal in an OAI setSpec segment and in a URL path segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    /// Parses a domain name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let bad = |reason| InvalidValue::new("domain name", value, reason);
        if value.is_empty() || value.len() > 64 {
            return Err(bad("it must have 1 to 64 characters"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "only lower-case letters, digits, '-' and '_' are allowed",
            ));
        }
        if !value.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(bad("it must start with a letter or a digit"));
        }
        if matches!(
            value,
            "oai" | "api" | "admin" | "qa" | "static" | "health" | "ready" | "metrics"
        ) {
            return Err(bad("this name is reserved for vitrine's own paths"));
        }
        Ok(DomainName(value.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_set_spec_alphabet() {
        assert!(DomainName::parse("ulb-zd").is_ok());
        assert!(DomainName::parse("ULB").is_err());
        assert!(DomainName::parse("a:b").is_err());
        assert!(DomainName::parse("-a").is_err());
        assert!(DomainName::parse("oai").is_err());
        assert!(DomainName::parse("metrics").is_err());
        assert!(DomainName::parse("ready").is_err());
        assert!(DomainName::parse("").is_err());
    }
}
