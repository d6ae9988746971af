//! Administrative metadata (METS-AP Kap. 2.6): `dv:rights` from the institution of the
//! domain configuration, in the amdSec of the primary div (created and wired with `ADMID` when there is
//! none), plus the singletons of `dv:rights` reduced to the first.

use super::tree::{Tree, DV_NS};
use super::vocab::{is_contact, is_url};
use super::{RepairContext, RepairKind};
use crate::formats::METS_NS;
use libxml::tree::Node;

/// One owner field of `dv:rights`: element name, configured value, validity test, and
/// the rule that checks it.
type Field<'a> = (&'a str, Option<&'a str>, fn(&str) -> bool, &'a str);

/// Runs the rights repairs.
pub fn repair(tree: &mut Tree, ctx: &RepairContext) {
    let owner = ctx
        .institution
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let fields: [Field; 4] = [
        (
            "owner",
            owner,
            |v| !v.trim().is_empty(),
            "METS-AP-Kap-2.6.2.1-b",
        ),
        (
            "ownerLogo",
            ctx.institution.logo.as_deref(),
            is_url,
            "METS-AP-Kap-2.6.2.1-d",
        ),
        (
            "ownerSiteURL",
            ctx.institution.site_url.as_deref(),
            is_url,
            "METS-AP-Kap-2.6.2.1-e",
        ),
        (
            "ownerContact",
            ctx.institution.contact.as_deref(),
            is_contact,
            "METS-AP-Kap-2.6.2.1-f",
        ),
    ];
    let complete = fields
        .iter()
        .all(|(_, value, valid, _)| value.is_some_and(valid));

    let rights_path = "mets:rightsMD/mets:mdWrap/mets:xmlData/dv:rights";
    let mut rights = find_in_amd(tree, rights_path);
    if rights.is_none() && complete {
        rights = create_rights(tree, &fields);
    }
    // The configured institution completes only its own rights: a dv:rights naming
    // another owner keeps its gaps (they stay findings) rather than borrow our logo.
    let foreign = |tree: &mut Tree, rights: &Node| {
        let named = tree.string("normalize-space(dv:owner[1])", Some(rights));
        let ours = owner.map(|o| o.split_whitespace().collect::<Vec<_>>().join(" "));
        !named.is_empty() && ours.is_none_or(|o| o.to_lowercase() != named.to_lowercase())
    };
    if let Some(mut rights) = rights {
        let ours = !foreign(tree, &rights);
        for (i, (name, value, valid, rule)) in fields.iter().enumerate().filter(|_| ours) {
            let Some(value) = value.map(str::trim).filter(|v| valid(v)) else {
                continue;
            };
            let query = format!("dv:{name}");
            match tree.node(&query, Some(&rights)) {
                Some(mut existing) if !valid(&existing.get_content()) => {
                    tree.set_text(&mut existing, value, rule, RepairKind::Rights);
                }
                Some(_) => {}
                None => {
                    let earlier: Vec<String> =
                        fields[..i].iter().map(|f| format!("dv:{}", f.0)).collect();
                    if let Some(node) = insert_field(tree, &mut rights, &earlier, name, value) {
                        tree.record_added(&node, rule, RepairKind::Rights);
                    }
                }
            }
        }
        for (name, rule) in [
            ("owner", "METS-AP-Kap-2.6.2.1-c"),
            ("license", "METS-AP-Kap-2.6.2.1-h"),
        ] {
            for mut later in tree.nodes(&format!("dv:{name}[position() > 1]"), Some(&rights)) {
                tree.remove(&mut later, rule, RepairKind::Duplicate);
            }
        }
        wire_admid(tree, &rights);
    }
}

/// The first match of `path` below the primary div's amdSec, else below any amdSec.
pub(super) fn find_in_amd(tree: &mut Tree, path: &str) -> Option<Node> {
    if let Some(amd) = primary_amd(tree) {
        if let Some(node) = tree.node(path, Some(&amd)) {
            return Some(node);
        }
    }
    tree.node(&format!("/mets:mets/mets:amdSec/{path}"), None)
}

/// The amdSec the primary div's `ADMID` names.
fn primary_amd(tree: &mut Tree) -> Option<Node> {
    let div = tree.primary_div()?;
    let admid = div.get_attribute("ADMID").unwrap_or_default();
    admid
        .split_whitespace()
        .filter(|id| !id.contains('\''))
        .find_map(|id| tree.node(&format!("/mets:mets/mets:amdSec[@ID='{id}']"), None))
}

