//! Fuzz target: see `xml_entry` in `fuzz/properties.rs` for the property it asserts.

#![no_main]

#[path = "../properties.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::xml_entry(data));
