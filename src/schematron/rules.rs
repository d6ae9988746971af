//! Rule-level compilation: contexts, `extends` of abstract rules, rule `let`s,
//! `assert`/`report` with their messages (`value-of`, `name`) and `diagnostics`.

use super::builder::{refuse_attr, refuse_xslt, Builder};
use super::error::CompileError;
use super::expr::context_to_select;
use super::matcher::{self, Matcher};
use super::model::{CheckDef, MessagePart, RuleDef};
use super::report::{Class, Kind};
use super::tree::{Elem, Item};
use crate::xpath;
use std::sync::Arc;

/// How deep `extends` may chain (guards against cycles).
const MAX_EXTENDS_DEPTH: usize = 16;

impl<'s> Builder<'s> {
    /// Compiles a concrete rule, the `rule_index`-th (1-based) of pattern `label`.
    pub fn rule(
        &mut self,
        rule: &Elem,
        label: &str,
        rule_index: usize,
    ) -> Result<RuleDef, CompileError> {
        refuse_attr(rule, "visit-each")?;
        let context = rule
            .attr("context")
            .ok_or_else(|| CompileError::new(rule.line, "rule", "rule without @context"))?;
        let bad = |e: String| CompileError::new(rule.line, "rule/@context", e);
        let tree = xpath::parse(context).map_err(|e| bad(format!("bad XPath '{context}': {e}")))?;
        let select = context_to_select(&tree).map_err(bad)?;
        let select = self.derived_expr(&select, rule.line, "rule/@context")?;
        let namespaces = self.namespace_resolver();
        let matcher = matcher::parse(
            &tree,
            |prefix| namespaces(prefix),
            |pred| self.derived_expr(pred, rule.line, "rule/@context").ok(),
        );
        let mut body = Vec::new();
        self.expand(rule, 0, &mut body)?;
        self.rule_vars = Some(
            body.iter()
                .filter(|e| e.is_sch("let"))
                .filter_map(|e| e.attr("name").map(str::to_string))
                .collect(),
        );
        let compiled = self.rule_body(rule, context, (select, matcher), body, label, rule_index);
        self.rule_vars = None;
        compiled
    }

    fn rule_body(
        &mut self,
        rule: &Elem,
        context: &str,
        (select, matcher): (usize, Option<Matcher>),
        body: Vec<&Elem>,
        label: &str,
        rule_index: usize,
    ) -> Result<RuleDef, CompileError> {
        let mut lets = Vec::new();
        let mut checks = Vec::new();
        for e in body {
            if e.is_sch("let") {
                lets.push(self.let_def(e)?);
            } else if e.is_sch("assert") || e.is_sch("report") {
                let index = checks.len() + 1;
                checks.push(self.check(e, rule, label, rule_index, index)?);
            } else if e.is_sch("title") || e.is_sch("p") {
            } else {
                refuse_xslt(e, "rule")?;
                if e.ns == super::options::SCH_NS {
                    return Err(CompileError::new(
                        e.line,
                        e.name.clone(),
                        "not allowed in a rule",
                    ));
                }
            }
        }
        Ok(RuleDef {
            id: rule.attr("id").map(Arc::from),
            context: Arc::from(context),
            select,
            matcher,
            lets,
            checks,
        })
    }

