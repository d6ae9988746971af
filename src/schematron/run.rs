//! Validation of one document: per-thread compiled expressions, one selection per
//! rule to find the nodes it matches, first-matching-rule-wins per pattern in
//! document order, then the rule's checks against each node it fired on.

use super::expr::{EXTENSION_FUNCTIONS, FN_NS, XSLT_FUNCTIONS};
use super::functions::{Host, KeyIndex};
use super::location::location;
use super::matcher::Matcher;
use super::model::{CheckDef, Compiled, ExprId, LetDef, MessagePart, RuleDef};
use super::report::{ActivePattern, Class, Diagnostic, Finding, FiredRule, Kind, Report};
use crate::xml::node::NodeRef;
use crate::xml::xpath::{order_document, Evaluator, FunctionHost, Value, XPathExpr};
use crate::xpath::{self, Env};
use libxml::tree::Document;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::Arc;

thread_local! {
    /// Compiled expression tables, per schema id, for this thread.
    static EXPRS: RefCell<HashMap<u64, Rc<Vec<XPathExpr>>>> = RefCell::new(HashMap::new());
}

/// How many schemas' expressions a thread keeps before starting afresh.
const MAX_CACHED_SCHEMAS: usize = 64;

fn thread_exprs(schema: &Compiled) -> Result<Rc<Vec<XPathExpr>>, String> {
    EXPRS.with(|cache| {
        if let Some(hit) = cache.borrow().get(&schema.id) {
            return Ok(hit.clone());
        }
        let exprs = schema
            .exprs
            .iter()
            .map(|s| XPathExpr::compile(s).map_err(|e| format!("'{s}': {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let exprs = Rc::new(exprs);
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_CACHED_SCHEMAS {
            cache.clear();
        }
        cache.insert(schema.id, exprs.clone());
        Ok(exprs)
    })
}

type Ev<'d, 'h> = Evaluator<'d, 'h, Host<'d>>;

/// The matchers whose last step may match a node, by its local name.
#[derive(Default)]
struct Candidates<'m> {
    names: Vec<(&'m str, Vec<usize>)>,
    /// Matchers whose last step is `*` or `p:*`.
    any: Vec<usize>,
    /// The position in `names` (or none) by the address of a node's stored name.
    seen: HashMap<usize, Option<usize>, BuildHasherDefault<AddressHasher>>,
}

impl<'m> Candidates<'m> {
    fn add(&mut self, local: Option<&'m str>, matcher: usize) {
        let list = match local {
            None => &mut self.any,
            Some(name) => match self.names.iter().position(|(n, _)| *n == name) {
                Some(p) => &mut self.names[p].1,
                None => {
                    self.names.push((name, Vec::new()));
                    &mut self.names.last_mut().expect("just pushed").1
                }
            },
        };
        if !list.contains(&matcher) {
            list.push(matcher);
        }
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty() && self.any.is_empty()
    }

    /// The position in `names` of `node`'s local name.
    fn position(&mut self, node: NodeRef<'_>) -> Option<usize> {
        let names = &self.names;
        *self
            .seen
            .entry(node.name_address())
            .or_insert_with(|| names.iter().position(|(n, _)| node.local_name_is(n)))
    }
}

/// Hashes a pointer-sized key by multiplication (the keys are addresses).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

struct Run<'d, 'h, 'c> {
    schema: &'c Compiled,
    exprs: &'c [XPathExpr],
    ev: Ev<'d, 'h>,
    host: &'h Host<'d>,
    root: NodeRef<'d>,
    report: Report,
    /// The variables bound so far, by slot, for the native evaluator.
    vars: Vec<Option<Value<'d>>>,
}

/// What the native evaluator sees of a run.
struct NativeEnv<'a, 'd> {
    vars: &'a [Option<Value<'d>>],
    host: &'a Host<'d>,
}

impl<'d> Env<'d> for NativeEnv<'_, 'd> {
    fn var(&self, slot: usize) -> Option<&Value<'d>> {
        self.vars.get(slot)?.as_ref()
    }
    fn call(&self, name: &str, args: Vec<Value<'d>>) -> Result<Value<'d>, String> {
        self.host.call(name, "", args)
    }
}

/// Validates `doc` against `schema`.
pub(crate) fn validate(schema: &Compiled, doc: &Document) -> Report {
    let mut report = Report {
        namespaces: schema.namespaces.clone(),
        title: schema.title.clone(),
        ..Report::default()
    };
    let exprs = match thread_exprs(schema) {
        Ok(e) => e,
        Err(e) => {
            report
                .findings
                .push(engine_error(format!("cannot compile expression {e}")));
            return report;
        }
    };
    order_document(doc);
    let host = Host::default();
    let ev = match setup(schema, doc, &host) {
        Ok(ev) => ev,
        Err(e) => {
            report.findings.push(engine_error(e));
            return report;
        }
    };
    let root = NodeRef::document(doc);
    let mut run = Run {
        schema,
        exprs: &exprs,
        ev,
        host: &host,
        root,
        report,
        vars: vec![None; schema.var_slots],
    };
    run.all();
    run.report
}

fn setup<'d, 'h>(
    schema: &Compiled,
    doc: &'d Document,
    host: &'h Host<'d>,
) -> Result<Ev<'d, 'h>, String> {
    let ev = Evaluator::new(doc, host)?;
    for (prefix, uri) in &schema.namespaces {
        ev.register_namespace(prefix, uri)?;
    }
    for f in EXTENSION_FUNCTIONS {
        ev.register_function(f, "")?;
        ev.register_function(f, FN_NS)?;
    }
    for f in XSLT_FUNCTIONS {
        ev.register_function(f, "")?;
    }
    Ok(ev)
}

/// A finding that reports what kept the engine from checking (id `schema`, no rule).
pub(super) fn engine_error(message: String) -> Finding {
    Finding {
        rule_id: Arc::from("schema"),
        kind: Kind::Assert,
        class: Class::Error,
        role: None,
        flag: None,
        message,
        location: String::new(),
        see: None,
        pattern: None,
        context: Arc::from(""),
        test: Arc::from(""),
        diagnostics: Vec::new(),
        fired_rule: 0,
    }
}

impl<'d> Run<'d, '_, '_> {
    fn env(&self) -> NativeEnv<'_, 'd> {
        NativeEnv {
            vars: &self.vars,
            host: self.host,
        }
    }

    /// Before libxml2 evaluates expression `id` in place of the native evaluator: binds
    /// the variables it reads, which only the native side holds.
    fn sync_variables(&self, id: ExprId) {
        for (name, slot) in &self.schema.native_vars[id] {
            if let Some(Some(value)) = self.vars.get(*slot) {
                let _ = self.ev.bind_value(name, value);
            }
        }
    }

    /// The effective boolean value of expression `id` at `node`.
    fn eval_bool(&self, id: ExprId, node: NodeRef<'d>) -> Result<bool, String> {
        if let Some(e) = &self.schema.native[id] {
            if let Some(b) = e.truth(&self.env(), node) {
                return Ok(b);
            }
            self.sync_variables(id);
        }
        self.ev.eval_bool(&self.exprs[id], node)
    }

    /// The value of expression `id` at `node`.
    fn eval_value(&self, id: ExprId, node: NodeRef<'d>) -> Result<Value<'d>, String> {
        if let Some(e) = &self.schema.native[id] {
            if let Some(v) = e.eval(&self.env(), node) {
                return Ok(v);
            }
            self.sync_variables(id);
        }
        self.ev.eval_value(&self.exprs[id], node)
    }

    /// `string()` of expression `id` at `node`.
    fn eval_string(&self, id: ExprId, node: NodeRef<'d>) -> Result<String, String> {
        if let Some(e) = &self.schema.native[id] {
            if let Some(s) = e.eval(&self.env(), node).and_then(xpath::to_string) {
                return Ok(s);
            }
            self.sync_variables(id);
        }
        self.ev.eval_string(&self.exprs[id], node)
    }

    /// The nodes expression `id` selects at `node`.
    fn eval_nodes(&self, id: ExprId, node: NodeRef<'d>) -> Result<Vec<NodeRef<'d>>, String> {
        match self.eval_value(id, node)? {
            Value::Nodes(nodes) => Ok(nodes),
            _ => Err("expression does not select nodes".into()),
        }
    }

    /// Expression `id` as a predicate at `node`: its truth, or `None` for a number.
    fn eval_predicate(&self, id: ExprId, node: NodeRef<'d>) -> Result<Option<bool>, String> {
        if let Some(e) = &self.schema.native[id] {
            if let Some(truth) = e.predicate(&self.env(), node) {
                return Ok(truth);
            }
            self.sync_variables(id);
        }
        self.ev.eval_predicate(&self.exprs[id], node)
    }

    fn all(&mut self) {
        let schema = self.schema;
        self.lets(&schema.lets, self.root);
        // The nodes of rule contexts and key patterns simple enough to be matched node by
        // node; rule slots first, in schema order, then the keys.
        let matchers: Vec<Option<&Matcher>> = schema
            .patterns
            .iter()
            .flat_map(|p| &p.rules)
            .map(|r| r.matcher.as_ref())
            .chain(schema.keys.iter().map(|k| k.matcher.as_ref()))
            .collect();
        let mut matched = self.walk(&matchers);
        let rule_slots: usize = schema.patterns.iter().map(|p| p.rules.len()).sum();
        let key_nodes = matched.split_off(rule_slots);
        let mut matched = matched.into_iter();
        self.build_keys(key_nodes);
        for pattern in &schema.patterns {
            let mut matched: Vec<_> = matched.by_ref().take(pattern.rules.len()).collect();
            let index = self.report.active_patterns.len();
            self.report.active_patterns.push(ActivePattern {
                id: pattern.id.clone(),
                name: pattern.name.clone(),
            });
            self.lets(&pattern.lets, self.root);
            let mut hits: Vec<(NodeRef<'d>, usize)> = Vec::new();
            for (i, rule) in pattern.rules.iter().enumerate() {
                if let Some(nodes) = matched[i].take() {
                    hits.extend(nodes.into_iter().map(|n| (n, i)));
                    continue;
                }
                match self.eval_nodes(rule.select, self.root) {
                    Ok(nodes) => hits.extend(nodes.into_iter().map(|n| (n, i))),
                    Err(e) => self.error(
                        pattern.id.clone(),
                        rule,
                        None,
                        self.root,
                        format!("cannot select the context '{}': {e}", rule.context),
                    ),
                }
            }
            if pattern.rules.len() > 1 {
                // Stable: for a node matched by several rules, the first rule stays first.
                hits.sort_by(|a, b| a.0.document_order(&b.0));
                hits.dedup_by(|later, earlier| later.0 == earlier.0);
            }
            for (node, i) in hits {
                self.fire(index, pattern.id.clone(), &pattern.rules[i], node);
            }
        }
    }

    /// The nodes each matcher matches, all found in one walk over the document, in
    /// document order; `None` where there is no matcher or a predicate turned out to be
    /// a position test (the caller then evaluates the XPath selection).
    fn walk(&self, matchers: &[Option<&Matcher>]) -> Vec<Option<Vec<NodeRef<'d>>>> {
        let mut out: Vec<Option<Vec<NodeRef<'d>>>> =
            matchers.iter().map(|m| m.map(|_| Vec::new())).collect();
        // Candidate matchers by the last step's kind (element, attribute) and local name.
        let mut index = [Candidates::default(), Candidates::default()];
        for (i, m) in matchers.iter().enumerate() {
            let Some(m) = m else { continue };
            for b in &m.branches {
                let last = b.steps.last().expect("a branch has steps");
                index[last.attribute as usize].add(last.local.as_deref(), i);
            }
        }
        if index.iter().all(Candidates::is_empty) {
            return out;
        }
        let attributes = !index[1].is_empty();
        let mut pred = |id: usize, node: NodeRef<'d>| {
            // An error (none is expected of the predicates a matcher accepts) also
            // leaves the rule to its XPath selection, which reports it.
            self.eval_predicate(id, node).unwrap_or_default()
        };
        let mut visit = |node: NodeRef<'d>, attribute: bool| {
            let candidates = &mut index[attribute as usize];
            let at = candidates.position(node);
            let candidates = &*candidates;
            let named: &[usize] = at.map_or(&[], |p| &candidates.names[p].1);
            for &i in named.iter().chain(&candidates.any) {
                let Some(hits) = &out[i] else { continue };
                if hits.last() == Some(&node) {
                    continue;
                }
                let matcher = matchers[i].expect("indexed");
                let mut hit = Ok(false);
                for b in &matcher.branches {
                    hit = b.matches(node, &mut pred);
                    if !matches!(hit, Ok(false)) {
                        break;
                    }
                }
                match hit {
                    Ok(true) => out[i].as_mut().expect("checked").push(node),
                    Ok(false) => {}
                    Err(_) => out[i] = None,
                }
            }
        };
        let mut stack: Vec<NodeRef<'d>> = self.root.element_children().collect();
        stack.reverse();
        while let Some(node) = stack.pop() {
            visit(node, false);
            if attributes {
                for a in node.attributes() {
                    visit(a, true);
                }
            }
            let first = stack.len();
            stack.extend(node.element_children());
            stack[first..].reverse();
        }
        out
    }

    fn lets(&mut self, lets: &[LetDef], node: NodeRef<'d>) {
        for l in lets {
            let value = self.eval_value(l.value, node);
            let bound = value.and_then(|value| {
                if self.schema.libxml_vars.contains(&l.name) {
                    match &l.c_name {
                        Some(name) => self.ev.bind_value_c(name, &value)?,
                        None => self.ev.bind_value(&l.name, &value)?,
                    }
                }
                self.vars[l.slot] = Some(value);
                Ok(())
            });
            if let Err(e) = bound {
                let mut f = engine_error(format!("cannot evaluate let ${}: {e}", l.name));
                f.location = location(node);
                self.report.findings.push(f);
            }
        }
    }

    /// Builds the `xsl:key` indexes; `matched` holds each key's nodes where the walk
    /// found them.
    fn build_keys(&mut self, matched: Vec<Option<Vec<NodeRef<'d>>>>) {
        for (key, matched) in self.schema.keys.iter().zip(matched) {
            let selected = match matched {
                Some(nodes) => Ok(nodes),
                None => self.eval_nodes(key.select, self.root),
            };
            let nodes = match selected {
                Ok(n) => n,
                Err(e) => {
                    self.report.findings.push(engine_error(format!(
                        "cannot evaluate xsl:key '{}': {e}",
                        key.name
                    )));
                    continue;
                }
            };
            let mut index = KeyIndex::default();
            for node in nodes {
                self.host.current.set(Some(node));
                match self.eval_value(key.use_, node) {
                    Ok(Value::Nodes(values)) => {
                        for v in values {
                            let value = xpath::node_string(&v);
                            match index.get_mut(value.as_ref()) {
                                Some(nodes) => nodes.push(node),
                                None => {
                                    index.insert(value.into_owned(), vec![node]);
                                }
                            }
                        }
                    }
                    Ok(other) => index.entry(other.to_xpath_string()).or_default().push(node),
                    Err(e) => {
                        self.report.findings.push(engine_error(format!(
                            "cannot evaluate xsl:key '{}' @use: {e}",
                            key.name
                        )));
                        break;
                    }
                }
            }
            self.host.keys.borrow_mut().insert(key.name.clone(), index);
        }
    }

    fn fire(
        &mut self,
        pattern_index: usize,
        pattern: Option<Arc<str>>,
        rule: &RuleDef,
        node: NodeRef<'d>,
    ) {
        let fired = self.report.fired_rules.len();
        self.report.fired_rules.push(FiredRule {
            pattern: pattern_index,
            context: rule.context.clone(),
            id: rule.id.clone(),
        });
        self.host.current.set(Some(node));
        self.lets(&rule.lets, node);
        for check in &rule.checks {
            let truth = self.eval_bool(check.test, node);
            match truth {
                Ok(value) => {
                    if value == (check.kind == Kind::Report) {
                        let f = self.finding(pattern.clone(), rule, check, node, fired);
                        self.report.findings.push(f);
                    }
                }
                Err(e) => self.error(
                    pattern.clone(),
                    rule,
                    Some(check),
                    node,
                    format!("cannot evaluate '{}': {e}", check.test_src),
                ),
            }
        }
    }

    fn finding(
        &self,
        pattern: Option<Arc<str>>,
        rule: &RuleDef,
        check: &CheckDef,
        node: NodeRef<'d>,
        fired: usize,
    ) -> Finding {
        Finding {
            rule_id: check.rule_id.clone(),
            kind: check.kind,
            class: check.class,
            role: check.role.clone(),
            flag: check.flag.clone(),
            message: self.text(&check.message, node),
            location: location(node),
            see: check.see.clone(),
            pattern,
            context: rule.context.clone(),
            test: check.test_src.clone(),
            diagnostics: check
                .diagnostics
                .iter()
                .map(|(id, parts)| Diagnostic {
                    id: id.clone(),
                    text: self.text(parts, node),
                })
                .collect(),
            fired_rule: fired,
        }
    }

    /// An expression that fails at run time is reported as an error, never skipped.
    fn error(
        &mut self,
        pattern: Option<Arc<str>>,
        rule: &RuleDef,
        check: Option<&CheckDef>,
        node: NodeRef<'d>,
        message: String,
    ) {
        let mut f = engine_error(message);
        f.pattern = pattern;
        f.context = rule.context.clone();
        f.location = location(node);
        f.fired_rule = self.report.fired_rules.len().saturating_sub(1);
        if let Some(check) = check {
            f.rule_id = check.rule_id.clone();
            f.test = check.test_src.clone();
        } else if let Some(id) = &rule.id {
            f.rule_id = id.clone();
        }
        self.report.findings.push(f);
    }

    /// Evaluates message parts at `node` and normalises white space.
    fn text(&self, parts: &[MessagePart], node: NodeRef<'d>) -> String {
        let mut out = String::new();
        for part in parts {
            match part {
                MessagePart::Text(t) => out.push_str(t),
                MessagePart::ValueOf(e) => match self.eval_string(*e, node) {
                    Ok(s) => out.push_str(&s),
                    Err(err) => {
                        out.push_str(&format!("[value-of '{}': {err}]", self.schema.exprs[*e]))
                    }
                },
                MessagePart::Name(None) => out.push_str(&node.name()),
                MessagePart::Name(Some(e)) => match self.eval_value(*e, node) {
                    Ok(Value::Nodes(nodes)) => {
                        out.push_str(&nodes.first().map(|n| n.name()).unwrap_or_default())
                    }
                    Ok(_) => {}
                    Err(err) => out.push_str(&format!("[name '{}': {err}]", self.schema.exprs[*e])),
                },
            }
        }
        super::tree::normalize(&out)
    }
}
