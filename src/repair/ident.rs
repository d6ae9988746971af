//! Record identity (MODS-AP Kap. 2.10): one `recordInfo` with one `recordIdentifier`
//! per MODS, and on the primary MODS a recordIdentifier that is the local id, with the
//! domain's configured `@source`, and no surrounding white space.

use super::tree::Tree;
use super::{RepairContext, RepairKind};
use crate::formats::MODS_NS;

/// Runs the identity repairs.
pub fn repair(tree: &mut Tree, ctx: &RepairContext) {
    merge_duplicates(tree);
    let Some(mut mods) = tree.primary_mods() else {
        return;
    };
    let local_id = ctx.local_id.trim();
    let existing = tree.node("mods:recordInfo/mods:recordIdentifier", Some(&mods));
    let mut identifier = match existing {
        Some(mut id) if id.get_content().trim().is_empty() => {
            if local_id.is_empty() || local_id.contains(char::is_whitespace) {
                return;
            }
            tree.set_text(
                &mut id,
                local_id,
                "MODS-AP-Kap-2.10-a",
                RepairKind::RecordIdentifier,
            );
            id
        }
        Some(id) => id,
        None => {
            if local_id.is_empty() || local_id.contains(char::is_whitespace) {
                return;
            }
            let mut info = match tree.node("mods:recordInfo", Some(&mods)) {
                Some(info) => info,
                None => match tree.append(&mut mods, MODS_NS, "mods", "recordInfo") {
                    Some(info) => info,
                    None => return,
                },
            };
            let Some(mut id) =
                tree.append_text(&mut info, MODS_NS, "mods", "recordIdentifier", local_id)
            else {
                return;
            };
            if let Some(source) = ctx
                .record_identifier_source
                .filter(|s| !s.trim().is_empty())
            {
                let _ = id.set_attribute("source", source.trim());
            }
            tree.record_added(&id, "MODS-AP-Kap-2.10-a", RepairKind::RecordIdentifier);
            id
        }
    };
    let has_source = identifier
        .get_attribute_no_ns("source")
        .is_some_and(|s| !s.trim().is_empty());
    if !has_source {
        if let Some(source) = ctx
            .record_identifier_source
            .filter(|s| !s.trim().is_empty())
        {
            tree.set_attr(
                &mut identifier,
                "source",
                source.trim(),
                "MODS-AP-Kap-2.10-b",
                RepairKind::RecordIdentifierSource,
            );
        }
    }
    let value = identifier.get_content();
    let trimmed = value.trim();
    if trimmed != value && !trimmed.is_empty() && !trimmed.contains(char::is_whitespace) {
        let trimmed = trimmed.to_string();
        tree.set_text(
            &mut identifier,
            &trimmed,
            "MODS-AP-Kap-2.10-c",
            RepairKind::RecordIdentifierSpace,
        );
    }
}

/// MODS-AP-Kap-2.10-d: later `recordInfo`s are merged into the first (every child of
/// recordInfo may repeat, so nothing is lost), then later `recordIdentifier`s dropped.
fn merge_duplicates(tree: &mut Tree) {
    const RULE: &str = "MODS-AP-Kap-2.10-d";
    let all_mods = tree.nodes(
        "/mets:mets/mets:dmdSec/mets:mdWrap/mets:xmlData/mods:mods",
        None,
    );
    for mods in all_mods {
        let infos = tree.nodes("mods:recordInfo", Some(&mods));
        if let Some((first, rest)) = infos.split_first() {
            let mut first = first.clone();
            for later in rest {
                let mut later = later.clone();
                let path = super::tree::xpath_of(&later);
                let before = tree.doc.node_to_string(&later);
                for mut child in later.get_child_elements() {
                    child.unlink();
                    let _ = first.add_child(&mut child);
                }
                later.unlink();
                let after = tree.doc.node_to_string(&first);
                tree.record(RULE, RepairKind::Duplicate, path, &before, &after);
            }
        }
        let ids = tree.nodes("mods:recordInfo/mods:recordIdentifier", Some(&mods));
        for later in ids.iter().skip(1) {
            let mut later = later.clone();
            tree.remove(&mut later, RULE, RepairKind::Duplicate);
        }
    }
}
