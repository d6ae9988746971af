//! Hardened parsing of untrusted XML (SPEC §4: no network, no external entities,
//! bounded entity expansion, document size, text size and depth).
//!
//! Every document takes the same path: its size is checked first, its encoding is settled
//! to UTF-8 ([`super::encoding`]), its prolog is read by the XML grammar and a document
//! type declaration with an internal subset or any entity declaration is refused
//! ([`super::prolog`]). libxml2 then parses strictly (`recover` off, no network, no DTD
//! loading, no entity substitution) with handlers that stop it at any entity declaration
//! or reference ([`super::strict`]), so expansion stays impossible even for input the
//! prolog check would miss. Depth is bounded by libxml2's own limit (256 without
//! `XML_PARSE_HUGE`, which is never set); character data longer than
//! [`ParseLimits::max_text_bytes`] is refused after the parse.

use super::encoding::{self, Source};
use super::{prolog, strict};
use libxml::tree::Document;

/// Limits applied to every parse.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Largest accepted document in bytes.
    pub max_bytes: usize,
    /// Longest accepted text node, CDATA section, comment, processing instruction or
    /// attribute value in bytes. libxml2 refuses longer text unless told to parse "huge"
    /// documents, so harvesters using it with its defaults could not read such a record.
    pub max_text_bytes: usize,
}

/// libxml2's `XML_MAX_TEXT_LENGTH`: the longest text it accepts by default.
pub const MAX_TEXT_BYTES: usize = 10_000_000;

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bytes: 64 * 1024 * 1024,
            max_text_bytes: MAX_TEXT_BYTES,
        }
    }
}

impl ParseLimits {
    /// The default limits with another largest document size.
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        ParseLimits {
            max_bytes,
            ..ParseLimits::default()
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
    /// The bytes are not text in the encoding their byte order mark names.
    #[error("not readable as its encoding: {message}")]
    BadEncoding {
        /// What is wrong with the bytes.
        message: String,
    },
    /// Entities are declared; these are never accepted (SPEC §4, entity expansion).
    #[error("line {line}, column {column}: entity declarations are not accepted")]
    EntityDeclaration {
        /// Line of the document type declaration, or of the entity declaration.
        line: usize,
        /// Column of it.
        column: usize,
    },
    /// The document type declaration has an internal subset (`[...]`), where entities and
    /// attribute defaults that would change the document are declared (SPEC §4).
    #[error("line {line}, column {column}: a document type declaration with an internal subset is not accepted")]
    InternalSubset {
        /// Line of the document type declaration.
        line: usize,
        /// Column of it.
        column: usize,
    },
    /// An entity reference other than the five predefined ones (SPEC §4, entities).
    #[error("line {line}, column {column}: entity references other than &amp;, &lt;, &gt;, &apos; and &quot; are not accepted")]
    EntityReference {
        /// Line where libxml2 met the reference.
        line: usize,
        /// Column of it.
        column: usize,
    },
    /// A text node, CDATA section, comment, processing instruction or attribute value is
    /// longer than [`ParseLimits::max_text_bytes`].
    #[error(
        "line {line}: a text of {length} bytes exceeds the limit of {limit} bytes per text node"
    )]
    TextTooLong {
        /// Line of the element or node holding the text.
        line: usize,
        /// Length of the text in bytes (UTF-8).
        length: usize,
        /// The limit.
        limit: usize,
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
            | ParseError::InternalSubset { line, column }
            | ParseError::EntityReference { line, column }
            | ParseError::Malformed { line, column, .. } => Some((*line, *column)),
            ParseError::TextTooLong { line, .. } => Some((*line, 1)),
            _ => None,
        }
    }
}

/// Parses `bytes` into a libxml2 document, refusing anything unsafe or malformed.
///
/// The returned [`Document`] is not `Send`: use it within the calling (blocking) function.
pub fn parse(bytes: &[u8], limits: ParseLimits) -> Result<Document, ParseError> {
    parse_source(bytes, limits).map(|parsed| parsed.document)
}

