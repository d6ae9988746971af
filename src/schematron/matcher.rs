//! Rule contexts tested node by node instead of selected with XPath.
//!
//! Selecting the nodes of each rule with its own `//pattern` costs one scan of the
//! document per rule. Most contexts are simple location paths — `p:name`, `p:*`,
//! `@attr`, `a/b`, `a//b`, each step with optional predicates, and unions of those —
//! and for them one walk over the document can decide for every node and every rule
//! whether the node matches, with the predicates evaluated at the node itself. Whether
//! a context has that shape is read off its syntax tree; whatever falls outside it
//! (other axes, node-type tests, `id()`/`key()`, variables, `current()`,
//! `position()`/`last()`) keeps its XPath selection.

use crate::xml::node::{NodeKind, NodeRef};
use crate::xpath::{Axis, Expr, Start, Test};

/// A rule context as a union of step paths.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    pub branches: Vec<Branch>,
}

/// One alternative of a union: a path of steps, the last one the node itself.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    /// `/a/b`: the first step's node is a child of the document node.
    pub rooted: bool,
    pub steps: Vec<Step>,
}

/// A name test with predicates.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Reached from the previous step through `//` (any ancestor) rather than `/` (parent).
    pub descendant: bool,
    pub attribute: bool,
    /// Namespace URI the node must have ("" for none); `None` for an unprefixed `*`.
    pub ns: Option<String>,
    /// Local name; `None` for `*`.
    pub local: Option<String>,
    /// Predicates, in order, as indexes into the schema's expression table.
    pub preds: Vec<usize>,
}

/// The matcher for the parsed `context`, or `None` when it is not of the simple shape.
/// `ns` resolves a prefix to its URI; `pred` registers a predicate expression and
/// returns its index in the expression table (`None` when it cannot stand alone, which
/// leaves the context to XPath too).
pub(crate) fn parse(
    context: &Expr,
    ns: impl Fn(&str) -> Option<String>,
    mut pred: impl FnMut(&Expr) -> Option<usize>,
) -> Option<Matcher> {
    let mut alternatives = Vec::new();
    union_branches(context, &mut alternatives);
    let mut branches = Vec::new();
    for alternative in alternatives {
        let Expr::Path(path) = alternative else {
            return None;
        };
        let mut rooted = match path.start {
            Start::Context => false,
            Start::Root => true,
            Start::Filter(..) => return None,
        };
        let mut steps: Vec<Step> = Vec::new();
        let mut descendant = false;
        for (i, s) in path.steps.iter().enumerate() {
            if s.is_descendant_or_self_node() {
                if descendant || i + 1 == path.steps.len() {
                    return None;
                }
                if i == 0 && rooted {
                    // `//a` matches an `a` anywhere.
                    rooted = false;
                } else {
                    descendant = true;
                }
                continue;
            }
            // An attribute has no children: only the last step may be one.
            let attribute = match s.axis {
                Axis::Child => false,
                Axis::Attribute if i + 1 == path.steps.len() => true,
                _ => return None,
            };
            let (uri, local) = match &s.test {
                Test::Any => (None, None),
                Test::AnyIn(n) => (Some(resolve(&ns, &n.name.prefix)?), None),
                Test::Name(n) => (
                    Some(resolve(&ns, &n.name.prefix)?),
                    Some(n.name.local.clone()),
                ),
                _ => return None,
            };
            let mut ids = Vec::new();
            for p in &s.preds {
                if !simple_predicate(p) {
                    return None;
                }
                ids.push(pred(p)?);
            }
            steps.push(Step {
                descendant,
                attribute,
                ns: uri,
                local,
                preds: ids,
            });
            descendant = false;
        }
        if steps.is_empty() {
            return None;
        }
        branches.push(Branch { rooted, steps });
    }
    Some(Matcher { branches })
}

/// The alternatives of a union, left to right.
fn union_branches<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Union(a, b) => {
            union_branches(a, out);
            union_branches(b, out);
        }
        other => out.push(other),
    }
}

/// The URI of a name test's prefix ("" without one). A prefix bound to "" is left to
/// XPath: libxml2 then wants a namespace whose URI is empty, which "" (no namespace)
/// cannot express here.
fn resolve(ns: &impl Fn(&str) -> Option<String>, prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return Some(String::new());
    }
    ns(prefix).filter(|u| !u.is_empty())
}

