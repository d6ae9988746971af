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

    /// Parses an identifier given by a harvester. OAI-PMH identifiers are URIs (§2.4,
    /// `anyURI` in OAI-PMH.xsd): anything of URI syntax is accepted (it may simply be
    /// unknown here), anything else — no scheme, a `%` not followed by two hex digits,
    /// spaces, quotes, angle brackets — is refused.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        if value.is_empty() {
            return Err(InvalidValue::new("identifier", value, "it is empty"));
        }
        if !is_uri(value) {
            return Err(InvalidValue::new(
                "identifier",
                value,
                "it is not a URI (scheme:rest, with reserved characters %-escaped)",
            ));
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

/// Whether `value` is an absolute URI in the syntax of RFC 3986 (§3): a scheme, `:`, an
/// optional authority after `//`, then path, query and fragment made of unreserved and
/// reserved characters and `%XX` escapes. Characters beyond ASCII are allowed as in IRIs
/// (RFC 3987), which `anyURI` admits too.
pub fn is_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut s = scheme.bytes();
    if !s.next().is_some_and(|b| b.is_ascii_alphabetic())
        || !s.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return false;
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (hier, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let path = match hier.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            if !is_authority(&after[..end]) {
                return false;
            }
            &after[end..]
        }
        None => hier,
    };
    is_uri_text(path, b":@/")
        && query.is_none_or(|q| is_uri_text(q, b":@/?"))
        && fragment.is_none_or(|f| is_uri_text(f, b":@/?"))
}

/// `[userinfo@]host[:port]` (RFC 3986 §3.2).
fn is_authority(authority: &str) -> bool {
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if userinfo.is_some_and(|u| !is_uri_text(u, b":")) {
        return false;
    }
    let (host, port) = if let Some(literal) = host_port.strip_prefix('[') {
        let Some((inside, after)) = literal.split_once(']') else {
            return false;
        };
        let ok = !inside.is_empty()
            && inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b":.vV".contains(&b));
        if !ok {
            return false;
        }
        match after {
            "" => ("", None),
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    is_uri_text(host, b"") && port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Unreserved characters, sub-delims, `%XX` escapes, non-ASCII characters other than
/// controls, and the `extra` ASCII characters allowed at this position.
fn is_uri_text(text: &str, extra: &[u8]) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if !(bytes.len() > i + 2
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit())
            {
                return false;
            }
            i += 3;
            continue;
        }
        let ok = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b) || extra.contains(&b);
        if !ok && b < 0x80 {
            return false;
        }
        i += 1;
    }
    !text.chars().any(|c| c.is_control())
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
    fn identifiers_must_be_uris() {
        for good in [
            "oai:digital.ulb.example.org:PPN%2012",
            "oai:x:1981185920/34743",
            "urn:nbn:de:gbv:3:1-123",
            "http://user@example.org:8080/a?b=c#d",
            "http://[::1]/x",
            "oai:x:ä",
        ] {
            assert!(OaiIdentifier::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "%zz",
            "oai:x:%zz",
            "oai:x:%4",
            "not a URI",
            "oai:x:a b",
            "oai:x:\"q\"",
            "oai:x:<a>",
            "1oai:x",
            "nocolon",
            "http://host:port/",
            "oai:x:a#b#c",
            "",
        ] {
            assert!(OaiIdentifier::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repository_identifiers_are_domain_names() {
        assert!(check_repository_identifier("digital.ulb.de").is_ok());
        assert!(check_repository_identifier("localhost").is_ok());
        assert!(check_repository_identifier("bad_name.de").is_err());
        assert!(check_repository_identifier("").is_err());
    }
}
