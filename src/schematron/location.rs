//! The `location` of a finding: the XPath of its context node exactly as the ISO
//! Schematron skeleton for XSLT 1 (the one lxml.isoschematron runs) writes SVRL
//! `@location` (its mode `schematron-get-full-path`):
//!
//! * element without namespace: `/name`, then `[n]` when it has same-named siblings;
//! * element in a namespace: `/*[local-name()='l' and namespace-uri()='u']`, then
//!   `[n]` counting siblings with the same local name, when there are any;
//! * attribute: `/@name` or `/@*[local-name()='l' and namespace-uri()='u']` — the
//!   skeleton writes the attribute step alone, without its element's path;
//! * document node: the path of the root element (the built-in template recurses);
//! * text node: its text (the built-in template copies it); comment or PI: empty.

use crate::xml::node::{NodeKind, NodeRef};

/// The skeleton's location string for `node`.
pub fn location(node: NodeRef<'_>) -> String {
    let mut out = String::new();
    match node.kind() {
        NodeKind::Element => element_path(node, &mut out),
        NodeKind::Attribute => {
            let ns = node.namespace_uri();
            if ns.is_empty() {
                out.push_str("/@");
                out.push_str(&node.name());
            } else {
                out.push_str("/@*[local-name()='");
                out.push_str(node.local_name());
                out.push_str("' and namespace-uri()='");
                out.push_str(ns);
                out.push_str("']");
            }
        }
        NodeKind::Document => {
            for child in node.element_children() {
                element_path(child, &mut out);
            }
        }
        NodeKind::Text => out = node.string_value(),
        _ => {}
    }
    out
}

fn element_path(node: NodeRef<'_>, out: &mut String) {
    if let Some(parent) = node.parent().filter(|p| p.kind() == NodeKind::Element) {
        element_path(parent, out);
    }
    out.push('/');
    let ns = node.namespace_uri();
    let same: Box<dyn Fn(&NodeRef<'_>) -> bool> = if ns.is_empty() {
        let name = node.name();
        out.push_str(&name);
        Box::new(move |s: &NodeRef<'_>| s.name() == name)
    } else {
        out.push_str("*[local-name()='");
        out.push_str(node.local_name());
        out.push_str("' and namespace-uri()='");
        out.push_str(ns);
        out.push_str("']");
        let local = node.local_name();
        Box::new(move |s: &NodeRef<'_>| s.local_name() == local)
    };
    let is_same = |s: &NodeRef<'_>| s.kind() == NodeKind::Element && same(s);
    let before = std::iter::successors(node.prev_sibling(), |n| n.prev_sibling())
        .filter(is_same)
        .count();
    let after =
        std::iter::successors(node.next_sibling(), |n| n.next_sibling()).any(|n| is_same(&n));
    if before > 0 || after {
        out.push('[');
        out.push_str(&(before + 1).to_string());
        out.push(']');
    }
}