/// Predicates whose truth at a node does not depend on variables, on the current rule
/// node or on the node's position among those the step selects, and whose evaluation
/// cannot fail: paths, comparisons, literals, `not()` and `normalize-space()`. (XPath
/// evaluates a step's predicates at every candidate node, so an error there would
/// abort the selection even at nodes this matcher never needs to visit.)
fn simple_predicate(p: &Expr) -> bool {
    p.variables().is_empty()
        && p.calls().iter().all(|c| {
            c.name.prefix.is_empty()
                && match &*c.name.local {
                    "not" => c.args.len() == 1,
                    "normalize-space" => c.args.len() <= 1,
                    _ => false,
                }
        })
}

impl Step {
    /// Whether `node` passes the name test (predicates aside).
    pub fn name_matches(&self, node: NodeRef<'_>) -> bool {
        let kind_ok = match node.kind() {
            NodeKind::Element => !self.attribute,
            NodeKind::Attribute => self.attribute,
            _ => false,
        };
        kind_ok
            && self.local.as_deref().is_none_or(|l| node.local_name_is(l))
            && self.ns.as_deref().is_none_or(|u| node.namespace_uri_is(u))
    }
}

/// Why a match could not be decided node by node.
pub(crate) enum Undecided {
    /// A predicate's value is a number (a position test) or its evaluation failed.
    Fallback,
}

impl Branch {
    /// Whether `node` matches the branch; `pred` tells whether a predicate holds at a
    /// node (`None`: undecidable here).
    pub fn matches<'d>(
        &self,
        node: NodeRef<'d>,
        pred: &mut impl FnMut(usize, NodeRef<'d>) -> Option<bool>,
    ) -> Result<bool, Undecided> {
        self.match_at(self.steps.len() - 1, node, pred)
    }

    fn match_at<'d>(
        &self,
        index: usize,
        node: NodeRef<'d>,
        pred: &mut impl FnMut(usize, NodeRef<'d>) -> Option<bool>,
    ) -> Result<bool, Undecided> {
        let step = &self.steps[index];
        if !step.name_matches(node) {
            return Ok(false);
        }
        for p in &step.preds {
            match pred(*p, node) {
                Some(true) => {}
                Some(false) => return Ok(false),
                None => return Err(Undecided::Fallback),
            }
        }
        let parent = node.parent();
        if index == 0 {
            return Ok(!self.rooted || parent.is_some_and(|p| p.kind() == NodeKind::Document));
        }
        if step.descendant {
            let mut up = parent;
            while let Some(a) = up {
                if a.kind() != NodeKind::Element {
                    break;
                }
                if self.match_at(index - 1, a, pred)? {
                    return Ok(true);
                }
                up = a.parent();
            }
            Ok(false)
        } else {
            match parent {
                Some(p) if p.kind() == NodeKind::Element => self.match_at(index - 1, p, pred),
                _ => Ok(false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(context: &str) -> Option<Matcher> {
        let mut n = 0;
        let e = crate::xpath::parse(context).unwrap();
        parse(
            &e,
            |p| (p == "m").then(|| "urn:m".to_string()),
            |_| {
                n += 1;
                Some(n)
            },
        )
    }

    #[test]
    fn simple_paths_are_parsed_and_the_rest_is_left_to_xpath() {
        let m = parsed("m:a[@T='x|/y']//m:b[not(@C)] | @ID | /m:r/*").unwrap();
        assert_eq!(m.branches.len(), 3);
        let b = &m.branches[0];
        assert!(!b.rooted);
        assert_eq!(b.steps.len(), 2);
        assert_eq!(b.steps[0].preds.len(), 1);
        assert_eq!(b.steps[1].preds.len(), 1);
        assert!(b.steps[1].descendant);
        assert_eq!(b.steps[1].ns.as_deref(), Some("urn:m"));
        assert!(m.branches[1].steps[0].attribute);
        assert_eq!(m.branches[1].steps[0].ns.as_deref(), Some(""));
        assert!(m.branches[2].rooted);
        assert_eq!(m.branches[2].steps[1].ns, None);
        let m = parsed("//m:a | child::m:b[normalize-space(@c)]").unwrap();
        assert!(!m.branches[0].rooted);
        assert_eq!(m.branches[1].steps[0].local.as_deref(), Some("b"));
        for complex in [
            "/",
            "text()",
            "node()",
            "m:a/text()",
            "descendant::m:a",
            "@ID/..",
            "m:a[$v]",
            "m:a[position() = 1]",
            "m:a[last()]",
            "m:a[current()]",
            "m:a[matches(@x, '(')]",
            "m:a[not(@x, @y)]",
            "key('k', 'v')",
            "id('x')",
            "q:a",
            ".",
            "@ID/m:a",
        ] {
            assert!(parsed(complex).is_none(), "{complex}");
        }
    }
}
