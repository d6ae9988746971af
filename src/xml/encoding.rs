//! The character encoding of untrusted input, settled before anything else reads it.
//!
//! Every document is stored and served as UTF-8. A byte order mark decides the
//! encoding when there is one (UTF-8, UTF-16LE, UTF-16BE; XML 1.0 appendix F); UTF-16
//! without a mark is recognised by its first character `<`. UTF-16 is decoded here, a
//! UTF-8 mark is dropped, so the prolog check and the stored copy read the same UTF-8
//! text libxml2 parses. A document that declares another encoding (ISO-8859-1,
//! windows-1252, …) is left to libxml2's converters; its stored copy is then libxml2's
//! UTF-8 serialisation.

use super::parse::ParseError;
use std::borrow::Cow;

/// The text of a document as the parser reads it.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// The document's bytes: UTF-8 when [`Source::utf8`] holds, else as given.
    pub text: Cow<'a, [u8]>,
    /// Whether `text` is UTF-8 (any byte order mark removed, UTF-16 decoded).
    pub utf8: bool,
}

/// Settles the encoding of `bytes` (see the module documentation).
pub fn decode(bytes: &[u8]) -> Result<Source<'_>, ParseError> {
    let source = decode_text(bytes)?;
    // Every first mark is gone by now, so U+FEFF at the start of the decoded text is a
    // second mark where the document must begin with `<` (libxml2 would take it for a
    // mark of its own and skip it). UTF-16 decoding can make the text longer or shorter
    // than its source, so the decoded text is what is checked.
    if source.utf8 && source.text.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(ParseError::BadEncoding {
            message: "a second byte order mark follows the first".to_string(),
        });
    }
    Ok(source)
}

fn decode_text(bytes: &[u8]) -> Result<Source<'_>, ParseError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(Source {
            text: Cow::Borrowed(rest),
            utf8: true,
        });
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes, "UTF-16LE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes, "UTF-16BE");
    }
    if bytes.starts_with(&[b'<', 0, b'?', 0]) {
        return utf16(bytes, u16::from_le_bytes, "UTF-16LE");
    }
    if bytes.starts_with(&[0, b'<', 0, b'?']) {
        return utf16(bytes, u16::from_be_bytes, "UTF-16BE");
    }
    Ok(Source {
        utf8: declared_encoding(bytes).is_none_or(|e| is_utf8_label(&e)),
        text: Cow::Borrowed(bytes),
    })
}

/// Decodes UTF-16 code units; an unpaired surrogate or an odd byte count is malformed.
fn utf16(
    bytes: &[u8],
    unit: fn([u8; 2]) -> u16,
    name: &str,
) -> Result<Source<'static>, ParseError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(ParseError::BadEncoding {
            message: format!("{name} text with an odd number of bytes"),
        });
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    for (index, decoded) in char::decode_utf16(units).enumerate() {
        match decoded {
            Ok(c) => text.push(c),
            Err(e) => {
                return Err(ParseError::BadEncoding {
                    message: format!(
                        "{name} text has an unpaired surrogate {:#06x} at byte {}",
                        e.unpaired_surrogate(),
                        index * 2
                    ),
                })
            }
        }
    }
    Ok(Source {
        text: Cow::Owned(text.into_bytes()),
        utf8: true,
    })
}

/// The `encoding` of an XML declaration at the start of ASCII-compatible `bytes`.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let decl = bytes.strip_prefix(b"<?xml")?;
    if !decl.first().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let end = decl.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&decl[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

fn is_utf8_label(label: &str) -> bool {
    label.eq_ignore_ascii_case("utf-8") || label.eq_ignore_ascii_case("utf8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn a_utf8_byte_order_mark_is_dropped() {
        let source = decode(b"\xEF\xBB\xBF<a/>").unwrap();
        assert_eq!(&*source.text, b"<a/>");
        assert!(source.utf8);
    }

    #[test]
    fn utf16_with_a_byte_order_mark_and_no_declaration_becomes_utf8() {
        let input = utf16le("<a>Straße</a>", true);
        let source = decode(&input).unwrap();
        assert_eq!(&*source.text, "<a>Straße</a>".as_bytes());
        let mut be = vec![0xFE, 0xFF];
        be.extend("<a>ß</a>".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(&*decode(&be).unwrap().text, "<a>ß</a>".as_bytes());
    }

    #[test]
    fn utf16_without_a_mark_is_recognised_by_its_declaration() {
        let input = utf16le("<?xml version='1.0' encoding='UTF-16'?><a/>", false);
        let source = decode(&input).unwrap();
        assert!(source.text.ends_with(b"<a/>") && source.utf8);
    }

    #[test]
    fn a_declared_single_byte_encoding_is_left_to_libxml2() {
        let source = decode(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE4</a>").unwrap();
        assert!(!source.utf8);
        assert!(
            decode(b"<?xml version=\"1.0\" encoding='utf-8'?><a/>")
                .unwrap()
                .utf8
        );
    }

    #[test]
    fn a_second_byte_order_mark_is_refused() {
        // Found by fuzzing: libxml2 skipped the second mark, the prolog check did not.
        let twice = [0xFF, 0xFE, 0xFF, 0xFE, b'<', 0, b'a', 0, b'/', 0, b'>', 0];
        assert!(matches!(
            decode(&twice),
            Err(ParseError::BadEncoding { .. })
        ));
        let twice = b"\xEF\xBB\xBF\xEF\xBB\xBF<a/>";
        assert!(matches!(decode(twice), Err(ParseError::BadEncoding { .. })));
        // Also found by fuzzing: characters that take three bytes in UTF-8 and two in
        // UTF-16 make the decoded text longer than its source; the second mark still counts.
        let mut longer = vec![0xFF, 0xFE, 0xFF, 0xFE];
        longer.extend(utf16le("<a>\u{D4D4}\u{D4D4}\u{D4D4}</a>", false));
        assert!(matches!(
            decode(&longer),
            Err(ParseError::BadEncoding { .. })
        ));
    }

    #[test]
    fn an_unpaired_surrogate_is_refused() {
        let mut bytes = utf16le("<a>", true);
        bytes.extend([0x00, 0xD8]);
        assert!(matches!(
            decode(&bytes),
            Err(ParseError::BadEncoding { .. })
        ));
    }
}
