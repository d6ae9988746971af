//! The function library (XPath and XQuery Functions and Operators, as far as the
//! DDB's rule sets and their likes need it) and XSLT's `key()` and `current()`.
//! Arguments are converted as XPath 2.0's function conversion rules say: atomized,
//! checked for cardinality (XPTY0004 for a second item where one is allowed), untyped
//! values cast to the parameter's type. String and regex functions are in `strings.rs`.

use super::ast::{Arith, AtomType, Call, Fun, X};
use super::compare::{order, same_value};
use super::eval::{arith, ebv, ebv_of, eval, nonempty, Ev, Focus, R};
use super::value::{atom_of, cast, number, string_value};
use super::{strings, Atomic, Date, DynError, Item, Seq};
use crate::xml::node::{NodeKind, NodeRef};
use crate::xpath::ArithOp;
use std::cmp::Ordering;

/// "first", "second" … for messages.
pub(super) fn ordinal(i: usize) -> &'static str {
    ["first", "second", "third", "fourth", "fifth"]
        .get(i)
        .copied()
        .unwrap_or("next")
}

/// The function's name as messages give it.
pub(super) fn fn_name(c: &Call) -> String {
    match c.fun {
        Some(Fun::Construct(_)) => c.name.to_string(),
        _ => format!("fn:{}", c.name.local),
    }
}

/// XPTY0004 for a second item where at most one is allowed.
pub(super) fn too_many(c: &Call, i: usize) -> DynError {
    DynError::new(
        "XPTY0004",
        format!(
            "A sequence of more than one item is not allowed as the {} argument of {}()",
            ordinal(i),
            fn_name(c)
        ),
    )
}

/// XPTY0004 for an empty sequence where one item is required.
pub(super) fn missing(c: &Call, i: usize) -> DynError {
    DynError::new(
        "XPTY0004",
        format!(
            "An empty sequence is not allowed as the {} argument of {}()",
            ordinal(i),
            fn_name(c)
        ),
    )
}

/// Argument `i` as at most one item.
pub(super) fn opt_item<'d>(
    c: &Call,
    i: usize,
    ev: &mut Ev<'_, 'd>,
    f: Focus<'_, 'd>,
) -> R<Option<Item<'d>>> {
    let mut items = eval(&c.args[i], ev, f)?;
    match items.len() {
        0 => Ok(None),
        1 => Ok(items.pop()),
        _ => Err(too_many(c, i)),
    }
}

/// Argument `i` as at most one atomic value.
pub(super) fn opt_atom<'d>(
    c: &Call,
    i: usize,
    ev: &mut Ev<'_, 'd>,
    f: Focus<'_, 'd>,
) -> R<Option<Atomic>> {
    Ok(opt_item(c, i, ev, f)?.map(atom_of))
}

/// Argument `i` as a numeric value or none (untyped cast to `xs:double`).
fn opt_number<'d>(c: &Call, i: usize, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Option<Atomic>> {
    match opt_atom(c, i, ev, f)? {
        None => Ok(None),
        Some(u @ Atomic::Untyped(_)) => cast(u, AtomType::Dbl).map(Some),
        Some(a) if a.is_numeric() => Ok(Some(a)),
        Some(a) => Err(wrong_type(c, i, "xs:double", &a)),
    }
}

/// Argument `i` as exactly one `xs:double`.
pub(super) fn double<'d>(c: &Call, i: usize, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<f64> {
    match opt_number(c, i, ev, f)? {
        Some(a) => Ok(a.as_f64().unwrap_or(f64::NAN)),
        None => Err(missing(c, i)),
    }
}

/// Argument `i` as exactly one `xs:integer`.
fn integer<'d>(c: &Call, i: usize, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<i64> {
    match opt_atom(c, i, ev, f)? {
        Some(Atomic::Int(n)) => Ok(n),
        Some(u @ Atomic::Untyped(_)) => match cast(u, AtomType::Int)? {
            Atomic::Int(n) => Ok(n),
            _ => Err(missing(c, i)),
        },
        Some(a) => Err(wrong_type(c, i, "xs:integer", &a)),
        None => Err(missing(c, i)),
    }
}

/// XPTY0004 for an argument of the wrong type.
pub(super) fn wrong_type(c: &Call, i: usize, required: &str, a: &Atomic) -> DynError {
    DynError::new(
        "XPTY0004",
        format!(
            "The required item type of the {} argument of {}() is {required}. The supplied value is of type {}",
            ordinal(i),
            fn_name(c),
            a.type_name()
        ),
    )
}

