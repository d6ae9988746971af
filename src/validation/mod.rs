//! ZVDD validation of METS documents with the Schematron engine: the bundled rule set
//! (`schematron/zvdd.sch`), compiled once, the other rule sets a domain may validate
//! with beside or instead of it ([`rule_sets`]), and validation of files as `vitrine
//! validate` and Goobi script steps use it (METS files, or OAI-PMH GetRecord responses
//! holding one).

pub mod location;
pub mod record;
pub mod rule_sets;
mod rules;
pub mod text;

pub use rule_sets::{RuleSet, RuleSetError, RuleSets};
pub use rules::{rule_info, RuleInfo};

use crate::schematron::{CompileError, CompileOptions, Report, Schema};
use crate::xml::ParseLimits;
use std::sync::OnceLock;

pub use crate::formats::document::{mets_document, MetsDocumentError as ValidateError};

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

/// Validates one document (METS, or an OAI-PMH response whose record is METS) against
/// every schema; findings of all schemas are merged. A rule set that reads the whole
/// document ([`Schema::reads_whole_document`], the `xslt2` ones such as the DDB's)
/// validates it as given, envelope and all; the others validate the METS.
pub fn validate(
    bytes: &[u8],
    schemas: &[Schema],
    limits: ParseLimits,
) -> Result<Report, ValidateError> {
    // The document is always read, also with no schema, so that what cannot be read is
    // refused whatever the rule sets.
    let mets = if schemas.is_empty() || schemas.iter().any(|s| !s.reads_whole_document()) {
        Some(mets_document(bytes, limits)?)
    } else {
        None
    };
    let whole = if schemas.iter().any(Schema::reads_whole_document) {
        Some(crate::xml::parse(bytes, limits)?)
    } else {
        None
    };
    let mut report = Report::default();
    for schema in schemas {
        let doc = if schema.reads_whole_document() {
            &whole
        } else {
            &mets
        };
        if let Some(doc) = doc {
            report.merge(schema.validate(doc));
        }
    }
    Ok(report)
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
