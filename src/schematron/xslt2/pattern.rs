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
use crate::xpath::lexer::{lex, Tok};
use crate::xpath::v2::{Atomic, DynError, Env, Expr2, Item, Scope};

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

/// Whether a predicate's tokens only compare names (`local-name()`, `namespace-uri()`,
/// `name()`) and attributes with string literals, combined with `and`, `or`, `not()`:
/// nothing in it can raise a dynamic error.
fn safe_tokens(toks: &Toks) -> bool {
    toks.iter().enumerate().all(|(i, (t, _))| match t {
        Tok::Literal(_) | Tok::Eq | Tok::Ne | Tok::Comma | Tok::LParen | Tok::RParen | Tok::At => {
            true
        }
        Tok::Name(n) => {
            i > 0 && toks[i - 1].0 == Tok::At
                || matches!(toks.get(i + 1), Some((Tok::LParen, _)))
                    && matches!(n.as_str(), "local-name" | "namespace-uri" | "name" | "not")
                || matches!(n.as_str(), "and" | "or")
        }
        _ => false,
    })
}

/// Parses `src` as a pattern.
pub(super) fn compile(src: &str, scope: &Scope<'_>) -> Result<Pattern, String> {
    let toks = lex(src).map_err(|e| format!("bad pattern '{src}': {e}"))?;
    let mut p = Parser {
        src,
        toks: &toks,
        at: 0,
        scope,
    };
    let mut branches = vec![p.branch()?];
    while p.eat(&Tok::Pipe) || p.eat_name("union") {
        branches.push(p.branch()?);
    }
    if p.at < toks.len() {
        return Err(format!(
            "'{src}' is not a pattern: unexpected text at offset {}",
            toks[p.at].1
        ));
    }
    Ok(Pattern { branches })
}

struct Parser<'a, 's> {
    src: &'a str,
    toks: &'a Toks,
    at: usize,
    scope: &'a Scope<'s>,
}