/// The context item, for the functions that default to it.
pub(super) fn context<'f, 'd>(c: &Call, f: Focus<'f, 'd>) -> &'f Item<'d> {
    let _ = c;
    f.item
}

/// The node argument `i` (or the context node when the call has no arguments).
fn opt_node<'d>(c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Option<NodeRef<'d>>> {
    let item = if c.args.is_empty() {
        Some(f.item.clone())
    } else {
        opt_item(c, 0, ev, f)?
    };
    match item {
        None => Ok(None),
        Some(Item::Node(n)) => Ok(Some(n)),
        Some(Item::Atom(a)) if c.args.is_empty() => Err(DynError::new(
            "XPTY0004",
            format!(
                "The context item for {}() is not a node but {}",
                fn_name(c),
                a.type_name()
            ),
        )),
        Some(Item::Atom(a)) => Err(wrong_type(c, 0, "node()", &a)),
    }
}

fn atom<'d>(a: Atomic) -> Seq<'d> {
    vec![Item::Atom(a)]
}

fn string<'d>(s: impl Into<String>) -> Seq<'d> {
    atom(Atomic::Str(s.into()))
}

fn atoms<'d>(x: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Vec<Atomic>> {
    Ok(eval(x, ev, f)?.into_iter().map(atom_of).collect())
}

/// The effective boolean value of a call, without building a sequence for the
/// functions that give booleans.
pub(super) fn call_ebv<'d>(c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<bool> {
    match c.fun {
        Some(Fun::Not) => Ok(!ebv(&c.args[0], ev, f)?),
        Some(Fun::Boolean) => ebv(&c.args[0], ev, f),
        Some(Fun::True) => Ok(true),
        Some(Fun::False) => Ok(false),
        Some(Fun::Exists) => nonempty(&c.args[0], ev, f),
        Some(Fun::Empty) => Ok(!nonempty(&c.args[0], ev, f)?),
        Some(fun @ (Fun::Contains | Fun::StartsWith | Fun::EndsWith | Fun::Matches)) => {
            strings::predicate(fun, c, ev, f)
        }
        _ => ebv_of(&call(c, ev, f)?),
    }
}

