//! `parse`: raw request arguments → a typed [`Request`], or every protocol error found
//! (OAI-PMH §3.1.1, §4; OAI-TRAPS "Arguments", "Dates").

use super::error::{Code, OaiError};
use crate::domain::{Datestamp, OaiIdentifier, SetSpec};

/// The selective-harvesting arguments of ListIdentifiers / ListRecords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListArgs {
    /// metadataPrefix as given (known or not: checked by the verb).
    pub prefix: String,
    /// Inclusive lower bound.
    pub from: Option<Datestamp>,
    /// Inclusive upper bound.
    pub until: Option<Datestamp>,
    /// Set.
    pub set: Option<SetSpec>,
    /// `diag=true`: validation diagnostics in each record's `about` (zmets/zmods).
    pub diag: bool,
}

/// How a list request starts: with arguments, or with a resumption token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStart {
    /// First request of a list.
    Args(ListArgs),
    /// Continuation.
    Token(String),
}

/// Which list verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListVerb {
    /// Headers only.
    ListIdentifiers,
    /// Headers and metadata.
    ListRecords,
}

impl ListVerb {
    /// The verb's name.
    pub fn name(self) -> &'static str {
        match self {
            ListVerb::ListIdentifiers => "ListIdentifiers",
            ListVerb::ListRecords => "ListRecords",
        }
    }
}

/// A valid OAI-PMH request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Identify.
    Identify,
    /// ListMetadataFormats, optionally for one item.
    ListMetadataFormats {
        /// The item.
        identifier: Option<String>,
    },
    /// ListSets.
    ListSets {
        /// vitrine never issues ListSets tokens; any token given is bad.
        resumption_token: Option<String>,
    },
    /// ListIdentifiers or ListRecords.
    List {
        /// Which of the two.
        verb: ListVerb,
        /// Arguments or token.
        start: ListStart,
    },
    /// GetRecord.
    GetRecord {
        /// The item.
        identifier: String,
        /// The format as given.
        prefix: String,
        /// `diag=true` (zmets/zmods).
        diag: bool,
    },
}

/// Parses the arguments of one request (query string or form body, in order, decoded).
pub fn parse(pairs: &[(String, String)]) -> Result<Request, Vec<OaiError>> {
    let verbs: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "verb")
        .map(|(_, v)| v.as_str())
        .collect();
    let verb = match verbs.as_slice() {
        [] => {
            return Err(vec![OaiError::new(
                Code::BadVerb,
                "the verb argument is missing",
            )])
        }
        [one] => *one,
        _ => {
            return Err(vec![OaiError::new(
                Code::BadVerb,
                "the verb argument is repeated",
            )])
        }
    };
    let (required, optional, exclusive): (&[&str], &[&str], bool) = match verb {
        "Identify" => (&[], &[], false),
        "ListMetadataFormats" => (&[], &["identifier"], false),
        "ListSets" => (&[], &[], true),
        "ListIdentifiers" => (&["metadataPrefix"], &["from", "until", "set"], true),
        "ListRecords" => (&["metadataPrefix"], &["from", "until", "set", "diag"], true),
        "GetRecord" => (&["identifier", "metadataPrefix"], &["diag"], false),
        other => {
            return Err(vec![OaiError::new(
                Code::BadVerb,
                format!("{other:?} is not an OAI-PMH verb"),
            )])
        }
    };
    let mut errors = Vec::new();
    let args: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "verb").collect();
    for (i, (key, _)) in args.iter().enumerate() {
        let known = required.contains(&key.as_str())
            || optional.contains(&key.as_str())
            || (exclusive && key == "resumptionToken");
        if !known {
            errors.push(OaiError::new(
                Code::BadArgument,
                format!("{key:?} is not an argument of {verb}"),
            ));
        } else if args[..i].iter().any(|(k, _)| k == key) {
            errors.push(OaiError::new(
                Code::BadArgument,
                format!("the argument {key} is repeated"),
            ));
        }
    }
    let get = |name: &str| args.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let token = get("resumptionToken");
    if let Some(token) = &token {
        if args.iter().any(|(k, _)| k != "resumptionToken") {
            errors.push(OaiError::new(
                Code::BadArgument,
                "resumptionToken is exclusive: no other argument but verb may accompany it",
            ));
        }
        if errors.is_empty() {
            return Ok(match verb {
                "ListSets" => Request::ListSets {
                    resumption_token: Some(token.clone()),
                },
                "ListIdentifiers" => Request::List {
                    verb: ListVerb::ListIdentifiers,
                    start: ListStart::Token(token.clone()),
                },
                _ => Request::List {
                    verb: ListVerb::ListRecords,
                    start: ListStart::Token(token.clone()),
                },
            });
        }
        return Err(errors);
    }
    for name in required {
        match get(name) {
            None => errors.push(OaiError::new(
                Code::BadArgument,
                format!("the required argument {name} is missing"),
            )),
            Some(v) if v.is_empty() => errors.push(OaiError::new(
                Code::BadArgument,
                format!("the argument {name} is empty"),
            )),
            Some(_) => {}
        }
    }
    if let Some(id) = get("identifier").filter(|id| !id.is_empty()) {
        if let Err(e) = OaiIdentifier::parse(&id) {
            errors.push(OaiError::new(Code::BadArgument, e.to_string()));
        }
    } else if get("identifier").is_some() {
        errors.push(OaiError::new(
            Code::BadArgument,
            "the argument identifier is empty",
        ));
    }
    if let Some(prefix) = get("metadataPrefix").filter(|p| !p.is_empty()) {
        if !is_metadata_prefix(&prefix) {
            errors.push(OaiError::new(
                Code::BadArgument,
                format!(
                    "metadataPrefix {prefix:?} is not valid: it may hold only letters, digits \
                     and - _ . ! ~ * ' ( )"
                ),
            ));
        }
    }
    let date = |name: &str, errors: &mut Vec<OaiError>| {
        get(name).and_then(|v| match Datestamp::parse(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(OaiError::new(Code::BadArgument, format!("{name}: {e}")));
                None
            }
        })
    };
    let from = date("from", &mut errors);
    let until = date("until", &mut errors);
    if let (Some(f), Some(u)) = (from, until) {
        if f.granularity() != u.granularity() {
            errors.push(OaiError::new(
                Code::BadArgument,
                "from and until must have the same granularity",
            ));
        } else if f.seconds() > u.seconds() {
            errors.push(OaiError::new(Code::BadArgument, "from is later than until"));
        }
    }
    // vitrine's extension argument: validation diagnostics for the ZVDD formats.
    let diag = match get("diag").as_deref() {
        None | Some("false") => false,
        Some("true") => {
            if !matches!(get("metadataPrefix").as_deref(), Some("zmets" | "zmods")) {
                errors.push(OaiError::new(
                    Code::BadArgument,
                    "diag=true applies to the metadata formats zmets and zmods only",
                ));
            }
            true
        }
        Some(other) => {
            errors.push(OaiError::new(
                Code::BadArgument,
                format!("diag must be true or false, not {other:?}"),
            ));
            false
        }
    };
    let set = get("set").and_then(|v| match SetSpec::parse(&v) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.push(OaiError::new(Code::BadArgument, format!("set: {e}")));
            None
        }
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(match verb {
        "Identify" => Request::Identify,
        "ListMetadataFormats" => Request::ListMetadataFormats {
            identifier: get("identifier"),
        },
        "ListSets" => Request::ListSets {
            resumption_token: None,
        },
        "GetRecord" => Request::GetRecord {
            identifier: get("identifier").unwrap_or_default(),
            prefix: get("metadataPrefix").unwrap_or_default(),
            diag,
        },
        list => Request::List {
            verb: if list == "ListIdentifiers" {
                ListVerb::ListIdentifiers
            } else {
                ListVerb::ListRecords
            },
            start: ListStart::Args(ListArgs {
                prefix: get("metadataPrefix").unwrap_or_default(),
                from,
                until,
                set,
                diag,
            }),
        },
    })
}

