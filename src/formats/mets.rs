//! Reading a METS document at ingest: checks that it is METS, finds what vitrine needs
//! to store and index it (local id, parent reference, title, collections), and renders
//! the formats that are derived from it once (`mets` embed form, `mods`, `oai_dc`).

use super::{crosswalk, METS_NS, MODS_NS, XLINK_NS, XSI_NS};
use crate::xml::{parse, parse_source, ParseError, ParseLimits, Parsed};
use libxml::tree::{Document, Node, SaveOptions};
use libxml::xpath::Context;

/// What ingest learns from one METS document.
#[derive(Debug, Clone)]
pub struct MetsRecord {
    /// Local id from the primary MODS `recordInfo/recordIdentifier`, else `mets/@OBJID`.
    pub local_id: Option<String>,
    /// Candidate local ids of the parent (anchor): from the `mptr` of the div enclosing
    /// the record's own div, and from `relatedItem[@type='host']`'s recordIdentifier.
    pub parent_refs: Vec<String>,
    /// Main title, for people.
    pub title: Option<String>,
    /// `mods:classification` values of the primary MODS (digital collections).
    pub classifications: Vec<String>,
    /// The METS root element as UTF-8, without XML declaration or prolog: what the
    /// `mets` format embeds.
    pub mets: Vec<u8>,
    /// The primary MODS as a standalone element with its namespaces and schema location.
    pub mods: Option<String>,
    /// Dublin Core crosswalked from the MODS (`None` when there is no MODS).
    pub dc: Option<String>,
}

