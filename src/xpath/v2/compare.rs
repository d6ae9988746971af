//! Comparisons of atomic values: value comparisons (`eq`, `lt` …, XPath 2.0 §3.5.1),
//! the conversions general comparisons apply before them (§3.5.2), and the equality
//! and order `distinct-values`, `index-of`, `max` and `min` use.

use super::ast::AtomType;
use super::value::cast;
use super::{Atomic, DynError};
use crate::xpath::CmpOp;
use std::cmp::Ordering;

fn incomparable(a: &Atomic, b: &Atomic) -> DynError {
    DynError::new(
        "XPTY0004",
        format!("Cannot compare {} to {}", a.type_name(), b.type_name()),
    )
}

/// How two atomic values of comparable types order: `None` when one is NaN.
pub(super) fn order(a: &Atomic, b: &Atomic) -> Result<Option<Ordering>, DynError> {
    Ok(match (a, b) {
        (Atomic::Str(x) | Atomic::Untyped(x), Atomic::Str(y) | Atomic::Untyped(y)) => {
            Some(x.as_str().cmp(y.as_str()))
        }
        (Atomic::Int(x), Atomic::Int(y)) => Some(x.cmp(y)),
        (Atomic::Bool(x), Atomic::Bool(y)) => Some(x.cmp(y)),
        (Atomic::Date(x), Atomic::Date(y)) => Some(x.instant().cmp(&y.instant())),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => return Err(incomparable(a, b)),
        },
    })
}

fn holds(op: CmpOp, o: Option<Ordering>) -> bool {
    match o {
        None => op == CmpOp::Ne,
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        },
    }
}

/// A value comparison of two atomic values (untyped values compare as strings).
pub(super) fn value_compare(op: CmpOp, a: &Atomic, b: &Atomic) -> Result<bool, DynError> {
    if matches!(
        (a, b),
        (Atomic::Bool(_), Atomic::Bool(_)) | (Atomic::Date(_), Atomic::Date(_))
    ) || a.is_numeric() && b.is_numeric()
        || matches!(
            (a, b),
            (
                Atomic::Str(_) | Atomic::Untyped(_),
                Atomic::Str(_) | Atomic::Untyped(_)
            )
        )
    {
        return Ok(holds(op, order(a, b)?));
    }
    Err(incomparable(a, b))
}

/// One pair of a general comparison: an untyped operand is cast to the other's type
/// (to `xs:double` against a number, to `xs:string` against a string or untyped value).
pub(super) fn general_pair(op: CmpOp, a: &Atomic, b: &Atomic) -> Result<bool, DynError> {
    match (a, b) {
        (Atomic::Untyped(_), Atomic::Untyped(_) | Atomic::Str(_))
        | (Atomic::Str(_), Atomic::Untyped(_)) => value_compare(op, a, b),
        (Atomic::Untyped(s), other) => {
            let converted = promote(s, other)?;
            value_compare(op, &converted, other)
        }
        (other, Atomic::Untyped(s)) => {
            let converted = promote(s, other)?;
            value_compare(op, other, &converted)
        }
        _ => value_compare(op, a, b),
    }
}

/// An untyped value cast to the type of `other` as a general comparison does.
fn promote(s: &str, other: &Atomic) -> Result<Atomic, DynError> {
    let t = match other {
        Atomic::Int(_) | Atomic::Dec(_) | Atomic::Dbl(_) => AtomType::Dbl,
        Atomic::Bool(_) => AtomType::Bool,
        Atomic::Date(_) => AtomType::Date,
        _ => AtomType::Str,
    };
    cast(Atomic::Untyped(s.to_string()), t)
}

/// Equality as `distinct-values` and `index-of` see it: values of incomparable types
/// are distinct, NaN equals NaN (for `distinct-values`), untyped values are strings.
pub(super) fn same_value(a: &Atomic, b: &Atomic, nan_equal: bool) -> bool {
    match order(a, b) {
        Ok(Some(o)) => o == Ordering::Equal,
        Ok(None) => {
            nan_equal && a.as_f64().is_some_and(f64::is_nan) && b.as_f64().is_some_and(f64::is_nan)
        }
        Err(_) => false,
    }
}

/// Whether `a op b` holds for two strings (codepoint order).
pub(super) fn string_holds(op: CmpOp, a: &str, b: &str) -> bool {
    holds(op, Some(a.cmp(b)))
}
