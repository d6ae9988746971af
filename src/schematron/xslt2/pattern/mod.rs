//! XSLT match patterns, as rule contexts and `xsl:key/@match` are under `xslt2`: parsed
//! from the engine's tokens into steps, and matched node by node from the last step
//! upwards, the way an XSLT processor tests a template's pattern against the node it
//! visits. Predicates are XPath 2.0 expressions ([`Expr2`]) evaluated on the node being
//! tested — also where an ancestor step would fail afterwards, since that is when Saxon
//! evaluates them, so that a predicate raising a dynamic error raises it here too.
//!
//! Grammar: a union (`|`) of paths; a path may start with `/`, `//`, or
//! `key('name', value)` with predicates; steps on the child, attribute, self, descendant
//! and descendant-or-self axes, with name tests (`p:n`, `p:*`, `*`) or kind tests
//! (`element()`, `attribute()`, `text()`, `node()`, `comment()`,
//! `processing-instruction()`), each with predicates.

use super::run::Run;
use crate::xml::node::{NodeKind, NodeRef};
use crate::xpath::lexer::Tok;
use crate::xpath::v2::{DynError, Env, Expr2, Item};

mod matching;
mod parse;

pub(crate) use parse::compile;

/// A compiled pattern: a union of branches.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    branches: Vec<Branch>,
}

#[derive(Debug, Clone)]
struct Branch {
    head: Head,
    /// Steps in order, each with the separator before it (`true` for `//`).
    steps: Vec<(bool, Step)>,
}

#[derive(Debug, Clone)]
enum Head {
    /// A relative path.
    Relative,
    /// A path from the document node (`/…`, or `/` alone when there are no steps).
    Root,
    /// `key('name', value)[predicates]`.
    Key {
        key: usize,
        value: Box<Expr2>,
        /// Whether `value` is made of literals and variables only, so that the nodes
        /// the key gives are the same for every node tested in a document.
        constant: bool,
        preds: Vec<Pred>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Child,
    Attribute,
    Itself,
    Descendant,
    DescendantOrSelf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    Name { uri: String, local: String },
    AnyIn(String),
    AnyLocal(String),
    Principal,
    Element,
    Attribute,
    Text,
    Node,
    Comment,
    Pi,
}

#[derive(Debug, Clone)]
struct Step {
    axis: Axis,
    test: Test,
    preds: Vec<Pred>,
}

#[derive(Debug, Clone)]
struct Pred {
    expr: Expr2,
    /// `k` when the predicate is the number literal `k` alone.
    index: Option<usize>,
    /// Whether the predicate cannot raise a dynamic error: it only compares names and
    /// attributes with string literals (`local-name() = 'mets'`, `@TYPE = ('a', 'b')`).
    safe: bool,
}

type Toks = [(Tok, usize)];

/// The most steps a path of a pattern may have.
const MAX_STEPS: usize = 256;

/// Element names a pattern can match: namespace URI and local name, `None` for any
/// element of the namespace.
pub(crate) type Names = Vec<(String, Option<String>)>;

/// The nodes a pattern can match: elements by name, and the nodes of constant `key()`s.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    pub names: Names,
    pub keyed: bool,
}

impl Step {
    fn empty_marker() -> Step {
        Step {
            axis: Axis::Itself,
            test: Test::Node,
            preds: Vec::new(),
        }
    }

    fn is_empty_marker(&self) -> bool {
        self.axis == Axis::Itself && self.test == Test::Node && self.preds.is_empty()
    }

