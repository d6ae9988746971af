//! Expressions simple enough to evaluate in Rust, without an XPath evaluation:
//! `@name`, `normalize-space(@name)`, `@name = 'literal'` and `not()` of those.
//!
//! They are the typical predicates of rule contexts and the `use` of `xsl:key`s, and
//! are evaluated once or more per node of a document, where the setup of a libxml2
//! evaluation costs more than the expression itself. The results are those of XPath
//! 1.0 (and libxml2): white space is XML's (space, tab, CR, LF), an absent attribute
//! is an empty node-set.

use super::expr::{split_top_level, string_literal};
use crate::xml::node::{NodeKind, NodeRef};
use crate::xml::xpath::Value;

/// An attribute name test with its namespace resolved ("" for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrName {
    pub ns: String,
    pub local: String,
}

/// A simple expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Simple {
    /// `@name`: a node-set of at most one attribute.
    Attr(AttrName),
    /// `normalize-space(@name)`: a string.
    NormalizedAttr(AttrName),
    /// `@name = 'literal'`: a boolean.
    AttrEquals(AttrName, String),
    /// `not(x)`: a boolean.
    Not(Box<Simple>),
    /// `normalize-space(ancestor::p:name[@a][1]/@b)`: the attribute `b` of the nearest
    /// ancestor `p:name` that has an attribute `a`, normalised (a string).
    NormalizedAncestorAttr {
        element: AttrName,
        with: AttrName,
        attr: AttrName,
    },
}

/// Parses `expr` if it has one of the simple forms; `ns` resolves a prefix.
pub(crate) fn parse(expr: &str, ns: &impl Fn(&str) -> Option<String>) -> Option<Simple> {
    let e = expr.trim();
    if let Some(inner) = call_argument(e, "not") {
        return Some(Simple::Not(Box::new(parse(inner, ns)?)));
    }
    if let Some(inner) = call_argument(e, "normalize-space") {
        if let Some(attr) = attr_name(inner, ns) {
            return Some(Simple::NormalizedAttr(attr));
        }
        return nearest_ancestor_attr(inner, ns);
    }
    let sides = split_top_level(e, '=');
    match sides.as_slice() {
        [name] => Some(Simple::Attr(attr_name(name, ns)?)),
        [left, right] if !left.ends_with(['!', '<', '>']) => Some(Simple::AttrEquals(
            attr_name(left, ns)?,
            string_literal(right)?.to_string(),
        )),
        _ => None,
    }
}

/// The argument of `name(…)` when `e` is exactly one call with one argument.
fn call_argument<'a>(e: &'a str, name: &str) -> Option<&'a str> {
    let rest = e.strip_prefix(name)?.trim_start().strip_prefix('(')?;
    let inner = rest.strip_suffix(')')?;
    // The parenthesis closing the call must be the last character.
    let single = split_top_level(inner, ',').len() == 1;
    (single && balanced(inner) && !inner.trim().is_empty()).then_some(inner)
}

/// Whether no parenthesis in `text` closes one opened before it, and all are closed.
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' => depth += 1,
                ')' | ']' => {
                    depth -= 1;
                    if depth < 0 {
                        return false;
                    }
                }
                _ => {}
            },
        }
    }
    depth == 0 && quote.is_none()
}

/// `ancestor::p:name[@a][1]/@b`.
fn nearest_ancestor_attr(text: &str, ns: &impl Fn(&str) -> Option<String>) -> Option<Simple> {
    let rest = text.trim().strip_prefix("ancestor::")?;
    let (name, rest) = rest.split_once('[')?;
    let (with, rest) = rest.split_once(']')?;
    let attr = rest.strip_prefix("[1]/")?;
    Some(Simple::NormalizedAncestorAttr {
        element: element_name(name, ns)?,
        with: attr_name(with, ns)?,
        attr: attr_name(attr, ns)?,
    })
}

/// An element name test (`p:name` or `name`), resolved like an attribute's.
fn element_name(text: &str, ns: &impl Fn(&str) -> Option<String>) -> Option<AttrName> {
    attr_name(&format!("@{}", text.trim()), ns)
}

fn attr_name(text: &str, ns: &impl Fn(&str) -> Option<String>) -> Option<AttrName> {
    let name = text.trim().strip_prefix('@')?;
    let (uri, local) = match name.split_once(':') {
        // A prefix bound to "" is left to XPath (see `matcher::parse`).
        Some((p, l)) if is_ncname(p) => (ns(p).filter(|u| !u.is_empty())?, l),
        Some(_) => return None,
        None => (String::new(), name),
    };
    is_ncname(local).then(|| AttrName {
        ns: uri,
        local: local.to_string(),
    })
}

fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{B7}'))
}

/// XPath's `normalize-space()` (XML white space only).
pub(crate) fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // XML's white space is ASCII white space without the form feed, which
    // `split_ascii_whitespace` also splits at; that byte-wise split is the fast way.
    if !s.contains('\x0c') {
        for word in s.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        return out;
    }
    for word in s.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

impl AttrName {
    /// The attribute of `node` with this name (none unless `node` is an element).
    fn find<'d>(&self, node: NodeRef<'d>) -> Option<NodeRef<'d>> {
        node.attributes()
            .find(|a| a.local_name_is(&self.local) && a.namespace_uri_is(&self.ns))
    }
}