/// Whether `prefix` has the syntax of a metadataPrefix (`metadataPrefixType` in
/// OAI-PMH.xsd: `[A-Za-z0-9\-_\.!~\*'\(\)]+`). Any other value is a badArgument, not an
/// unknown format.
fn is_metadata_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn codes(pairs: &[(&str, &str)]) -> Vec<Code> {
        parse(&args(pairs))
            .unwrap_err()
            .into_iter()
            .map(|e| e.code)
            .collect()
    }

    #[test]
    fn a_missing_repeated_or_unknown_verb_is_a_bad_verb() {
        assert_eq!(codes(&[]), vec![Code::BadVerb]);
        assert_eq!(
            codes(&[("verb", "Identify"), ("verb", "Identify")]),
            vec![Code::BadVerb]
        );
        assert_eq!(codes(&[("verb", "Frobnicate")]), vec![Code::BadVerb]);
    }

    #[test]
    fn identify_with_any_argument_is_a_bad_argument() {
        assert_eq!(
            codes(&[("verb", "Identify"), ("x", "y")]),
            vec![Code::BadArgument]
        );
    }

    #[test]
    fn a_repeated_argument_is_a_bad_argument() {
        let c = codes(&[
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("metadataPrefix", "mets"),
        ]);
        assert_eq!(c, vec![Code::BadArgument]);
    }

    #[test]
    fn every_error_is_reported() {
        let c = codes(&[
            ("verb", "ListRecords"),
            ("from", "2020-01-01T00:00:00"),
            ("foo", "1"),
        ]);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn the_token_is_exclusive() {
        let c = codes(&[
            ("verb", "ListRecords"),
            ("resumptionToken", "x"),
            ("set", "a"),
        ]);
        assert_eq!(c, vec![Code::BadArgument]);
        assert!(parse(&args(&[("verb", "ListRecords"), ("resumptionToken", "x")])).is_ok());
    }

    #[test]
    fn mixed_granularities_and_reversed_ranges_are_bad_arguments() {
        let base = [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")];
        let mut a = base.to_vec();
        a.extend([("from", "2020-01-01"), ("until", "2020-01-02T00:00:00Z")]);
        assert_eq!(codes(&a), vec![Code::BadArgument]);
        let mut b = base.to_vec();
        b.extend([("from", "2020-01-02"), ("until", "2020-01-01")]);
        assert_eq!(codes(&b), vec![Code::BadArgument]);
    }

    #[test]
    fn syntactically_illegal_values_are_bad_arguments() {
        for (name, value) in [
            ("metadataPrefix", "oai_dc "),
            ("metadataPrefix", "%"),
            ("metadataPrefix", "oai_%"),
            ("metadataPrefix", "\"oai_dc\""),
            ("identifier", "%zz"),
            ("identifier", "not a URI"),
            ("from", "0000-01-01"),
            ("from", "2016-12-31T23:59:60Z"),
        ] {
            let mut a = vec![("verb", "GetRecord"), ("metadataPrefix", "oai_dc")];
            a.push(("identifier", "oai:x:y"));
            if name == "from" {
                a = vec![("verb", "ListRecords"), ("metadataPrefix", "oai_dc")];
            }
            a.retain(|(k, _)| *k != name);
            a.push((name, value));
            assert_eq!(codes(&a), vec![Code::BadArgument], "{name}={value:?}");
        }
    }
}