/// A new `dv:rights` with every owner field, logged as one repair.
fn create_rights(tree: &mut Tree, fields: &[Field]) -> Option<Node> {
    let mut rights = create_section(tree, "rightsMD", "RIGHTS", "DVRIGHTS", "rights")?;
    for (name, value, _, _) in fields {
        tree.append_text(
            &mut rights,
            DV_NS,
            "dv",
            name,
            value.unwrap_or_default().trim(),
        )?;
    }
    tree.record_added(&rights, "METS-AP-Kap-2.6.2.1-a", RepairKind::Rights);
    Some(rights)
}

/// A new `mets:{section}/mets:mdWrap[@MDTYPE='OTHER'][@OTHERMDTYPE]/mets:xmlData/dv:{root}`
/// in the primary amdSec (created when missing), in the order METS prescribes.
pub(super) fn create_section(
    tree: &mut Tree,
    section: &str,
    id: &str,
    other: &str,
    root: &str,
) -> Option<Node> {
    let mut amd = match primary_amd(tree).or_else(|| tree.node("/mets:mets/mets:amdSec", None)) {
        Some(amd) => amd,
        None => create_amd(tree)?,
    };
    let mut sec = if section == "rightsMD" {
        match tree.node("(mets:techMD | mets:rightsMD)[last()]", Some(&amd)) {
            Some(mut last) => tree.insert_after(&mut last, METS_NS, "mets", section)?,
            None => match amd.get_first_element_child() {
                Some(mut first) => tree.insert_before(&mut first, METS_NS, "mets", section)?,
                None => tree.append(&mut amd, METS_NS, "mets", section)?,
            },
        }
    } else {
        tree.append(&mut amd, METS_NS, "mets", section)?
    };
    let id = tree.free_id(id);
    sec.set_attribute("ID", &id).ok()?;
    let mut wrap = tree.append(&mut sec, METS_NS, "mets", "mdWrap")?;
    wrap.set_attribute("MDTYPE", "OTHER").ok()?;
    wrap.set_attribute("MIMETYPE", "text/xml").ok()?;
    wrap.set_attribute("OTHERMDTYPE", other).ok()?;
    let mut data = tree.append(&mut wrap, METS_NS, "mets", "xmlData")?;
    tree.append(&mut data, DV_NS, "dv", root)
}

/// A new, empty `mets:amdSec` after the last dmdSec (METS order), logged.
fn create_amd(tree: &mut Tree) -> Option<Node> {
    let mut root = tree.doc.get_root_element()?;
    let mut amd = match tree.node(
        "/mets:mets/*[self::mets:metsHdr or self::mets:dmdSec][last()]",
        None,
    ) {
        Some(mut last) => tree.insert_after(&mut last, METS_NS, "mets", "amdSec")?,
        None => match root.get_first_element_child() {
            Some(mut first) => tree.insert_before(&mut first, METS_NS, "mets", "amdSec")?,
            None => tree.append(&mut root, METS_NS, "mets", "amdSec")?,
        },
    };
    let id = tree.free_id("AMD");
    amd.set_attribute("ID", &id).ok()?;
    tree.record_added(&amd, "METS-AP-Kap-2.6.1-a", RepairKind::Rights);
    Some(amd)
}

/// Inserts `dv:{name}` with `value` after the last of `earlier` present, else first.
pub(super) fn insert_field(
    tree: &mut Tree,
    parent: &mut Node,
    earlier: &[String],
    name: &str,
    value: &str,
) -> Option<Node> {
    let mut node = if earlier.is_empty() {
        None
    } else {
        tree.node(&format!("({})[last()]", earlier.join(" | ")), Some(parent))
    }
    .and_then(|mut prev| tree.insert_after(&mut prev, DV_NS, "dv", name))
    .or_else(|| {
        let mut first = parent.get_first_element_child()?;
        tree.insert_before(&mut first, DV_NS, "dv", name)
    })
    .or_else(|| tree.append(parent, DV_NS, "dv", name))?;
    super::edit::set_content(&mut node, value).then_some(())?;
    Some(node)
}

/// METS-AP-Kap-2.1.2.1-f: the primary div without `ADMID` gets the ID of the amdSec
/// holding `rights`.
fn wire_admid(tree: &mut Tree, rights: &Node) {
    let Some(mut div) = tree.primary_div() else {
        return;
    };
    if div
        .get_attribute("ADMID")
        .is_some_and(|a| !a.trim().is_empty())
    {
        return;
    }
    let Some(amd) = tree.node("ancestor::mets:amdSec[1]", Some(rights)) else {
        return;
    };
    let id = amd.get_attribute("ID").unwrap_or_default();
    if !id.trim().is_empty() {
        tree.set_attr(
            &mut div,
            "ADMID",
            id.trim(),
            "METS-AP-Kap-2.1.2.1-f",
            RepairKind::AdmidWiring,
        );
    }
}
