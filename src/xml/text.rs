//! Text-level guarantees for XML that vitrine sends: characters that XML 1.0 forbids
//! never reach a response, whatever a stored record holds (OAI-TRAPS "Envelope").

use std::borrow::Cow;

/// Returns `text` without characters illegal in XML 1.0: C0 controls other than TAB,
/// LF and CR, and U+FFFE / U+FFFF. Borrows when nothing needs removing (the usual case).
pub fn strip_illegal_chars(text: &[u8]) -> Cow<'_, [u8]> {
    match first_suspect(text) {
        None => Cow::Borrowed(text),
        Some(first) => {
            let mut out = Vec::with_capacity(text.len());
            out.extend_from_slice(&text[..first]);
            let mut i = first;
            while i < text.len() {
                let b = text[i];
                if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') {
                    i += 1;
                } else if is_nonchar_at(text, i) {
                    i += 3;
                } else {
                    out.push(b);
                    i += 1;
                }
            }
            if out.len() == text.len() {
                // Only legal characters that share a first byte with U+FFFE/U+FFFF.
                Cow::Borrowed(text)
            } else {
                Cow::Owned(out)
            }
        }
    }
}

/// Whether `text` holds no character illegal in XML 1.0, so that it is sent as it is.
pub fn is_clean(text: &[u8]) -> bool {
    matches!(strip_illegal_chars(text), Cow::Borrowed(_))
}

/// Whether `b` may start an illegal character: a C0 control other than TAB, LF, CR, or
/// 0xEF (the first byte of U+FFFE/U+FFFF, and of other characters that are fine).
#[inline(always)]
fn suspect(b: u8) -> bool {
    (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r') | (b == 0xEF)
}

/// Position of the first suspect byte. Scans 32-byte blocks branch-free (the compiler
/// vectorises the fold), since responses pass megabytes through here.
fn first_suspect(text: &[u8]) -> Option<usize> {
    let mut blocks = text.chunks_exact(32);
    let mut offset = 0;
    for block in &mut blocks {
        if block.iter().fold(0u8, |acc, &b| acc | suspect(b) as u8) != 0 {
            return block.iter().position(|&b| suspect(b)).map(|p| offset + p);
        }
        offset += 32;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| suspect(b))
        .map(|p| offset + p)
}

/// U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
fn is_nonchar_at(text: &[u8], i: usize) -> bool {
    text.len() >= i + 3
        && text[i] == 0xEF
        && text[i + 1] == 0xBF
        && matches!(text[i + 2], 0xBE | 0xBF)
}

/// Same as [`strip_illegal_chars`] for `str`.
pub fn strip_illegal_str(text: &str) -> Cow<'_, str> {
    match strip_illegal_chars(text.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        // Removing whole characters from valid UTF-8 leaves valid UTF-8.
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(
            strip_illegal_chars("Grüße\t\n".as_bytes()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn illegal_characters_are_found_in_every_position() {
        for at in [0, 5, 31, 32, 33, 63, 64, 70] {
            let mut text = vec![b'a'; 71];
            text[at] = 0x01;
            let clean = strip_illegal_chars(&text);
            assert_eq!(clean.len(), 70, "control at {at}");
        }
        let euro_like = "\u{F8FF}x".repeat(20);
        assert!(matches!(
            strip_illegal_chars(euro_like.as_bytes()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn controls_and_nonchars_are_removed() {
        let dirty = "a\u{1}b\u{FFFE}c\u{FFFF}d\u{FFFD}e\u{1F}";
        assert_eq!(strip_illegal_str(dirty), "abcd\u{FFFD}e");
    }
}
