//! Schema-level compilation: the `schema` element, `ns`, `let`, `xsl:key`, `phase`,
//! `diagnostics` and patterns (abstract patterns instantiated through `is-a`).
//! Rules and their checks are compiled in `rules.rs`.

use super::error::CompileError;
use super::expr::{
    check_call, context_to_select, function_calls, split_top_level, string_literal,
    substitute_params, variable_refs, Call, FN_NS,
};
use super::model::{Compiled, ExprId, KeyDef, LetDef, PatternDef};
use super::regex;
use super::report::Class;
use super::tree::{self, Elem, Item};
use super::{CompileOptions, SCH_NS, XSL_NS};
use crate::xml::xpath::XPathExpr;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

static NEXT_SCHEMA_ID: AtomicU64 = AtomicU64::new(1);

/// Compilation state shared by the schema-, pattern- and rule-level compilers.
pub(super) struct Builder<'s> {
    pub exprs: Vec<String>,
    expr_ids: HashMap<String, ExprId>,
    pub fn_prefixes: Vec<String>,
    pub abstract_rules: HashMap<String, &'s Elem>,
    pub diagnostics: HashMap<String, &'s Elem>,
    pub default_class: Class,
    /// Names of schema-, phase- and pattern-level lets (global variables).
    globals: Vec<String>,
    /// Names of the lets of the rule being compiled, `None` outside rules.
    pub rule_vars: Option<Vec<String>>,
    /// Expressions whose variable references are checked once all globals are known:
    /// (source, line, construct, rule-level names in scope).
    pending_vars: Vec<(String, usize, String, Vec<String>)>,
    /// Global lets whose value is a string literal (regexes are often kept in them).
    literal_lets: HashMap<String, String>,
}

impl<'s> Builder<'s> {
    /// Checks `source` (syntax and functions) and returns its index in the expression table.
    pub fn expr(
        &mut self,
        source: &str,
        line: usize,
        construct: &str,
    ) -> Result<ExprId, CompileError> {
        self.pending_vars.push((
            source.to_string(),
            line,
            construct.to_string(),
            self.rule_vars.clone().unwrap_or_default(),
        ));
        if let Some(id) = self.expr_ids.get(source) {
            return Ok(*id);
        }
        if source.trim().is_empty() {
            return Err(CompileError::new(line, construct, "empty expression"));
        }
        XPathExpr::compile(source).map_err(|e| {
            CompileError::new(line, construct, format!("bad XPath '{source}': {e}"))
        })?;
        for call in function_calls(source) {
            check_call(&call, &self.fn_prefixes)
                .map_err(|m| CompileError::new(line, construct, format!("{m} in '{source}'")))?;
            self.check_regex(&call)
                .map_err(|m| CompileError::new(line, construct, format!("{m} in '{source}'")))?;
        }
        let id = self.exprs.len();
        self.exprs.push(source.to_string());
        self.expr_ids.insert(source.to_string(), id);
        Ok(id)
    }

