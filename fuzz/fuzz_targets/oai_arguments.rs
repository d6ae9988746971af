//! The OAI-PMH argument parser: any query string gives either one typed request or a
//! non-empty list of protocol errors, each with a message; the same arguments always
//! give the same answer, and a request that parsed names only arguments it was given.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vitrine::oai::request::{parse, ListStart, Request};

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = form_pairs(data);
    let first = parse(&pairs);
    assert_eq!(first, parse(&pairs), "the parser is not deterministic");
    match first {
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without an error");
            for e in &errors {
                common::assert_reason("an argument", &e.message);
            }
        }
        Ok(request) => {
            let given = |name: &str, value: &str| pairs.iter().any(|(n, v)| n == name && v == value);
            match &request {
                Request::GetRecord { identifier, prefix, .. } => {
                    assert!(given("identifier", identifier) && given("metadataPrefix", prefix));
                }
                Request::List { start: ListStart::Token(token), .. } => {
                    assert!(given("resumptionToken", token));
                }
                Request::List { start: ListStart::Args(args), .. } => {
                    assert!(given("metadataPrefix", &args.prefix));
                    if let (Some(from), Some(until)) = (&args.from, &args.until) {
                        assert_eq!(from.granularity(), until.granularity(), "mixed granularities accepted");
                    }
                }
                _ => {}
            }
        }
    }
});

/// Splits `a=b&c=d` as a form body; bytes that are not UTF-8 are replaced.
fn form_pairs(data: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(data).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}
