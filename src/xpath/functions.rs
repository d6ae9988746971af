//! XPath 1.0's core function library as the evaluator runs it; calls the host
//! answers are passed on through [`Env::call`].

use super::ast::{Expr, Func};
use super::axes::attribute;
use super::eval::{Ctx, Env};
use super::value::{node_string, normalize_space, string_to_number};
use crate::xml::node::{NodeKind, NodeRef};
use crate::xml::xpath::Value;
use std::borrow::Cow;

pub(crate) fn call<'d>(
    f: &Func,
    args: &[Expr],
    env: &dyn Env<'d>,
    ctx: Ctx<'d>,
) -> Option<Value<'d>> {
    let string_arg = |i: usize| -> Option<Cow<'_, str>> {
        match args.get(i) {
            Some(e) => borrowed_or_owned(e, env, ctx),
            None => Some(node_string(&ctx.node)),
        }
    };
    let first_node = |i: usize| -> Option<Option<NodeRef<'d>>> {
        match args.get(i) {
            Some(e) => Some(e.nodes(env, ctx)?.first().copied()),
            None => Some(Some(ctx.node)),
        }
    };
    Some(match f {
        Func::Last => Value::Num(ctx.size as f64),
        Func::Position => Value::Num(ctx.pos as f64),
        Func::Count => Value::Num(args[0].nodes(env, ctx)?.len() as f64),
        Func::LocalName => Value::Str(
            first_node(0)?
                .filter(|n| matches!(n.kind(), NodeKind::Element | NodeKind::Attribute))
                .map(|n| n.local_name().to_string())
                .unwrap_or_default(),
        ),
        Func::Name => Value::Str(
            first_node(0)?
                .filter(|n| matches!(n.kind(), NodeKind::Element | NodeKind::Attribute))
                .map(|n| n.name())
                .unwrap_or_default(),
        ),
        Func::String => Value::Str(string_arg(0)?.into_owned()),
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                match a.borrowed_string(env) {
                    Some(s) => out.push_str(&s),
                    None => out.push_str(&a.string(env, ctx)?),
                }
            }
            Value::Str(out)
        }
        Func::StartsWith | Func::Contains | Func::SubstringBefore | Func::SubstringAfter => {
            let hay = borrowed_or_owned(&args[0], env, ctx)?;
            let needle = borrowed_or_owned(&args[1], env, ctx)?;
            match f {
                Func::StartsWith => Value::Bool(hay.starts_with(needle.as_ref())),
                Func::Contains => Value::Bool(hay.contains(needle.as_ref())),
                Func::SubstringBefore => Value::Str(
                    hay.find(needle.as_ref())
                        .map(|i| hay[..i].to_string())
                        .unwrap_or_default(),
                ),
                _ => Value::Str(
                    hay.find(needle.as_ref())
                        .map(|i| hay[i + needle.len()..].to_string())
                        .unwrap_or_default(),
                ),
            }
        }
        Func::Substring => {
            let s = string_arg(0)?;
            let start = args[1].number(env, ctx)?;
            let len = match args.get(2) {
                Some(e) => Some(e.number(env, ctx)?),
                None => None,
            };
            if !start.is_finite() || len.is_some_and(|l| !l.is_finite()) {
                return None;
            }
            let round = |x: f64| (x + 0.5).floor();
            let from = round(start);
            let to = len.map(|l| from + round(l));
            Value::Str(
                s.chars()
                    .enumerate()
                    .filter(|(i, _)| {
                        let p = (*i + 1) as f64;
                        p >= from && to.is_none_or(|t| p < t)
                    })
                    .map(|(_, c)| c)
                    .collect(),
            )
        }
        Func::StringLength => Value::Num(string_arg(0)?.chars().count() as f64),
        Func::NormalizeSpace => Value::Str(normalize_space(&string_arg(0)?)),
        Func::Translate => {
            let s = string_arg(0)?;
            let from: Vec<char> = string_arg(1)?.chars().collect();
            let to: Vec<char> = string_arg(2)?.chars().collect();
            Value::Str(
                s.chars()
                    .filter_map(|c| match from.iter().position(|&f| f == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect(),
            )
        }
        Func::Not => Value::Bool(!args[0].boolean(env, ctx)?),
        Func::True => Value::Bool(true),
        Func::False => Value::Bool(false),
        Func::Boolean => Value::Bool(args[0].boolean(env, ctx)?),
        Func::Number => match args.first() {
            Some(e) => Value::Num(e.number(env, ctx)?),
            None => Value::Num(string_to_number(&ctx.node.string_value())?),
        },
        Func::Sum => {
            let mut total = 0.0;
            for n in args[0].nodes(env, ctx)? {
                total += string_to_number(&node_string(&n))?;
            }
            Value::Num(total)
        }
        Func::Floor => Value::Num(args[0].number(env, ctx)?.floor()),
        Func::Ceiling => Value::Num(args[0].number(env, ctx)?.ceil()),
        Func::Host(name) => {
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(a.value(env, ctx)?);
            }
            env.call(name, values).ok()?
        }
    })
}

/// `string()` of an expression, borrowed where it is a literal, a string variable or
/// an attribute stored in one piece.
pub(crate) fn borrowed_or_owned<'e, 'd: 'e>(
    e: &'e Expr,
    env: &'e dyn Env<'d>,
    ctx: Ctx<'d>,
) -> Option<Cow<'e, str>> {
    if let Expr::Attr(n) = e {
        return Some(match attribute(ctx.node, &n.uri, &n.name.local) {
            Some(n) => node_string(&n),
            None => Cow::Borrowed(""),
        });
    }
    match e.borrowed_string(env) {
        Some(s) => Some(s),
        None => Some(Cow::Owned(e.string(env, ctx)?)),
    }
}
