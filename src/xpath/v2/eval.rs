//! The evaluator: expressions over a focus (context item, position, size) to sequences,
//! and effective boolean values with short-circuits (`and`, `or`, existence of paths,
//! general comparisons that stop at the first matching pair). Paths live in `path.rs`,
//! the function library in `functions.rs`.

use super::ast::{Arith, AtomType, ItemType, Kind, NodeOp, SeqType, SetOp, Slot, VarRef, X};
use super::compare::{general_pair, string_holds, value_compare};
use super::value::{atom_of, cast, node_text, type_label};
use super::{functions, path, Atomic, DynError, Env, Item, Seq};
use crate::xml::node::{NodeKind, NodeRef};
use crate::xpath::{ArithOp, CmpOp};
use std::borrow::Cow;

/// A result or a dynamic error.
pub(super) type R<T> = Result<T, DynError>;

/// The state of one evaluation: the host and the values of range variables.
pub(super) struct Ev<'a, 'd> {
    /// The host.
    pub env: &'a dyn Env<'d>,
    /// The values of the enclosing range variables, by depth.
    pub locals: Vec<Item<'d>>,
}

/// The focus: context item, position and size.
#[derive(Clone, Copy)]
pub(super) struct Focus<'f, 'd> {
    /// The context item.
    pub item: &'f Item<'d>,
    /// The context position (from 1).
    pub pos: usize,
    /// The context size (0 where no `last()` can ask for it).
    pub size: usize,
}

/// The effective boolean value of a sequence (XPath 2.0 §2.4.3; FORG0006 otherwise).
pub(super) fn ebv_of(seq: &[Item<'_>]) -> R<bool> {
    match seq {
        [] => Ok(false),
        [Item::Node(_), ..] => Ok(true),
        [Item::Atom(a)] => ebv_atom(a),
        [Item::Atom(a), ..] => Err(DynError::new(
            "FORG0006",
            format!(
                "Effective boolean value is not defined for a sequence of two or more items \
                 starting with a {} value",
                a.type_name()
            ),
        )),
    }
}

fn ebv_atom(a: &Atomic) -> R<bool> {
    Ok(match a {
        Atomic::Bool(b) => *b,
        Atomic::Str(s) | Atomic::Untyped(s) => !s.is_empty(),
        Atomic::Int(i) => *i != 0,
        Atomic::Dec(d) | Atomic::Dbl(d) => !(*d == 0.0 || d.is_nan()),
        Atomic::Date(_) => {
            return Err(DynError::new(
                "FORG0006",
                "Effective boolean value is not defined for a value of type xs:date",
            ))
        }
    })
}

fn boolean<'d>(b: bool) -> Seq<'d> {
    vec![Item::Atom(Atomic::Bool(b))]
}

/// Evaluates `x`.
pub(super) fn eval<'d>(x: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    match x {
        X::Seq(items) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(eval(i, ev, f)?);
            }
            Ok(out)
        }
        X::Lit(a) => Ok(vec![Item::Atom(a.clone())]),
        X::Var(v) => var(v, ev),
        X::Context => Ok(vec![f.item.clone()]),
        X::Path(p) => path::eval_path(p, ev, f),
        X::Filter(primary, preds) => {
            let items = eval(primary, ev, f)?;
            path::filter(items, preds, ev)
        }
        X::Or(..)
        | X::And(..)
        | X::General(..)
        | X::Quantified(..)
        | X::Castable(..)
        | X::InstanceOf(..) => Ok(boolean(ebv(x, ev, f)?)),
        X::Value(op, a, b) => Ok(value_cmp(*op, a, b, ev, f)?.map_or(Vec::new(), boolean)),
        X::NodeCmp(op, a, b) => {
            let (Some(l), Some(r)) = (one_node(a, ev, f)?, one_node(b, ev, f)?) else {
                return Ok(Vec::new());
            };
            let o = l.document_order(&r);
            Ok(boolean(match op {
                NodeOp::Is => l == r,
                NodeOp::Precedes => o == std::cmp::Ordering::Less,
                NodeOp::Follows => o == std::cmp::Ordering::Greater,
            }))
        }
        X::Arith(op, a, b) => {
            let (Some(l), Some(r)) = (operand(a, ev, f)?, operand(b, ev, f)?) else {
                return Ok(Vec::new());
            };
            Ok(vec![Item::Atom(arith(*op, l, r)?)])
        }
        X::Unary(neg, a) => {
            let Some(v) = operand(a, ev, f)? else {
                return Ok(Vec::new());
            };
            Ok(vec![Item::Atom(match (neg, v) {
                (false, v) => v,
                (true, Atomic::Int(i)) => Atomic::Int(-i),
                (true, Atomic::Dec(d)) => Atomic::Dec(-d),
                (true, Atomic::Dbl(d)) => Atomic::Dbl(-d),
                (true, other) => unreachable_numeric(&other)?,
            })])
        }
        X::Range(a, b) => range(a, b, ev, f),
        X::Set(op, a, b) => set(*op, a, b, ev, f),
        X::If(c, a, b) => {
            if ebv(c, ev, f)? {
                eval(a, ev, f)
            } else {
                eval(b, ev, f)
            }
        }
        X::For(v, seq, body) => {
            let items = eval(seq, ev, f)?;
            let depth = local_depth(v);
            let mut out = Vec::new();
            for it in items {
                ev.locals.truncate(depth);
                ev.locals.push(it);
                out.extend(eval(body, ev, f)?);
            }
            ev.locals.truncate(depth);
            Ok(out)
        }
        X::Cast(a, t, optional) => {
            let items = eval(a, ev, f)?;
            match items.len() {
                0 if *optional => Ok(Vec::new()),
                1 => {
                    let v = atom_of(
                        items
                            .into_iter()
                            .next()
                            .unwrap_or(Item::Atom(Atomic::Bool(false))),
                    );
                    Ok(vec![Item::Atom(cast(v, *t)?)])
                }
                0 => Err(DynError::new(
                    "XPTY0004",
                    format!(
                        "An empty sequence is not allowed as the value in 'cast as {}'",
                        type_label(*t)
                    ),
                )),
                _ => Err(DynError::new(
                    "XPTY0004",
                    "A sequence of more than one item is not allowed as the value in 'cast as'",
                )),
            }
        }
        X::Call(c) => functions::call(c, ev, f),
    }
}

