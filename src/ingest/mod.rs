//! Ingest: turning METS files, as workflow systems export them to the DMS, into stored
//! records. [`prepare`] does all the XML work (CPU-bound, no database); the store then
//! commits each prepared record whole or not at all. [`import`] drives this for files
//! and folders (the `vitrine import` command).

mod checked;
pub mod hotfolder;
mod import;

pub use checked::{
    ingest_document, ingest_files, read_file, CheckedError, FileResult, IngestOptions, Ingested,
    ValidateMode,
};
pub use import::{
    collect_files, import, import_until, read_document, ImportOptions, ImportReport, StorageFailure,
};

use crate::domain::{DomainTree, LocalId, OaiIdentifier};
use crate::formats::{crosswalk, mets, Format};
use crate::store::{Payload, PutRecord};
use crate::xml::ParseLimits;

/// Why a METS document was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    /// Malformed XML, not METS, or the crosswalk failed.
    #[error(transparent)]
    Mets(#[from] mets::MetsError),
    /// Neither MODS recordIdentifier nor METS @OBJID, and no id given (SPEC §2).
    #[error("no local identifier: the primary MODS has no recordInfo/recordIdentifier and mets:mets has no OBJID")]
    NoLocalId,
    /// The local identifier is not usable.
    #[error("{0}")]
    BadLocalId(#[from] crate::domain::InvalidValue),
    /// The local id in the document differs from the one in the request.
    #[error("the document's local identifier {found:?} differs from {given:?}")]
    LocalIdMismatch {
        /// From the URL or command line.
        given: String,
        /// From the document.
        found: String,
    },
}

impl IngestError {
    /// Whether the input was not even well-formed XML (HTTP 400) rather than unusable
    /// METS (HTTP 422).
    pub fn is_malformed(&self) -> bool {
        matches!(self, IngestError::Mets(mets::MetsError::Xml(_)))
    }
}

/// Reads a METS document and prepares everything the store needs.
///
/// `given_id` is the local id named by the caller (REST path); it must agree with the
/// document's own id when the document has one, and is used when it has none.
pub fn prepare(
    bytes: &[u8],
    domain_id: i64,
    tree: &DomainTree,
    given_id: Option<&str>,
    release: bool,
    limits: ParseLimits,
) -> Result<PutRecord, IngestError> {
    let record = mets::read(bytes, limits)?;
    let local = match (&record.local_id, given_id) {
        (Some(found), Some(given)) if found != given => {
            return Err(IngestError::LocalIdMismatch {
                given: given.to_string(),
                found: found.clone(),
            })
        }
        (Some(found), _) => found.clone(),
        (None, Some(given)) => given.to_string(),
        (None, None) => return Err(IngestError::NoLocalId),
    };
    let local = LocalId::parse(&local)?;
    let oai_identifier = OaiIdentifier::new(&tree.repository_identifier(domain_id), &local);
    let dc = match record.dc {
        Some(dc) => dc,
        None => crosswalk::minimal_dc(record.title.as_deref(), oai_identifier.as_str()),
    };
    let mut payloads = vec![
        Payload::new(Format::Mets.prefix(), &record.mets),
        Payload::new(Format::OaiDc.prefix(), dc.as_bytes()),
    ];
    if let Some(mods) = record.mods {
        payloads.push(Payload::new(Format::Mods.prefix(), mods.as_bytes()));
    }
    let parent_refs = record
        .parent_refs
        .into_iter()
        .filter(|r| r != local.as_str())
        .collect();
    Ok(PutRecord {
        domain_id,
        local_id: local.as_str().to_string(),
        oai_identifier: oai_identifier.as_str().to_string(),
        parent_refs,
        title: record.title,
        sets: tree.sets_for(domain_id, &record.classifications),
        payloads,
        release,
    })
}
