//! Compilation state shared by the schema-, pattern- and rule-level compilers: the
//! expression table (each expression parsed once, its tree checked for known
//! functions, declared prefixes and translatable literal regexes), variable scoping,
//! `let`, and the refusal of constructs the engine does not implement.

use super::error::CompileError;
use super::expr::{check_call, FN_NS};
use super::model::{ExprId, LetDef};
use super::options::{SCH_NS, XSL_NS};
use super::regex;
use super::report::Class;
use super::tree::Elem;
use crate::xml::xpath::XPathExpr;
use crate::xpath::{self, Call, Expr};
use std::collections::HashMap;

/// Compilation state shared by the schema-, pattern- and rule-level compilers.
pub(super) struct Builder<'s> {
    pub exprs: Vec<String>,
    /// The syntax tree of each of `exprs`.
    pub trees: Vec<Expr>,
    expr_ids: HashMap<String, ExprId>,
    pub fn_prefixes: Vec<String>,
    /// Every prefix the schema binds with `ns`.
    prefixes: Vec<String>,
    /// The `ns` bindings in schema order (a later binding of a prefix wins, as in libxml2).
    namespaces: Vec<(String, String)>,
    pub abstract_rules: HashMap<String, &'s Elem>,
    pub diagnostics: HashMap<String, &'s Elem>,
    pub default_class: Class,
    /// Names of schema-, phase- and pattern-level lets (global variables).
    globals: Vec<String>,
    /// Names of the lets of the rule being compiled, `None` outside rules.
    pub rule_vars: Option<Vec<String>>,
    /// Expressions whose variable references are checked once all globals are known:
    /// (expression, line, construct, rule-level names in scope).
    pending_vars: Vec<(ExprId, usize, String, Vec<String>)>,
    /// Global lets whose value is a string literal (regexes are often kept in them).
    literal_lets: HashMap<String, String>,
}

impl<'s> Builder<'s> {
    pub fn new(
        namespaces: &[(String, String)],
        abstract_rules: HashMap<String, &'s Elem>,
        diagnostics: HashMap<String, &'s Elem>,
        default_class: Class,
    ) -> Self {
        Builder {
            exprs: Vec::new(),
            trees: Vec::new(),
            expr_ids: HashMap::new(),
            prefixes: namespaces.iter().map(|(p, _)| p.clone()).collect(),
            namespaces: namespaces.to_vec(),
            fn_prefixes: namespaces
                .iter()
                .filter(|(_, u)| u == FN_NS)
                .map(|(p, _)| p.clone())
                .collect(),
            abstract_rules,
            diagnostics,
            default_class,
            globals: Vec::new(),
            rule_vars: None,
            pending_vars: Vec::new(),
            literal_lets: HashMap::new(),
        }
    }

    /// Resolves a name test's prefix to the URI it stands for during evaluation.
    pub fn namespace_resolver(&self) -> impl Fn(&str) -> Option<String> {
        let namespaces = self.namespaces.clone();
        move |prefix| {
            if prefix == "xml" {
                // libxml2 resolves `xml` before the registered bindings.
                return Some("http://www.w3.org/XML/1998/namespace".to_string());
            }
            namespaces
                .iter()
                .rev()
                .find(|(p, _)| p == prefix)
                .map(|(_, u)| u.clone())
        }
    }

    /// Parses and checks `source` (syntax, functions, prefixes) and returns its index in
    /// the expression table.
    pub fn expr(
        &mut self,
        source: &str,
        line: usize,
        construct: &str,
    ) -> Result<ExprId, CompileError> {
        let id = match self.expr_ids.get(source) {
            Some(id) => *id,
            None => self.new_expr(source, line, construct)?,
        };
        self.pending_vars.push((
            id,
            line,
            construct.to_string(),
            self.rule_vars.clone().unwrap_or_default(),
        ));
        Ok(id)
    }

