//! The MODS → Dublin Core crosswalk (Library of Congress mapping), an XSLT 1.0 stylesheet
//! (`xslt/mods2dc.xsl`) run by libxslt, the one user of libxslt (see the crate documentation for libxml).
//!
//! Failure modes handled here: a stylesheet that does not compile comes back from the
//! binding as a usable-looking value holding a null pointer, so every thread checks its
//! stylesheet once with a probe transform before use; a `Stylesheet` is neither `Send`
//! nor ever freed, so each thread compiles exactly one, on first use.

use libxml::tree::{Document, SaveOptions};
use std::cell::RefCell;

/// The stylesheet, compiled into the binary.
const MODS_TO_DC: &str = include_str!("../../xslt/mods2dc.xsl");

/// The crosswalk failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CrosswalkError {
    /// The bundled stylesheet did not compile (a build defect).
    #[error("the MODS to Dublin Core stylesheet cannot be used: {0}")]
    Stylesheet(String),
    /// libxslt could not transform this record.
    #[error("the MODS to Dublin Core transformation failed: {0}")]
    Transform(String),
}

thread_local! {
    static STYLESHEET: RefCell<Option<Result<libxslt::stylesheet::Stylesheet, CrosswalkError>>> =
        const { RefCell::new(None) };
}

fn compile() -> Result<libxslt::stylesheet::Stylesheet, CrosswalkError> {
    let mut stylesheet =
        libxslt::parser::parse_bytes(MODS_TO_DC.as_bytes().to_vec(), "mods2dc.xsl")
            .map_err(CrosswalkError::Stylesheet)?;
    // A stylesheet that failed to compile holds a null pointer; a transform reveals it.
    let probe = crate::xml::parse(
        br#"<mods xmlns="http://www.loc.gov/mods/v3"><titleInfo><title>probe</title></titleInfo></mods>"#,
        crate::xml::ParseLimits::default(),
    )
    .map_err(|e| CrosswalkError::Stylesheet(e.to_string()))?;
    let out = stylesheet
        .transform(probe, Vec::new())
        .map_err(|e| CrosswalkError::Stylesheet(e.to_string()))?;
    let text = serialize(&out);
    if !text.contains("probe") {
        return Err(CrosswalkError::Stylesheet(
            "the probe record produced no dc:title".into(),
        ));
    }
    Ok(stylesheet)
}

/// Crosswalks a MODS document (root `mods:mods`) into an `oai_dc:dc` element, returned
/// without XML declaration. Consumes the document (libxslt may modify it).
pub fn mods_to_dc(mods: Document) -> Result<String, CrosswalkError> {
    STYLESHEET.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stylesheet = slot.get_or_insert_with(compile);
        let stylesheet = stylesheet.as_mut().map_err(|e| e.clone())?;
        let out = stylesheet
            .transform(mods, Vec::new())
            .map_err(|e| CrosswalkError::Transform(e.to_string()))?;
        let text = serialize(&out);
        if text.trim().is_empty() {
            return Err(CrosswalkError::Transform("empty result".into()));
        }
        Ok(text)
    })
}

/// A record that has no MODS still gets Dublin Core (oai_dc is always available): the
/// title from the METS label and the OAI identifier.
pub fn minimal_dc(title: Option<&str>, identifier: &str) -> String {
    let mut out = String::from(
        "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai_dc/ \
         http://www.openarchives.org/OAI/2.0/oai_dc.xsd\">",
    );
    if let Some(title) = title.filter(|t| !t.trim().is_empty()) {
        out.push_str("<dc:title>");
        out.push_str(&quick_xml::escape::escape(title.trim()));
        out.push_str("</dc:title>");
    }
    out.push_str("<dc:identifier>");
    out.push_str(&quick_xml::escape::escape(identifier));
    out.push_str("</dc:identifier></oai_dc:dc>");
    out
}

fn serialize(doc: &Document) -> String {
    doc.to_string_with_options(SaveOptions {
        no_declaration: true,
        ..SaveOptions::default()
    })
    .trim()
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mods_title_and_author_become_dc() {
        let mods = crate::xml::parse(
            br#"<mods:mods xmlns:mods="http://www.loc.gov/mods/v3">
                 <mods:titleInfo><mods:title>Von der Natur</mods:title></mods:titleInfo>
                 <mods:name type="personal"><mods:displayForm>Meier, Anna</mods:displayForm>
                   <mods:role><mods:roleTerm authority="marcrelator" type="code">aut</mods:roleTerm></mods:role></mods:name>
               </mods:mods>"#,
            crate::xml::ParseLimits::default(),
        )
        .unwrap();
        let dc = mods_to_dc(mods).unwrap();
        let doc = crate::xml::parse(dc.as_bytes(), Default::default()).unwrap();
        let ctx = libxml::xpath::Context::new(&doc).unwrap();
        ctx.register_namespace("dc", "http://purl.org/dc/elements/1.1/")
            .unwrap();
        let title = ctx.evaluate("string(//dc:title)").unwrap().to_string();
        let creator = ctx.evaluate("string(//dc:creator)").unwrap().to_string();
        assert_eq!(title, "Von der Natur");
        assert_eq!(creator, "Meier, Anna");
        assert!(!dc.starts_with("<?xml"));
    }

    #[test]
    fn minimal_dc_escapes_its_values() {
        let dc = minimal_dc(Some("A & B <c>"), "oai:x:1");
        assert!(dc.contains("<dc:title>A &amp; B &lt;c&gt;</dc:title>"));
        assert!(crate::xml::parse(dc.as_bytes(), Default::default()).is_ok());
    }
}
