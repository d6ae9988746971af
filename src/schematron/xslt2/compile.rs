//! From the schema's tree to [`Compiled`]: namespaces, `let`s (expressions, XML trees,
//! XSLT instructions), `xsl:key`s, patterns, rules and checks. Every expression is compiled
//! by the XPath 2.0 engine against the names in scope; whatever it or this compiler does
//! not run is refused with its line.

use super::model::{
    CheckDef, Compiled, Instr, KeyDef, LetDef, LetValue, PatternDef, RuleDef, VarValue,
};
use super::pattern::{self, Pattern};
use crate::schematron::compile::schema_children;
use crate::schematron::error::CompileError;
use crate::schematron::options::{CompileOptions, SCH_NS, XSL_NS};
use crate::schematron::report::{Class, Kind};
use crate::schematron::rules::message_parts;
use crate::schematron::tree::{normalize, Elem, Item};
use crate::xpath::v2::{Expr2, Scope};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

static NEXT_ID: AtomicU64 = AtomicU64::new(1 << 32);

struct Compiler {
    namespaces: Vec<(String, String)>,
    /// Variables in scope, innermost last.
    vars: Vec<(String, usize)>,
    slots: usize,
    keys: HashMap<String, usize>,
    lets: Vec<LetDef>,
    trees: Vec<String>,
    default_class: Class,
}

pub(super) fn compile(root: &Elem, options: &CompileOptions) -> Result<Compiled, CompileError> {
    let children = schema_children(root);
    if let Some(phase) = children.iter().find(|c| c.is_sch("phase")) {
        return Err(CompileError::new(
            phase.line,
            "phase",
            "phases are not supported under query binding xslt2",
        ));
    }
    if let Some(p) = options.phase.as_deref().map(str::trim) {
        if p != "#ALL" && p != "#DEFAULT" {
            return Err(CompileError::new(
                root.line,
                "phase",
                format!("no phase with id '{p}'"),
            ));
        }
    }
    let mut c = Compiler {
        namespaces: Vec::new(),
        vars: Vec::new(),
        slots: 0,
        keys: HashMap::new(),
        lets: Vec::new(),
        trees: Vec::new(),
        default_class: options.default_role,
    };
    for ns in children.iter().filter(|e| e.is_sch("ns")) {
        let (Some(prefix), Some(uri)) = (ns.attr("prefix"), ns.attr("uri")) else {
            return Err(CompileError::new(
                ns.line,
                "ns",
                "ns needs @prefix and @uri",
            ));
        };
        c.namespaces.push((prefix.to_string(), uri.to_string()));
    }
    // Keys and schema-level lets are visible everywhere, also before their declaration.
    let mut key_elems = Vec::new();
    for e in children
        .iter()
        .filter(|e| e.ns == XSL_NS && e.name == "key")
    {
        let name = e
            .attr("name")
            .ok_or_else(|| CompileError::new(e.line, "xsl:key", "xsl:key needs @name"))?;
        let next = key_elems.len();
        c.keys.entry(name.to_string()).or_insert(next);
        key_elems.push(*e);
    }
    let global_lets: Vec<&Elem> = children
        .iter()
        .copied()
        .filter(|e| e.is_sch("let"))
        .collect();
    let global_slots = c.declare(&global_lets)?;
    let mut keys = Vec::new();
    for e in key_elems {
        keys.push(c.key(e)?);
    }
    for (e, slot) in global_lets.iter().zip(global_slots) {
        let value = c.let_value(e)?;
        c.push_let(slot, false, value)?;
    }
    let mut patterns = Vec::new();
    for e in &children {
        match (e.ns.as_str(), e.name.as_str()) {
            (SCH_NS, "pattern") => {
                let position = patterns.len() + 1;
                patterns.push(c.pattern(e, position)?);
            }
            (SCH_NS, "ns" | "let" | "title" | "p" | "properties" | "diagnostics") => {}
            (XSL_NS, "key") => {}
            (XSL_NS, other) => {
                return Err(CompileError::new(
                    e.line,
                    format!("xsl:{other}"),
                    "this XSLT element is not supported in a schema",
                ))
            }
            (SCH_NS, other) => {
                return Err(CompileError::new(
                    e.line,
                    other.to_string(),
                    "not supported in a schema under query binding xslt2",
                ))
            }
            _ => {}
        }
    }
    Ok(Compiled {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        title: root
            .sch_children("title")
            .next()
            .map(|t| normalize(&t.text())),
        namespaces: c.namespaces,
        lets: c.lets,
        slots: c.slots,
        keys,
        trees: c.trees,
        patterns,
    })
}

