//! Patterns: phase selection, abstract patterns instantiated through `is-a` with
//! their parameters substituted, and each pattern's lets and rules.

use super::builder::{refuse_attr, refuse_unknown, refuse_xslt, Builder, PATTERN_CHILDREN};
use super::error::CompileError;
use super::expr::substitute_params;
use super::model::{LetDef, PatternDef};
use super::options::CompileOptions;
use super::tree::{normalize, Elem, Item};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Compiles the concrete patterns in schema order, instantiating `is-a` patterns and
/// leaving out those the phase does not activate (`active`: `None` for all).
pub(super) fn compile_patterns(
    b: &mut Builder<'_>,
    children: &[&Elem],
    active: Option<&HashSet<String>>,
) -> Result<Vec<PatternDef>, CompileError> {
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
        if let Some(active) = active {
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
        patterns.push(compile_pattern(b, p, body, position)?);
    }

    Ok(patterns)
}

/// The ids of the patterns the chosen phase activates (`None`: all), adding the phase's lets.
pub(super) fn active_patterns(
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