    /// Translates the regular expression of a `matches` or `replace` call whose pattern
    /// (and flags) are literals or global lets holding literals, so that what cannot be
    /// translated is refused now rather than at each evaluation.
    fn check_regex(&self, call: &Call<'_>) -> Result<(), String> {
        let flags_at = match call.local {
            "matches" => 2,
            "replace" => 3,
            _ => return Ok(()),
        };
        if !call.prefix.is_empty() && !self.fn_prefixes.iter().any(|p| p == call.prefix) {
            return Ok(());
        }
        let args = split_top_level(call.args, ',');
        let resolve = |i: usize| -> Option<Option<String>> {
            match args.get(i) {
                None => Some(None),
                Some(a) => match string_literal(a) {
                    Some(v) => Some(Some(v.to_string())),
                    None => a
                        .trim()
                        .strip_prefix('$')
                        .and_then(|n| self.literal_lets.get(n))
                        .map(|v| Some(v.clone())),
                },
            }
        };
        if let (Some(Some(pattern)), Some(flags)) = (resolve(1), resolve(flags_at)) {
            regex::compile(&pattern, flags.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }

    /// Refuses references to variables no `let` declares (e.g. an abstract-pattern
    /// parameter no `param` supplied).
    fn check_variables(&self) -> Result<(), CompileError> {
        for (source, line, construct, locals) in &self.pending_vars {
            for name in variable_refs(source) {
                if !self.globals.iter().any(|g| g == name) && !locals.iter().any(|l| l == name) {
                    return Err(CompileError::new(
                        *line,
                        construct.clone(),
                        format!("undefined variable ${name} in '{source}'"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Compiles a `let` (which must have `@value`: XSLT content cannot be honoured).
    pub fn let_def(&mut self, e: &Elem) -> Result<LetDef, CompileError> {
        let name = e
            .attr("name")
            .ok_or_else(|| CompileError::new(e.line, "let", "missing @name"))?;
        let value = match e.attr("value") {
            Some(v) => v,
            None if e.elems().next().is_some() => {
                return Err(CompileError::new(
                    e.line,
                    "let",
                    format!(
                    "let ${name} has element (XSLT) content, which is not supported; use @value"
                ),
                ))
            }
            None => {
                return Err(CompileError::new(
                    e.line,
                    "let",
                    format!("let ${name} has no @value"),
                ))
            }
        };
        if self.rule_vars.is_none() {
            self.globals.push(name.to_string());
            if let Some(v) = string_literal(value) {
                self.literal_lets.insert(name.to_string(), v.to_string());
            }
        }
        Ok(LetDef {
            name: name.to_string(),
            value: self.expr(value, e.line, "let/@value")?,
        })
    }
}

/// Refuses XSLT instructions where the engine cannot run them.
pub(super) fn refuse_xslt(e: &Elem, place: &str) -> Result<(), CompileError> {
    if e.ns == XSL_NS {
        return Err(CompileError::new(
            e.line,
            format!("xsl:{}", e.name),
            format!("XSLT instruction in {place} is not supported"),
        ));
    }
    Ok(())
}

/// Schematron elements the engine knows at schema level (`include` is already resolved).
const SCHEMA_CHILDREN: &[&str] = &[
    "title",
    "ns",
    "p",
    "let",
    "phase",
    "pattern",
    "diagnostics",
    "rules",
    "properties",
];
/// Schematron elements the engine knows in a pattern.
const PATTERN_CHILDREN: &[&str] = &["title", "p", "let", "rule", "param"];

/// Refuses Schematron elements the engine does not implement (e.g. ISO 2020's
/// `group`), which would otherwise be skipped with their rules.
fn refuse_unknown(e: &Elem, place: &str, known: &[&str]) -> Result<(), CompileError> {
    if e.ns == SCH_NS && !known.contains(&e.name.as_str()) {
        return Err(CompileError::new(
            e.line,
            e.name.clone(),
            format!("{} in {place} is not supported", e.name),
        ));
    }
    Ok(())
}

/// Refuses attributes that change what is validated in ways the engine does not
/// implement (`pattern/@documents`, `rule/@visit-each`).
pub(super) fn refuse_attr(e: &Elem, attr: &str) -> Result<(), CompileError> {
    if e.attr(attr).is_some() {
        return Err(CompileError::new(
            e.line,
            format!("{}/@{attr}", e.name),
            format!("@{attr} is not supported"),
        ));
    }
    Ok(())
}

/// Collects abstract rules and diagnostics anywhere in the schema.
fn collect<'s>(
    e: &'s Elem,
    rules: &mut HashMap<String, &'s Elem>,
    diags: &mut HashMap<String, &'s Elem>,
) {
    for c in e.elems() {
        if c.is_sch("rule") && c.attr("abstract") == Some("true") {
            if let Some(id) = c.attr("id") {
                rules.entry(id.to_string()).or_insert(c);
            }
        } else if c.is_sch("diagnostic") {
            if let Some(id) = c.attr("id") {
                diags.entry(id.to_string()).or_insert(c);
            }
        }
        collect(c, rules, diags);
    }
}

/// Schema children, with the children of an included whole `schema` spliced in.
fn schema_children(schema: &Elem) -> Vec<&Elem> {
    let mut out = Vec::new();
    for c in schema.elems() {
        if c.is_sch("schema") {
            out.extend(schema_children(c));
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn compile(bytes: &[u8], options: &CompileOptions) -> Result<Compiled, CompileError> {
    let root = tree::load(bytes, options.base_dir.as_deref())?;
    if !root.is_sch("schema") {
        return Err(CompileError::new(
            root.line,
            root.name.clone(),
            format!("root element must be schema in namespace {SCH_NS}"),
        ));
    }
    match root.attr("queryBinding").map(str::trim) {
        None | Some("xslt") | Some("xslt1") | Some("xpath") => {}
        Some(other) => {
            return Err(CompileError::new(
                root.line,
                "schema/@queryBinding",
                format!("query binding '{other}' is not supported (xslt, xslt1 or xpath)"),
            ))
        }
    }
    let children = schema_children(&root);
    let mut namespaces = Vec::new();
    for ns in children.iter().filter(|c| c.is_sch("ns")) {
        let (Some(prefix), Some(uri)) = (ns.attr("prefix"), ns.attr("uri")) else {
            return Err(CompileError::new(
                ns.line,
                "ns",
                "ns needs @prefix and @uri",
            ));
        };
        namespaces.push((prefix.to_string(), uri.to_string()));
    }
    let mut abstract_rules = HashMap::new();
    let mut diagnostics = HashMap::new();
    collect(&root, &mut abstract_rules, &mut diagnostics);
    let mut b = Builder {
        exprs: Vec::new(),
        expr_ids: HashMap::new(),
        fn_prefixes: namespaces
            .iter()
            .filter(|(_, u)| u == FN_NS)
            .map(|(p, _)| p.clone())
            .collect(),
        abstract_rules,
        diagnostics,
        default_class: options.default_role,
        globals: Vec::new(),
        rule_vars: None,
        pending_vars: Vec::new(),
        literal_lets: HashMap::new(),
    };

    let mut lets = Vec::new();
    let mut keys = Vec::new();
    for c in &children {
        if c.is_sch("let") {
            lets.push(b.let_def(c)?);
        } else if c.ns == XSL_NS && c.name == "key" {
            let (Some(name), Some(m), Some(u)) = (c.attr("name"), c.attr("match"), c.attr("use"))
            else {
                return Err(CompileError::new(
                    c.line,
                    "xsl:key",
                    "xsl:key needs @name, @match and @use",
                ));
            };
            keys.push(KeyDef {
                name: name.to_string(),
                select: b.expr(&context_to_select(m), c.line, "xsl:key/@match")?,
                use_: b.expr(u, c.line, "xsl:key/@use")?,
            });
        } else {
            refuse_xslt(c, "schema")?;
            refuse_unknown(c, "schema", SCHEMA_CHILDREN)?;
        }
    }

    let active = active_patterns(&root, &children, options, &mut b, &mut lets)?;
    let abstract_patterns: HashMap<&str, &Elem> = children
        .iter()
        .filter(|c| c.is_sch("pattern") && c.attr("abstract") == Some("true"))
        .filter_map(|c| c.attr("id").map(|id| (id, *c)))
        .collect();

    let mut patterns = Vec::new();
    let mut position = 0;
    for p in children
        .iter()
        .filter(|c| c.is_sch("pattern") && c.attr("abstract") != Some("true"))
    {
        position += 1;
        if let Some(active) = &active {
            if !p.attr("id").is_some_and(|id| active.contains(id)) {
                continue;
            }
        }
        let instance;
        let body: &Elem = match p.attr("is-a") {
            Some(target) => {
                let abs = abstract_patterns.get(target).ok_or_else(|| {
                    CompileError::new(
                        p.line,
                        "pattern/@is-a",
                        format!("no abstract pattern with id '{target}'"),
                    )
                })?;
                let params: Vec<(String, String)> = p
                    .sch_children("param")
                    .map(|x| {
                        (
                            x.attr("name").unwrap_or("").to_string(),
                            x.attr("value").unwrap_or("").to_string(),
                        )
                    })
                    .collect();
                instance = instantiate(abs, &params);
                &instance
            }
            None => p,
        };
        patterns.push(compile_pattern(&mut b, p, body, position)?);
    }

    b.check_variables()?;
    let title = root
        .sch_children("title")
        .next()
        .map(|t| normalize(&t.text()));
    Ok(Compiled {
        id: NEXT_SCHEMA_ID.fetch_add(1, Ordering::Relaxed),
        title,
        namespaces,
        lets,
        keys,
        patterns,
        exprs: b.exprs,
    })
}

/// The ids of the patterns the chosen phase activates (`None`: all), adding the phase's lets.
fn active_patterns(
    root: &Elem,
    children: &[&Elem],
    options: &CompileOptions,
    b: &mut Builder<'_>,
    lets: &mut Vec<LetDef>,
) -> Result<Option<HashSet<String>>, CompileError> {
    let requested = options
        .phase
        .as_deref()
        .map(str::trim)
        .unwrap_or("#DEFAULT");
    let phase = if requested == "#DEFAULT" {
        root.attr("defaultPhase").map(str::trim).unwrap_or("#ALL")
    } else {
        requested
    };
    if phase == "#ALL" {
        return Ok(None);
    }
    let def = children
        .iter()
        .find(|c| c.is_sch("phase") && c.attr("id") == Some(phase))
        .ok_or_else(|| {
            CompileError::new(root.line, "phase", format!("no phase with id '{phase}'"))
        })?;
    for l in def.sch_children("let") {
        lets.push(b.let_def(l)?);
    }
    Ok(Some(
        def.sch_children("active")
            .filter_map(|a| a.attr("pattern").map(str::to_string))
            .collect(),
    ))
}

/// Copies an abstract pattern with every `$param` substituted in its attributes and,
/// as the ISO skeleton's abstract-pattern expansion (lxml) does, in its text, so that
/// messages can name the parameters' values.
fn instantiate(abs: &Elem, params: &[(String, String)]) -> Elem {
    let mut copy = abs.clone();
    fn walk(e: &mut Elem, params: &[(String, String)]) {
        for (_, _, v) in &mut e.attrs {
            *v = substitute_params(v, params);
        }
        for c in &mut e.children {
            match c {
                Item::Elem(child) => walk(child, params),
                Item::Text(text) => *text = substitute_params(text, params),
            }
        }
    }
    walk(&mut copy, params);
    copy
}

fn compile_pattern(
    b: &mut Builder<'_>,
    decl: &Elem,
    body: &Elem,
    position: usize,
) -> Result<PatternDef, CompileError> {
    refuse_attr(decl, "documents")?;
    let id: Option<Arc<str>> = decl.attr("id").map(Arc::from);
    // An instance of an abstract pattern takes the abstract pattern's title.
    let title = body
        .sch_children("title")
        .next()
        .map(|t| normalize(&t.text()));
    let name = title.map(Arc::from).or_else(|| id.clone());
    let label: String = id
        .as_deref()
        .map_or_else(|| format!("pattern{position}"), str::to_string);
    let mut lets = Vec::new();
    let mut rules = Vec::new();
    let mut rule_index = 0;
    for c in body.elems() {
        if c.is_sch("let") {
            lets.push(b.let_def(c)?);
        } else if c.is_sch("rule") {
            if c.attr("abstract") == Some("true") {
                continue;
            }
            rule_index += 1;
            rules.push(b.rule(c, &label, rule_index)?);
        } else {
            refuse_xslt(c, "pattern")?;
            refuse_unknown(c, "pattern", PATTERN_CHILDREN)?;
        }
    }
    Ok(PatternDef {
        id,
        name,
        lets,
        rules,
    })
}

/// XPath's normalize-space.
pub(super) fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