/// A value of a simple expression.
pub(crate) enum SimpleValue<'d> {
    /// The attribute `@name` selects, if any.
    Attr(Option<NodeRef<'d>>),
    Str(String),
    Bool(bool),
}

/// The nearest ancestor element (of an attribute: its element first) named `element`
/// that has the attribute `with`.
fn nearest_ancestor<'d>(
    node: NodeRef<'d>,
    element: &AttrName,
    with: &AttrName,
) -> Option<NodeRef<'d>> {
    std::iter::successors(node.parent(), |n| n.parent())
        .take_while(|n| n.kind() == NodeKind::Element)
        .find(|n| {
            n.local_name_is(&element.local)
                && n.namespace_uri_is(&element.ns)
                && with.find(*n).is_some()
        })
}

impl<'d> From<SimpleValue<'d>> for Value<'d> {
    fn from(v: SimpleValue<'d>) -> Value<'d> {
        match v {
            SimpleValue::Attr(a) => Value::Nodes(a.into_iter().collect()),
            SimpleValue::Str(s) => Value::Str(s),
            SimpleValue::Bool(b) => Value::Bool(b),
        }
    }
}

impl Simple {
    /// The value at `node`.
    pub fn value<'d>(&self, node: NodeRef<'d>) -> SimpleValue<'d> {
        match self {
            Simple::Attr(a) => SimpleValue::Attr(a.find(node)),
            Simple::NormalizedAttr(a) => SimpleValue::Str(
                a.find(node)
                    .map(|n| normalize_space(&super::native::node_string(&n)))
                    .unwrap_or_default(),
            ),
            Simple::NormalizedAncestorAttr {
                element,
                with,
                attr,
            } => SimpleValue::Str(
                nearest_ancestor(node, element, with)
                    .and_then(|a| attr.find(a))
                    .map(|n| normalize_space(&super::native::node_string(&n)))
                    .unwrap_or_default(),
            ),
            _ => SimpleValue::Bool(self.truth(node)),
        }
    }

    /// The effective boolean value at `node`.
    pub fn truth(&self, node: NodeRef<'_>) -> bool {
        match self {
            Simple::Attr(a) => a.find(node).is_some(),
            Simple::NormalizedAttr(a) => a.find(node).is_some_and(|n| {
                super::native::node_string(&n)
                    .chars()
                    .any(|c| !super::native::is_space(c))
            }),
            Simple::AttrEquals(a, lit) => a.find(node).is_some_and(|n| n.attribute_value_is(lit)),
            Simple::Not(inner) => !inner.truth(node),
            Simple::NormalizedAncestorAttr { .. } => match self.value(node) {
                SimpleValue::Str(s) => !s.is_empty(),
                _ => unreachable!("a normalised string"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(p: &str) -> Option<String> {
        (p == "x").then(|| "urn:x".to_string())
    }

    fn attr(ns: &str, local: &str) -> AttrName {
        AttrName {
            ns: ns.into(),
            local: local.into(),
        }
    }

    #[test]
    fn simple_forms_are_recognised() {
        assert_eq!(parse(" @ID ", &ns), Some(Simple::Attr(attr("", "ID"))));
        assert_eq!(
            parse("normalize-space(@x:to)", &ns),
            Some(Simple::NormalizedAttr(attr("urn:x", "to")))
        );
        assert_eq!(
            parse("@TYPE = \"a=b\"", &ns),
            Some(Simple::AttrEquals(attr("", "TYPE"), "a=b".into()))
        );
        assert_eq!(
            parse("normalize-space(ancestor::x:g[@U][1]/@V)", &ns),
            Some(Simple::NormalizedAncestorAttr {
                element: attr("urn:x", "g"),
                with: attr("", "U"),
                attr: attr("", "V"),
            })
        );
        assert_eq!(
            parse("not(@ID)", &ns),
            Some(Simple::Not(Box::new(Simple::Attr(attr("", "ID")))))
        );
        for other in [
            "@ID != 'a'",
            "@ID <= 'a'",
            "@ID = 1",
            "@y:ID",
            "@*",
            "mets:mptr",
            "not(@a) and not(@b)",
            "not(@a) or (@b)",
            "normalize-space(@a, @b)",
            "normalize-space(ancestor::x:g[@U][2]/@V)",
            "normalize-space(ancestor::x:g[@U]/@V)",
            "normalize-space(ancestor::x:g[@U][1]/@V/x)",
            "normalize-space(ancestor::x:g[x:b][1]/@V)",
            "normalize-space(ancestor::*[@U][1]/@V)",
            "normalize-space(ancestor-or-self::x:g[@U][1]/@V)",
            "normalize-space(.)",
            "normalize-space()",
            "@a = 'x' = 'y'",
            "'x' = @a",
            "1",
        ] {
            assert_eq!(parse(other, &ns), None, "{other}");
        }
    }

    #[test]
    fn normalize_space_uses_xml_white_space() {
        assert_eq!(normalize_space(" \t a \r\n b  "), "a b");
        assert_eq!(normalize_space("\u{a0}a"), "\u{a0}a");
        assert_eq!(normalize_space(" a\x0c b "), "a\x0c b");
        assert_eq!(normalize_space("\x0c"), "\x0c");
    }
}