    /// Whether `node` passes the step's node test (not its predicates).
    fn test(&self, node: NodeRef<'_>) -> bool {
        let kind = node.kind();
        let principal = match self.axis {
            Axis::Attribute => NodeKind::Attribute,
            _ => NodeKind::Element,
        };
        match &self.test {
            Test::Name { uri, local } => {
                kind == principal && node.local_name_is(local) && node.namespace_uri_is(uri)
            }
            Test::AnyIn(uri) => kind == principal && node.namespace_uri_is(uri),
            Test::AnyLocal(local) => kind == principal && node.local_name_is(local),
            Test::Principal => kind == principal,
            Test::Element => kind == NodeKind::Element,
            Test::Attribute => kind == NodeKind::Attribute,
            Test::Text => kind == NodeKind::Text,
            Test::Node => match self.axis {
                Axis::Attribute => kind == NodeKind::Attribute,
                _ => !matches!(kind, NodeKind::Attribute | NodeKind::Document),
            },
            Test::Comment => kind == NodeKind::Comment,
            Test::Pi => kind == NodeKind::ProcessingInstruction,
        }
    }
}

impl Pattern {
    /// The elements the pattern can match, by namespace URI and local name (`None`: any
    /// in that namespace), and whether it also matches the nodes of a constant `key()`
    /// ([`Pattern::key_nodes`]); `None` when it may match other nodes or any element.
    pub(super) fn selection(&self) -> Option<Selection> {
        let mut out = Selection {
            names: Vec::new(),
            keyed: false,
        };
        for b in &self.branches {
            match (b.steps.last(), &b.head) {
                (Some((_, s)), _) if s.axis == Axis::Attribute => {}
                (Some((_, s)), _) => match &s.test {
                    Test::Name { uri, local } => out.names.push((uri.clone(), Some(local.clone()))),
                    Test::AnyIn(uri) => out.names.push((uri.clone(), None)),
                    _ => return None,
                },
                (None, Head::Key { constant: true, .. }) => out.keyed = true,
                (None, _) => return None,
            }
        }
        Some(out)
    }

    /// The nodes of the branches that are a constant `key()` call alone, in `root`'s
    /// document.
    pub(super) fn key_nodes<'d>(
        &self,
        env: &Run<'d, '_>,
        root: NodeRef<'d>,
    ) -> Result<Vec<NodeRef<'d>>, DynError> {
        let mut out = Vec::new();
        for b in self.branches.iter().filter(|b| b.steps.is_empty()) {
            if let Head::Key { key, value, .. } = &b.head {
                let nodes = env.key_head(&**value as *const Expr2 as usize, || {
                    let values = crate::xpath::v2::atomize(&value.eval(env, &Item::Node(root))?);
                    env.key(*key, &values, Some(root))
                })?;
                out.extend(nodes.iter().filter_map(|n| match n {
                    Item::Node(n) => Some(*n),
                    Item::Atom(_) => None,
                }));
            }
        }
        Ok(out)
    }

    /// Whether no node of the document can match: each branch names an element the
    /// document lacks (`has` answers that), on a step below which no predicate can
    /// raise an error (those would be evaluated before the missing element is looked
    /// for).
    pub(super) fn impossible(&self, has: impl Fn(&str, &str) -> bool) -> bool {
        self.branches.iter().all(|b| {
            b.steps.iter().enumerate().any(|(i, (_, s))| match &s.test {
                Test::Name { uri, local } if s.axis != Axis::Attribute => {
                    !has(uri, local)
                        && b.steps[i + 1..]
                            .iter()
                            .all(|(_, s)| s.preds.iter().all(|p| p.safe))
                }
                _ => false,
            })
        })
    }

    /// Whether a predicate or `key()` argument of the pattern reads a variable.
    pub(super) fn reads_variables(&self) -> bool {
        let preds = |p: &[Pred]| p.iter().any(|p| !p.expr.variables().is_empty());
        self.branches.iter().any(|b| {
            b.steps.iter().any(|(_, s)| preds(&s.preds))
                || matches!(&b.head, Head::Key { value, preds: p, .. }
                    if !value.variables().is_empty() || preds(p))
        })
    }

    /// Whether `node` matches the pattern.
    pub(super) fn matches<'d>(
        &self,
        env: &Run<'d, '_>,
        node: NodeRef<'d>,
    ) -> Result<bool, DynError> {
        for b in &self.branches {
            if b.matches(env, node)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
