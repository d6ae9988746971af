//! ZVDD conformance repairs: turn a stored METS into the `zmets` harvesters receive
//! (SPEC §3, §5). A repair fixes what the ZVDD profile demands and the METS lacks, from
//! data vitrine has — the local id, the domain configuration, this provider's URLs, the
//! record's own structure — and never invents bibliographic facts: whatever cannot be
//! derived stays untouched and remains a finding. Every change is logged with the rule
//! it answers, the XPath of the changed node, and the value before and after.
//! Repairing is idempotent: a repaired METS repairs to itself with an empty log.
//!
//! | rule id (`schematron/zvdd.sch`) | kind | what is derived from what |
//! |---|---|---|
//! | `MODS-AP-Kap-2.10-a` | [`RepairKind::RecordIdentifier`] | missing primary `recordInfo/recordIdentifier` ← the local id (`@source` ← the domain's source) |
//! | `MODS-AP-Kap-2.10-b` | [`RepairKind::RecordIdentifierSource`] | missing `@source` of the primary recordIdentifier ← the domain's `record_identifier_source` |
//! | `MODS-AP-Kap-2.10-c` | [`RepairKind::RecordIdentifierSpace`] | white space around the primary recordIdentifier removed (inner white space stays a finding) |
//! | `MODS-AP-Kap-2.10-d` | [`RepairKind::Duplicate`] | second and later `recordInfo` merged into the first, later `recordIdentifier`s dropped |
//! | `METS-AP-Kap-2.6.1-a` | [`RepairKind::Rights`] | no `amdSec` at all → an empty one after the last dmdSec, to hold the two below |
//! | `METS-AP-Kap-2.6.2.1-a` | [`RepairKind::Rights`] | missing `rightsMD/mdWrap[@OTHERMDTYPE='DVRIGHTS']/xmlData/dv:rights` ← the institution (only when all four owner fields are configured) |
//! | `METS-AP-Kap-2.6.2.1-b`, `-d`, `-e`, `-f` | [`RepairKind::Rights`] | missing or invalid `dv:owner`, `dv:ownerLogo`, `dv:ownerSiteURL`, `dv:ownerContact` ← the institution, only in a `dv:rights` without owner or naming the configured one |
//! | `METS-AP-Kap-2.6.2.1-c`, `-h` | [`RepairKind::Duplicate`] | second and later `dv:owner` / `dv:license` dropped |
//! | `METS-AP-Kap-2.1.2.1-f` | [`RepairKind::AdmidWiring`] | `ADMID` of the primary div ← the amdSec holding `dv:rights` |
//! | `METS-AP-Kap-2.6.2.2-a` | [`RepairKind::Links`] | missing `digiprovMD/mdWrap[@OTHERMDTYPE='DVLINKS']/xmlData/dv:links` ← the context's reference and presentation URLs |
//! | `METS-AP-Kap-2.6.2.2-c`, `-d`, `-e` | [`RepairKind::Links`] | missing `dv:presentation` / `dv:reference`, or one that is no URL ← the same |
//! | `METS-AP-Kap-2.1.2.2-a`, `-b` | [`RepairKind::MetsPointer`] | every logical `mptr` → this provider's zmets GetRecord URL of the record it names, `LOCTYPE="URL"` |
//! | `METS-AP-Kap-2.1.2.1-c` | [`RepairKind::StructureType`] | logical div `TYPE` in Goobi/Kitodo ruleset spelling → DFG structure type |
//! | `METS-AP-Kap-2.2.1-b`, `METS-AP-Kap-2.2.2.1-h` | [`RepairKind::PhysicalType`] | top physical div without `TYPE` (holding pages) → `physSequence`; physical types differing only in case → `physSequence` / `page` |
//! | `METS-AP-Kap-2.2.2.1-b` | [`RepairKind::PageOrder`] | missing page `ORDER` ← position in the physical sequence (only without conflict) |
//! | `MODS-AP-Kap-2.4-b`, `-c` | [`RepairKind::Language`] | language names, ISO 639-1 and 639-2/T codes → ISO 639-2/B, `authority="iso639-2b"` `type="code"` |
//! | `MODS-AP-Kap-2.3.1-d` | [`RepairKind::Date`] | encoded date in an exact non-W3CDTF spelling (`18.03.1848`) → W3CDTF in place |
//! | `MODS-AP-Kap-2.3.1-f` | [`RepairKind::Date`] | key date without `encoding`: W3CDTF value → `encoding="w3cdtf"`; exact other spelling (`[1795]`) → a normalised sibling takes `keyDate`, the transcription stays |
//! | `MODS-AP-Kap-2.3.1-b` | [`RepairKind::KeyDate`] | no key date → `keyDate="yes"` (and `encoding`) on the first publication/creation date that is W3CDTF, else a normalised sibling of the first exact one; never a second encoded date of a kind (`-c`) |
//! | `MODS-AP-Kap-2.3.1-a` | [`RepairKind::KeyDate`] | several key dates → only the first keeps `keyDate` |
//! | `MODS-AP-Kap-2.1-a` | [`RepairKind::VolumeTitle`] | missing title of a volume/issue ← parent title + `mods:part/mods:detail/mods:number` (else the div's `ORDERLABEL`) as `partNumber` |
//! | `MODS-AP-Kap-2.2` | [`RepairKind::DisplayForm`] | missing `displayForm` of a personal name ← "Family, Given" from its typed name parts (the rule set has no check of its own; the DFG-Viewer shows `displayForm`) |
//! | `METS-AP-Kap-2.5.2-c` | [`RepairKind::MdType`] | `mdWrap` holding MODS without `MDTYPE="MODS"` → `MODS` |
//!
//! Not repaired, because nothing vitrine has can tell the answer: uncertain or vague
//! dates (`[1795?]`, `18. Jh.`), unknown structure types (`epicedia`), a missing
//! `DEFAULT` file group, relative file locations, conflicting page orders, ambiguous
//! language names (`Griechisch`).

