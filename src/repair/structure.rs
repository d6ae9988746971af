//! Structure repairs (METS-AP Kap. 2.1, 2.2, 2.5.2): `mets:mptr` pointing at this
//! provider's zmets GetRecord URLs, logical types in the DFG structure list, the
//! physical sequence and page types, page `ORDER` from the sequence, and `MDTYPE` of
//! embedded MODS.

use super::tree::Tree;
use super::vocab::{dfg_type, is_dfg_type};
use super::{RepairContext, RepairKind};
use crate::domain::{LocalId, OaiIdentifier};
use crate::formats::mets::parent_key_from_href;
use crate::formats::{METS_NS, XLINK_NS};

/// Runs the structure repairs.
pub fn repair(tree: &mut Tree, ctx: &RepairContext) {
    pointers(tree, ctx);
    logical_types(tree);
    physical_types(tree);
    page_order(tree);
    md_type(tree);
}

/// The zmets GetRecord URL of the record with local id `key`.
pub fn zmets_url(ctx: &RepairContext, key: &LocalId) -> String {
    let identifier = OaiIdentifier::new(ctx.repository_identifier, key);
    let encoded: String = form_urlencoded::byte_serialize(identifier.as_str().as_bytes()).collect();
    let base = ctx.oai_base_url.trim();
    let sep = match base.chars().last() {
        Some('?') | Some('&') => "",
        _ if base.contains('?') => "&",
        _ => "?",
    };
    format!("{base}{sep}verb=GetRecord&metadataPrefix=zmets&identifier={encoded}")
}

/// METS-AP-Kap-2.1.2.2-a/-b: every logical `mptr` (parents above the record's div,
/// children in anchors) → the zmets URL of the record it names, `LOCTYPE="URL"`.
fn pointers(tree: &mut Tree, ctx: &RepairContext) {
    if ctx.oai_base_url.trim().is_empty() {
        return;
    }
    for mut mptr in tree.nodes(
        "/mets:mets/mets:structMap[@TYPE='LOGICAL']//mets:mptr",
        None,
    ) {
        let href = mptr.get_attribute_ns("href", XLINK_NS).unwrap_or_default();
        let Some(key) = parent_key_from_href(&href).and_then(|k| LocalId::parse(&k).ok()) else {
            continue;
        };
        let url = zmets_url(ctx, &key);
        if href != url {
            let Some(xlink) = tree.namespace(&mptr, XLINK_NS, "xlink") else {
                continue;
            };
            if mptr.set_attribute_ns("href", &url, &xlink).is_ok() {
                let path = format!("{}/@xlink:href", super::tree::xpath_of(&mptr));
                tree.record(
                    "METS-AP-Kap-2.1.2.2-a",
                    RepairKind::MetsPointer,
                    path,
                    &href,
                    &url,
                );
            }
        }
        tree.set_attr(
            &mut mptr,
            "LOCTYPE",
            "URL",
            "METS-AP-Kap-2.1.2.2-b",
            RepairKind::MetsPointer,
        );
    }
}

/// METS-AP-Kap-2.1.2.1-c: ruleset type names mapped to the DFG structure list.
fn logical_types(tree: &mut Tree) {
    for mut div in tree.nodes(
        "/mets:mets/mets:structMap[@TYPE='LOGICAL']//mets:div[@TYPE]",
        None,
    ) {
        let current = div.get_attribute("TYPE").unwrap_or_default();
        if is_dfg_type(current.trim()) {
            continue;
        }
        if let Some(mapped) = dfg_type(&current) {
            tree.set_attr(
                &mut div,
                "TYPE",
                mapped,
                "METS-AP-Kap-2.1.2.1-c",
                RepairKind::StructureType,
            );
        }
    }
}

/// METS-AP-Kap-2.2.1-b: the top physical div holding pages is the `physSequence`;
/// METS-AP-Kap-2.2.2.1-h: `physSequence`/`page` in another case are spelled right.
fn physical_types(tree: &mut Tree) {
    for mut div in tree.nodes(
        "/mets:mets/mets:structMap[@TYPE='PHYSICAL']//mets:div",
        None,
    ) {
        let current = div.get_attribute("TYPE").unwrap_or_default();
        let top = div.get_parent().is_some_and(|p| {
            p.get_name() == "structMap"
                && p.get_namespace().is_some_and(|ns| ns.get_href() == METS_NS)
        });
        let wanted = match current.trim().to_lowercase().as_str() {
            "physsequence" => "physSequence",
            "page" => "page",
            "" if top => {
                let pages = "boolean(mets:div[translate(@TYPE, 'PAGE', 'page') = 'page'])";
                if tree.string(pages, Some(&div)) != "true" {
                    continue;
                }
                "physSequence"
            }
            _ => continue,
        };
        let rule = if top {
            "METS-AP-Kap-2.2.1-b"
        } else {
            "METS-AP-Kap-2.2.2.1-h"
        };
        tree.set_attr(&mut div, "TYPE", wanted, rule, RepairKind::PhysicalType);
    }
}

/// METS-AP-Kap-2.2.2.1-b: missing page `ORDER` ← position in the sequence, only when
/// every present `ORDER` already equals its position.
fn page_order(tree: &mut Tree) {
    let maps = "/mets:mets/mets:structMap[@TYPE='PHYSICAL']";
    if tree.nodes(maps, None).len() != 1 {
        return;
    }
    let pages = tree.nodes(
        &format!("{maps}/mets:div[@TYPE='physSequence']/mets:div[@TYPE='page']"),
        None,
    );
    let missing =
        |p: &libxml::tree::Node| p.get_attribute("ORDER").is_none_or(|o| o.trim().is_empty());
    if !pages.iter().any(missing) {
        return;
    }
    let consistent = pages.iter().enumerate().all(|(i, p)| {
        missing(p)
            || p.get_attribute("ORDER")
                .is_some_and(|o| o.trim() == (i + 1).to_string())
    });
    if !consistent {
        return;
    }
    for (i, page) in pages.iter().enumerate() {
        if missing(page) {
            let mut page = page.clone();
            let order = (i + 1).to_string();
            tree.set_attr(
                &mut page,
                "ORDER",
                &order,
                "METS-AP-Kap-2.2.2.1-b",
                RepairKind::PageOrder,
            );
        }
    }
}

/// METS-AP-Kap-2.5.2-c: an `mdWrap` that holds MODS is declared as MODS.
fn md_type(tree: &mut Tree) {
    let wraps = "/mets:mets/mets:dmdSec/mets:mdWrap[mets:xmlData/mods:mods][not(@MDTYPE = 'MODS')]";
    for mut wrap in tree.nodes(wraps, None) {
        tree.set_attr(
            &mut wrap,
            "MDTYPE",
            "MODS",
            "METS-AP-Kap-2.5.2-c",
            RepairKind::MdType,
        );
    }
}
