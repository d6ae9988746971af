//! Properties shared by the targets: what "renders well-formed output" means for a
//! stored format.

#![allow(dead_code)]

use vitrine::xml::{parse, ParseLimits};

/// Panics unless `body`, embedded in `<metadata>` as an OAI-PMH record carries it, is
/// well-formed XML whose first element is named `root`.
pub fn assert_embeds_well_formed(format: &str, body: &[u8], root: &str) {
    let mut record = b"<metadata xmlns=\"http://www.openarchives.org/OAI/2.0/\">".to_vec();
    record.extend_from_slice(&vitrine::xml::text::strip_illegal_chars(body));
    record.extend_from_slice(b"</metadata>");
    let doc = parse(&record, ParseLimits::default()).unwrap_or_else(|e| {
        panic!(
            "the {format} form is not well-formed inside <metadata>: {e}\n{}",
            String::from_utf8_lossy(body)
        )
    });
    let metadata = doc.get_root_element().expect("a root");
    let first = metadata
        .get_child_elements()
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the {format} form has no element"));
    assert_eq!(first.get_name(), root, "the {format} form's root");
    assert!(
        std::str::from_utf8(body).is_ok(),
        "the {format} form is not UTF-8"
    );
}

/// Panics unless a refusal names its reason.
pub fn assert_reason(what: &str, reason: &str) {
    assert!(!reason.trim().is_empty(), "{what} refused without a reason");
}
