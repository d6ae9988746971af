//! Schema-level compilation: the `schema` element, `ns`, `let`, `xsl:key` and the
//! collection of abstract rules and diagnostics; patterns are compiled in
//! `patterns.rs`, rules and their checks in `rules.rs`.

use super::builder::{refuse_unknown, refuse_xslt, Builder, SCHEMA_CHILDREN};
use super::error::CompileError;
use super::expr::{context_to_select, EXTENSION_FUNCTIONS, FN_NS, XSLT_FUNCTIONS};
use super::matcher;
use super::model::{Compiled, KeyDef, LetDef};
use super::options::{CompileOptions, XSL_NS};
use super::patterns;
use super::tree::{normalize, Elem};
use crate::xpath::{self, Bindings};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_SCHEMA_ID: AtomicU64 = AtomicU64::new(1);

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
pub(super) fn schema_children(schema: &Elem) -> Vec<&Elem> {
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

/// Compiles a schema under the XSLT 1 / XPath 1.0 query bindings (`root` is its loaded
/// tree, already checked to be a Schematron `schema`).
pub(super) fn compile(root: &Elem, options: &CompileOptions) -> Result<Compiled, CompileError> {
    let children = schema_children(root);
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
    collect(root, &mut abstract_rules, &mut diagnostics);
    let mut b = Builder::new(
        &namespaces,
        abstract_rules,
        diagnostics,
        options.default_role,
    );

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
            let bad = |e: String| CompileError::new(c.line, "xsl:key/@match", e);
            let tree = xpath::parse(m).map_err(|e| bad(format!("bad XPath '{m}': {e}")))?;
            let select = context_to_select(&tree).map_err(bad)?;
            let select = b.derived_expr(&select, c.line, "xsl:key/@match")?;
            let use_ = b.expr(u, c.line, "xsl:key/@use")?;
            let namespaces = b.namespace_resolver();
            let matcher = matcher::parse(
                &tree,
                |prefix| namespaces(prefix),
                |pred| b.derived_expr(pred, c.line, "xsl:key/@match").ok(),
            );
            keys.push(KeyDef {
                name: name.to_string(),
                select,
                matcher,
                use_,
            });
        } else {
            refuse_xslt(c, "schema")?;
            refuse_unknown(c, "schema", SCHEMA_CHILDREN)?;
        }
    }

    let active = patterns::active_patterns(root, &children, options, &mut b, &mut lets)?;
    let mut patterns = patterns::compile_patterns(&mut b, &children, active.as_ref())?;

    b.check_variables()?;
    let title = root
        .sch_children("title")
        .next()
        .map(|t| normalize(&t.text()));
    let resolve = b.namespace_resolver();
    // One slot per distinct let name, for the native evaluator's variables.
    let mut slots: HashMap<String, usize> = HashMap::new();
    {
        let mut all_lets: Vec<&mut LetDef> = lets.iter_mut().collect();
        for p in patterns.iter_mut() {
            all_lets.extend(p.lets.iter_mut());
            for r in p.rules.iter_mut() {
                all_lets.extend(r.lets.iter_mut());
            }
        }
        for l in all_lets {
            let next = slots.len();
            l.slot = *slots.entry(l.name.clone()).or_insert(next);
        }
    }
    let slot_of = |name: &str| slots.get(name).copied();
    let host_function = |uri: &str, local: &str| {
        (uri.is_empty() || uri == FN_NS) && EXTENSION_FUNCTIONS.contains(&local)
            || uri.is_empty() && XSLT_FUNCTIONS.contains(&local)
    };
    let bindings = Bindings {
        namespace: &resolve,
        variable: &slot_of,
        host_function: &host_function,
    };
    let native: Vec<Option<xpath::Expr>> = b
        .trees
        .iter()
        .map(|tree| {
            if !options.native_xpath {
                return None;
            }
            let mut e = tree.clone();
            e.bind(&bindings).ok()?;
            e.optimise();
            Some(e)
        })
        .collect();
    let native_vars = native
        .iter()
        .map(|e| e.as_ref().map(|e| e.variable_slots()).unwrap_or_default())
        .collect();
    // Variables libxml2 must always have bound: those its own expressions read.
    let libxml_vars = b
        .trees
        .iter()
        .zip(&native)
        .filter(|(_, n)| n.is_none())
        .flat_map(|(e, _)| e.variables().into_iter().map(str::to_string))
        .collect();
    Ok(Compiled {
        id: NEXT_SCHEMA_ID.fetch_add(1, Ordering::Relaxed),
        title,
        namespaces,
        lets,
        keys,
        patterns,
        exprs: b.exprs,
        native,
        native_vars,
        var_slots: slots.len(),
        libxml_vars,
    })
}
