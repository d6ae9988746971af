//! The prolog check: everything before the root element, read by the grammar of XML 1.0
//! (§2.8) rather than by searching for a `>`, so a quoted `>` or `[` cannot end or hide
//! a document type declaration.
//!
//! A document type declaration may name an external subset (which is never loaded) but
//! may not carry an internal subset: that is where entities, attribute defaults and
//! parameter entities are declared, and none of them is accepted (SPEC §4). Entity
//! declarations are refused wherever they appear before the root element.

use super::parse::{line_column, ParseError};

/// Where the prolog ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prolog {
    /// Byte offset of the root element's `<`, when the prolog could be read to its end.
    pub root_start: Option<usize>,
}

/// Reads the prolog of UTF-8 (or ASCII-compatible) `text`, refusing internal subsets
/// and entity declarations. Malformed prologs are left to libxml2 to report.
pub fn check(text: &[u8]) -> Result<Prolog, ParseError> {
    let mut at = 0;
    let mut doctype: Option<usize> = None;
    let root_start = loop {
        at += text[at..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let rest = &text[at..];
        if rest.starts_with(b"<?") {
            match find(rest, b"?>") {
                Some(end) => at += end + 2,
                None => break None,
            }
        } else if rest.starts_with(b"<!--") {
            match find(&rest[4..], b"-->") {
                Some(end) => at += 4 + end + 3,
                None => break None,
            }
        } else if rest.starts_with(b"<!DOCTYPE") {
            doctype = Some(at);
            match doctype_end(rest)? {
                DoctypeEnd::Closed(len) => at += len,
                DoctypeEnd::InternalSubset => {
                    let (line, column) = line_column(text, at);
                    return Err(if find(text, b"<!ENTITY").is_some() {
                        ParseError::EntityDeclaration { line, column }
                    } else {
                        ParseError::InternalSubset { line, column }
                    });
                }
                DoctypeEnd::Unterminated => break None,
            }
        } else if rest.first() == Some(&b'<') && rest.get(1).is_some_and(|b| is_name_start(*b)) {
            break Some(at);
        } else {
            break None;
        }
    };
    // Whatever the prolog holds up to the root (or up to where it stopped making sense),
    // an entity declaration is refused even outside a document type declaration.
    let scanned = root_start.unwrap_or(at.max(first_element(text)));
    if let Some(found) = find(&text[..scanned.min(text.len())], b"<!ENTITY") {
        let (line, column) = line_column(text, doctype.unwrap_or(found));
        return Err(ParseError::EntityDeclaration { line, column });
    }
    Ok(Prolog { root_start })
}

enum DoctypeEnd {
    /// The declaration ends after this many bytes, without an internal subset.
    Closed(usize),
    /// A `[` opens an internal subset.
    InternalSubset,
    /// No end before the input ends (or a quote is not closed).
    Unterminated,
}

/// Reads `<!DOCTYPE name ExternalID? S? ('[' intSubset ']' S?)? '>'`, skipping quoted
/// literals whole.
fn doctype_end(decl: &[u8]) -> Result<DoctypeEnd, ParseError> {
    let mut at = "<!DOCTYPE".len();
    while let Some(&b) = decl.get(at) {
        match b {
            b'"' | b'\'' => match decl[at + 1..].iter().position(|c| *c == b) {
                Some(len) => at += len + 2,
                None => return Ok(DoctypeEnd::Unterminated),
            },
            b'[' => return Ok(DoctypeEnd::InternalSubset),
            b'>' => return Ok(DoctypeEnd::Closed(at + 1)),
            _ => at += 1,
        }
    }
    Ok(DoctypeEnd::Unterminated)
}

/// The offset of the first `<` followed by a name start character: the earliest the
/// root element can begin, used when the prolog could not be read to its end.
fn first_element(text: &[u8]) -> usize {
    text.windows(2)
        .position(|w| w[0] == b'<' && is_name_start(w[1]))
        .unwrap_or(text.len())
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> ParseError {
        check(text.as_bytes()).expect_err("refused")
    }

    #[test]
    fn a_quoted_gt_in_an_attlist_default_does_not_end_the_doctype() {
        let doc = "<!DOCTYPE a [<!ATTLIST a x CDATA \">\"><!ENTITY t \"tttt\">]><a>&t;</a>";
        assert_eq!(
            refused(doc),
            ParseError::EntityDeclaration { line: 1, column: 1 }
        );
    }

    #[test]
    fn an_internal_subset_without_entities_is_refused_too() {
        let doc = "<?xml version='1.0'?>\n<!DOCTYPE a [<!ATTLIST a x CDATA 'd'>]><a/>";
        assert_eq!(
            refused(doc),
            ParseError::InternalSubset { line: 2, column: 1 }
        );
    }

    #[test]
    fn a_bracket_inside_a_system_literal_is_not_an_internal_subset() {
        let doc = "<!DOCTYPE mets:mets SYSTEM \"x[1].dtd\"><!-- [ --><mets:mets/>";
        assert_eq!(
            check(doc.as_bytes()).unwrap().root_start,
            Some(doc.find("<mets:mets/>").unwrap())
        );
    }

    #[test]
    fn the_root_is_found_after_declaration_comments_and_pis() {
        let doc = "<?xml version=\"1.0\"?>\n<!-- <a> -->\n<?pi x?>\n<root/>";
        assert_eq!(check(doc.as_bytes()).unwrap().root_start, doc.find("<root"));
    }

    #[test]
    fn an_entity_declaration_in_a_broken_prolog_is_refused() {
        assert!(matches!(
            refused("<!DOCTYPE a \"unclosed <!ENTITY x 'y'>]><a/>"),
            ParseError::EntityDeclaration { .. }
        ));
        assert!(matches!(
            refused("junk <!ENTITY x 'y'> <a/>"),
            ParseError::EntityDeclaration { .. }
        ));
    }

    #[test]
    fn entity_text_inside_the_root_element_is_content() {
        let doc = "<a><![CDATA[<!ENTITY x 'y'>]]></a>";
        assert_eq!(check(doc.as_bytes()).unwrap().root_start, Some(0));
    }
}
