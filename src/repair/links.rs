//! `dv:links` (METS-AP Kap. 2.6.2.2): the catalogue (`dv:reference`) and presentation
//! (`dv:presentation`) URLs vitrine knows for the record, in a `digiprovMD` with
//! `OTHERMDTYPE="DVLINKS"` of the primary amdSec; a value that is no URL is replaced.

use super::amd::{create_section, find_in_amd, insert_field};
use super::tree::Tree;
use super::vocab::is_url;
use super::{RepairContext, RepairKind};

/// Runs the links repairs.
pub fn repair(tree: &mut Tree, ctx: &RepairContext) {
    let urls = [
        (
            "reference",
            ctx.reference_url.as_deref().filter(|u| is_url(u)),
            "METS-AP-Kap-2.6.2.2-d",
        ),
        (
            "presentation",
            ctx.presentation_url.as_deref().filter(|u| is_url(u)),
            "METS-AP-Kap-2.6.2.2-c",
        ),
    ];
    let links_path = "mets:digiprovMD/mets:mdWrap/mets:xmlData/dv:links";
    let mut links = find_in_amd(tree, links_path);
    if links.is_none() && urls.iter().any(|(_, url, _)| url.is_some()) {
        links = create_section(tree, "digiprovMD", "DIGIPROV", "DVLINKS", "links");
        if let Some(links) = &links {
            tree.record_added(links, "METS-AP-Kap-2.6.2.2-a", RepairKind::Links);
        }
    }
    let Some(mut links) = links else { return };
    for (i, (name, url, rule)) in urls.iter().enumerate() {
        let Some(url) = url.map(str::trim) else {
            continue;
        };
        let existing = tree.nodes(&format!("dv:{name}"), Some(&links));
        if existing.is_empty() {
            let earlier: Vec<String> = urls[..i].iter().map(|u| format!("dv:{}", u.0)).collect();
            if let Some(node) = insert_field(tree, &mut links, &earlier, name, url) {
                tree.record_added(&node, rule, RepairKind::Links);
            }
        } else if existing.len() == 1 && !is_url(&existing[0].get_content()) {
            let mut node = existing[0].clone();
            tree.set_text(&mut node, url, "METS-AP-Kap-2.6.2.2-e", RepairKind::Links);
        }
    }
}