impl Compiler {
    fn expr(&self, src: &str, line: usize, construct: &str) -> Result<Expr2, CompileError> {
        if src.trim().is_empty() {
            return Err(CompileError::new(line, construct, "empty expression"));
        }
        self.with_scope(|scope| Expr2::compile(src, scope))
            .map_err(|e| CompileError::new(line, construct, format!("'{src}': {e}")))
    }

    fn pattern_of(&self, src: &str, line: usize, construct: &str) -> Result<Pattern, CompileError> {
        self.with_scope(|scope| pattern::compile(src, scope))
            .map_err(|e| CompileError::new(line, construct, format!("'{src}': {e}")))
    }

    /// Runs `f` with the names in scope.
    fn with_scope<R>(&self, f: impl FnOnce(&Scope<'_>) -> R) -> R {
        let var = |name: &str| {
            self.vars
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, s)| *s)
        };
        let key = |name: &str| self.keys.get(name).copied();
        f(&Scope {
            namespaces: &self.namespaces,
            var: &var,
            key: &key,
        })
    }

    fn new_slot(&mut self, name: &str) -> usize {
        let slot = self.slots;
        self.slots += 1;
        self.vars.push((name.to_string(), slot));
        slot
    }

    /// Gives each `let` of `lets` a slot and puts its name in scope.
    fn declare(&mut self, lets: &[&Elem]) -> Result<Vec<usize>, CompileError> {
        let mut slots = Vec::new();
        for e in lets {
            let name = e
                .attr("name")
                .ok_or_else(|| CompileError::new(e.line, "let", "let without @name"))?;
            slots.push(self.new_slot(name));
        }
        Ok(slots)
    }

    fn push_let(
        &mut self,
        slot: usize,
        rule_level: bool,
        value: LetValue,
    ) -> Result<usize, CompileError> {
        self.lets.push(LetDef {
            slot,
            rule_level,
            value,
        });
        Ok(self.lets.len() - 1)
    }

    fn let_value(&mut self, e: &Elem) -> Result<LetValue, CompileError> {
        if let Some(v) = e.attr("value") {
            if e.elems().next().is_some() {
                return Err(CompileError::new(
                    e.line,
                    "let",
                    "a let has either @value or content, not both",
                ));
            }
            return Ok(LetValue::Expr(self.expr(v, e.line, "let/@value")?));
        }
        let elems: Vec<&Elem> = e.elems().collect();
        if elems.is_empty() {
            return Err(CompileError::new(
                e.line,
                "let",
                "a let needs @value or content",
            ));
        }
        if elems.iter().all(|x| x.ns == XSL_NS) {
            return Ok(LetValue::Program(self.instructions(e)?));
        }
        if elems.iter().any(|x| x.ns == XSL_NS) {
            return Err(CompileError::new(
                e.line,
                "let",
                "a let's content mixes XSLT instructions and other elements",
            ));
        }
        let mut xml = String::new();
        for x in elems {
            write_tree(x, "", &mut xml);
        }
        self.trees.push(xml);
        Ok(LetValue::Tree(self.trees.len() - 1))
    }

    /// The XSLT instructions in `e`'s content.
    fn instructions(&mut self, e: &Elem) -> Result<Vec<Instr>, CompileError> {
        let depth = self.vars.len();
        let mut out = Vec::new();
        for c in &e.children {
            let x = match c {
                Item::Text(t) if t.trim().is_empty() => continue,
                Item::Text(t) => {
                    out.push(Instr::Text(t.clone()));
                    continue;
                }
                Item::Elem(x) => x,
            };
            let select = |c: &Compiler, attr: &str| -> Result<Expr2, CompileError> {
                let src = x.attr(attr).ok_or_else(|| {
                    CompileError::new(
                        x.line,
                        format!("xsl:{}", x.name),
                        format!("missing @{attr}"),
                    )
                })?;
                c.expr(src, x.line, &format!("xsl:{}/@{attr}", x.name))
            };
            if x.ns != XSL_NS {
                return Err(CompileError::new(
                    x.line,
                    x.name.clone(),
                    "only XSLT instructions may stand here",
                ));
            }
            out.push(match x.name.as_str() {
                "variable" => {
                    let value = match x.attr("select") {
                        Some(_) => VarValue::Select(select(self, "select")?),
                        None => VarValue::Content(self.instructions(x)?),
                    };
                    let name = x.attr("name").ok_or_else(|| {
                        CompileError::new(x.line, "xsl:variable", "missing @name")
                    })?;
                    Instr::Variable {
                        slot: self.new_slot(name),
                        value,
                    }
                }
                "for-each" => Instr::ForEach {
                    select: select(self, "select")?,
                    body: self.instructions(x)?,
                },
                "if" => Instr::If {
                    test: select(self, "test")?,
                    body: self.instructions(x)?,
                },
                "value-of" => Instr::ValueOf {
                    select: select(self, "select")?,
                    separator: x.attr("separator").unwrap_or(" ").to_string(),
                },
                "copy-of" => Instr::CopyOf {
                    select: select(self, "select")?,
                },
                "text" => Instr::Text(x.text()),
                other => {
                    return Err(CompileError::new(
                        x.line,
                        format!("xsl:{other}"),
                        "this XSLT instruction is not supported in a let",
                    ))
                }
            });
        }
        self.vars.truncate(depth);
        Ok(out)
    }

    fn key(&mut self, e: &Elem) -> Result<KeyDef, CompileError> {
        let (Some(_), Some(m), Some(u)) = (e.attr("name"), e.attr("match"), e.attr("use")) else {
            return Err(CompileError::new(
                e.line,
                "xsl:key",
                "xsl:key needs @name, @match and @use",
            ));
        };
        let pattern = self.pattern_of(m, e.line, "xsl:key/@match")?;
        Ok(KeyDef {
            names: pattern.selection(),
            pattern,
            use_: self.expr(u, e.line, "xsl:key/@use")?,
        })
    }

    fn pattern(&mut self, p: &Elem, position: usize) -> Result<PatternDef, CompileError> {
        for attr in ["abstract", "is-a", "documents"] {
            if p.attr(attr).is_some() {
                return Err(CompileError::new(
                    p.line,
                    format!("pattern/@{attr}"),
                    "not supported under query binding xslt2",
                ));
            }
        }
        let id: Option<Arc<str>> = p.attr("id").map(Arc::from);
        let title = p.sch_children("title").next().map(|t| normalize(&t.text()));
        let label = id
            .as_deref()
            .map_or_else(|| format!("pattern{position}"), str::to_string);
        let depth = self.vars.len();
        let lets: Vec<&Elem> = p.sch_children("let").collect();
        let slots = self.declare(&lets)?;
        for (e, slot) in lets.iter().zip(slots) {
            let value = self.let_value(e)?;
            self.push_let(slot, false, value)?;
        }
        let mut rules = Vec::new();
        for c in p.elems() {
            if c.is_sch("rule") {
                rules.push(self.rule(c, &label, rules.len() + 1)?);
            } else if !(c.is_sch("let") || c.is_sch("title") || c.is_sch("p")) {
                return Err(CompileError::new(
                    c.line,
                    c.name.clone(),
                    "not supported in a pattern under query binding xslt2",
                ));
            }
        }
        self.vars.truncate(depth);
        Ok(PatternDef {
            id: id.clone(),
            name: title.map(Arc::from).or(id),
            rules,
        })
    }

    fn rule(&mut self, r: &Elem, label: &str, index: usize) -> Result<RuleDef, CompileError> {
        for attr in ["abstract", "visit-each", "subject"] {
            if r.attr(attr).is_some() {
                return Err(CompileError::new(
                    r.line,
                    format!("rule/@{attr}"),
                    "not supported under query binding xslt2",
                ));
            }
        }
        let context = r
            .attr("context")
            .ok_or_else(|| CompileError::new(r.line, "rule", "rule without @context"))?;
        let pattern = self.pattern_of(context, r.line, "rule/@context")?;
        let depth = self.vars.len();
        let mut lets = Vec::new();
        let mut checks = Vec::new();
        for e in r.elems() {
            if e.is_sch("let") {
                let slot = self.declare(&[e])?[0];
                let value = self.let_value(e)?;
                lets.push(self.push_let(slot, true, value)?);
            } else if e.is_sch("assert") || e.is_sch("report") {
                checks.push(self.check(e, r, label, index, checks.len() + 1)?);
            } else if !(e.is_sch("title") || e.is_sch("p")) {
                return Err(CompileError::new(
                    e.line,
                    e.name.clone(),
                    "not supported in a rule under query binding xslt2",
                ));
            }
        }
        self.vars.truncate(depth);
        Ok(RuleDef {
            id: r.attr("id").map(Arc::from),
            context: Arc::from(context),
            names: pattern.selection(),
            pattern,
            lets,
            checks,
        })
    }

    fn check(
        &mut self,
        e: &Elem,
        rule: &Elem,
        label: &str,
        rule_index: usize,
        index: usize,
    ) -> Result<CheckDef, CompileError> {
        for attr in ["diagnostics", "subject"] {
            if e.attr(attr).is_some() {
                return Err(CompileError::new(
                    e.line,
                    format!("{}/@{attr}", e.name),
                    "not supported under query binding xslt2",
                ));
            }
        }
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
        let class = role
            .as_deref()
            .and_then(Class::from_role)
            .unwrap_or(self.default_class);
        let rule_id: Arc<str> = match e.attr("id") {
            Some(id) => Arc::from(id),
            None => Arc::from(format!("{label}/{rule_index}/{index}")),
        };
        let mut message = Vec::new();
        message_parts(e, &mut message, &mut |src, line, construct| {
            self.expr(src, line, construct)
        })?;
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
        })
    }
}

/// Writes `e` as XML text, declaring its namespace where it changes; white-space-only
/// text is left out, as XSLT strips it from a stylesheet's literal trees.
fn write_tree(e: &Elem, parent_ns: &str, out: &mut String) {
    out.push('<');
    out.push_str(&e.name);
    if e.ns != parent_ns {
        out.push_str(" xmlns=\"");
        escape(&e.ns, out);
        out.push('"');
    }
    for (i, (ns, name, value)) in e.attrs.iter().enumerate() {
        if ns.is_empty() {
            out.push_str(&format!(" {name}=\""));
        } else {
            out.push_str(&format!(" xmlns:a{i}=\""));
            escape(ns, out);
            out.push_str(&format!("\" a{i}:{name}=\""));
        }
        escape(value, out);
        out.push('"');
    }
    out.push('>');
    for c in &e.children {
        match c {
            Item::Text(t) if t.trim().is_empty() => {}
            Item::Text(t) => escape(t, out),
            Item::Elem(x) => write_tree(x, &e.ns, out),
        }
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

fn escape(text: &str, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}
