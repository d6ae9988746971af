//! MODS repairs that rewrite or complete descriptive elements from what the record
//! already states: language terms as ISO 639-2/B codes (MODS-AP Kap. 2.4), the
//! `displayForm` of personal names from their typed parts (Kap. 2.2), and the title of
//! a volume or issue from its parent's title and its own number (Kap. 2.1).

use super::lang::iso639_2b;
use super::tree::Tree;
use super::{RepairContext, RepairKind};
use crate::formats::MODS_NS;

const ALL_MODS: &str = "/mets:mets/mets:dmdSec/mets:mdWrap/mets:xmlData/mods:mods";

/// Runs the MODS repairs.
pub fn repair(tree: &mut Tree, ctx: &RepairContext) {
    languages(tree);
    display_forms(tree);
    volume_title(tree, ctx);
}

/// MODS-AP-Kap-2.4-b/-c: code terms (or untyped terms) under an ISO 639-2 authority (or
/// none) that name a language by name, ISO 639-1 or 639-2/T code → the 639-2/B code.
fn languages(tree: &mut Tree) {
    let terms =
        format!("{ALL_MODS}//mods:language/mods:languageTerm[not(@type) or @type = 'code']");
    for mut term in tree.nodes(&terms, None) {
        let authority = term.get_attribute("authority");
        let value = term.get_content();
        let value = value.trim();
        match authority.as_deref().map(str::trim) {
            None | Some("iso639-2b") => {}
            // A 639-2/T term correctly labelled as such stays.
            Some("iso639-2t") | Some("iso639-2") => continue,
            Some(_) => continue,
        }
        let Some(code) = iso639_2b(value) else {
            continue;
        };
        if term.get_content() != code {
            tree.set_text(&mut term, code, "MODS-AP-Kap-2.4-b", RepairKind::Language);
        }
        tree.set_attr(
            &mut term,
            "type",
            "code",
            "MODS-AP-Kap-2.4-b",
            RepairKind::Language,
        );
        tree.set_attr(
            &mut term,
            "authority",
            "iso639-2b",
            "MODS-AP-Kap-2.4-c",
            RepairKind::Language,
        );
    }
}

/// MODS-AP-Kap-2.2: a personal name without `displayForm` gets "Family, Given" from
/// its typed parts (or the one untyped part); nothing is added when there are no parts.
fn display_forms(tree: &mut Tree) {
    let names = format!(
        "{ALL_MODS}/mods:name[@type = 'personal'][not(mods:displayForm[normalize-space() != ''])]"
    );
    for mut name in tree.nodes(&names, None) {
        let family = tree.string(
            "normalize-space(mods:namePart[@type = 'family'][1])",
            Some(&name),
        );
        let given = tree.string(
            "normalize-space(mods:namePart[@type = 'given'][1])",
            Some(&name),
        );
        let display = match (family.is_empty(), given.is_empty()) {
            (false, false) => format!("{family}, {given}"),
            (false, true) => family,
            (true, false) => given,
            (true, true) => {
                let untyped = tree.nodes(
                    "mods:namePart[not(@type)][normalize-space() != '']",
                    Some(&name),
                );
                if untyped.len() != 1 {
                    continue;
                }
                untyped[0]
                    .get_content()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        if let Some(mut empty) = tree.node("mods:displayForm", Some(&name)) {
            tree.set_text(
                &mut empty,
                &display,
                "MODS-AP-Kap-2.2",
                RepairKind::DisplayForm,
            );
            continue;
        }
        let added = match tree.node("mods:namePart[last()]", Some(&name)) {
            Some(mut last) => tree.insert_after(&mut last, MODS_NS, "mods", "displayForm"),
            None => tree.append(&mut name, MODS_NS, "mods", "displayForm"),
        };
        if let Some(mut node) = added {
            if super::edit::set_content(&mut node, &display) {
                tree.record_added(&node, "MODS-AP-Kap-2.2", RepairKind::DisplayForm);
            }
        }
    }
}

/// MODS-AP-Kap-2.1-a: the primary MODS of a volume or issue without a title gets
/// `titleInfo/title` = the parent's title and `partNumber` = its number
/// (`mods:part/mods:detail/mods:number`, else the div's `ORDERLABEL`); both must exist.
fn volume_title(tree: &mut Tree, ctx: &RepairContext) {
    let Some(parent_title) = ctx.parent_title.map(str::trim).filter(|t| !t.is_empty()) else {
        return;
    };
    let (Some(div), Some(mut mods)) = (tree.primary_div(), tree.primary_mods()) else {
        return;
    };
    let titled = "boolean(mods:titleInfo[not(@type) or @type = 'uniform']/mods:title[normalize-space() != ''])";
    if tree.string(titled, Some(&mods)) == "true" {
        return;
    }
    let is_part = tree.string("boolean(ancestor::mets:div/mets:mptr)", Some(&div)) == "true"
        || tree.string("boolean(mods:relatedItem[@type = 'host'])", Some(&mods)) == "true";
    if !is_part {
        return;
    }
    let mut number = tree.string(
        "normalize-space(mods:part/mods:detail/mods:number[1])",
        Some(&mods),
    );
    if number.is_empty() {
        number = tree.string("normalize-space(@ORDERLABEL)", Some(&div));
    }
    if number.is_empty() {
        return;
    }
    let (info, before) = match tree.node("mods:titleInfo[not(@type)]", Some(&mods)) {
        Some(info) => {
            let before = tree.doc.node_to_string(&info);
            (Some(info), before)
        }
        None => (
            tree.append(&mut mods, MODS_NS, "mods", "titleInfo"),
            String::new(),
        ),
    };
    let Some(mut info) = info else { return };
    for mut empty in tree.nodes("mods:title", Some(&info)) {
        empty.unlink();
    }
    let title = match info.get_first_element_child() {
        Some(mut first) => tree.insert_before(&mut first, MODS_NS, "mods", "title"),
        None => tree.append(&mut info, MODS_NS, "mods", "title"),
    };
    let Some(mut title) = title else { return };
    super::edit::set_content(&mut title, parent_title);
    if tree
        .node("mods:partNumber[normalize-space() != '']", Some(&info))
        .is_none()
    {
        let _ = tree
            .insert_after(&mut title, MODS_NS, "mods", "partNumber")
            .map(|mut n| super::edit::set_content(&mut n, &number));
    }
    let after = tree.doc.node_to_string(&info);
    tree.record(
        "MODS-AP-Kap-2.1-a",
        RepairKind::VolumeTitle,
        super::tree::xpath_of(&info),
        &before,
        &after,
    );
}