fn unreachable_numeric(a: &Atomic) -> R<Atomic> {
    Err(DynError::new(
        "XPTY0004",
        format!("Unary minus is not defined for {}", a.type_name()),
    ))
}

fn local_depth(v: &VarRef) -> usize {
    match v.slot {
        Slot::Local(d) => d,
        _ => 0,
    }
}

fn var<'d>(v: &VarRef, ev: &mut Ev<'_, 'd>) -> R<Seq<'d>> {
    match v.slot {
        Slot::Host(slot) => ev.env.var(slot),
        Slot::Local(d) => Ok(ev.locals.get(d).cloned().into_iter().collect()),
        Slot::Unbound => Err(DynError::new("XPST0008", format!("${} is unbound", v.name))),
    }
}

/// The effective boolean value of `x`, evaluating no more than it needs.
pub(super) fn ebv<'d>(x: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<bool> {
    match x {
        X::Or(a, b) => Ok(ebv(a, ev, f)? || ebv(b, ev, f)?),
        X::And(a, b) => Ok(ebv(a, ev, f)? && ebv(b, ev, f)?),
        X::General(op, a, b) => general(*op, a, b, ev, f),
        X::Value(op, a, b) => Ok(value_cmp(*op, a, b, ev, f)?.unwrap_or(false)),
        X::Path(p) => path::ebv_path(p, ev, f),
        X::If(c, a, b) => {
            if ebv(c, ev, f)? {
                ebv(a, ev, f)
            } else {
                ebv(b, ev, f)
            }
        }
        X::Quantified(every, v, seq, body) => {
            let items = eval(seq, ev, f)?;
            let depth = local_depth(v);
            let mut result = *every;
            for it in items {
                ev.locals.truncate(depth);
                ev.locals.push(it);
                if ebv(body, ev, f)? != *every {
                    result = !*every;
                    break;
                }
            }
            ev.locals.truncate(depth);
            Ok(result)
        }
        X::Castable(a, t, optional) => {
            let mut items = eval(a, ev, f)?;
            Ok(match items.len() {
                0 => *optional,
                1 => cast(atom_of(items.remove(0)), *t).is_ok(),
                _ => false,
            })
        }
        X::InstanceOf(a, t) => {
            let items = eval(a, ev, f)?;
            Ok(instance_of(&items, t))
        }
        X::Lit(a) => ebv_atom(a),
        X::Call(c) => functions::call_ebv(c, ev, f),
        _ => ebv_of(&eval(x, ev, f)?),
    }
}

