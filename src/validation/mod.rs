//! ZVDD validation of METS documents with the Schematron engine: the bundled rule set
//! (`schematron/zvdd.sch`), compiled once, and validation of files as `vitrine validate`
//! and Goobi script steps use it (METS files, or OAI-PMH GetRecord responses holding one).

pub mod location;
pub mod record;
mod rules;
pub mod text;

pub use rules::{rule_info, RuleInfo};

use crate::formats::METS_NS;
use crate::schematron::{self, CompileError, CompileOptions, Report, Schema};
use crate::xml::{parse, ParseError, ParseLimits};
use libxml::tree::{Document, SaveOptions};
use std::sync::OnceLock;

/// The bundled ZVDD rule set.
pub const ZVDD_RULES: &str = include_str!("../../schematron/zvdd.sch");

/// The bundled rule set, compiled once per process (all phases).
pub fn zvdd() -> Result<&'static Schema, CompileError> {
    static SCHEMA: OnceLock<Result<Schema, CompileError>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::compile(ZVDD_RULES.as_bytes(), &CompileOptions::default()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Why a document could not be validated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ValidateError {
    /// Not well-formed or unsafe XML.
    #[error("{0}")]
    Xml(#[from] ParseError),
    /// Neither METS nor an OAI-PMH response with METS inside.
    #[error("not a METS document: the root element is {0}, and it holds no mets:mets")]
    NotMets(String),
}

/// Validates one document (METS, or an OAI-PMH response whose record is METS) against
/// every schema; findings of all schemas are merged.
pub fn validate(
    bytes: &[u8],
    schemas: &[Schema],
    limits: ParseLimits,
) -> Result<Report, ValidateError> {
    let doc = mets_document(bytes, limits)?;
    Ok(schematron::validate_all(schemas, &doc))
}

/// The METS document in `bytes`: the document itself, or the first `mets:mets` inside an
/// OAI-PMH envelope as a document of its own.
pub fn mets_document(bytes: &[u8], limits: ParseLimits) -> Result<Document, ValidateError> {
    let doc = parse(bytes, limits)?;
    let root = doc
        .get_root_element()
        .ok_or_else(|| ValidateError::NotMets("missing".into()))?;
    let ns = root
        .get_namespace()
        .map(|n| n.get_href())
        .unwrap_or_default();
    if root.get_name() == "mets" && ns == METS_NS {
        return Ok(doc);
    }
    let mut ctx = libxml::xpath::Context::new(&doc)
        .map_err(|_| ValidateError::NotMets(format!("{{{ns}}}{}", root.get_name())))?;
    let _ = ctx.register_namespace("mets", METS_NS);
    let inner = ctx
        .findnodes("//mets:mets", None)
        .ok()
        .and_then(|nodes| nodes.into_iter().next())
        .ok_or_else(|| ValidateError::NotMets(format!("{{{ns}}}{}", root.get_name())))?;
    let copy = Document::dup_node_into_new_doc(&inner)
        .map_err(|_| ValidateError::NotMets("an unreadable envelope".into()))?;
    let text = copy.to_string_with_options(SaveOptions {
        no_declaration: true,
        ..SaveOptions::default()
    });
    Ok(parse(text.as_bytes(), limits)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_rule_set_compiles() {
        let (patterns, rules, checks) = zvdd().unwrap().size();
        assert!(
            patterns > 10 && rules > 40 && checks >= 80,
            "{patterns} {rules} {checks}"
        );
    }

    #[test]
    fn a_mets_inside_an_oai_envelope_is_validated() {
        let envelope = br#"<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><GetRecord><record><metadata>
            <mets:mets xmlns:mets="http://www.loc.gov/METS/"/></metadata></record></GetRecord></OAI-PMH>"#;
        let doc = mets_document(envelope, ParseLimits::default()).unwrap();
        assert_eq!(doc.get_root_element().unwrap().get_name(), "mets");
        let bare = br#"<mods xmlns="http://www.loc.gov/mods/v3"/>"#;
        assert!(matches!(
            mets_document(bare, ParseLimits::default()),
            Err(ValidateError::NotMets(_))
        ));
    }
}
