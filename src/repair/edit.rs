//! The editing steps every repair is built from — set or remove an attribute, replace
//! a text, add or remove an element — each recording itself in the repair log with the
//! XPath of the node it changed and the value before and after.

use super::tree::{xpath_of, Tree};
use super::RepairKind;
use libxml::tree::{Namespace, Node};

impl Tree {
    /// Sets attribute `name` (no namespace) to `value` unless it already has it.
    pub fn set_attr(
        &mut self,
        node: &mut Node,
        name: &str,
        value: &str,
        rule: &str,
        kind: RepairKind,
    ) {
        let before = node.get_attribute_no_ns(name);
        if before.as_deref() == Some(value) {
            return;
        }
        if node.set_attribute(name, value).is_ok() {
            let path = format!("{}/@{name}", xpath_of(node));
            self.record(rule, kind, path, before.as_deref().unwrap_or(""), value);
        }
    }

    /// Removes attribute `name` (no namespace).
    pub fn remove_attr(&mut self, node: &mut Node, name: &str, rule: &str, kind: RepairKind) {
        if let Some(before) = node.get_attribute_no_ns(name) {
            let path = format!("{}/@{name}", xpath_of(node));
            if node.remove_attribute_no_ns(name).is_ok() {
                self.record(rule, kind, path, &before, "");
            }
        }
    }

    /// Replaces the text of a leaf element.
    pub fn set_text(&mut self, node: &mut Node, value: &str, rule: &str, kind: RepairKind) {
        let before = node.get_content();
        if before == value {
            return;
        }
        if set_content(node, value) {
            self.record(rule, kind, xpath_of(node), &before, value);
        }
    }

    /// Removes an element, logging its serialisation as the value before.
    pub fn remove(&mut self, node: &mut Node, rule: &str, kind: RepairKind) {
        let path = xpath_of(node);
        let before = self.doc.node_to_string(node);
        remove_with_indent(node);
        self.record(rule, kind, path, &before, "");
    }

    /// Logs a newly added element.
    pub fn record_added(&mut self, node: &Node, rule: &str, kind: RepairKind) {
        let after = self.doc.node_to_string(node);
        self.record(rule, kind, xpath_of(node), "", &after);
    }

    /// The namespace `href` in scope at `node`, declared on the root element (as
    /// `prefix`, or a free variant of it) when it is not.
    pub fn namespace(&mut self, node: &Node, href: &str, prefix: &str) -> Option<Namespace> {
        if let Some(ns) = node
            .get_namespaces(&self.doc)
            .into_iter()
            .find(|ns| ns.get_href() == href)
        {
            return Some(ns);
        }
        let mut root = self.doc.get_root_element()?;
        let mut candidate = prefix.to_string();
        let mut n = 1;
        while root.lookup_namespace_uri(&candidate).is_some() {
            candidate = format!("{prefix}{n}");
            n += 1;
        }
        Namespace::new(&candidate, href, &mut root).ok()
    }

    /// Adds a new element `name` in namespace `href` as the last child of `parent`.
    pub fn append(
        &mut self,
        parent: &mut Node,
        href: &str,
        prefix: &str,
        name: &str,
    ) -> Option<Node> {
        self.place(parent, href, prefix, name, Place::LastChild)
    }

    /// Adds a new element `name` in namespace `href` right after `sibling`.
    pub fn insert_after(
        &mut self,
        sibling: &mut Node,
        href: &str,
        prefix: &str,
        name: &str,
    ) -> Option<Node> {
        self.place(sibling, href, prefix, name, Place::After)
    }

    /// Adds a new element `name` in namespace `href` right before `sibling`.
    pub fn insert_before(
        &mut self,
        sibling: &mut Node,
        href: &str,
        prefix: &str,
        name: &str,
    ) -> Option<Node> {
        self.place(sibling, href, prefix, name, Place::Before)
    }

    /// Creates the element (its namespace declared where `anchor` can see it) and links it
    /// relative to `anchor`.
    fn place(
        &mut self,
        anchor: &mut Node,
        href: &str,
        prefix: &str,
        name: &str,
        place: Place,
    ) -> Option<Node> {
        let ns = self.namespace(anchor, href, prefix)?;
        let mut node = Node::new(name, Some(ns), &self.doc).ok()?;
        match place {
            Place::LastChild => anchor.add_child(&mut node).ok()?,
            Place::After => anchor.add_next_sibling(&mut node).ok()?,
            Place::Before => anchor.add_prev_sibling(&mut node).ok()?,
        };
        Some(node)
    }

    /// An `ID` value not yet used in the document: `base`, else `base_1`, `base_2`, ….
    pub fn free_id(&mut self, base: &str) -> String {
        let mut candidate = base.to_string();
        let mut n = 1;
        while self
            .node(&format!("//*[@ID='{candidate}']"), None)
            .is_some()
        {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        candidate
    }

    /// Adds a new element with text content as the last child of `parent`.
    pub fn append_text(
        &mut self,
        parent: &mut Node,
        href: &str,
        prefix: &str,
        name: &str,
        text: &str,
    ) -> Option<Node> {
        let mut child = self.append(parent, href, prefix, name)?;
        set_content(&mut child, text).then_some(child)
    }
}

/// Sets the text of an element to `text` taken literally (libxml2 would otherwise read
/// `&…;` in it as entity references).
pub fn set_content(node: &mut Node, text: &str) -> bool {
    node.set_content(&text.replace('&', "&amp;")).is_ok()
}

/// Unlinks `node` together with the white space that indented it.
fn remove_with_indent(node: &mut Node) {
    if let Some(mut prev) = node.get_prev_sibling() {
        if prev.is_text_node() && prev.get_content().trim().is_empty() {
            prev.unlink();
        }
    }
    node.unlink();
}

/// Where a new element goes relative to its anchor.
#[derive(Clone, Copy)]
enum Place {
    LastChild,
    After,
    Before,
}