/// Whether `x` gives a non-empty sequence, evaluating no more than it needs.
pub(super) fn nonempty<'d>(x: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<bool> {
    match x {
        X::Path(p) if path::nodes_only(p) => path::ebv_path(p, ev, f),
        X::Set(SetOp::Union, a, b) => Ok(nonempty(a, ev, f)? || nonempty(b, ev, f)?),
        _ => Ok(!eval(x, ev, f)?.is_empty()),
    }
}

/// The item's view as a string where it is a string, untyped value or node.
fn str_view<'x>(item: &'x Item<'_>) -> Option<Cow<'x, str>> {
    match item {
        Item::Node(n) => Some(node_text(*n)),
        Item::Atom(Atomic::Str(s) | Atomic::Untyped(s)) => Some(Cow::Borrowed(s)),
        Item::Atom(_) => None,
    }
}

/// The items of `x` when it is a string literal or a sequence of them.
fn string_literals(x: &X) -> Option<&[X]> {
    let items = match x {
        X::Lit(Atomic::Str(_)) => std::slice::from_ref(x),
        X::Seq(items) => items.as_slice(),
        _ => return None,
    };
    let all = !items.is_empty() && items.iter().all(|i| matches!(i, X::Lit(Atomic::Str(_))));
    all.then_some(items)
}