impl Parser<'_, '_> {
    fn peek(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.at + k).map(|t| &t.0)
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek(0) == Some(tok) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, name: &str) -> bool {
        if matches!(self.peek(0), Some(Tok::Name(n)) if n == name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.src.len(), |t| t.1)
    }

    fn unexpected(&self, what: &str) -> String {
        format!(
            "'{}' is not a pattern: expected {what} at offset {}",
            self.src,
            self.offset()
        )
    }

    /// The source text of a bracketed or parenthesised group starting at the current
    /// token (which is `open`), and moves past its closing token.
    fn group(&mut self, open: &Tok, close: &Tok) -> Result<&str, String> {
        let start = self.toks[self.at].1 + 1;
        let mut depth = 0usize;
        while let Some((tok, offset)) = self.toks.get(self.at) {
            self.at += 1;
            if tok == open {
                depth += 1;
            } else if tok == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(&self.src[start..*offset]);
                }
            }
        }
        Err(self.unexpected("a closing bracket"))
    }

    fn preds(&mut self) -> Result<Vec<Pred>, String> {
        let mut preds = Vec::new();
        while self.peek(0) == Some(&Tok::LBracket) {
            let start = self.at + 1;
            let text = self.group(&Tok::LBracket, &Tok::RBracket)?.to_string();
            let expr = Expr2::compile(&text, self.scope)?;
            let index = match &self.toks[start..self.at - 1] {
                [(Tok::Number(k), _)] if k.fract() == 0.0 && *k >= 1.0 => Some(*k as usize),
                _ => None,
            };
            let safe = safe_tokens(&self.toks[start..self.at - 1]);
            preds.push(Pred { expr, index, safe });
        }
        Ok(preds)
    }

    fn branch(&mut self) -> Result<Branch, String> {
        let mut steps = Vec::new();
        let head = match self.peek(0) {
            Some(Tok::Slash) => {
                self.at += 1;
                if !self.starts_step() {
                    return Ok(Branch {
                        head: Head::Root,
                        steps,
                    });
                }
                Head::Root
            }
            Some(Tok::DSlash) => Head::Relative,
            Some(Tok::Name(n)) if n == "key" && self.peek(1) == Some(&Tok::LParen) => {
                self.at += 1;
                self.key_head()?
            }
            _ => Head::Relative,
        };
        let mut descendant = self.eat(&Tok::DSlash);
        if !descendant && matches!(head, Head::Key { .. }) {
            self.eat(&Tok::Slash);
        }
        loop {
            steps.push((descendant, self.step()?));
            if self.eat(&Tok::Slash) {
                descendant = false;
            } else if self.eat(&Tok::DSlash) {
                descendant = true;
            } else {
                break;
            }
        }
        if matches!(head, Head::Key { .. }) && steps.len() == 1 && steps[0].1.is_empty_marker() {
            steps.clear();
        }
        // Matching climbs one step per level of recursion.
        if steps.len() > MAX_STEPS {
            return Err(format!(
                "a pattern of more than {MAX_STEPS} steps is not supported"
            ));
        }
        Ok(Branch { head, steps })
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(0),
            Some(Tok::Name(_)) | Some(Tok::Star) | Some(Tok::At) | Some(Tok::Dot)
        )
    }

    /// `key('name', value)` and its predicates; the path may end there.
    fn key_head(&mut self) -> Result<Head, String> {
        let args = self.group(&Tok::LParen, &Tok::RParen)?.to_string();
        let toks = lex(&args).map_err(|e| format!("bad key() in a pattern: {e}"))?;
        let Some((Tok::Literal(name), _)) = toks.first() else {
            return Err("key() in a pattern needs the key name as a string literal".into());
        };
        let Some((Tok::Comma, comma)) = toks.get(1) else {
            return Err("key() in a pattern takes two arguments".into());
        };
        let key = (self.scope.key)(name).ok_or_else(|| format!("no xsl:key named '{name}'"))?;
        let value = Box::new(Expr2::compile(&args[comma + 1..], self.scope)?);
        let constant = toks[2..].iter().all(|(t, _)| {
            matches!(
                t,
                Tok::Var(_)
                    | Tok::Literal(_)
                    | Tok::Number(_)
                    | Tok::Comma
                    | Tok::LParen
                    | Tok::RParen
            )
        });
        let preds = self.preds()?;
        Ok(Head::Key {
            key,
            value,
            constant,
            preds,
        })
    }

    fn step(&mut self) -> Result<Step, String> {
        if self.peek(0).is_none() || matches!(self.peek(0), Some(Tok::Pipe)) {
            return Ok(Step::empty_marker());
        }
        let mut axis = Axis::Child;
        if self.eat(&Tok::At) {
            axis = Axis::Attribute;
        } else if let (Some(Tok::Name(n)), Some(Tok::ColonColon)) = (self.peek(0), self.peek(1)) {
            axis = match n.as_str() {
                "child" => Axis::Child,
                "attribute" => Axis::Attribute,
                "self" => Axis::Itself,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                other => return Err(format!("the {other} axis cannot be used in a pattern")),
            };
            self.at += 2;
        } else if self.eat(&Tok::Dot) {
            return Err("'.' cannot be used in a pattern here".into());
        }
        let test = match self.peek(0).cloned() {
            Some(Tok::Star) => {
                self.at += 1;
                if self.peek(0) == Some(&Tok::ColonColon) {
                    return Err(self.unexpected("a node test"));
                }
                Test::Principal
            }
            Some(Tok::Name(name)) if self.peek(1) == Some(&Tok::LParen) => {
                let test = match name.as_str() {
                    "element" => Test::Element,
                    "attribute" => Test::Attribute,
                    "text" => Test::Text,
                    "node" => Test::Node,
                    "comment" => Test::Comment,
                    "processing-instruction" => Test::Pi,
                    other => return Err(format!("{other}() cannot be a step of a pattern")),
                };
                self.at += 1;
                let inner = self.group(&Tok::LParen, &Tok::RParen)?.trim().to_string();
                if !inner.is_empty() && inner != "*" {
                    return Err(format!("{name}({inner}) in a pattern is not supported"));
                }
                test
            }
            Some(Tok::Name(name)) => {
                self.at += 1;
                self.name_test(&name)?
            }
            _ => return Err(self.unexpected("a step")),
        };
        let preds = self.preds()?;
        Ok(Step { axis, test, preds })
    }

    fn name_test(&self, name: &str) -> Result<Test, String> {
        let resolve = |prefix: &str| {
            self.scope
                .namespaces
                .iter()
                .rev()
                .find(|(p, _)| p == prefix)
                .map(|(_, u)| u.clone())
                .ok_or_else(|| format!("namespace prefix '{prefix}' is not declared"))
        };
        Ok(match name.split_once(':') {
            Some(("*", local)) => Test::AnyLocal(local.to_string()),
            Some((prefix, "*")) => Test::AnyIn(resolve(prefix)?),
            Some((prefix, local)) => Test::Name {
                uri: resolve(prefix)?,
                local: local.to_string(),
            },
            None => Test::Name {
                uri: String::new(),
                local: name.to_string(),
            },
        })
    }
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