/// A parsed document together with the UTF-8 text it was parsed from.
pub struct Parsed<'a> {
    /// The document.
    pub document: Document,
    /// The text libxml2 read: UTF-8 when `source.utf8` holds.
    pub source: Source<'a>,
    /// Byte offset of the root element in `source.text`.
    pub root_start: Option<usize>,
}

/// Parses like [`parse()`] and also returns the decoded text and where its root element
/// starts, for callers that keep the document's own bytes (the `mets` format).
pub fn parse_source(bytes: &[u8], limits: ParseLimits) -> Result<Parsed<'_>, ParseError> {
    if bytes.len() > limits.max_bytes {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let source = encoding::decode(bytes)?;
    if source.text.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    if source.utf8 {
        // libxml2 takes a NUL byte for the end of the input and ignores what follows it.
        if let Some(at) = source.text.iter().position(|b| *b == 0) {
            let (line, column) = line_column(&source.text, at);
            return Err(ParseError::Malformed {
                line,
                column,
                message: "the character U+0000 is not allowed in XML".to_string(),
            });
        }
    }
    let prolog = prolog::check(&source.text)?;
    let document = parse_unchecked(&source.text, source.utf8)?;
    match strict::inspect(&document, limits.max_text_bytes) {
        Some(strict::Refusal::TextTooLong(line, length)) => {
            return Err(ParseError::TextTooLong {
                line,
                length,
                limit: limits.max_text_bytes,
            })
        }
        Some(strict::Refusal::EntityReference(line)) => {
            return Err(ParseError::EntityReference { line, column: 1 })
        }
        None => {}
    }
    Ok(Parsed {
        document,
        source,
        root_start: prolog.root_start,
    })
}

/// libxml2's strict parse without the checks before it: the second wall on its own.
fn parse_unchecked(text: &[u8], utf8: bool) -> Result<Document, ParseError> {
    strict::read(text, utf8).map_err(|failure| match failure {
        strict::Failure::Entity(line, column) => {
            if prolog_declares_entities(text) {
                ParseError::EntityDeclaration { line, column }
            } else {
                ParseError::EntityReference { line, column }
            }
        }
        strict::Failure::Malformed(Some(error)) => ParseError::Malformed {
            line: error.line.map_or(0, |l| l.max(0) as usize),
            column: error.col.map_or(0, |c| c.max(0) as usize),
            message: error
                .message
                .map(|m| m.trim().to_string())
                .unwrap_or_else(|| "not well-formed".to_string()),
        },
        strict::Failure::Malformed(None) => ParseError::Malformed {
            line: 0,
            column: 0,
            message: "not well-formed".to_string(),
        },
        strict::Failure::NoContext => ParseError::Malformed {
            line: 0,
            column: 0,
            message: "libxml2 could not allocate a parser".to_string(),
        },
    })
}

