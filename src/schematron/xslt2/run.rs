//! Validating one document with an `xslt2` rule set: the visit of each pattern, rule
//! firing, lazily evaluated `let`s, `xsl:key` indexes, and the host side of the XPath 2.0
//! engine ([`Env`]).

use super::model::{CheckDef, Compiled, LetValue, MessagePart, RuleDef};
use super::program;
use crate::schematron::location::location;
use crate::schematron::report::{ActivePattern, Finding, FiredRule, Kind, Report};
use crate::schematron::run::engine_error;
use crate::schematron::tree::normalize;
use crate::xml::node::{NodeKind, NodeRef};
use crate::xml::{parse, ParseLimits};
use crate::xpath::v2::{atomize, string_value, Atomic, DynError, Env, Expr2, Item, Seq};
use libxml::tree::Document;
use rustc_hash::FxHashMap;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

thread_local! {
    /// The inline trees of each rule set, parsed once per thread and kept for the life of
    /// the thread (a few code lists per rule set).
    static TREES: RefCell<HashMap<(u64, usize), &'static Document>> = RefCell::new(HashMap::new());
    /// Key indexes over those trees, by rule set, key and tree, for keys whose pattern
    /// and `use` read no variable (so that they do not depend on the document).
    static TREE_KEYS: RefCell<HashMap<(u64, usize, NodeRef<'static>), Rc<KeyIndex<'static>>>> =
        RefCell::new(HashMap::new());
}

fn tree(schema: &Compiled, index: usize) -> Result<&'static Document, DynError> {
    TREES.with(|trees| {
        if let Some(doc) = trees.borrow().get(&(schema.id, index)) {
            return Ok(*doc);
        }
        let doc = parse(schema.trees[index].as_bytes(), ParseLimits::default()).map_err(|e| {
            DynError::new("XTDE0045", format!("an inline tree does not parse: {e}"))
        })?;
        let doc: &'static Document = Box::leak(Box::new(doc));
        trees.borrow_mut().insert((schema.id, index), doc);
        Ok(doc)
    })
}

enum Slot<'d> {
    Unset,
    Busy,
    Done(Seq<'d>),
    Failed(DynError),
}

/// One key's index over one tree: string value of `use` → nodes in document order.
type KeyIndex<'d> = FxHashMap<String, Vec<NodeRef<'d>>>;

