//! The resumption-token decoder: a token either decodes to exactly the state that was
//! signed, or is refused as a badResumptionToken with a reason. The input chooses a
//! state, and edits to apply to its token; only the unedited token may open.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vitrine::oai::error::Code;
use vitrine::oai::resumption_token::{TokenKey, TokenState};

fuzz_target!(|data: &[u8]| {
    let (state_bytes, edits) = data.split_at(data.len().min(24));
    let number = |i: usize| state_bytes.get(i).copied().unwrap_or(0) as i64;
    let state = TokenState {
        verb: if number(0) % 2 == 0 { "ListRecords" } else { "ListIdentifiers" }.to_string(),
        domain: "ulb".to_string(),
        prefix: ["oai_dc", "mets", "mods"][(number(1) % 3) as usize].to_string(),
        set: (number(2) % 2 == 1).then(|| format!("set{}", number(3))),
        from: (number(4) % 2 == 1).then(|| number(5) * 86_400),
        until: 1_700_000_000 + number(6),
        after_datestamp: number(7) << 20,
        after_record: number(8),
        cursor: number(9) as u64,
        complete_list_size: number(10) as u64 + 100,
        expires: 2_000_000_000,
        diag: number(11) % 2 == 1,
    };
    let key = TokenKey::new(b"fuzzing secret");
    let token = key.issue(&state);
    let opened = key
        .open(&token, &state.verb, "ulb", 1_800_000_000)
        .expect("a token opens as issued");
    assert_eq!(opened, state, "the token decodes to what was signed");

    // The same token under another key is never accepted.
    assert!(TokenKey::new(b"another secret").open(&token, &state.verb, "ulb", 0).is_err());

    let mut tampered = token.clone().into_bytes();
    for pair in edits.chunks(2) {
        let at = pair[0] as usize % (tampered.len() + 1);
        match pair.get(1) {
            Some(&b) if at < tampered.len() => tampered[at] = b,
            Some(&b) => tampered.push(b),
            None if at < tampered.len() => {
                tampered.remove(at);
            }
            None => {}
        }
    }
    let tampered = String::from_utf8_lossy(&tampered).into_owned();
    match key.open(&tampered, &state.verb, "ulb", 1_800_000_000) {
        Ok(other) => assert_eq!(other, state, "a tampered token opened as {tampered}"),
        Err(e) => {
            assert_eq!(e.code, Code::BadResumptionToken);
            common::assert_reason("the token", &e.message);
        }
    }
    // Raw input as a token: refused, or the signed state (which it cannot forge).
    let raw = String::from_utf8_lossy(data);
    if let Ok(other) = key.open(&raw, &state.verb, "ulb", 0) {
        assert_eq!(key.issue(&other), raw, "an unsigned token opened");
    }
});