mod amd;
mod dates;
mod edit;
mod ident;
mod lang;
mod links;
mod mods;
mod structure;
mod tree;
mod vocab;

#[cfg(test)]
mod tests;

use crate::domain::settings::Institution;
use crate::formats::document::{mets_document, MetsDocumentError};
use crate::xml::ParseLimits;
use libxml::tree::{Document, SaveOptions};
use tree::Tree;

/// What vitrine knows about the record and its domain beyond the METS itself.
#[derive(Debug, Clone)]
pub struct RepairContext<'a> {
    /// The record's local id (`oai:{repo}:{local_id}`).
    pub local_id: &'a str,
    /// The domain's configured `recordIdentifier/@source`.
    pub record_identifier_source: Option<&'a str>,
    /// Owner data for `dv:rights`.
    pub institution: &'a Institution,
    /// This domain's OAI base URL, e.g. `https://digital.example.org/ulb/oai`.
    pub oai_base_url: &'a str,
    /// The repository identifier of OAI identifiers.
    pub repository_identifier: &'a str,
    /// `dv:presentation`: where the institution presents this record.
    pub presentation_url: Option<String>,
    /// `dv:reference`: the catalogue entry of the original.
    pub reference_url: Option<String>,
    /// Title of the parent (anchor) record, when known.
    pub parent_title: Option<&'a str>,
}

