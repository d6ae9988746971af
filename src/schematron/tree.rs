//! The schema as a plain owned tree, with `include`s already resolved.
//!
//! The libxml2 document of each schema file is copied into [`Elem`]s (name, namespace,
//! attributes, children, line), so that abstract patterns and rules can be expanded by
//! copying and substituting, and so the compiled schema holds nothing of libxml2.

use super::error::CompileError;
use super::options::SCH_NS;
use crate::xml::node::{NodeKind, NodeRef};
use crate::xml::{parse, ParseLimits};
use std::path::{Path, PathBuf};

/// An element of a schema file.
#[derive(Debug, Clone)]
pub(crate) struct Elem {
    pub ns: String,
    pub name: String,
    /// (namespace URI, local name, value)
    pub attrs: Vec<(String, String, String)>,
    pub children: Vec<Item>,
    pub line: usize,
}

/// A child of an [`Elem`].
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Elem(Elem),
    Text(String),
}

impl Elem {
    /// The attribute `name` in no namespace.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(ns, n, _)| ns.is_empty() && n == name)
            .map(|(_, _, v)| v.as_str())
    }

    /// True for the Schematron element `name`.
    pub fn is_sch(&self, name: &str) -> bool {
        self.ns == SCH_NS && self.name == name
    }

    /// Child elements.
    pub fn elems(&self) -> impl Iterator<Item = &Elem> {
        self.children.iter().filter_map(|c| match c {
            Item::Elem(e) => Some(e),
            Item::Text(_) => None,
        })
    }

    /// Schematron child elements called `name`.
    pub fn sch_children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Elem> + 'a {
        self.elems().filter(move |e| e.is_sch(name))
    }

    /// Concatenated text content.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            match c {
                Item::Text(t) => out.push_str(t),
                Item::Elem(e) => out.push_str(&e.text()),
            }
        }
        out
    }
}

/// How deep includes may nest (guards against include cycles).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Parses a schema file's bytes into a tree, resolving `include href` against `base_dir`.
pub(crate) fn load(bytes: &[u8], base_dir: Option<&Path>) -> Result<Elem, CompileError> {
    load_at(bytes, base_dir, 0)
}

fn load_at(bytes: &[u8], base_dir: Option<&Path>, depth: usize) -> Result<Elem, CompileError> {
    let doc = parse(bytes, ParseLimits::default()).map_err(|e| {
        let line = e.position().map_or(0, |(l, _)| l);
        CompileError::new(line, "schema", format!("not well-formed: {e}"))
    })?;
    let root = NodeRef::document(&doc)
        .element_children()
        .next()
        .ok_or_else(|| CompileError::new(0, "schema", "no root element"))?;
    convert(root, base_dir, depth)
}

fn convert(node: NodeRef<'_>, base_dir: Option<&Path>, depth: usize) -> Result<Elem, CompileError> {
    let mut elem = Elem {
        ns: node.namespace_uri().to_string(),
        name: node.local_name().to_string(),
        attrs: node
            .attributes()
            .map(|a| {
                (
                    a.namespace_uri().to_string(),
                    a.local_name().to_string(),
                    a.string_value(),
                )
            })
            .collect(),
        children: Vec::new(),
        line: node.line(),
    };
    for child in node.children() {
        match child.kind() {
            NodeKind::Element => {
                if child.namespace_uri() == SCH_NS && child.local_name() == "include" {
                    elem.children
                        .push(Item::Elem(include(child, base_dir, depth)?));
                } else {
                    elem.children
                        .push(Item::Elem(convert(child, base_dir, depth)?));
                }
            }
            NodeKind::Text => elem.children.push(Item::Text(child.string_value())),
            _ => {}
        }
    }
    Ok(elem)
}

fn include(node: NodeRef<'_>, base_dir: Option<&Path>, depth: usize) -> Result<Elem, CompileError> {
    let line = node.line();
    let href = node
        .attribute("href")
        .ok_or_else(|| CompileError::new(line, "include", "missing @href"))?;
    if depth >= MAX_INCLUDE_DEPTH {
        return Err(CompileError::new(
            line,
            "include",
            format!("includes nested deeper than {MAX_INCLUDE_DEPTH} (cycle?) at {href}"),
        ));
    }
    if href.contains("://") || href.contains('#') {
        return Err(CompileError::new(
            line,
            "include",
            format!("only local files can be included, not {href}"),
        ));
    }
    let path: PathBuf = match base_dir {
        Some(dir) => dir.join(&href),
        None => PathBuf::from(&href),
    };
    let bytes = std::fs::read(&path).map_err(|e| {
        CompileError::new(
            line,
            "include",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let dir = path.parent().map(Path::to_path_buf);
    load_at(&bytes, dir.as_deref(), depth + 1)
        .map_err(|e| CompileError::new(line, "include", format!("in {}: {e}", path.display())))
}

/// Collapses white space runs to one space and trims (for titles and messages).
pub(super) fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
