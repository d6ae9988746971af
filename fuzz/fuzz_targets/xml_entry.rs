//! The hardened XML entry point: any input is either refused with a reason, or accepted
//! as a document with no entity left in it, whose serialisation parses again to the same
//! text, and whose decoded source is UTF-8 with the root where the prolog check found it.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vitrine::xml::{parse, parse_source, ParseLimits};

fuzz_target!(|data: &[u8]| {
    let limits = ParseLimits {
        max_bytes: 1 << 20,
        max_text_bytes: 4096,
    };
    match parse_source(data, limits) {
        Err(e) => common::assert_reason("the document", &e.to_string()),
        Ok(parsed) => {
            let root = parsed.document.get_root_element().expect("an accepted document has a root");
            if parsed.source.utf8 {
                let text = &parsed.source.text;
                assert!(std::str::from_utf8(text).is_ok(), "decoded source is not UTF-8");
                let start = parsed.root_start.expect("the root of a UTF-8 document is found");
                assert_eq!(text[start], b'<', "the root starts with <");
            }
            let serialised = parsed.document.node_to_string(&root);
            let again = parse(serialised.as_bytes(), ParseLimits::default())
                .unwrap_or_else(|e| panic!("the accepted document serialises to malformed XML: {e}\n{serialised}"));
            let again_root = again.get_root_element().expect("a root");
            assert_eq!(again_root.get_name(), root.get_name());
            assert_eq!(again_root.get_content(), root.get_content(), "text changed by a round trip");
            assert!(root.get_content().len() <= data.len() * 4 + 16, "text grew beyond its source");
        }
    }
});