/// A general comparison, existential over both operands.
fn general<'d>(op: CmpOp, a: &X, b: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<bool> {
    let left = eval(a, ev, f)?;
    // `@type = ('a', 'b', …)`: compared with the literals in place, not copied.
    if let Some(literals) = string_literals(b) {
        if left.iter().all(|i| str_view(i).is_some()) {
            return Ok(left.iter().any(|l| {
                let lv = str_view(l).unwrap_or_default();
                literals.iter().any(|r| match r {
                    X::Lit(Atomic::Str(r)) => string_holds(op, &lv, r),
                    _ => false,
                })
            }));
        }
    }
    let right = eval(b, ev, f)?;
    if left.is_empty() || right.is_empty() {
        return Ok(false);
    }
    // Strings, untyped values and nodes compare as strings: no conversion, no copy.
    if left.iter().all(|i| str_view(i).is_some()) {
        let rights: Option<Vec<Cow<str>>> = right.iter().map(str_view).collect();
        if let Some(rights) = rights {
            for l in &left {
                let lv = str_view(l).unwrap_or_default();
                if rights.iter().any(|r| string_holds(op, &lv, r)) {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
    }
    let right: Vec<Atomic> = right.into_iter().map(atom_of).collect();
    for l in left {
        let l = atom_of(l);
        for r in &right {
            if general_pair(op, &l, r)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// One atomized item or none; XPTY0004 for more.
fn single_atom<'d>(x: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>, what: &str) -> R<Option<Atomic>> {
    let mut items = eval(x, ev, f)?;
    match items.len() {
        0 => Ok(None),
        1 => Ok(Some(atom_of(items.remove(0)))),
        _ => Err(DynError::new(
            "XPTY0004",
            format!("A sequence of more than one item is not allowed as the {what}"),
        )),
    }
}

fn value_cmp<'d>(
    op: CmpOp,
    a: &X,
    b: &X,
    ev: &mut Ev<'_, 'd>,
    f: Focus<'_, 'd>,
) -> R<Option<bool>> {
    let l = single_atom(a, ev, f, "first operand of a value comparison")?;
    let r = single_atom(b, ev, f, "second operand of a value comparison")?;
    match (l, r) {
        (Some(l), Some(r)) => Ok(Some(value_compare(op, &l, &r)?)),
        _ => Ok(None),
    }
}

fn one_node<'d>(x: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Option<NodeRef<'d>>> {
    let items = eval(x, ev, f)?;
    match items.as_slice() {
        [] => Ok(None),
        [Item::Node(n)] => Ok(Some(*n)),
        _ => Err(DynError::new(
            "XPTY0004",
            "The operands of a node comparison must be single nodes",
        )),
    }
}

/// An arithmetic operand: one atomized item, untyped as `xs:double`, numeric.
fn operand<'d>(x: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Option<Atomic>> {
    match single_atom(x, ev, f, "operand of an arithmetic expression")? {
        None => Ok(None),
        Some(Atomic::Untyped(s)) => cast(Atomic::Untyped(s), AtomType::Dbl).map(Some),
        Some(a) if a.is_numeric() => Ok(Some(a)),
        Some(a) => Err(DynError::new(
            "XPTY0004",
            format!(
                "Arithmetic operator is not defined for arguments of type {}",
                a.type_name()
            ),
        )),
    }
}

fn div_zero() -> DynError {
    DynError::new("FOAR0001", "Integer division by zero")
}

/// `a op b` on numbers, with XPath's type promotion (integer < decimal < double).
pub(super) fn arith(op: Arith, a: Atomic, b: Atomic) -> R<Atomic> {
    let overflow = || DynError::new("FOAR0002", "Integer overflow");
    if let (Atomic::Int(x), Atomic::Int(y)) = (&a, &b) {
        let (x, y) = (*x, *y);
        return Ok(match op {
            Arith::Basic(ArithOp::Add) => Atomic::Int(x.checked_add(y).ok_or_else(overflow)?),
            Arith::Basic(ArithOp::Sub) => Atomic::Int(x.checked_sub(y).ok_or_else(overflow)?),
            Arith::Basic(ArithOp::Mul) => Atomic::Int(x.checked_mul(y).ok_or_else(overflow)?),
            Arith::Basic(ArithOp::Div) if y == 0 => return Err(div_zero()),
            Arith::Basic(ArithOp::Div) => Atomic::Dec(x as f64 / y as f64),
            Arith::Basic(ArithOp::Mod) | Arith::IDiv if y == 0 => return Err(div_zero()),
            Arith::Basic(ArithOp::Mod) => Atomic::Int(x.wrapping_rem(y)),
            Arith::IDiv => Atomic::Int(x.wrapping_div(y)),
        });
    }
    let double = matches!(a, Atomic::Dbl(_)) || matches!(b, Atomic::Dbl(_));
    let (x, y) = (
        a.as_f64().unwrap_or(f64::NAN),
        b.as_f64().unwrap_or(f64::NAN),
    );
    let wrap = |v: f64| {
        if double {
            Atomic::Dbl(v)
        } else {
            Atomic::Dec(v)
        }
    };
    Ok(match op {
        Arith::Basic(ArithOp::Add) => wrap(x + y),
        Arith::Basic(ArithOp::Sub) => wrap(x - y),
        Arith::Basic(ArithOp::Mul) => wrap(x * y),
        Arith::Basic(ArithOp::Div) | Arith::Basic(ArithOp::Mod) if !double && y == 0.0 => {
            return Err(DynError::new("FOAR0001", "Decimal divide by zero"))
        }
        Arith::Basic(ArithOp::Div) => wrap(x / y),
        Arith::Basic(ArithOp::Mod) => wrap(x % y),
        Arith::IDiv => {
            if y == 0.0 {
                return Err(div_zero());
            }
            let q = (x / y).trunc();
            if !q.is_finite() {
                return Err(DynError::new("FOAR0002", "Integer division overflow"));
            }
            Atomic::Int(q as i64)
        }
    })
}

fn range<'d>(a: &X, b: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    let bound = |x: &X, ev: &mut Ev<'_, 'd>| -> R<Option<i64>> {
        match single_atom(x, ev, f, "operand of 'to'")? {
            None => Ok(None),
            Some(Atomic::Int(i)) => Ok(Some(i)),
            Some(u @ Atomic::Untyped(_)) => match cast(u, AtomType::Int)? {
                Atomic::Int(i) => Ok(Some(i)),
                _ => Ok(None),
            },
            Some(other) => Err(DynError::new(
                "XPTY0004",
                format!(
                    "Required type of the operands of 'to' is xs:integer, not {}",
                    other.type_name()
                ),
            )),
        }
    };
    let (Some(lo), Some(hi)) = (bound(a, ev)?, bound(b, ev)?) else {
        return Ok(Vec::new());
    };
    Ok((lo..=hi).map(|i| Item::Atom(Atomic::Int(i))).collect())
}