/// Why a document is not accepted as METS.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetsError {
    /// Not well-formed or unsafe XML (SPEC §4: 400 with line and column).
    #[error("{0}")]
    Xml(#[from] ParseError),
    /// Well-formed, but not METS (SPEC §4: 422).
    #[error("not a METS document: the root element is {found}, expected mets:mets in {METS_NS}")]
    NotMets {
        /// The root element found, as `{namespace}name`.
        found: String,
    },
    /// The MODS could not be crosswalked.
    #[error("{0}")]
    Crosswalk(#[from] crosswalk::CrosswalkError),
}

/// Reads a METS document.
pub fn read(bytes: &[u8], limits: ParseLimits) -> Result<MetsRecord, MetsError> {
    read_with(bytes, limits, true)
}

/// The local id of a METS document (primary MODS recordIdentifier, else `mets/@OBJID`),
/// without the crosswalk: what an import compares between its files first.
pub fn local_id(bytes: &[u8], limits: ParseLimits) -> Result<Option<String>, MetsError> {
    let parsed = parse_source(bytes, limits)?;
    let (root, mut ctx) = open(&parsed.document)?;
    let mods_node = primary_mods_node(&mut ctx);
    Ok(local_id_in(&mut ctx, mods_node.as_ref(), &root))
}

/// The root of a parsed METS document and an XPath context over it with vitrine's
/// prefixes; refuses a document whose root is not `mets:mets`.
fn open(doc: &Document) -> Result<(Node, Context), MetsError> {
    let root = doc.get_root_element().ok_or(MetsError::NotMets {
        found: "nothing".into(),
    })?;
    let ns = root
        .get_namespace()
        .map(|n| n.get_href())
        .unwrap_or_default();
    if root.get_name() != "mets" || ns != METS_NS {
        return Err(MetsError::NotMets {
            found: format!("{{{ns}}}{}", root.get_name()),
        });
    }
    let ctx = Context::new(doc).map_err(|_| MetsError::NotMets {
        found: "an unreadable document".into(),
    })?;
    for (prefix, href) in [("mets", METS_NS), ("mods", MODS_NS), ("xlink", XLINK_NS)] {
        let _ = ctx.register_namespace(prefix, href);
    }
    Ok((root, ctx))
}

/// The primary MODS recordIdentifier, else `mets/@OBJID`; leaves the context at the
/// primary MODS when there is one.
fn local_id_in(ctx: &mut Context, mods: Option<&Node>, root: &Node) -> Option<String> {
    if let Some(mods) = mods {
        let _ = ctx.set_context_node(mods);
        let id = value(
            ctx,
            "normalize-space(mods:recordInfo/mods:recordIdentifier[1])",
        );
        if !id.is_empty() {
            return Some(id);
        }
    }
    let objid = root.get_attribute("OBJID").unwrap_or_default();
    (!objid.trim().is_empty()).then(|| objid.trim().to_string())
}

/// The primary MODS of a METS document as a standalone element (no Dublin Core, no
/// indexing): what `zmods` serves of a zmets.
pub fn primary_mods(bytes: &[u8], limits: ParseLimits) -> Result<Option<String>, MetsError> {
    Ok(read_with(bytes, limits, false)?.mods)
}

/// The primary MODS of a parsed METS document as a standalone element, as
/// [`primary_mods`] renders it from the bytes.
pub fn primary_mods_of(doc: &Document) -> Result<Option<String>, MetsError> {
    let mut ctx = Context::new(doc).map_err(|_| MetsError::NotMets {
        found: "an unreadable document".into(),
    })?;
    for (prefix, href) in [("mets", METS_NS), ("mods", MODS_NS), ("xlink", XLINK_NS)] {
        let _ = ctx.register_namespace(prefix, href);
    }
    match primary_mods_node(&mut ctx) {
        Some(mods) => Ok(Some(serialize_root(&standalone_mods(&mods)?))),
        None => Ok(None),
    }
}

/// The record's own div: the first logical div with metadata that is not a pointer to
/// another METS file (the DFG-Viewer's choice of main element).
const PRIMARY_DIV: &str =
    "(//mets:structMap[@TYPE='LOGICAL']//mets:div[@DMDID][not(mets:mptr)])[1]";

/// The MODS of the dmdSec the primary div names, else the first MODS there is.
fn primary_mods_node(ctx: &mut Context) -> Option<Node> {
    let dmd_id = value(ctx, &format!("string({PRIMARY_DIV}/@DMDID)"));
    let dmd_id = dmd_id.split_whitespace().next().unwrap_or("").to_string();
    let all_mods = ctx
        .findnodes(
            "/mets:mets/mets:dmdSec/mets:mdWrap/mets:xmlData/mods:mods",
            None,
        )
        .unwrap_or_default();
    let in_primary_dmd = |mods: &&Node| {
        let dmd_sec = mods
            .get_parent()
            .and_then(|x| x.get_parent())
            .and_then(|w| w.get_parent());
        dmd_sec.and_then(|d| d.get_attribute("ID")).as_deref() == Some(dmd_id.as_str())
    };
    all_mods
        .iter()
        .find(in_primary_dmd)
        .or_else(|| all_mods.first())
        .cloned()
}

fn read_with(bytes: &[u8], limits: ParseLimits, with_dc: bool) -> Result<MetsRecord, MetsError> {
    let parsed = parse_source(bytes, limits)?;
    let (root, mut ctx) = open(&parsed.document)?;
    let mods_node = primary_mods_node(&mut ctx);

    let mut record = MetsRecord {
        local_id: None,
        parent_refs: Vec::new(),
        title: None,
        classifications: Vec::new(),
        mets: embed_form(&parsed, &root),
        mods: None,
        dc: None,
    };

    let mptr = value(
        &ctx,
        &format!("string({PRIMARY_DIV}/ancestor::mets:div[mets:mptr][1]/mets:mptr[1]/@xlink:href)"),
    );
    if let Some(key) = parent_key_from_href(&mptr) {
        record.parent_refs.push(key);
    }

    record.local_id = local_id_in(&mut ctx, mods_node.as_ref(), &root);
    if let Some(mods) = &mods_node {
        let host = value(
            &ctx,
            "normalize-space(mods:relatedItem[@type='host']/mods:recordInfo/mods:recordIdentifier[1])",
        );
        if !host.is_empty() && !record.parent_refs.contains(&host) {
            record.parent_refs.push(host);
        }
        let title = value(
            &ctx,
            "normalize-space((mods:titleInfo[not(@type)]/mods:title | mods:titleInfo/mods:title)[1])",
        );
        if !title.is_empty() {
            record.title = Some(title);
        }
        record.classifications = ctx
            .findvalues("mods:classification", Some(mods))
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let standalone = standalone_mods(mods)?;
        record.mods = Some(serialize_root(&standalone));
        if with_dc {
            record.dc = Some(crosswalk::mods_to_dc(standalone)?);
        }
    }
    if record.title.is_none() {
        let label = value(&ctx, &format!("normalize-space({PRIMARY_DIV}/@LABEL)"));
        if !label.is_empty() {
            record.title = Some(label);
        }
    }
    Ok(record)
}

/// The local id a `mptr` points to: the value of an `id`/`identifier` query parameter
/// (the local part of an OAI identifier), else the last path segment without `.xml`,
/// else the bare value (Kitodo writes bare ids).
pub fn parent_key_from_href(href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    for pair in query.split('&') {
        if let Some((name, value)) = pair.split_once('=') {
            if matches!(name, "id" | "identifier" | "PPN" | "ppn") && !value.is_empty() {
                let value = percent_decode(value);
                // oai:repo:local → local
                let local = match value.strip_prefix("oai:").and_then(|r| r.split_once(':')) {
                    Some((_, local)) => local.to_string(),
                    None => value,
                };
                return Some(local);
            }
        }
    }
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    let last = last.strip_suffix(".xml").unwrap_or(last);
    let last = last.strip_suffix("_anchor").unwrap_or(last);
    (!last.is_empty()).then(|| percent_decode(last))
}

/// `text` with its `%XX` escapes decoded and `+` read as a space (as in a query); bytes
/// that are not UTF-8 become U+FFFD.
fn percent_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn value(ctx: &Context, xpath: &str) -> String {
    ctx.evaluate(xpath)
        .map(|o| o.to_string())
        .unwrap_or_default()
}

/// The primary MODS as its own document, its namespaces declared on its root, with the
/// schema location that ListMetadataFormats announces.
fn standalone_mods(mods: &Node) -> Result<Document, MetsError> {
    let text = {
        // Serialising the subtree and re-parsing it lets libxml2 declare every namespace
        // the subtree uses on the new root.
        let mut doc = Document::dup_node_into_new_doc(mods)
            .map_err(|_| crosswalk::CrosswalkError::Transform("cannot copy the MODS".into()))?;
        let mut root = doc.get_root_element().ok_or_else(|| {
            crosswalk::CrosswalkError::Transform("the MODS copy has no root".into())
        })?;
        let _ = root.remove_attribute_ns("schemaLocation", XSI_NS);
        let xsi = match root
            .get_namespace_declarations()
            .into_iter()
            .find(|n| n.get_href() == XSI_NS)
        {
            Some(ns) => ns,
            None => {
                let prefix = if root.lookup_namespace_uri("xsi").is_some() {
                    "vitrine-xsi"
                } else {
                    "xsi"
                };
                libxml::tree::Namespace::new(prefix, XSI_NS, &mut root).map_err(|_| {
                    crosswalk::CrosswalkError::Transform("cannot declare xsi".into())
                })?
            }
        };
        root.set_attribute_ns(
            "schemaLocation",
            &format!("{MODS_NS} {}", super::Format::Mods.schema()),
            &xsi,
        )
        .map_err(|e| crosswalk::CrosswalkError::Transform(e.to_string()))?;
        doc.set_root_element(&root);
        serialize_root(&doc)
    };
    Ok(parse(text.as_bytes(), ParseLimits::default())?)
}

fn serialize_root(doc: &Document) -> String {
    doc.to_string_with_options(SaveOptions {
        no_declaration: true,
        ..SaveOptions::default()
    })
    .trim()
    .to_string()
}

/// The root element's bytes as ingested when the input is UTF-8 (after any byte order
/// mark, or decoded from UTF-16), else libxml2's UTF-8 serialisation of the root.
fn embed_form(parsed: &Parsed<'_>, root: &Node) -> Vec<u8> {
    let text = &parsed.source.text;
    if let (true, Some(start)) = (parsed.source.utf8, parsed.root_start) {
        // Trailing comments or PIs after the root: cut at the root's end tag.
        let slice = trim_after_root(&text[start..]);
        if std::str::from_utf8(slice).is_ok() {
            return slice.to_vec();
        }
    }
    parsed.document.node_to_string(root).into_bytes()
}

/// Cuts anything after the root element's end (comments, processing instructions).
fn trim_after_root(slice: &[u8]) -> &[u8] {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(slice);
    let mut depth = 0usize;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &slice[..reader.buffer_position() as usize];
                }
            }
            Ok(Event::Empty(_)) if depth == 0 => {
                return &slice[..reader.buffer_position() as usize];
            }
            Ok(Event::Eof) | Err(_) => return slice,
            Ok(_) => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> MetsRecord {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/demo")
            .join(path);
        read(&std::fs::read(file).unwrap(), ParseLimits::default()).unwrap()
    }

    #[test]
    fn a_volume_is_read_from_its_own_dmd_sec_with_its_anchor_as_parent() {
        let volume = fixture("main/demo_mvw_0001_02.xml");
        assert_eq!(volume.local_id.as_deref(), Some("demo_mvw_0001_02"));
        assert_eq!(volume.parent_refs, vec!["demo_mvw_0001".to_string()]);
        let mods = volume.mods.unwrap();
        assert!(mods.contains("demo_mvw_0001_02") && mods.contains("xsi:schemaLocation"));
        assert!(!String::from_utf8(volume.mets).unwrap().starts_with("<?xml"));
    }

    #[test]
    fn an_issue_names_its_year_not_the_newspaper_as_parent() {
        let issue = fixture("zd/demo_zd_0001_18480304.xml");
        assert_eq!(
            issue.parent_refs.first().map(String::as_str),
            Some("demo_zd_0001_1848")
        );
        assert!(issue.dc.unwrap().contains("<dc:"));
    }

    #[test]
    fn parent_keys_come_from_query_parameters_or_the_last_segment() {
        let cases = [
            ("153142340", "153142340"),
            ("https://x.de/viewer/metsresolver?id=PPN123", "PPN123"),
            ("https://x.de/oai?verb=GetRecord&metadataPrefix=mets&identifier=oai:x.de:1981185920/34743", "1981185920/34743"),
            ("http://x.de/hd/oai/?verb=GetRecord&metadataPrefix=mets&identifier=737429", "737429"),
            ("/data/export/PPN99_anchor.xml", "PPN99"),
        ];
        for (href, key) in cases {
            assert_eq!(parent_key_from_href(href).as_deref(), Some(key), "{href}");
        }
        assert_eq!(parent_key_from_href("  "), None);
    }

    #[test]
    fn escapes_in_a_parent_reference_are_decoded_and_a_broken_one_is_kept() {
        let cases = [
            ("https://x.de/resolver?id=PPN%20123", "PPN 123"),
            ("https://x.de/resolver?id=a+b%2Bc", "a b+c"),
            ("https://x.de/M%C3%BCller.xml", "Müller"),
            // A `%` not followed by two hex digits stays as it is, also before a
            // letter written with two bytes.
            ("https://x.de/resolver?id=%aä", "%aä"),
            ("https://x.de/resolver?id=50%", "50%"),
        ];
        for (href, key) in cases {
            assert_eq!(parent_key_from_href(href).as_deref(), Some(key), "{href}");
        }
    }
}
