//! The JSON the ingest API answers with: a record's status (datestamps per format,
//! release, validation state with every finding, parent and children), the result of
//! storing a record, and the problems a refused document gets (SPEC §4).

use super::problem::Problem;
use crate::domain::Datestamp;
use crate::formats::mets::MetsError;
use crate::ingest::{CheckedError, IngestError, Ingested};
use crate::store::{
    PutOutcome, RecordStatus, Relatives, StoreError, StoredFinding, ValidationOutcome,
};
use crate::xml::ParseError;
use actix_web::http::StatusCode;
use serde_json::{json, Value};

/// `created`, `replaced` or `unchanged`.
pub fn outcome_name(outcome: PutOutcome) -> &'static str {
    match outcome {
        PutOutcome::Created => "created",
        PutOutcome::Replaced => "replaced",
        PutOutcome::Unchanged => "unchanged",
    }
}

/// One finding.
pub fn finding(f: &StoredFinding) -> Value {
    json!({
        "rule": f.rule_id,
        "rule_set": f.rule_set,
        "class": f.class,
        "role": f.role,
        "message": f.message,
        "location": f.location,
        "stage": f.stage,
        "repaired": f.repaired,
    })
}

/// The validation within a request.
pub fn validation(v: &ValidationOutcome) -> Value {
    json!({
        "zmods_validation": v.state,
        "reason": v.reason,
        "rule_set_version": v.rule_set_version,
        "findings": v.findings.iter().map(finding).collect::<Vec<_>>(),
        "repairs": v.repairs.len(),
    })
}

/// What storing a record did.
pub fn ingested(dname: &str, i: &Ingested) -> Value {
    json!({
        "domain": dname,
        "local_id": i.local_id,
        "oai_identifier": i.oai_identifier,
        "outcome": outcome_name(i.outcome),
        "validation": match &i.validation {
            Some(v) => json!({"mode": "sync", "result": validation(v)}),
            None => json!({"mode": "background", "result": null}),
        },
    })
}

/// A record's status.
pub fn status(
    dname: &str,
    s: &RecordStatus,
    state: &(crate::domain::ValidationState, String, Option<i64>),
    findings: &[StoredFinding],
    relatives: &Relatives,
) -> Value {
    let formats: serde_json::Map<String, Value> = s
        .disseminations
        .iter()
        .map(|(prefix, stamp, deleted)| {
            (
                prefix.clone(),
                json!({"datestamp": Datestamp::from_seconds(*stamp).to_string(), "deleted": deleted}),
            )
        })
        .collect();
    json!({
        "domain": dname,
        "local_id": s.local_id,
        "oai_identifier": s.oai_identifier,
        "title": s.title,
        "released": s.released,
        "deleted": s.deleted,
        "updated": Datestamp::from_seconds(s.updated_at).to_string(),
        "formats": formats,
        "zmods_validation": state.0.as_str(),
        "reason": state.1,
        "validated": state.2.map(|t| Datestamp::from_seconds(t).to_string()),
        "findings": findings.iter().map(finding).collect::<Vec<_>>(),
        "parent": relatives.parent,
        "children": relatives.children,
    })
}

/// The problem a document that was not stored gets.
pub fn refused(e: &CheckedError) -> Problem {
    let unprocessable = |slug, title, detail: String| {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title, detail)
    };
    match e {
        CheckedError::Ingest(IngestError::Mets(MetsError::Xml(xml))) => match xml {
            ParseError::TooLarge { limit, .. } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Document too large",
                format!("{xml} (ingest.max_document_bytes); nothing was stored"),
            )
            .with("limit", *limit),
            _ => {
                let p = Problem::bad_request(
                    "malformed-xml",
                    format!("the METS is not well-formed XML: {xml}; nothing was stored"),
                );
                match xml.position() {
                    Some((line, column)) => p.with("line", line).with("column", column),
                    None => p,
                }
            }
        },
        CheckedError::Ingest(IngestError::LocalIdMismatch { given, found }) => unprocessable(
            "id-mismatch",
            "Identifier mismatch",
            format!("{e}: the URL names {given:?} but the METS identifies itself as {found:?}; nothing was stored"),
        )
        .with("given", given.clone())
        .with("found", found.clone()),
        CheckedError::Ingest(IngestError::Mets(MetsError::NotMets { .. })) => {
            unprocessable("not-mets", "Not METS", format!("{e}; nothing was stored"))
        }
        CheckedError::Ingest(_) => {
            unprocessable("unusable-mets", "Unusable METS", format!("{e}; nothing was stored"))
        }
        CheckedError::Rejected { local_id, validation: v } => unprocessable(
            "invalid-record",
            "Record is invalid",
            format!(
                "record {local_id} breaks the ZVDD rules ({}) and was refused (reject_invalid=true); \
                 nothing was stored. Correct the findings and export again.",
                v.reason
            ),
        )
        .with("local_id", local_id.clone())
        .with("validation", validation(v)),
        CheckedError::Validation { .. } => {
            unprocessable("not-validated", "Record could not be validated", format!("{e}; nothing was stored"))
        }
        CheckedError::Read(reason) => unprocessable("unreadable", "Unreadable file", reason.clone()),
        CheckedError::Store(store) => store_problem(store),
    }
}

/// The problem a store refusal becomes.
pub fn store_problem(e: &StoreError) -> Problem {
    match e {
        StoreError::NotFound(what) => Problem::not_found(format!("{what} not found")),
        StoreError::Conflict(why) => {
            Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", why.clone())
        }
        StoreError::Other(_) => Problem::internal(e),
    }
}