    /// The rule's children with every `extends` replaced by the abstract rule's children.
    fn expand<'a>(
        &self,
        rule: &'a Elem,
        depth: usize,
        out: &mut Vec<&'a Elem>,
    ) -> Result<(), CompileError>
    where
        's: 'a,
    {
        for e in rule.elems() {
            if e.is_sch("extends") {
                if e.attr("href").is_some() {
                    return Err(CompileError::new(
                        e.line,
                        "extends/@href",
                        "extends by href is not supported",
                    ));
                }
                let target = e
                    .attr("rule")
                    .ok_or_else(|| CompileError::new(e.line, "extends", "extends without @rule"))?;
                let abs = *self.abstract_rules.get(target).ok_or_else(|| {
                    CompileError::new(
                        e.line,
                        "extends",
                        format!("no abstract rule with id '{target}'"),
                    )
                })?;
                if depth >= MAX_EXTENDS_DEPTH {
                    return Err(CompileError::new(
                        e.line,
                        "extends",
                        format!("extends of '{target}' nests too deep (cycle?)"),
                    ));
                }
                self.expand(abs, depth + 1, out)?;
            } else {
                out.push(e);
            }
        }
        Ok(())
    }

    fn check(
        &mut self,
        e: &Elem,
        rule: &Elem,
        label: &str,
        rule_index: usize,
        index: usize,
    ) -> Result<CheckDef, CompileError> {
        let kind = if e.is_sch("assert") {
            Kind::Assert
        } else {
            Kind::Report
        };
        let test_src = e
            .attr("test")
            .ok_or_else(|| CompileError::new(e.line, e.name.clone(), "missing @test"))?;
        let test = self.expr(test_src, e.line, &format!("{}/@test", e.name))?;
        let role = e.attr("role").or_else(|| rule.attr("role")).map(Arc::from);
        let class: Class = role
            .as_deref()
            .and_then(Class::from_role)
            .unwrap_or(self.default_class);
        let rule_id: Arc<str> = match e.attr("id") {
            Some(id) => Arc::from(id),
            None => Arc::from(format!("{label}/{rule_index}/{index}")),
        };
        let message = self.message(e)?;
        let mut diagnostics = Vec::new();
        for id in e.attr("diagnostics").unwrap_or("").split_whitespace() {
            let d = *self.diagnostics.get(id).ok_or_else(|| {
                CompileError::new(
                    e.line,
                    format!("{}/@diagnostics", e.name),
                    format!("no diagnostic with id '{id}'"),
                )
            })?;
            diagnostics.push((Arc::from(id), self.message(d)?));
        }
        Ok(CheckDef {
            rule_id,
            kind,
            test_src: Arc::from(test_src),
            test,
            role,
            class,
            flag: e.attr("flag").map(Arc::from),
            see: e.attr("see").map(Arc::from),
            message,
            diagnostics,
        })
    }

    /// The parts of a message: text, `value-of`, `name`; `emph`, `dir`, `span` and
    /// foreign elements contribute their content.
    fn message(&mut self, e: &Elem) -> Result<Vec<MessagePart>, CompileError> {
        let mut parts = Vec::new();
        self.message_into(e, &mut parts)?;
        Ok(parts)
    }

    fn message_into(&mut self, e: &Elem, parts: &mut Vec<MessagePart>) -> Result<(), CompileError> {
        message_parts(e, parts, &mut |src, line, construct| {
            self.expr(src, line, construct)
        })
    }
}

/// Collects the parts of message `e` into `parts`: text, `value-of`, `name`; `emph`,
/// `dir`, `span` and foreign elements contribute their content, XSLT is refused. `expr`
/// compiles an expression (source, line, construct) the way the query binding holds it.
pub(super) fn message_parts<E>(
    e: &Elem,
    parts: &mut Vec<MessagePart<E>>,
    expr: &mut dyn FnMut(&str, usize, &str) -> Result<E, CompileError>,
) -> Result<(), CompileError> {
    for c in &e.children {
        match c {
            // A white-space-only text node is dropped, as XSLT strips it from the
            // stylesheet the ISO skeleton generates: `<value-of/> <value-of/>` reads
            // "ab" in lxml.isoschematron, and so here.
            Item::Text(t) if t.trim().is_empty() => {}
            Item::Text(t) => parts.push(MessagePart::Text(t.clone())),
            Item::Elem(x) if x.is_sch("value-of") => {
                let select = x
                    .attr("select")
                    .ok_or_else(|| CompileError::new(x.line, "value-of", "missing @select"))?;
                parts.push(MessagePart::ValueOf(expr(
                    select,
                    x.line,
                    "value-of/@select",
                )?));
            }
            Item::Elem(x) if x.is_sch("name") => {
                let path = match x.attr("path") {
                    Some(p) => Some(expr(p, x.line, "name/@path")?),
                    None => None,
                };
                parts.push(MessagePart::Name(path));
            }
            Item::Elem(x) => {
                refuse_xslt(x, "a message")?;
                message_parts(x, parts, expr)?;
            }
        }
    }
    Ok(())
}