/// Evaluates a call.
pub(super) fn call<'d>(c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    let Some(fun) = c.fun else {
        return Err(DynError::new(
            "XPST0017",
            format!("unknown function {}()", c.name),
        ));
    };
    let boolean = |b: bool| Ok(atom(Atomic::Bool(b)));
    match fun {
        Fun::Position => Ok(atom(Atomic::Int(f.pos as i64))),
        Fun::Last => Ok(atom(Atomic::Int(f.size as i64))),
        Fun::Count => Ok(atom(Atomic::Int(eval(&c.args[0], ev, f)?.len() as i64))),
        Fun::Not
        | Fun::True
        | Fun::False
        | Fun::Boolean
        | Fun::Exists
        | Fun::Empty
        | Fun::Contains
        | Fun::StartsWith
        | Fun::EndsWith
        | Fun::Matches => boolean(call_ebv(c, ev, f)?),
        Fun::String => {
            let item = if c.args.is_empty() {
                Some(context(c, f).clone())
            } else {
                opt_item(c, 0, ev, f)?
            };
            Ok(string(item.map_or(String::new(), |i| string_value(&i))))
        }
        Fun::Data => Ok(eval(&c.args[0], ev, f)?
            .into_iter()
            .map(|i| Item::Atom(atom_of(i)))
            .collect()),
        Fun::Number => {
            let a = if c.args.is_empty() {
                Some(atom_of(context(c, f).clone()))
            } else {
                opt_atom(c, 0, ev, f)?
            };
            Ok(atom(Atomic::Dbl(a.as_ref().map_or(f64::NAN, number))))
        }
        Fun::Concat
        | Fun::SubstringBefore
        | Fun::SubstringAfter
        | Fun::Substring
        | Fun::StringLength
        | Fun::NormalizeSpace
        | Fun::Translate
        | Fun::UpperCase
        | Fun::LowerCase
        | Fun::Replace
        | Fun::Tokenize
        | Fun::StringJoin => strings::call(fun, c, ev, f),
        Fun::DistinctValues => {
            let mut out: Vec<Atomic> = Vec::new();
            for a in atoms(&c.args[0], ev, f)? {
                if !out.iter().any(|b| same_value(&a, b, true)) {
                    out.push(a);
                }
            }
            Ok(out.into_iter().map(Item::Atom).collect())
        }
        Fun::IndexOf => {
            let seq = atoms(&c.args[0], ev, f)?;
            let Some(search) = opt_atom(c, 1, ev, f)? else {
                return Err(missing(c, 1));
            };
            Ok(seq
                .iter()
                .enumerate()
                .filter(|(_, a)| same_value(a, &search, false))
                .map(|(i, _)| Item::Atom(Atomic::Int(i as i64 + 1)))
                .collect())
        }
        Fun::Subsequence => {
            let seq = eval(&c.args[0], ev, f)?;
            let start = strings::round_half_up(double(c, 1, ev, f)?);
            let end = match c.args.len() {
                3 => start + strings::round_half_up(double(c, 2, ev, f)?),
                _ => f64::INFINITY,
            };
            Ok(seq
                .into_iter()
                .enumerate()
                .filter(|(i, _)| {
                    let p = (*i + 1) as f64;
                    p >= start && p < end
                })
                .map(|(_, it)| it)
                .collect())
        }
        Fun::Reverse => {
            let mut seq = eval(&c.args[0], ev, f)?;
            seq.reverse();
            Ok(seq)
        }
        Fun::InsertBefore => {
            let mut seq = eval(&c.args[0], ev, f)?;
            let pos = integer(c, 1, ev, f)?;
            let inserts = eval(&c.args[2], ev, f)?;
            let at = (pos.max(1) as usize - 1).min(seq.len());
            seq.splice(at..at, inserts);
            Ok(seq)
        }
        Fun::Remove => {
            let mut seq = eval(&c.args[0], ev, f)?;
            let pos = integer(c, 1, ev, f)?;
            if pos >= 1 && (pos as usize) <= seq.len() {
                seq.remove(pos as usize - 1);
            }
            Ok(seq)
        }
        Fun::ExactlyOne | Fun::ZeroOrOne | Fun::OneOrMore => {
            let seq = eval(&c.args[0], ev, f)?;
            let (ok, code, what) = match fun {
                Fun::ExactlyOne => (seq.len() == 1, "FORG0005", "exactly-one"),
                Fun::ZeroOrOne => (seq.len() <= 1, "FORG0003", "zero-or-one"),
                _ => (!seq.is_empty(), "FORG0004", "one-or-more"),
            };
            if ok {
                Ok(seq)
            } else {
                Err(DynError::new(
                    code,
                    format!("fn:{what}() called with a sequence of {} items", seq.len()),
                ))
            }
        }
        Fun::Sum | Fun::Avg => {
            let values = numbers(c, ev, f)?;
            let n = values.len();
            let mut total: Option<Atomic> = None;
            for v in values {
                total = Some(match total {
                    None => v,
                    Some(t) => arith(Arith::Basic(ArithOp::Add), t, v)?,
                });
            }
            match (fun, total) {
                (Fun::Avg, None) => Ok(Vec::new()),
                (Fun::Avg, Some(t)) => Ok(atom(arith(
                    Arith::Basic(ArithOp::Div),
                    t,
                    Atomic::Int(n as i64),
                )?)),
                (_, Some(t)) => Ok(atom(t)),
                (_, None) if c.args.len() == 2 => eval(&c.args[1], ev, f),
                (_, None) => Ok(atom(Atomic::Int(0))),
            }
        }
        Fun::Max | Fun::Min => extreme(c, fun == Fun::Max, ev, f),
        Fun::Floor | Fun::Ceiling | Fun::Round | Fun::Abs => {
            let Some(a) = opt_number(c, 0, ev, f)? else {
                return Ok(Vec::new());
            };
            let g = |x: f64| match fun {
                Fun::Floor => x.floor(),
                Fun::Ceiling => x.ceil(),
                Fun::Round => strings::round_half_up(x),
                _ => x.abs(),
            };
            Ok(atom(match a {
                Atomic::Int(i) if fun == Fun::Abs => Atomic::Int(i.abs()),
                Atomic::Int(i) => Atomic::Int(i),
                Atomic::Dec(d) => Atomic::Dec(g(d)),
                other => Atomic::Dbl(g(other.as_f64().unwrap_or(f64::NAN))),
            }))
        }
        Fun::CurrentDate => Ok(atom(Atomic::Date(Date::today()))),
        Fun::Root => Ok(opt_node(c, ev, f)?
            .map(|n| {
                let top = std::iter::successors(Some(n), NodeRef::parent)
                    .last()
                    .unwrap_or(n);
                Item::Node(top)
            })
            .into_iter()
            .collect()),
        Fun::Name | Fun::LocalName | Fun::NamespaceUri => {
            let s = match opt_node(c, ev, f)? {
                None => String::new(),
                Some(n) => match fun {
                    Fun::Name if n.kind() == NodeKind::ProcessingInstruction => {
                        n.local_name().to_string()
                    }
                    Fun::Name => n.name(),
                    Fun::LocalName => n.local_name().to_string(),
                    _ => n.namespace_uri().to_string(),
                },
            };
            Ok(string(s))
        }
        Fun::Key => key(c, ev, f),
        Fun::Current => match ev.env.current() {
            Some(n) => Ok(vec![Item::Node(n)]),
            None => Err(DynError::new("XTDE1360", "current() is not available here")),
        },
        Fun::Error => {
            let message = match c.args.get(1) {
                Some(x) => eval(x, ev, f)?.iter().map(string_value).collect(),
                None => "error() called".to_string(),
            };
            Err(DynError::new("FOER0000", message))
        }
        Fun::Construct(t) => match opt_atom(c, 0, ev, f)? {
            None => Ok(Vec::new()),
            Some(a) => Ok(atom(cast(a, t)?)),
        },
    }
}

