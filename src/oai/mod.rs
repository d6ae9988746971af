//! The OAI-PMH 2.0 endpoint as a pure function of a request and the store: `request`
//! parses arguments into a typed request, one file per verb answers it, `envelope` wraps
//! the answer, `resumption_token` pages lists. The HTTP adapter in `web` is a few lines.

mod diagnostics;
pub mod document;
pub mod envelope;
pub mod error;
mod get_record;
mod identify;
mod list_metadata_formats;
mod list_records;
mod list_sets;
mod record;
pub mod request;
pub mod resumption_token;

use crate::domain::{Domain, DomainTree};
use crate::formats::Format;
use crate::store::Store;
use document::{Chunks, Document};
use error::{Code, OaiError};
use request::Request;
use resumption_token::TokenKey;

/// Everything a verb needs to answer for one endpoint.
pub struct Endpoint<'a> {
    /// The endpoint's domain.
    pub domain: &'a Domain,
    /// All domains with their configuration.
    pub tree: &'a DomainTree,
    /// Storage.
    pub store: &'a dyn Store,
    /// The base URL as requested (Identify/baseURL, `request` element).
    pub base_url: &'a str,
    /// Resumption token key.
    pub tokens: &'a TokenKey,
    /// Token lifetime in seconds.
    pub token_lifetime: i64,
    /// responseDate, taken when the request started (Unix seconds).
    pub response_date: i64,
    /// Protected domains below this endpoint's domain whose credentials the client sent:
    /// the other protected domains (and their sub-domains) are invisible to it.
    pub unlocked: &'a [i64],
    /// Metadata bytes per list page (the page ends early once its records reach it).
    pub max_page_bytes: u64,
}

impl Endpoint<'_> {
    /// Domains this endpoint covers for this client (`None`: all).
    pub fn scope(&self) -> Option<Vec<i64>> {
        self.tree.visible_scope(self.domain.id, self.unlocked)
    }

    /// `id` and the domains below it this client may see.
    pub fn visible_subtree(&self, id: i64) -> Vec<i64> {
        self.tree.visible_subtree(id, self.unlocked)
    }

    /// Formats this endpoint disseminates: the base formats, and zmets/zmods where the
    /// domain switches them on.
    pub fn formats(&self) -> Vec<Format> {
        let switches = self.tree.config(self.domain.id).oai.formats;
        Format::ALL
            .into_iter()
            .filter(|f| match f {
                Format::Zmets => switches.zmets.on,
                Format::Zmods => switches.zmods.on,
                _ => true,
            })
            .collect()
    }

    /// The format for a prefix, if this endpoint disseminates it.
    pub fn format(&self, prefix: &str) -> Result<Format, OaiError> {
        Format::parse(prefix)
            .filter(|f| self.formats().contains(f))
            .ok_or_else(|| {
                OaiError::new(
                    Code::CannotDisseminateFormat,
                    format!("the metadata format {prefix:?} is not available in this repository"),
                )
            })
    }
}

/// Why a verb produced no answer: protocol errors (answered in the response) or a
/// storage failure (answered by the HTTP layer with a 5xx status).
#[derive(Debug)]
pub enum Failure {
    /// One or more OAI-PMH errors.
    Protocol(Vec<OaiError>),
    /// The store failed.
    Store(crate::store::StoreError),
}

impl From<OaiError> for Failure {
    fn from(e: OaiError) -> Self {
        Failure::Protocol(vec![e])
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::Store(e)
    }
}

/// Answers one OAI-PMH request with the complete response document; `Err` only when the
/// store failed.
pub async fn respond(
    endpoint: &Endpoint<'_>,
    pairs: &[(String, String)],
) -> Result<Document, crate::store::StoreError> {
    let outcome = match request::parse(pairs) {
        Err(errors) => Err(errors),
        Ok(request) => match answer(endpoint, request).await {
            Ok(ok) => Ok(ok),
            Err(Failure::Protocol(errors)) => Err(errors),
            Err(Failure::Store(e)) => return Err(e),
        },
    };
    Ok(envelope::response(
        endpoint.response_date,
        endpoint.base_url,
        pairs,
        outcome,
    ))
}

async fn answer(
    endpoint: &Endpoint<'_>,
    request: Request,
) -> Result<(&'static str, Chunks), Failure> {
    Ok(match request {
        Request::Identify => ("Identify", identify::run(endpoint).await?.into()),
        Request::ListMetadataFormats { identifier } => (
            "ListMetadataFormats",
            list_metadata_formats::run(endpoint, identifier.as_deref())
                .await?
                .into(),
        ),
        Request::ListSets { resumption_token } => (
            "ListSets",
            list_sets::run(endpoint, resumption_token.as_deref())
                .await?
                .into(),
        ),
        Request::List { verb, start } => {
            (verb.name(), list_records::run(endpoint, verb, start).await?)
        }
        Request::GetRecord {
            identifier,
            prefix,
            diag,
        } => (
            "GetRecord",
            get_record::run(endpoint, &identifier, &prefix, diag).await?,
        ),
    })
}