    fn new_expr(
        &mut self,
        source: &str,
        line: usize,
        construct: &str,
    ) -> Result<ExprId, CompileError> {
        if source.trim().is_empty() {
            return Err(CompileError::new(line, construct, "empty expression"));
        }
        let bad =
            |e: String| CompileError::new(line, construct, format!("bad XPath '{source}': {e}"));
        let tree = xpath::parse(source).map_err(|e| match e.construct {
            Some(construct) => CompileError::new(
                line,
                construct,
                format!("'{source}' uses XPath 2.0 {construct}, which the engine does not run yet"),
            ),
            None => bad(e.to_string()),
        })?;
        XPathExpr::compile(source).map_err(bad)?;
        for call in tree.calls() {
            check_call(call, &self.fn_prefixes)
                .map_err(|m| CompileError::new(line, construct, format!("{m} in '{source}'")))?;
            self.check_regex(call)
                .map_err(|m| CompileError::new(line, construct, format!("{m} in '{source}'")))?;
        }
        for prefix in tree.prefixes() {
            if prefix != "xml" && !self.prefixes.iter().any(|p| p == prefix) {
                return Err(CompileError::new(
                    line,
                    construct,
                    format!("namespace prefix '{prefix}' is not declared with ns in '{source}'"),
                ));
            }
        }
        let id = self.exprs.len();
        self.exprs.push(source.to_string());
        self.trees.push(tree);
        self.expr_ids.insert(source.to_string(), id);
        Ok(id)
    }

    /// Registers an expression the compiler derived from a parsed one (a context's
    /// selection, a predicate), by its XPath text.
    pub fn derived_expr(
        &mut self,
        tree: &Expr,
        line: usize,
        construct: &str,
    ) -> Result<ExprId, CompileError> {
        self.expr(&tree.to_string(), line, construct)
    }

    /// Translates the regular expression of a `matches` or `replace` call whose pattern
    /// (and flags) are literals or global lets holding literals, so that what cannot be
    /// translated is refused now rather than at each evaluation.
    fn check_regex(&self, call: &Call) -> Result<(), String> {
        let flags_at = match call.name.local.as_str() {
            "matches" => 2,
            "replace" => 3,
            _ => return Ok(()),
        };
        let prefix = call.name.prefix.as_str();
        if !prefix.is_empty() && !self.fn_prefixes.iter().any(|p| p == prefix) {
            return Ok(());
        }
        let resolve = |i: usize| -> Option<Option<String>> {
            match call.args.get(i) {
                None => Some(None),
                Some(Expr::Str(v)) => Some(Some(v.clone())),
                Some(Expr::Var(v)) => self.literal_lets.get(&v.name).map(|v| Some(v.clone())),
                Some(_) => None,
            }
        };
        if let (Some(Some(pattern)), Some(flags)) = (resolve(1), resolve(flags_at)) {
            regex::compile(&pattern, flags.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }

    /// Refuses references to variables no `let` declares (e.g. an abstract-pattern
    /// parameter no `param` supplied).
    pub fn check_variables(&self) -> Result<(), CompileError> {
        for (id, line, construct, locals) in &self.pending_vars {
            for name in self.trees[*id].variables() {
                if !self.globals.iter().any(|g| g == name) && !locals.iter().any(|l| l == name) {
                    return Err(CompileError::new(
                        *line,
                        construct.clone(),
                        format!("undefined variable ${name} in '{}'", self.exprs[*id]),
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
                let content = match e.elems().next() {
                    Some(c) if c.ns == XSL_NS => format!("XSLT instructions (xsl:{})", c.name),
                    Some(c) => format!("an inline XML tree (<{}>)", c.name),
                    None => "element content".to_string(),
                };
                return Err(CompileError::new(
                    e.line,
                    "let",
                    format!("let ${name} holds {content}, which is not supported; use @value"),
                ));
            }
            None => {
                return Err(CompileError::new(
                    e.line,
                    "let",
                    format!("let ${name} has no @value"),
                ))
            }
        };
        let id = self.expr(value, e.line, "let/@value")?;
        if self.rule_vars.is_none() {
            self.globals.push(name.to_string());
            if let Expr::Str(v) = &self.trees[id] {
                self.literal_lets.insert(name.to_string(), v.clone());
            }
        }
        Ok(LetDef {
            slot: usize::MAX,
            name: name.to_string(),
            c_name: std::ffi::CString::new(name).ok(),
            value: id,
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
pub(super) const SCHEMA_CHILDREN: &[&str] = &[
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
pub(super) const PATTERN_CHILDREN: &[&str] = &["title", "p", "let", "rule", "param"];

/// Refuses Schematron elements the engine does not implement (e.g. ISO 2020's
/// `group`), which would otherwise be skipped with their rules.
pub(super) fn refuse_unknown(e: &Elem, place: &str, known: &[&str]) -> Result<(), CompileError> {
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
