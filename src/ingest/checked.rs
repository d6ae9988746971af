//! Ingest with an optional validation inside the request: the export to the DMS as the
//! ingest API and the hotfolder run it. Every document goes through [`prepare`] (the
//! hardened parse and the record preparation `vitrine import` uses) and the store's
//! commit, whole or not at all.
//!
//! With [`ValidateMode::Sync`] the prepared METS is repaired and validated exactly as the
//! OaiOutputValidator job does it (the zmets harvesters would receive) before anything
//! is stored; with `reject_invalid` an invalid record is refused and nothing is stored —
//! Goobi's validated export. Otherwise the record is stored and its result saved with it.
//! With [`ValidateMode::Background`] the record is stored `undefined` and the serve loop
//! validates it.

use super::{prepare, IngestError};
use crate::domain::{Clock, DomainTree};
use crate::domain::{ValidationOutcome, ValidationTask};
use crate::store::{ClaimRequest, PutOutcome, PutRecord, Store, StoreError};
use crate::validation::record::ValidationResult;
use crate::xml::ParseLimits;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Documents prepared, validated and committed together.
const BATCH: usize = 256;

/// When a record is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidateMode {
    /// Store at once; the serve loop validates within a minute.
    #[default]
    Background,
    /// Validate within the request and answer with the findings.
    Sync,
}

impl ValidateMode {
    /// Parses `sync` or `background`.
    pub fn parse(text: &str) -> Option<ValidateMode> {
        match text {
            "sync" => Some(ValidateMode::Sync),
            "background" => Some(ValidateMode::Background),
            _ => None,
        }
    }
}

/// How documents are ingested.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Release the records.
    pub release: bool,
    /// When to validate.
    pub validate: ValidateMode,
    /// With [`ValidateMode::Sync`]: refuse (and store nothing of) an invalid record.
    pub reject_invalid: bool,
    /// Parse limits.
    pub limits: ParseLimits,
    /// The public base URL (zmets `mptr` links point there).
    pub public_url: String,
    /// Where the datestamps of the stored records are read.
    pub clock: Clock,
}

/// A stored record.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// Local identifier.
    pub local_id: String,
    /// OAI identifier.
    pub oai_identifier: String,
    /// Created, replaced or unchanged.
    pub outcome: PutOutcome,
    /// The validation within the request (sync mode).
    pub validation: Option<ValidationOutcome>,
}

/// Why a document was not stored.
#[derive(Debug, thiserror::Error)]
pub enum CheckedError {
    /// The file could not be read, or is larger than the limit (checked before reading).
    #[error("{0}")]
    Read(String),
    /// Malformed XML, not METS, or no usable local id (SPEC §4: 400/422).
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Invalid, and `reject_invalid` asked to refuse it (SPEC §4: 422 + findings).
    #[error("record {local_id} is invalid ({}); it was not stored", .validation.reason)]
    Rejected {
        /// Local identifier.
        local_id: String,
        /// State, reason and findings.
        validation: Box<ValidationOutcome>,
    },
    /// The record could not be validated.
    #[error("record {local_id} could not be validated: {message}")]
    Validation {
        /// Local identifier.
        local_id: String,
        /// Why.
        message: String,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One file of a folder export and what became of it.
#[derive(Debug)]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// Stored, or why not.
    pub result: Result<Ingested, CheckedError>,
}

/// A prepared record, and its validation when asked for.
type Checked = Result<(PutRecord, Option<ValidationResult>), CheckedError>;

/// Ingests one document (the body of a PUT or POST). `given_id` must agree with the
/// document's own id.
pub async fn ingest_document(
    store: Arc<dyn Store>,
    tree: Arc<DomainTree>,
    domain_id: i64,
    bytes: Vec<u8>,
    given_id: Option<String>,
    options: &IngestOptions,
) -> Result<Ingested, CheckedError> {
    let limits = options.limits;
    let release = options.release;
    let prepared = {
        let tree = tree.clone();
        tokio::task::spawn_blocking(move || {
            prepare(
                &bytes,
                domain_id,
                &tree,
                given_id.as_deref(),
                release,
                limits,
            )
        })
        .await
        .map_err(|e| CheckedError::Read(format!("preparing the record failed: {e}")))??
    };
    let mut results = check_and_store(store, tree, vec![Ok(prepared)], options).await;
    results
        .pop()
        .unwrap_or_else(|| Err(CheckedError::Read("nothing was prepared".into())))
}

/// Ingests files (a folder export): in batches, each record committed whole or not at
/// all; a refused file changes nothing and does not stop the others.
pub async fn ingest_files(
    store: Arc<dyn Store>,
    tree: Arc<DomainTree>,
    domain_id: i64,
    files: Vec<PathBuf>,
    options: &IngestOptions,
) -> Vec<FileResult> {
    let mut out = Vec::with_capacity(files.len());
    for chunk in files.chunks(BATCH) {
        let chunk = chunk.to_vec();
        let (limits, release) = (options.limits, options.release);
        let tree_for_prepare = tree.clone();
        let paths = chunk.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            chunk
                .par_iter()
                .map(|path| {
                    read_file(path, limits).and_then(|bytes| {
                        prepare(&bytes, domain_id, &tree_for_prepare, None, release, limits)
                            .map_err(CheckedError::from)
                    })
                })
                .collect::<Vec<_>>()
        })
        .await;
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(e) => paths
                .iter()
                .map(|_| Err(CheckedError::Read(format!("preparing failed: {e}"))))
                .collect(),
        };
        let results = check_and_store(store.clone(), tree.clone(), prepared, options).await;
        out.extend(
            paths
                .into_iter()
                .zip(results)
                .map(|(path, result)| FileResult { path, result }),
        );
    }
    out
}

