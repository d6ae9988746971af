//! Fuzz target: see `schematron_compile` in `fuzz/properties.rs` for the property it asserts.

#![no_main]

#[path = "../properties.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::schematron_compile(data));