/// The atomized argument of `sum`, `avg`, `max`, `min`: untyped values as doubles.
fn numbers<'d>(c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Vec<Atomic>> {
    let mut out = Vec::new();
    for a in atoms(&c.args[0], ev, f)? {
        out.push(match a {
            u @ Atomic::Untyped(_) => cast(u, AtomType::Dbl)?,
            a if a.is_numeric() || matches!(c.fun, Some(Fun::Max | Fun::Min)) => a,
            a => {
                return Err(DynError::new(
                    "FORG0006",
                    format!(
                        "Input to {}() contains a value of type {}",
                        fn_name(c),
                        a.type_name()
                    ),
                ))
            }
        });
    }
    Ok(out)
}

fn extreme<'d>(c: &Call, max: bool, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    let values = numbers(c, ev, f)?;
    let any_double = values.iter().any(|a| matches!(a, Atomic::Dbl(_)));
    let any_decimal = values.iter().any(|a| matches!(a, Atomic::Dec(_)));
    let mut best: Option<Atomic> = None;
    for v in values {
        if v.as_f64().is_some_and(f64::is_nan) {
            return Ok(atom(Atomic::Dbl(f64::NAN)));
        }
        best = Some(match best {
            None => v,
            Some(b) => {
                let o = order(&v, &b).map_err(|e| DynError::new("FORG0006", e.message))?;
                let better = if max {
                    o == Some(Ordering::Greater)
                } else {
                    o == Some(Ordering::Less)
                };
                if better {
                    v
                } else {
                    b
                }
            }
        });
    }
    Ok(best
        .map(|b| match b {
            Atomic::Int(_) | Atomic::Dec(_) if any_double => Atomic::Dbl(b.as_f64().unwrap_or(0.0)),
            Atomic::Int(i) if any_decimal => Atomic::Dec(i as f64),
            b => b,
        })
        .map(Item::Atom)
        .into_iter()
        .collect())
}

fn key<'d>(c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    let values = atoms(&c.args[1], ev, f)?;
    let top = if c.args.len() == 3 {
        match opt_item(c, 2, ev, f)? {
            Some(Item::Node(n)) => n,
            Some(Item::Atom(a)) => return Err(wrong_type(c, 2, "node()", &a)),
            None => return Err(missing(c, 2)),
        }
    } else {
        match f.item {
            Item::Node(n) => std::iter::successors(Some(*n), NodeRef::parent)
                .last()
                .unwrap_or(*n),
            Item::Atom(_) => {
                return Err(DynError::new(
                    "XTDE1270",
                    "key() with two arguments needs a context node",
                ))
            }
        }
    };
    if values.is_empty() {
        return Ok(Vec::new());
    }
    ev.env.key(c.key, &values, Some(top))
}
