//! Finding the METS document in bytes that are meant to hold one: a METS file, or an
//! OAI-PMH response whose record is METS. Validation and repairs both start here.

use super::METS_NS;
use crate::xml::{parse, ParseError, ParseLimits};
use libxml::tree::{Document, SaveOptions};

/// Why bytes do not give a METS document (what `vitrine validate` reports for such a
/// file, and what a repair refuses).
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetsDocumentError {
    /// Not well-formed or unsafe XML.
    #[error("{0}")]
    Xml(#[from] ParseError),
    /// Neither METS nor an OAI-PMH response with METS inside.
    #[error("not a METS document: the root element is {0}, and it holds no mets:mets")]
    NotMets(String),
}

/// The METS document in `bytes`: the document itself, or the first `mets:mets` inside an
/// OAI-PMH envelope as a document of its own.
pub fn mets_document(bytes: &[u8], limits: ParseLimits) -> Result<Document, MetsDocumentError> {
    let doc = parse(bytes, limits)?;
    let root = doc
        .get_root_element()
        .ok_or_else(|| MetsDocumentError::NotMets("missing".into()))?;
    let ns = root
        .get_namespace()
        .map(|n| n.get_href())
        .unwrap_or_default();
    if root.get_name() == "mets" && ns == METS_NS {
        return Ok(doc);
    }
    let mut ctx = libxml::xpath::Context::new(&doc)
        .map_err(|_| MetsDocumentError::NotMets(format!("{{{ns}}}{}", root.get_name())))?;
    let _ = ctx.register_namespace("mets", METS_NS);
    let inner = ctx
        .findnodes("//mets:mets", None)
        .ok()
        .and_then(|nodes| nodes.into_iter().next())
        .ok_or_else(|| MetsDocumentError::NotMets(format!("{{{ns}}}{}", root.get_name())))?;
    let copy = Document::dup_node_into_new_doc(&inner)
        .map_err(|_| MetsDocumentError::NotMets("an unreadable envelope".into()))?;
    let text = copy.to_string_with_options(SaveOptions {
        no_declaration: true,
        ..SaveOptions::default()
    });
    Ok(parse(text.as_bytes(), limits)?)
}
