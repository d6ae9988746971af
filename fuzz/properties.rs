//! The properties the fuzz targets assert, one function per target, shared with the
//! regression tests of the normal suite (`tests/fuzz_regressions.rs` replays every input
//! in `fuzz/regressions/TARGET/` through them). Each function panics when its property
//! does not hold for `data`.

#![allow(dead_code)]

use vitrine::config::Institution;
use vitrine::formats::mets;
use vitrine::oai::error::Code;
use vitrine::oai::request::{self, ListStart, Request};
use vitrine::oai::resumption_token::{TokenKey, TokenState};
use vitrine::repair::{repair, RepairContext};
use vitrine::schematron::{CompileOptions, Schema};
use vitrine::xml::{parse, parse_source, ParseLimits};

/// Panics unless `body`, embedded in `<metadata>` as an OAI-PMH record carries it, is
/// well-formed XML whose first element is named `root`.
fn assert_embeds_well_formed(format: &str, body: &[u8], root: &str) {
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
fn assert_reason(what: &str, reason: &str) {
    assert!(!reason.trim().is_empty(), "{what} refused without a reason");
}

/// The hardened XML entry point: any input is either refused with a reason, or accepted
/// as a document with no entity left in it, whose serialisation parses again to the same
/// text, and whose decoded source is UTF-8 with the root where the prolog check found it.
pub fn xml_entry(data: &[u8]) {
    let limits = ParseLimits {
        max_bytes: 1 << 20,
        max_text_bytes: 4096,
    };
    match parse_source(data, limits) {
        Err(e) => assert_reason("the document", &e.to_string()),
        Ok(parsed) => {
            let root = parsed
                .document
                .get_root_element()
                .expect("an accepted document has a root");
            if parsed.source.utf8 {
                let text = &parsed.source.text;
                assert!(
                    std::str::from_utf8(text).is_ok(),
                    "decoded source is not UTF-8"
                );
                let start = parsed
                    .root_start
                    .expect("the root of a UTF-8 document is found");
                assert_eq!(text[start], b'<', "the root starts with <");
            }
            let serialised = parsed.document.node_to_string(&root);
            let again = parse(serialised.as_bytes(), ParseLimits::default()).unwrap_or_else(|e| {
                panic!("the accepted document serialises to malformed XML: {e}\n{serialised}")
            });
            let again_root = again.get_root_element().expect("a root");
            assert_eq!(again_root.get_name(), root.get_name());
            assert_eq!(
                again_root.get_content(),
                root.get_content(),
                "text changed by a round trip"
            );
            assert!(
                root.get_content().len() <= data.len() * 4 + 16,
                "text grew beyond its source"
            );
        }
    }
}

/// The METS reader (record id, parents, MODS, Dublin Core): a document is either refused
/// with a reason or, once accepted, every stored form (`mets`, `mods`, `oai_dc`, and the
/// repaired `zmets` and its `zmods`) is UTF-8 and well-formed where OAI-PMH embeds it.
pub fn mets_reader(data: &[u8]) {
    let limits = ParseLimits::with_max_bytes(1 << 20);
    let record = match mets::read(data, limits) {
        Ok(record) => record,
        Err(e) => return assert_reason("the METS", &e.to_string()),
    };
    if let Some(id) = &record.local_id {
        let xml_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
        assert!(
            !id.is_empty() && id.trim_matches(xml_space) == id,
            "local id {id:?}"
        );
    }
    for parent in &record.parent_refs {
        assert!(!parent.is_empty(), "an empty parent reference");
    }
    assert_embeds_well_formed("mets", &record.mets, "mets");
    if let Some(mods) = &record.mods {
        assert_embeds_well_formed("mods", mods.as_bytes(), "mods");
    }
    if let Some(dc) = &record.dc {
        assert_embeds_well_formed("oai_dc", dc.as_bytes(), "dc");
    }
    let institution = Institution::default();
    let context = RepairContext {
        local_id: record.local_id.as_deref().unwrap_or("fuzz"),
        record_identifier_source: Some("DE-0"),
        institution: &institution,
        oai_base_url: "http://127.0.0.1/oai",
        repository_identifier: "fuzz.example.org",
        presentation_url: None,
        reference_url: None,
        parent_title: None,
    };
    // The stored METS is what the validator job repairs into zmets.
    match repair(&record.mets, &context) {
        Ok(repaired) => {
            assert_embeds_well_formed("zmets", &repaired.mets, "mets");
            if let Ok(Some(zmods)) = mets::primary_mods(&repaired.mets, ParseLimits::default()) {
                assert_embeds_well_formed("zmods", zmods.as_bytes(), "mods");
            }
        }
        Err(e) => panic!("the stored METS cannot be repaired: {e}"),
    }
}

/// The OAI-PMH argument parser: any query string gives either one typed request or a
/// non-empty list of protocol errors, each with a message; the same arguments always
/// give the same answer, and a request that parsed names only arguments it was given.
pub fn oai_arguments(data: &[u8]) {
    let pairs: Vec<(String, String)> = form_pairs(data);
    let first = request::parse(&pairs);
    assert_eq!(
        first,
        request::parse(&pairs),
        "the parser is not deterministic"
    );
    match first {
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without an error");
            for e in &errors {
                assert_reason("an argument", &e.message);
            }
        }
        Ok(request) => {
            let given =
                |name: &str, value: &str| pairs.iter().any(|(n, v)| n == name && v == value);
            match &request {
                Request::GetRecord {
                    identifier, prefix, ..
                } => {
                    assert!(given("identifier", identifier) && given("metadataPrefix", prefix));
                }
                Request::List {
                    start: ListStart::Token(token),
                    ..
                } => {
                    assert!(given("resumptionToken", token));
                }
                Request::List {
                    start: ListStart::Args(args),
                    ..
                } => {
                    assert!(given("metadataPrefix", &args.prefix));
                    if let (Some(from), Some(until)) = (&args.from, &args.until) {
                        assert_eq!(
                            from.granularity(),
                            until.granularity(),
                            "mixed granularities accepted"
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
/// Splits `a=b&c=d` as a form body; bytes that are not UTF-8 are replaced.
fn form_pairs(data: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The resumption-token decoder: a token either decodes to exactly the state that was
/// signed, or is refused as a badResumptionToken with a reason. The input chooses a
/// state, and edits to apply to its token; only the unedited token may open.
pub fn resumption_token(data: &[u8]) {
    let (state_bytes, edits) = data.split_at(data.len().min(24));
    let number = |i: usize| state_bytes.get(i).copied().unwrap_or(0) as i64;
    let state = TokenState {
        verb: if number(0) % 2 == 0 {
            "ListRecords"
        } else {
            "ListIdentifiers"
        }
        .to_string(),
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
        unlocked: (0..number(12) % 3)
            .map(|i| number(13 + i as usize))
            .collect(),
    };
    let key = TokenKey::new(b"fuzzing secret");
    let token = key.issue(&state);
    let opened = key
        .open(&token, &state.verb, "ulb", 1_800_000_000)
        .expect("a token opens as issued");
    assert_eq!(opened, state, "the token decodes to what was signed");

    // The same token under another key is never accepted.
    assert!(TokenKey::new(b"another secret")
        .open(&token, &state.verb, "ulb", 0)
        .is_err());

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
            assert_reason("the token", &e.message);
        }
    }
    // Raw input as a token: refused, or the signed state (which it cannot forge).
    let raw = String::from_utf8_lossy(data);
    if let Ok(other) = key.open(&raw, &state.verb, "ulb", 0) {
        assert_eq!(key.issue(&other), raw, "an unsigned token opened");
    }
}

const DOCUMENT: &[u8] = br#"<mets:mets xmlns:mets="http://www.loc.gov/METS/" OBJID="x">
<mets:dmdSec ID="d1"><mets:mdWrap MDTYPE="MODS"><mets:xmlData>
<mods:mods xmlns:mods="http://www.loc.gov/mods/v3"><mods:titleInfo><mods:title>T</mods:title></mods:titleInfo>
<mods:originInfo><mods:dateIssued>1848</mods:dateIssued></mods:originInfo></mods:mods>
</mets:xmlData></mets:mdWrap></mets:dmdSec>
<mets:structMap TYPE="LOGICAL"><mets:div ID="l1" DMDID="d1" TYPE="monograph" LABEL="a b"/></mets:structMap>
</mets:mets>"#;

/// The Schematron compiler (public entry point only): a schema either compiles, or is
/// refused with a reason; a compiled schema validates a document to a verdict, the same
/// one each time, and every finding names its rule.
pub fn schematron_compile(data: &[u8]) {
    match Schema::compile(data, &CompileOptions::default()) {
        Err(e) => assert_reason("the schema", &e.to_string()),
        Ok(schema) => {
            let first = schema
                .validate_bytes(DOCUMENT)
                .expect("the document parses");
            let second = schema
                .validate_bytes(DOCUMENT)
                .expect("the document parses");
            assert_eq!(
                first.verdict(),
                second.verdict(),
                "validation is not deterministic"
            );
            assert_eq!(first.findings.len(), second.findings.len());
            for finding in &first.findings {
                assert!(!finding.rule_id.is_empty(), "a finding without a rule id");
            }
        }
    }
}

/// The XML Schema regular-expression translator: a pattern (and flags, after a NUL byte)
/// either translates to a Rust regex that compiles, or is refused with a reason.
pub fn xsd_regex(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, flags) = text.split_once('\0').unwrap_or((text, ""));
    match vitrine::schematron::translate_regex(pattern, flags) {
        Err(reason) => assert_reason("the pattern", &reason),
        Ok(source) => {
            if let Err(e) = regex::RegexBuilder::new(&source)
                .size_limit(1 << 24)
                .build()
            {
                // Only a pattern too large for the size limit may fail to compile.
                assert!(
                    matches!(e, regex::Error::CompiledTooBig(_)),
                    "{pattern:?} (flags {flags:?}) translated to {source:?}, which does not compile: {e}"
                );
            }
        }
    }
}