/// The nodes of a sequence that must hold only nodes (XPTY0004 otherwise).
pub(super) fn nodes_of<'d>(items: Seq<'d>, what: &str) -> R<Vec<NodeRef<'d>>> {
    items
        .into_iter()
        .map(|i| match i {
            Item::Node(n) => Ok(n),
            Item::Atom(a) => Err(DynError::new(
                "XPTY0004",
                format!(
                    "The operands of {what} must be nodes, not {}",
                    a.type_name()
                ),
            )),
        })
        .collect()
}

fn set<'d>(op: SetOp, a: &X, b: &X, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    let what = match op {
        SetOp::Union => "'|'",
        SetOp::Intersect => "'intersect'",
        SetOp::Except => "'except'",
    };
    let mut left = nodes_of(eval(a, ev, f)?, what)?;
    let right = nodes_of(eval(b, ev, f)?, what)?;
    match op {
        SetOp::Union => left.extend(right),
        SetOp::Intersect => left.retain(|n| right.contains(n)),
        SetOp::Except => left.retain(|n| !right.contains(n)),
    }
    path::sort_nodes(&mut left);
    Ok(left.into_iter().map(Item::Node).collect())
}

fn kind_matches(k: Kind, n: NodeRef<'_>) -> bool {
    match k {
        Kind::Node => n.kind() != NodeKind::Other,
        Kind::Text => n.kind() == NodeKind::Text,
        Kind::Comment => n.kind() == NodeKind::Comment,
        Kind::Element => n.kind() == NodeKind::Element,
        Kind::Attribute => n.kind() == NodeKind::Attribute,
        Kind::Document => n.kind() == NodeKind::Document,
        Kind::Pi => n.kind() == NodeKind::ProcessingInstruction,
    }
}

/// Whether a node is of kind `k`.
pub(super) fn is_kind(k: Kind, n: NodeRef<'_>) -> bool {
    kind_matches(k, n)
}

fn instance_of(items: &[Item<'_>], t: &SeqType) -> bool {
    let (item_type, occurrence) = match t {
        SeqType::Empty => return items.is_empty(),
        SeqType::Items(i, o) => (i, *o),
    };
    let count_ok = match occurrence {
        '?' => items.len() <= 1,
        '*' => true,
        '+' => !items.is_empty(),
        _ => items.len() == 1,
    };
    count_ok
        && items.iter().all(|i| match (item_type, i) {
            (ItemType::Item, _) => true,
            (ItemType::Kind(k), Item::Node(n)) => kind_matches(*k, *n),
            (ItemType::Atomic(t), Item::Atom(a)) => matches!(
                (t, a),
                (AtomType::Any, _)
                    | (AtomType::Untyped, Atomic::Untyped(_))
                    | (AtomType::Str, Atomic::Str(_))
                    | (AtomType::Int, Atomic::Int(_))
                    | (AtomType::Dec, Atomic::Int(_) | Atomic::Dec(_))
                    | (AtomType::Dbl, Atomic::Dbl(_))
                    | (AtomType::Bool, Atomic::Bool(_))
                    | (AtomType::Date, Atomic::Date(_))
            ),
            _ => false,
        })
}
