//! `SetSpec`: a colon-separated set path (OAI-PMH §2.6).

use super::InvalidValue;
use std::fmt;

/// A setSpec matching `[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetSpec(String);

impl SetSpec {
    /// Parses a setSpec.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
        };
        if value.split(':').all(segment_ok) {
            Ok(SetSpec(value.to_string()))
        } else {
            Err(InvalidValue::new(
                "setSpec",
                value,
                "segments of A-Z a-z 0-9 - _ . ! ~ * ' ( ) separated by ':'",
            ))
        }
    }

    /// The segments of the path.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split(':')
    }

    /// The spec as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchical_specs_parse() {
        assert_eq!(SetSpec::parse("ulb:zd").unwrap().segments().count(), 2);
        assert!(SetSpec::parse("ulb::zd").is_err());
        assert!(SetSpec::parse("a b").is_err());
        assert!(SetSpec::parse("").is_err());
    }
}