/// The state of one document's validation.
pub(super) struct Run<'d, 's> {
    schema: &'s Compiled,
    root: NodeRef<'d>,
    slots: RefCell<Vec<Slot<'d>>>,
    /// The `let` that computes each slot, if any.
    let_of: Vec<Option<usize>>,
    current: Cell<Option<NodeRef<'d>>>,
    keys: RefCell<FxHashMap<(usize, NodeRef<'d>), Rc<KeyIndex<'d>>>>,
    /// The document node and every element of the document, in document order.
    nodes: Vec<NodeRef<'d>>,
    /// The positions in `nodes` of the elements of each name and of each namespace.
    by_name: FxHashMap<(&'d str, &'d str), Vec<usize>>,
    by_namespace: FxHashMap<&'d str, Vec<usize>>,
    /// The position of each of `nodes`, made on first use.
    positions: std::cell::OnceCell<FxHashMap<NodeRef<'d>, usize>>,
    /// Truth of the predicates of ancestor steps of patterns, by step and node.
    remembered: RefCell<FxHashMap<(usize, NodeRef<'d>), bool>>,
    /// The nodes of patterns' constant `key()` heads, by head.
    key_heads: RefCell<FxHashMap<usize, Rc<Seq<'d>>>>,
}

pub(super) fn validate(schema: &Compiled, doc: &Document) -> Report {
    let root = NodeRef::document(doc);
    let mut let_of = vec![None; schema.slots];
    for (i, l) in schema.lets.iter().enumerate() {
        let_of[l.slot] = Some(i);
    }
    let nodes = visited(root);
    let mut by_name: FxHashMap<(&str, &str), Vec<usize>> = FxHashMap::default();
    let mut by_namespace: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, n) in nodes.iter().enumerate() {
        if n.kind() == NodeKind::Element {
            let (uri, local) = (n.namespace_uri(), n.local_name());
            by_name.entry((uri, local)).or_default().push(i);
            by_namespace.entry(uri).or_default().push(i);
        }
    }
    let run = Run {
        schema,
        root,
        slots: RefCell::new((0..schema.slots).map(|_| Slot::Unset).collect()),
        let_of,
        current: Cell::new(None),
        keys: RefCell::new(FxHashMap::default()),
        by_name,
        by_namespace,
        positions: std::cell::OnceCell::new(),
        nodes,
        remembered: RefCell::new(FxHashMap::default()),
        key_heads: RefCell::new(FxHashMap::default()),
    };
    let mut report = Report {
        namespaces: schema.namespaces.clone(),
        title: schema.title.clone(),
        ..Report::default()
    };
    if let Err((error, place)) = run.all(&mut report) {
        return Report {
            findings: vec![dynamic_error(error, place)],
            namespaces: schema.namespaces.clone(),
            title: schema.title.clone(),
            ..Report::default()
        };
    }
    report
}

/// Where a dynamic error was raised: the rule context, the test and the node.
type Place = Option<(Arc<str>, Arc<str>, String)>;

fn dynamic_error(error: DynError, place: Place) -> Finding {
    let (context, test, at) =
        place.unwrap_or_else(|| (Arc::from(""), Arc::from(""), String::new()));
    let mut message = format!("dynamic error {}: {}", error.code, error.message);
    if !context.is_empty() {
        message.push_str(&format!(" (rule context '{context}'"));
        if !test.is_empty() {
            message.push_str(&format!(", test '{test}'"));
        }
        message.push_str(&format!(", at {at})"));
    }
    message.push_str("; the validation of this document against the rule set stops here");
    Finding {
        test,
        ..engine_error(message)
    }
}

/// The document node and every element, in document order.
fn visited(root: NodeRef<'_>) -> Vec<NodeRef<'_>> {
    let mut out = vec![root];
    let mut stack: Vec<NodeRef<'_>> = root.element_children().collect();
    stack.reverse();
    while let Some(n) = stack.pop() {
        out.push(n);
        let before = stack.len();
        stack.extend(n.element_children());
        stack[before..].reverse();
    }
    out
}

/// The effective boolean value of a sequence (XPath 2.0 §2.4.3).
pub(super) fn ebv(seq: &[Item<'_>]) -> Result<bool, DynError> {
    match seq {
        [] => Ok(false),
        [Item::Node(_), ..] => Ok(true),
        [Item::Atom(a)] => match a {
            Atomic::Bool(b) => Ok(*b),
            Atomic::Str(s) | Atomic::Untyped(s) => Ok(!s.is_empty()),
            Atomic::Int(i) => Ok(*i != 0),
            Atomic::Dec(d) | Atomic::Dbl(d) => Ok(!(*d == 0.0 || d.is_nan())),
            Atomic::Date(_) => Err(DynError::new(
                "FORG0006",
                "effective boolean value is not defined for a value of type xs:date",
            )),
        },
        _ => Err(DynError::new(
            "FORG0006",
            "effective boolean value is not defined for a sequence of two or more items \
             starting with an atomic value",
        )),
    }
}

impl<'d> Run<'d, '_> {
    fn all(&self, report: &mut Report) -> Result<(), (DynError, Place)> {
        let nodes = &self.nodes;
        let every: Vec<usize> = (0..nodes.len()).collect();
        for (index, pattern) in self.schema.patterns.iter().enumerate() {
            report.active_patterns.push(ActivePattern {
                id: pattern.id.clone(),
                name: pattern.name.clone(),
            });
            let selected = pattern
                .rules
                .iter()
                .map(|r| r.names.as_ref().map(|s| (r, s)))
                .collect::<Option<Vec<_>>>();
            let named: Option<Vec<usize>> = match selected {
                None => None,
                Some(rules) => {
                    let mut at = self.elements_named(rules.iter().flat_map(|(_, s)| &s.names));
                    for (rule, _) in rules.iter().filter(|(_, s)| s.keyed) {
                        let place = || Some((rule.context.clone(), Arc::from(""), String::new()));
                        let nodes = rule
                            .pattern
                            .key_nodes(self, self.root)
                            .map_err(|e| (e, place()))?;
                        at.extend(nodes.iter().filter_map(|n| self.position(*n)));
                    }
                    at.sort_unstable();
                    at.dedup();
                    Some(at)
                }
            };
            // Rules whose context names an element the document lacks are left out.
            let has = |uri: &str, local: &str| self.by_name.contains_key(&(uri, local));
            let rules: Vec<&RuleDef> = pattern
                .rules
                .iter()
                .filter(|r| !r.pattern.impossible(has))
                .collect();
            if rules.is_empty() {
                continue;
            }
            for &i in named.as_ref().unwrap_or(&every) {
                let node = nodes[i];
                for &rule in &rules {
                    if !self.may_match(rule, node) {
                        continue;
                    }
                    let place = || Some((rule.context.clone(), Arc::from(""), location(node)));
                    if rule.pattern.matches(self, node).map_err(|e| (e, place()))? {
                        self.fire(report, index, pattern.id.clone(), rule, node)?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the rule's context can match `node` by its name alone.
    fn may_match(&self, rule: &RuleDef, node: NodeRef<'d>) -> bool {
        match &rule.names {
            None => true,
            Some(selection) if selection.keyed => true,
            Some(selection) => {
                node.kind() == NodeKind::Element
                    && selection.names.iter().any(|(uri, local)| {
                        local.as_ref().is_none_or(|l| node.local_name_is(l))
                            && node.namespace_uri_is(uri)
                    })
            }
        }
    }

    /// The position of `node` in `nodes`, if it is the document node or an element.
    fn position(&self, node: NodeRef<'d>) -> Option<usize> {
        self.positions
            .get_or_init(|| {
                self.nodes
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (*n, i))
                    .collect()
            })
            .get(&node)
            .copied()
    }

    fn fire(
        &self,
        report: &mut Report,
        pattern_index: usize,
        pattern: Option<Arc<str>>,
        rule: &RuleDef,
        node: NodeRef<'d>,
    ) -> Result<(), (DynError, Place)> {
        let fired = report.fired_rules.len();
        report.fired_rules.push(FiredRule {
            pattern: pattern_index,
            context: rule.context.clone(),
            id: rule.id.clone(),
        });
        self.current.set(Some(node));
        {
            let mut slots = self.slots.borrow_mut();
            for &l in &rule.lets {
                slots[self.schema.lets[l].slot] = Slot::Unset;
            }
        }
        for check in &rule.checks {
            let place = || Some((rule.context.clone(), check.test_src.clone(), location(node)));
            let truth = check
                .test
                .ebv(self, &Item::Node(node))
                .map_err(|e| (e, place()))?;
            if truth == (check.kind == Kind::Report) {
                let message = self
                    .message(&check.message, node)
                    .map_err(|e| (e, place()))?;
                report
                    .findings
                    .push(finding(pattern.clone(), rule, check, node, fired, message));
            }
        }
        Ok(())
    }

    fn message(&self, parts: &[MessagePart<Expr2>], node: NodeRef<'d>) -> Result<String, DynError> {
        let mut out = String::new();
        for part in parts {
            match part {
                MessagePart::Text(t) => out.push_str(t),
                MessagePart::ValueOf(e) => {
                    let items = e.eval(self, &Item::Node(node))?;
                    let strings: Vec<String> = items.iter().map(string_value).collect();
                    out.push_str(&strings.join(" "));
                }
                MessagePart::Name(None) => out.push_str(&node.name()),
                MessagePart::Name(Some(e)) => {
                    if let Some(Item::Node(n)) = e.eval(self, &Item::Node(node))?.first() {
                        out.push_str(&n.name());
                    }
                }
            }
        }
        Ok(normalize(&out))
    }

    /// Sets a variable of an XSLT instruction.
    pub(super) fn set(&self, slot: usize, value: Seq<'d>) {
        self.slots.borrow_mut()[slot] = Slot::Done(value);
    }

    fn compute(&self, slot: usize) -> Result<Seq<'d>, DynError> {
        let Some(index) = self.let_of[slot] else {
            return Err(DynError::new(
                "XPDY0002",
                "a variable is read before it is set",
            ));
        };
        let def = &self.schema.lets[index];
        let ctx = if def.rule_level {
            self.current.get().unwrap_or(self.root)
        } else {
            self.root
        };
        let ctx = Item::Node(ctx);
        match &def.value {
            LetValue::Expr(e) => e.eval(self, &ctx),
            LetValue::Tree(i) => {
                let doc: &'d Document = tree(self.schema, *i)?;
                Ok(vec![Item::Node(NodeRef::document(doc))])
            }
            LetValue::Program(body) => program::value(self, body, &ctx),
        }
    }

    /// The positions in `nodes` of the elements with one of `names`, in document order.
    fn elements_named<'n>(
        &self,
        names: impl Iterator<Item = &'n (String, Option<String>)>,
    ) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for (uri, local) in names {
            let found = match local {
                Some(local) => self.by_name.get(&(uri.as_str(), local.as_str())),
                None => self.by_namespace.get(uri.as_str()),
            };
            out.extend(found.into_iter().flatten());
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The truth of `f` for `(id, node)`, computed once per document.
    pub(super) fn remembered(
        &self,
        id: usize,
        node: NodeRef<'d>,
        f: impl FnOnce() -> Result<bool, DynError>,
    ) -> Result<bool, DynError> {
        if let Some(&known) = self.remembered.borrow().get(&(id, node)) {
            return Ok(known);
        }
        let value = f()?;
        self.remembered.borrow_mut().insert((id, node), value);
        Ok(value)
    }

    /// The nodes of a constant `key()` head of a pattern, computed once per document.
    pub(super) fn key_head(
        &self,
        id: usize,
        f: impl FnOnce() -> Result<Seq<'d>, DynError>,
    ) -> Result<Rc<Seq<'d>>, DynError> {
        if let Some(nodes) = self.key_heads.borrow().get(&id) {
            return Ok(nodes.clone());
        }
        let nodes = Rc::new(f()?);
        self.key_heads.borrow_mut().insert(id, nodes.clone());
        Ok(nodes)
    }

    /// The index of key `key` over the tree whose document node is `top`.
    fn index(&self, key: usize, top: NodeRef<'d>) -> Result<Rc<KeyIndex<'d>>, DynError> {
        if let Some(index) = self.keys.borrow().get(&(key, top)) {
            return Ok(index.clone());
        }
        let def = &self.schema.keys[key];
        // An inline tree of the rule set lives as long as the thread, and so does its
        // index when nothing in the key reads a variable.
        let lasting =
            top != self.root && def.use_.variables().is_empty() && !def.pattern.reads_variables();
        let tree_key = NodeRef::<'static>::from_ptr(top.as_ptr())
            .filter(|_| lasting)
            .map(|tree| (self.schema.id, key, tree));
        if let Some(tree_key) = tree_key {
            if let Some(index) = TREE_KEYS.with(|k| k.borrow().get(&tree_key).cloned()) {
                let index: Rc<KeyIndex<'d>> = index;
                self.keys.borrow_mut().insert((key, top), index.clone());
                return Ok(index);
            }
        }
        let nodes: Vec<NodeRef<'d>> = match &def.names {
            _ if top != self.root => visited(top),
            Some(selection) if !selection.keyed => self
                .elements_named(selection.names.iter())
                .into_iter()
                .map(|i| self.nodes[i])
                .collect(),
            _ => self.nodes.clone(),
        };
        let mut index = KeyIndex::default();
        for node in nodes {
            if !def.pattern.matches(self, node)? {
                continue;
            }
            for value in atomize(&def.use_.eval(self, &Item::Node(node))?) {
                let nodes = index.entry(string_value(&Item::Atom(value))).or_default();
                if nodes.last() != Some(&node) {
                    nodes.push(node);
                }
            }
        }
        let index = Rc::new(index);
        if let Some(tree_key) = tree_key {
            // The nodes are those of a tree parsed for the thread (`tree`), which is
            // never freed.
            let lasting: KeyIndex<'static> = index
                .iter()
                .map(|(k, v)| {
                    let v = v
                        .iter()
                        .filter_map(|n| NodeRef::from_ptr(n.as_ptr()))
                        .collect();
                    (k.clone(), v)
                })
                .collect();
            TREE_KEYS.with(|k| k.borrow_mut().insert(tree_key, Rc::new(lasting)));
        }
        self.keys.borrow_mut().insert((key, top), index.clone());
        Ok(index)
    }
}

fn finding(
    pattern: Option<Arc<str>>,
    rule: &RuleDef,
    check: &CheckDef,
    node: NodeRef<'_>,
    fired: usize,
    message: String,
) -> Finding {
    Finding {
        rule_id: check.rule_id.clone(),
        kind: check.kind,
        class: check.class,
        role: check.role.clone(),
        flag: check.flag.clone(),
        message,
        location: location(node),
        see: check.see.clone(),
        pattern,
        context: rule.context.clone(),
        test: check.test_src.clone(),
        diagnostics: Vec::new(),
        fired_rule: fired,
    }
}

impl<'d> Env<'d> for Run<'d, '_> {
    fn var(&self, slot: usize) -> Result<Seq<'d>, DynError> {
        {
            let mut slots = self.slots.borrow_mut();
            match &slots[slot] {
                Slot::Done(v) => return Ok(v.clone()),
                Slot::Failed(e) => return Err(e.clone()),
                Slot::Busy => {
                    return Err(DynError::new(
                        "XTDE0640",
                        "a variable's value depends on itself",
                    ))
                }
                Slot::Unset => slots[slot] = Slot::Busy,
            }
        }
        let value = self.compute(slot);
        self.slots.borrow_mut()[slot] = match &value {
            Ok(v) => Slot::Done(v.clone()),
            Err(e) => Slot::Failed(e.clone()),
        };
        value
    }

    fn key(
        &self,
        key: usize,
        values: &[Atomic],
        top: Option<NodeRef<'d>>,
    ) -> Result<Seq<'d>, DynError> {
        let top = match top {
            None => self.root,
            Some(node) => {
                let mut root = node;
                while let Some(p) = root.parent() {
                    root = p;
                }
                if root.kind() != NodeKind::Document {
                    return Err(DynError::new(
                        "XTDE1270",
                        "the third argument of key() is not in a tree with a document node",
                    ));
                }
                root
            }
        };
        let index = self.index(key, top)?;
        let mut out: Vec<NodeRef<'d>> = Vec::new();
        for v in values {
            if let Some(nodes) = index.get(&string_value(&Item::Atom(v.clone()))) {
                out.extend(nodes);
            }
        }
        if values.len() > 1 {
            out.sort_by(|a, b| a.document_order(b));
            out.dedup();
        }
        Ok(out.into_iter().map(Item::Node).collect())
    }

    fn current(&self) -> Option<NodeRef<'d>> {
        self.current.get()
    }
}