/// Reads a file, refusing one larger than the limit before reading it.
pub fn read_file(path: &Path, limits: ParseLimits) -> Result<Vec<u8>, CheckedError> {
    let size = std::fs::metadata(path)
        .map_err(|e| CheckedError::Read(format!("cannot read: {e}")))?
        .len();
    if size > limits.max_bytes as u64 {
        return Err(CheckedError::Read(format!(
            "file of {size} bytes exceeds the limit of {} bytes (ingest.max_document_bytes)",
            limits.max_bytes
        )));
    }
    std::fs::read(path).map_err(|e| CheckedError::Read(format!("cannot read: {e}")))
}

/// Validates (sync mode) and stores prepared records; one result per input, in order.
async fn check_and_store(
    store: Arc<dyn Store>,
    tree: Arc<DomainTree>,
    prepared: Vec<Result<PutRecord, CheckedError>>,
    options: &IngestOptions,
) -> Vec<Result<Ingested, CheckedError>> {
    let checked: Vec<Checked> = match options.validate {
        ValidateMode::Background => prepared
            .into_iter()
            .map(|p| p.map(|record| (record, None)))
            .collect(),
        ValidateMode::Sync => validate_prepared(store.as_ref(), tree, prepared, options).await,
    };
    let mut results: Vec<Option<Result<Ingested, CheckedError>>> =
        Vec::with_capacity(checked.len());
    let mut to_store = Vec::new();
    let mut validations = Vec::new();
    let mut slots = Vec::new();
    for (i, item) in checked.into_iter().enumerate() {
        match item {
            Ok((record, Some(result)))
                if options.reject_invalid
                    && result.outcome.state == crate::domain::ValidationState::Invalid =>
            {
                results.push(Some(Err(CheckedError::Rejected {
                    local_id: record.local_id,
                    validation: Box::new(result.outcome),
                })));
            }
            Ok((record, validation)) => {
                results.push(None);
                slots.push(i);
                to_store.push(record);
                validations.push(validation);
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    let now = options.clock.now();
    let stored = store.put_records(&to_store, now).await;
    let mut to_save = Vec::new();
    for (((slot, record), validation), outcome) in
        slots.into_iter().zip(to_store).zip(validations).zip(stored)
    {
        let result = match outcome {
            Ok(outcome) => {
                if let (Some(v), Some(mets)) = (&validation, stored_mets(&record)) {
                    to_save.push((record.domain_id, record.local_id.clone(), mets, v.clone()));
                }
                Ok(Ingested {
                    local_id: record.local_id,
                    oai_identifier: record.oai_identifier,
                    outcome,
                    validation: validation.map(|v| v.outcome),
                })
            }
            Err(e) => Err(CheckedError::Store(e)),
        };
        results[slot] = Some(result);
    }
    if !to_save.is_empty() {
        if let Err(e) = save(store.as_ref(), to_save, now).await {
            // The records are stored `undefined`: the serve loop validates them again.
            tracing::warn!("could not store the validation results: {e}");
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(CheckedError::Read("not processed".into()))))
        .collect()
}

/// Saves results of records just stored: each record is claimed as the job claims it
/// (on PostgreSQL a row lock, skipped when a validator run holds it) and its result
/// stored only if the claimed METS is the one validated — a record changed since by
/// someone else keeps `undefined` for the serve loop.
async fn save(
    store: &dyn Store,
    items: Vec<(i64, String, Vec<u8>, ValidationResult)>,
    now: i64,
) -> Result<(), StoreError> {
    for (domain_id, local_id, mets, result) in items {
        let Some(status) = store.record_status(domain_id, &local_id).await? else {
            continue;
        };
        let claim = store
            .claim(&ClaimRequest {
                domain_ids: &[domain_id],
                run_id: 0,
                after: status.id - 1,
                limit: 1,
                wait: false,
                worker: false,
            })
            .await?;
        let Some(claimed) = claim.tasks.first().filter(|t| t.record_id == status.id) else {
            continue;
        };
        let task = claimed.task()?;
        if task.mets != mets {
            continue;
        }
        let mut result = result;
        result.outcome.record_id = task.record_id;
        result.outcome.revision = task.revision;
        let prepared = crate::jobs::oai_output_validator::prepare(result, claimed, &task);
        store
            .save_claimed(claim.held, &[prepared], &[], None, now)
            .await?;
    }
    Ok(())
}

/// Repairs and validates prepared records as the OaiOutputValidator job does.
async fn validate_prepared(
    store: &dyn Store,
    tree: Arc<DomainTree>,
    prepared: Vec<Result<PutRecord, CheckedError>>,
    options: &IngestOptions,
) -> Vec<Checked> {
    // Parent titles: from a record prepared in the same batch (an anchor exported with
    // its volume), else from the stored parent.
    let titles: HashMap<String, Option<String>> = prepared
        .iter()
        .flatten()
        .map(|r| (r.local_id.clone(), r.title.clone()))
        .collect();
    let mut parents = Vec::with_capacity(prepared.len());
    for record in &prepared {
        let mut title = None;
        if let Ok(record) = record {
            for r in &record.parent_refs {
                if let Some(t) = titles.get(r) {
                    title = t.clone();
                    break;
                }
                if let Ok(Some(status)) = store.record_status(record.domain_id, r).await {
                    title = status.title;
                    break;
                }
            }
        }
        parents.push(title);
    }
    let public_url = options.public_url.clone();
    let count = prepared.len();
    let outcome = tokio::task::spawn_blocking(move || {
        prepared
            .into_par_iter()
            .zip(parents)
            .map(|(record, parent_title)| {
                let record = record?;
                let result = validate_record(&record, parent_title, &tree, &public_url)?;
                Ok((record, Some(result)))
            })
            .collect::<Vec<Checked>>()
    })
    .await;
    match outcome {
        Ok(checked) => checked,
        Err(e) => (0..count)
            .map(|_| {
                Err(CheckedError::Read(format!(
                    "validating the records failed: {e}"
                )))
            })
            .collect(),
    }
}

/// The METS of a prepared record, as it is stored (uncompressed).
fn stored_mets(record: &PutRecord) -> Option<Vec<u8>> {
    let mets = record
        .payloads
        .iter()
        .find(|p| p.prefix == crate::formats::Format::Mets.prefix())?;
    crate::store::decompress(&mets.compressed).ok()
}

/// The zmets validation of one prepared record.
fn validate_record(
    record: &PutRecord,
    parent_title: Option<String>,
    tree: &DomainTree,
    public_url: &str,
) -> Result<ValidationResult, CheckedError> {
    let failed = |message: String| CheckedError::Validation {
        local_id: record.local_id.clone(),
        message,
    };
    let task = ValidationTask {
        record_id: 0,
        domain_id: record.domain_id,
        local_id: record.local_id.clone(),
        revision: 0,
        mets: stored_mets(record)
            .ok_or_else(|| failed("the record has no readable METS".into()))?,
        parent_title,
    };
    crate::validation::record::validate_record(&task, tree, public_url)
        .map_err(|e| failed(format!("{e:#}")))
}