impl Branch {
    fn matches<'d>(&self, env: &Run<'d, '_>, node: NodeRef<'d>) -> Result<bool, DynError> {
        if self.steps.is_empty() {
            return match &self.head {
                Head::Root => Ok(node.kind() == NodeKind::Document),
                Head::Relative => Ok(false),
                Head::Key { .. } => self.head_matches(env, node),
            };
        }
        self.step_matches(env, self.steps.len() - 1, node)
    }

    /// Whether `node` is selected by the path up to and including step `i`.
    fn step_matches<'d>(
        &self,
        env: &Run<'d, '_>,
        i: usize,
        node: NodeRef<'d>,
    ) -> Result<bool, DynError> {
        let (descendant, step) = &self.steps[i];
        if !step.test(node) {
            return Ok(false);
        }
        // An ancestor step is tested on the same node for each of its descendants: its
        // predicates' truth is kept for the document.
        let holds = if i + 1 < self.steps.len() {
            env.remembered(step as *const Step as usize, node, || {
                preds_hold(env, step, node)
            })?
        } else {
            preds_hold(env, step, node)?
        };
        if !holds {
            return Ok(false);
        }
        let parent = node.parent();
        let previous = |env: &Run<'d, '_>, n: NodeRef<'d>| -> Result<bool, DynError> {
            if i == 0 {
                self.head_matches(env, n)
            } else {
                self.step_matches(env, i - 1, n)
            }
        };
        if i == 0 && matches!(self.head, Head::Relative) && !descendant {
            // A relative pattern: the step's axis from any node.
            return Ok(match step.axis {
                Axis::Child | Axis::Attribute => parent.is_some(),
                _ => true,
            });
        }
        // The nodes from which the step (with its separator) reaches `node`.
        let first: Option<NodeRef<'d>> = match step.axis {
            Axis::Itself | Axis::DescendantOrSelf => Some(node),
            Axis::Child | Axis::Attribute | Axis::Descendant => parent,
        };
        let climb = *descendant || matches!(step.axis, Axis::Descendant | Axis::DescendantOrSelf);
        let mut candidate = first;
        while let Some(c) = candidate {
            if previous(env, c)? {
                return Ok(true);
            }
            if !climb {
                break;
            }
            candidate = c.parent();
        }
        Ok(false)
    }

    fn head_matches<'d>(&self, env: &Run<'d, '_>, node: NodeRef<'d>) -> Result<bool, DynError> {
        match &self.head {
            Head::Relative => Ok(true),
            Head::Root => Ok(node.kind() == NodeKind::Document),
            Head::Key {
                key,
                value,
                constant,
                preds,
            } => {
                let lookup = |ctx: NodeRef<'d>| -> Result<Vec<Item<'d>>, DynError> {
                    let values: Vec<Atomic> =
                        crate::xpath::v2::atomize(&value.eval(env, &Item::Node(ctx))?);
                    env.key(*key, &values, Some(ctx))
                };
                let nodes = if *constant {
                    env.key_head(&**value as *const Expr2 as usize, || lookup(node))?
                } else {
                    std::rc::Rc::new(lookup(node)?)
                };
                let Some(position) = nodes.iter().position(|n| *n == Item::Node(node)) else {
                    return Ok(false);
                };
                for p in preds {
                    if !p.holds_with(env, node, || Ok((position + 1, nodes.len())))? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }
}

/// Whether every predicate of `step` holds for `node`; a numeric predicate compares with
/// the node's position among its siblings that pass the test and the predicates before.
fn preds_hold<'d>(env: &Run<'d, '_>, step: &Step, node: NodeRef<'d>) -> Result<bool, DynError> {
    for (j, p) in step.preds.iter().enumerate() {
        if let (0, Some(k), Axis::Child) = (j, p.index, step.axis) {
            // `[k]` first: the node is the k-th when k - 1 siblings before it pass the test.
            let before = std::iter::successors(node.prev_sibling(), NodeRef::prev_sibling)
                .filter(|s| step.test(*s))
                .take(k)
                .count();
            if before + 1 != k {
                return Ok(false);
            }
            continue;
        }
        let position = || sibling_position(env, step, j, node);
        if !p.holds_with(env, node, position)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn sibling_position<'d>(
    env: &Run<'d, '_>,
    step: &Step,
    before: usize,
    node: NodeRef<'d>,
) -> Result<(usize, usize), DynError> {
    let Some(parent) = node.parent() else {
        return Ok((1, 1));
    };
    let siblings: Vec<NodeRef<'d>> = match step.axis {
        Axis::Attribute => parent.attributes().collect(),
        Axis::Child => parent.children().collect(),
        _ => {
            return Err(DynError::new(
                "XTDE0640",
                "a positional predicate in a pattern is only supported on the child and \
                 attribute axes",
            ))
        }
    };
    let mut position = 0;
    let mut size = 0;
    'sibling: for s in siblings {
        if !step.test(s) {
            continue;
        }
        for p in &step.preds[..before] {
            // Earlier predicates are taken as truth values here; positional ones before a
            // second positional predicate are not supported.
            if !p.expr.ebv(env, &Item::Node(s))? {
                continue 'sibling;
            }
        }
        size += 1;
        if s == node {
            position = size;
        }
    }
    Ok((position, size))
}

impl Pred {
    /// The predicate's value at `node`: a number compares with the position, anything
    /// else is taken as its effective boolean value.
    fn holds_with<'d>(
        &self,
        env: &Run<'d, '_>,
        node: NodeRef<'d>,
        position: impl FnOnce() -> Result<(usize, usize), DynError>,
    ) -> Result<bool, DynError> {
        let value = self.expr.eval(env, &Item::Node(node))?;
        if let [Item::Atom(a)] = value.as_slice() {
            let number = match a {
                Atomic::Int(i) => Some(*i as f64),
                Atomic::Dec(d) | Atomic::Dbl(d) => Some(*d),
                _ => None,
            };
            if let Some(number) = number {
                return Ok(position()?.0 as f64 == number);
            }
        }
        super::run::ebv(&value)
    }
}
