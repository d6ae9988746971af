//! Hardened parsing of untrusted XML (SPEC §4: no network, no external entities,
//! bounded entity expansion, document size and depth).
//!
//! libxml2 is asked for a strict parse (`recover` off), without network access and
//! without loading external DTDs or substituting entities. Before libxml2 sees the
//! bytes, a quick scan of the prolog refuses entity declarations altogether, so no
//! expansion can ever be amplified. Depth is bounded by libxml2's own limit (256
//! without `XML_PARSE_HUGE`, which is never set).

use libxml::parser::{Parser, ParserOptions, XmlParseFailure};
use libxml::tree::Document;
use quick_xml::events::Event;

/// Limits applied to every parse.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Largest accepted document in bytes.
    pub max_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why a document was refused. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The document is larger than [`ParseLimits::max_bytes`] (SPEC §4, "too large").
    #[error("document of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the refused document.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The document is empty or holds only white space.
    #[error("document is empty")]
    Empty,
    /// The DOCTYPE declares entities; these are never accepted (SPEC §4, entity expansion).
    #[error("line {line}, column {column}: entity declarations are not accepted")]
    EntityDeclaration {
        /// Line of the DOCTYPE.
        line: usize,
        /// Column of the DOCTYPE.
        column: usize,
    },
    /// The document is not well-formed XML (SPEC §4, "malformed XML").
    #[error("line {line}, column {column}: {message}")]
    Malformed {
        /// Line of the first error.
        line: usize,
        /// Column of the first error.
        column: usize,
        /// libxml2's description of the first error.
        message: String,
    },
}

impl ParseError {
    /// Line and column of the error, when it has a position.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ParseError::EntityDeclaration { line, column }
            | ParseError::Malformed { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// Parses `bytes` into a libxml2 document, refusing anything unsafe or malformed.
///
/// The returned [`Document`] is not `Send`: use it within the calling (blocking) function.
pub fn parse(bytes: &[u8], limits: ParseLimits) -> Result<Document, ParseError> {
    if bytes.len() > limits.max_bytes {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    refuse_entity_declarations(bytes)?;
    let options = ParserOptions {
        recover: false,
        no_net: true,
        no_def_dtd: true,
        no_error: true,
        no_warning: true,
        ..ParserOptions::default()
    };
    match Parser::default().parse_string_with_diagnostics(bytes, options) {
        Ok((document, _warnings)) => Ok(document),
        Err(XmlParseFailure::ParseFailed(diagnostics)) => {
            let first = diagnostics.into_iter().next();
            Err(match first {
                Some(error) => ParseError::Malformed {
                    line: error.line.map_or(0, |l| l.max(0) as usize),
                    column: error.col.map_or(0, |c| c.max(0) as usize),
                    message: error
                        .message
                        .map(|m| m.trim().to_string())
                        .unwrap_or_else(|| "not well-formed".to_string()),
                },
                None => ParseError::Malformed {
                    line: 0,
                    column: 0,
                    message: "not well-formed".to_string(),
                },
            })
        }
        Err(XmlParseFailure::DocumentTooLarge) => Err(ParseError::TooLarge {
            size: bytes.len(),
            limit: i32::MAX as usize,
        }),
        Err(other) => Err(ParseError::Malformed {
            line: 0,
            column: 0,
            message: format!("{other:?}"),
        }),
    }
}

/// Scans the prolog (everything before the root element) for a DOCTYPE with entity
/// declarations.
fn refuse_entity_declarations(bytes: &[u8]) -> Result<(), ParseError> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        let at = reader.buffer_position() as usize;
        match reader.read_event_into(&mut buf) {
            Ok(Event::DocType(doctype)) => {
                if doctype.windows(8).any(|w| w == b"<!ENTITY") {
                    let (line, column) = line_column(bytes, at);
                    return Err(ParseError::EntityDeclaration { line, column });
                }
            }
            // The prolog ends at the root element; anything malformed is libxml2's to report.
            Ok(Event::Start(_)) | Ok(Event::Empty(_)) | Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// 1-based line and column of byte `offset` in `bytes`.
pub fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_document_parses() {
        let doc = parse(b"<a><b>x</b></a>", ParseLimits::default()).unwrap();
        assert_eq!(doc.get_root_element().unwrap().get_name(), "a");
    }

    #[test]
    fn a_broken_document_is_refused_with_its_position() {
        let err = parse(b"<a>\n  <b></a>", ParseLimits::default())
            .err()
            .expect("refused");
        match err {
            ParseError::Malformed { line, message, .. } => {
                assert_eq!(line, 2);
                assert!(!message.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn entity_declarations_are_refused_before_parsing() {
        let doc = b"<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"xxxxxxxx\">]>\n<a>&x;</a>";
        let err = parse(doc, ParseLimits::default()).err().expect("refused");
        assert_eq!(err, ParseError::EntityDeclaration { line: 2, column: 1 });
    }

    #[test]
    fn external_entities_are_never_resolved() {
        let doc = b"<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a>&ext;</a>";
        assert!(parse(doc, ParseLimits::default()).is_err());
    }

    #[test]
    fn oversized_documents_are_refused() {
        let limits = ParseLimits { max_bytes: 4 };
        assert_eq!(
            parse(b"<a>long</a>", limits).err().expect("refused"),
            ParseError::TooLarge { size: 11, limit: 4 }
        );
    }

    #[test]
    fn excessive_depth_is_refused() {
        let mut doc = String::new();
        for _ in 0..5000 {
            doc.push_str("<a>");
        }
        for _ in 0..5000 {
            doc.push_str("</a>");
        }
        assert!(parse(doc.as_bytes(), ParseLimits::default()).is_err());
    }
}
