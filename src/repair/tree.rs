//! The document being repaired: the parsed METS with an XPath context that knows the
//! METS, MODS, XLink and DFG-Viewer prefixes, the log of repairs made so far, the
//! queries every repair starts from (the primary div and MODS), and the readable XPath
//! of a node the log names. The editing steps are in [`super::edit`].

use super::{Repair, RepairKind};
use crate::formats::{METS_NS, MODS_NS, XLINK_NS};
use libxml::tree::{Document, Node};
use libxml::xpath::Context;

/// The DFG-Viewer namespace of `dv:rights` and `dv:links`.
pub const DV_NS: &str = "http://dfg-viewer.de/";

/// Prefixes used in XPaths of the log (and in every query of the repairs).
const PREFIXES: [(&str, &str); 4] = [
    ("mets", METS_NS),
    ("mods", MODS_NS),
    ("xlink", XLINK_NS),
    ("dv", DV_NS),
];

/// The primary logical div, as vitrine and the rule set choose it.
pub const PRIMARY_DIV: &str =
    "(/mets:mets/mets:structMap[@TYPE='LOGICAL']//mets:div[@DMDID][not(mets:mptr)])[1]";

/// A METS document under repair.
pub struct Tree {
    pub doc: Document,
    ctx: Context,
    pub log: Vec<Repair>,
}

impl Tree {
    /// Wraps a parsed document.
    pub fn new(doc: Document) -> Option<Tree> {
        let ctx = Context::new(&doc).ok()?;
        for (prefix, href) in PREFIXES {
            ctx.register_namespace(prefix, href).ok()?;
        }
        Some(Tree {
            doc,
            ctx,
            log: Vec::new(),
        })
    }

    /// The nodes `xpath` selects, relative to `at` (or the document).
    pub fn nodes(&mut self, xpath: &str, at: Option<&Node>) -> Vec<Node> {
        self.ctx.findnodes(xpath, at).unwrap_or_default()
    }

    /// The first node `xpath` selects.
    pub fn node(&mut self, xpath: &str, at: Option<&Node>) -> Option<Node> {
        self.nodes(xpath, at).into_iter().next()
    }

    /// The string value of `xpath` (an XPath expression, not only a path).
    pub fn string(&mut self, xpath: &str, at: Option<&Node>) -> String {
        let result = match at {
            Some(node) => self.ctx.node_evaluate(xpath, node),
            None => self.ctx.evaluate(xpath),
        };
        result.map(|o| o.to_string()).unwrap_or_default()
    }

    /// The primary logical div.
    pub fn primary_div(&mut self) -> Option<Node> {
        self.node(PRIMARY_DIV, None)
    }

    /// The primary MODS: the one in the dmdSec the primary div's first DMDID names.
    pub fn primary_mods(&mut self) -> Option<Node> {
        let div = self.primary_div()?;
        let dmdid = div.get_attribute("DMDID").unwrap_or_default();
        let dmdid = dmdid.split_whitespace().next()?.to_string();
        if dmdid.contains('\'') {
            return None;
        }
        self.node(
            &format!("/mets:mets/mets:dmdSec[@ID='{dmdid}']/mets:mdWrap/mets:xmlData/mods:mods"),
            None,
        )
    }

    /// Records one repair.
    pub fn record(
        &mut self,
        rule: &str,
        kind: RepairKind,
        xpath: String,
        before: &str,
        after: &str,
    ) {
        self.log.push(Repair {
            rule_id: rule.to_string(),
            kind,
            xpath,
            before: before.to_string(),
            after: after.to_string(),
        });
    }
}

/// A readable XPath of an element: prefixed names with a position wherever siblings
/// share the name (`/mets:mets/mets:dmdSec[2]/mets:mdWrap/…`).
pub fn xpath_of(node: &Node) -> String {
    let mut steps = Vec::new();
    let mut current = Some(node.clone());
    while let Some(n) = current {
        if !n.is_element_node() {
            break;
        }
        let name = qualified(&n);
        let same = |s: &Node| s.is_element_node() && qualified(s) == name;
        let mut before = 0;
        let mut sib = n.get_prev_sibling();
        while let Some(s) = sib {
            before += usize::from(same(&s));
            sib = s.get_prev_sibling();
        }
        let mut after = 0;
        let mut sib = n.get_next_sibling();
        while let Some(s) = sib {
            after += usize::from(same(&s));
            sib = s.get_next_sibling();
        }
        if before + after > 0 {
            steps.push(format!("{name}[{}]", before + 1));
        } else {
            steps.push(name);
        }
        current = n.get_parent();
    }
    steps.reverse();
    format!("/{}", steps.join("/"))
}

/// `prefix:local` with the log's prefix for known namespaces.
fn qualified(node: &Node) -> String {
    let local = node.get_name();
    match node.get_namespace() {
        Some(ns) => {
            let href = ns.get_href();
            match PREFIXES.iter().find(|(_, h)| *h == href) {
                Some((prefix, _)) => format!("{prefix}:{local}"),
                None if ns.get_prefix().is_empty() => local,
                None => format!("{}:{local}", ns.get_prefix()),
            }
        }
        None => local,
    }
}
