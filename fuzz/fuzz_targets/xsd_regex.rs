//! The XML Schema regular-expression translator: a pattern (and flags, after a NUL byte)
//! either translates to a Rust regex that compiles, or is refused with a reason.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, flags) = text.split_once('\0').unwrap_or((text, ""));
    match vitrine::schematron::translate_regex(pattern, flags) {
        Err(reason) => common::assert_reason("the pattern", &reason),
        Ok(source) => {
            if let Err(e) = regex::RegexBuilder::new(&source).size_limit(1 << 24).build() {
                // Only a pattern too large for the size limit may fail to compile.
                assert!(
                    matches!(e, regex::Error::CompiledTooBig(_)),
                    "{pattern:?} (flags {flags:?}) translated to {source:?}, which does not compile: {e}"
                );
            }
        }
    }
});