fn prolog_declares_entities(text: &[u8]) -> bool {
    text.windows(8).any(|w| w == b"<!ENTITY")
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
    fn a_quoted_gt_in_an_attribute_default_does_not_smuggle_an_entity_past_the_check() {
        let doc = b"<!DOCTYPE a [<!ATTLIST a x CDATA \">\"><!ENTITY t \"tttttttt\">]><a>&t;</a>";
        assert!(matches!(
            parse(doc, ParseLimits::default()),
            Err(ParseError::EntityDeclaration { .. })
        ));
    }

    #[test]
    fn external_entities_are_never_resolved() {
        let doc = b"<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a>&ext;</a>";
        assert!(parse(doc, ParseLimits::default()).is_err());
    }

    #[test]
    fn oversized_documents_are_refused() {
        let limits = ParseLimits::with_max_bytes(4);
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

    /// 105 KB that expand to 100 MB: a 100 KB entity referenced a thousand times. libxml2's
    /// own amplification check counts references, not bytes, and lets this through.
    fn amplification() -> String {
        format!(
            "<!DOCTYPE a [\n<!ENTITY big \"{}\">\n]>\n<a>{}</a>",
            "x".repeat(100_000),
            "&big;".repeat(1000)
        )
    }

    #[test]
    fn libxml2_itself_refuses_entity_expansion_when_the_prolog_check_is_bypassed() {
        // Without the entity handlers libxml2 accepts this document, and reading the text
        // of <a> (as XPath's string() does) expands it to 100 MB.
        match parse_unchecked(amplification().as_bytes(), true) {
            Err(ParseError::EntityDeclaration { line, .. }) => assert_eq!(line, 2),
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(doc) => {
                let text = doc.get_root_element().unwrap().get_content();
                panic!("accepted; the root's text expands to {} bytes", text.len());
            }
        }
    }

    #[test]
    fn libxml2_refuses_a_reference_to_an_undeclared_entity_under_an_external_subset() {
        let doc = b"<!DOCTYPE a SYSTEM \"a.dtd\">\n<a>x &ext; y</a>";
        assert!(matches!(
            parse_unchecked(doc, true),
            Err(ParseError::EntityReference { line: 2, .. })
        ));
        assert!(matches!(
            parse(doc, ParseLimits::default()),
            Err(ParseError::EntityReference { line: 2, .. })
        ));
    }

    #[test]
    fn a_nul_byte_is_refused_even_after_the_root_element() {
        // Found by fuzzing: libxml2 stopped reading at the NUL and accepted the document
        // with whatever (not even UTF-8) followed.
        let doc = b"<a>x</a>\n\0\0</a>\xde";
        assert_eq!(
            parse(doc, ParseLimits::default()).err(),
            Some(ParseError::Malformed {
                line: 2,
                column: 1,
                message: "the character U+0000 is not allowed in XML".to_string()
            })
        );
    }

    #[test]
    fn predefined_entities_and_character_references_are_text() {
        let doc = parse(b"<a>&amp;&lt;&#x41;&#66;</a>", ParseLimits::default()).unwrap();
        assert_eq!(doc.get_root_element().unwrap().get_content(), "&<AB");
    }

    #[test]
    fn a_text_node_over_the_limit_is_refused_with_its_line() {
        let limits = ParseLimits {
            max_text_bytes: 10,
            ..ParseLimits::default()
        };
        let ok = b"<a>\n<b>0123456789</b></a>";
        assert!(parse(ok, limits).is_ok());
        for doc in [
            &b"<a>\n<b>0123456789x</b></a>"[..],
            b"<a>\n<b><![CDATA[0123456789x]]></b></a>",
            b"<a>\n<b x='0123456789x'/></a>",
            b"<a>\n<b><!--0123456789x--></b></a>",
        ] {
            assert_eq!(
                parse(doc, limits).err(),
                Some(ParseError::TextTooLong {
                    line: 2,
                    length: 11,
                    limit: 10
                }),
                "{}",
                String::from_utf8_lossy(doc)
            );
        }
    }

    #[test]
    fn a_text_node_over_ten_megabytes_is_refused_by_default() {
        let mut doc = b"<a>".to_vec();
        doc.resize(doc.len() + MAX_TEXT_BYTES + 1, b'x');
        doc.extend_from_slice(b"</a>");
        assert!(matches!(
            parse(&doc, ParseLimits::default()),
            Err(ParseError::TextTooLong { length, .. }) if length == MAX_TEXT_BYTES + 1
        ));
    }

    #[test]
    fn byte_order_marks_and_utf16_parse_to_the_same_tree() {
        let text = "<a>Straße</a>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        let mut declared = b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>".to_vec();
        declared.extend_from_slice(text.as_bytes());
        let mut declared16 = vec![0xFE, 0xFF];
        declared16.extend(
            std::str::from_utf8(&declared)
                .unwrap()
                .encode_utf16()
                .flat_map(u16::to_be_bytes),
        );
        for input in [le, bom, declared16] {
            let parsed = parse_source(&input, ParseLimits::default()).unwrap();
            assert_eq!(
                parsed.document.get_root_element().unwrap().get_content(),
                "Straße"
            );
            let root = parsed.root_start.unwrap();
            assert!(parsed.source.utf8 && parsed.source.text[root..].starts_with(b"<a>"));
        }
    }
}
