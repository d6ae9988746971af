//! XSLT match patterns as expressions: a node N matches pattern P when N is in
//! `root(N)//(P)` (XSLT 3.0 §5.5.3), so a relative path pattern becomes the path
//! `/descendant-or-self::node()/P`, evaluated from the document node; branches that
//! start at `/`, `//`, `key(…)` or `$var` select their nodes as they are.

use super::ast::{Kind, NodeTest, Path, Preds, SetOp, Step, X};
use super::parser::parse;
use crate::xpath::Axis;

/// Parses `src` as a pattern and rewrites it into the expression that selects what
/// it matches (names unbound).
pub(super) fn parse_pattern(src: &str) -> Result<X, String> {
    let x = parse(src)?;
    rewrite(x, src)
}

fn not_a_pattern(src: &str, why: &str) -> String {
    format!("'{src}' is not a pattern: {why}")
}

fn rewrite(x: X, src: &str) -> Result<X, String> {
    match x {
        X::Set(SetOp::Union, a, b) => Ok(X::Set(
            SetOp::Union,
            Box::new(rewrite(*a, src)?),
            Box::new(rewrite(*b, src)?),
        )),
        X::Path(p) => path(*p, src).map(|p| X::Path(Box::new(p))),
        X::Call(c) if is_key(&c.name.local, &c.name.prefix) => Ok(X::Call(c)),
        X::Var(_) => Ok(x),
        X::Filter(primary, preds) => match *primary {
            X::Var(_) => Ok(X::Filter(primary, preds)),
            X::Call(c) if is_key(&c.name.local, &c.name.prefix) => {
                Ok(X::Filter(Box::new(X::Call(c)), preds))
            }
            _ => Err(not_a_pattern(
                src,
                "a filter on something other than key() or a variable",
            )),
        },
        _ => Err(not_a_pattern(src, "not a union of paths")),
    }
}

fn is_key(local: &str, prefix: &str) -> bool {
    local == "key" && (prefix.is_empty() || prefix == "fn")
}

fn allowed(axis: Axis) -> bool {
    matches!(
        axis,
        Axis::Child | Axis::Attribute | Axis::Itself | Axis::Descendant | Axis::DescendantOrSelf
    )
}

fn path(mut p: Path, src: &str) -> Result<Path, String> {
    for (i, step) in p.steps.iter().enumerate() {
        match step {
            Step::Axis(axis, _, _) if !allowed(*axis) => {
                return Err(not_a_pattern(
                    src,
                    &format!("the {} axis is not allowed in patterns", axis.name()),
                ))
            }
            Step::Filter(X::Call(c), _)
                if i == 0 && !p.root && is_key(&c.name.local, &c.name.prefix) => {}
            Step::Filter(X::Var(_), _) if i == 0 && !p.root => {}
            Step::Filter(..) => {
                return Err(not_a_pattern(src, "a step that is not an axis step"));
            }
            Step::Axis(..) => {}
        }
    }
    let rooted = p.root || matches!(p.steps.first(), Some(Step::Filter(..)));
    if !rooted {
        p.root = true;
        p.steps.insert(
            0,
            Step::Axis(
                Axis::DescendantOrSelf,
                NodeTest::Kind(Kind::Node),
                Preds::default(),
            ),
        );
    }
    Ok(p)
}