/// The kinds of repair (see the table in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepairKind {
    /// Primary recordIdentifier added from the local id.
    RecordIdentifier,
    /// `@source` of the primary recordIdentifier added from the domain configuration.
    RecordIdentifierSource,
    /// White space around the primary recordIdentifier removed.
    RecordIdentifierSpace,
    /// `dv:rights` or one of its owner fields added or corrected from the institution.
    Rights,
    /// `ADMID` of the primary div pointed at the amdSec with `dv:rights`.
    AdmidWiring,
    /// `dv:links` or one of its URLs added or corrected from the context URLs.
    Links,
    /// `mets:mptr` rewritten to this provider's zmets GetRecord URL.
    MetsPointer,
    /// Logical structure type mapped to the DFG structure list.
    StructureType,
    /// Physical div type set or corrected (`physSequence`, `page`).
    PhysicalType,
    /// Page `ORDER` derived from the page sequence.
    PageOrder,
    /// Language term normalised to ISO 639-2/B.
    Language,
    /// Date normalised to W3CDTF.
    Date,
    /// Key date marked (or duplicate key dates unmarked).
    KeyDate,
    /// Volume/issue title from the parent title and the volume number.
    VolumeTitle,
    /// `mods:displayForm` from the name parts.
    DisplayForm,
    /// Duplicate singleton reduced to the first.
    Duplicate,
    /// `mdWrap/@MDTYPE` of embedded MODS set to `MODS`.
    MdType,
}

/// One change made to the METS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// The rule of `schematron/zvdd.sch` the change answers.
    pub rule_id: String,
    /// What kind of repair it is.
    pub kind: RepairKind,
    /// XPath of the changed element or attribute (after the change; before it for removals).
    pub xpath: String,
    /// Value (attribute or text) or serialised element before; empty when absent.
    pub before: String,
    /// Value or serialised element after; empty when removed.
    pub after: String,
}

/// The result of [`repair`].
#[derive(Debug, Clone)]
pub struct Repaired {
    /// The repaired METS root element as UTF-8, without XML declaration.
    pub mets: Vec<u8>,
    /// Every change, in the order made.
    pub repairs: Vec<Repair>,
}

/// Why a METS could not be repaired.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RepairError {
    /// Not well-formed, unsafe or not METS.
    #[error("{0}")]
    Input(#[from] MetsDocumentError),
    /// libxml2 could not set up an XPath context.
    #[error("the document cannot be queried")]
    Internal,
}

/// Repairs one METS document (or the METS inside an OAI-PMH response).
pub fn repair(mets: &[u8], ctx: &RepairContext) -> Result<Repaired, RepairError> {
    let doc = mets_document(mets, ParseLimits::default())?;
    Ok(repair_document(doc, ctx)?.0)
}

/// Repairs a parsed METS document in place; returns the result of [`repair`] and the
/// repaired document, whose serialisation `Repaired::mets` is.
pub fn repair_document(
    doc: Document,
    ctx: &RepairContext,
) -> Result<(Repaired, Document), RepairError> {
    let (repairs, mut doc) = repair_in_place(doc, ctx)?;
    let mets = serialize(&mut doc)?;
    Ok((Repaired { mets, repairs }, doc))
}

/// Applies every repair to `doc`; returns the log and the document.
pub fn repair_in_place(
    doc: Document,
    ctx: &RepairContext,
) -> Result<(Vec<Repair>, Document), RepairError> {
    let mut tree = Tree::new(doc).ok_or(RepairError::Internal)?;
    ident::repair(&mut tree, ctx);
    amd::repair(&mut tree, ctx);
    links::repair(&mut tree, ctx);
    structure::repair(&mut tree, ctx);
    mods::repair(&mut tree, ctx);
    dates::repair(&mut tree);
    Ok((tree.log, tree.doc))
}

/// A repaired METS as zmets carries it: the root element only, as the `mets` format
/// embeds it — no XML declaration, and comments, processing instructions or a DOCTYPE
/// around the root are dropped. (`node_to_string` would re-indent the tree, which
/// would not be idempotent.)
pub fn serialize(doc: &mut Document) -> Result<Vec<u8>, RepairError> {
    doc.remove_internal_subset();
    let root = doc.get_root_element().ok_or(RepairError::Internal)?;
    while let Some(mut node) = root.get_prev_sibling() {
        node.unlink();
    }
    while let Some(mut node) = root.get_next_sibling() {
        node.unlink();
    }
    let text = doc.to_string_with_options(SaveOptions {
        no_declaration: true,
        ..SaveOptions::default()
    });
    Ok(text.trim().as_bytes().to_vec())
}
