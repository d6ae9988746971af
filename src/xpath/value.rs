//! XPath 1.0 values as the evaluator converts and compares them (XPath 1.0 §3.4, §4):
//! node-sets, strings, numbers and booleans. Where libxml2's result of a conversion is
//! not certain to be reproduced exactly (a fractional number as a string, a string in
//! scientific notation as a number) the answer is `None` — "ask libxml2".

use super::ast::CmpOp;
use crate::xml::node::NodeRef;
use crate::xml::xpath::Value;
use std::borrow::Cow;

/// XML white space, as `normalize-space` knows it.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// XPath `number()` of a string, where libxml2's result is certain: an optional minus
/// and up to 15 digits (with white space around). `None` for a fraction or exponent.
pub(crate) fn string_to_number(s: &str) -> Option<f64> {
    let t = s.trim_matches(is_space);
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n: f64 = digits.parse().ok()?;
        return Some(if t.starts_with('-') { -n } else { n });
    }
    if t.contains(['.', 'e', 'E']) {
        return None;
    }
    Some(f64::NAN)
}

/// XPath `string()` of a number, where the conversion is certain (integers).
fn number_to_string(n: f64) -> Option<String> {
    if n.is_nan() {
        Some("NaN".into())
    } else if n.is_infinite() {
        Some(if n > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else if n == n.trunc() && n.abs() < 1e15 {
        Some(format!("{}", n as i64))
    } else {
        None
    }
}

/// The string value of a node, borrowed where the tree holds it in one piece.
pub(crate) fn node_string<'d>(n: &NodeRef<'d>) -> Cow<'d, str> {
    match n.stored_text() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(n.string_value()),
    }
}

pub(crate) fn to_bool(v: &Value<'_>) -> bool {
    match v {
        Value::Nodes(n) => !n.is_empty(),
        Value::Str(s) => !s.is_empty(),
        Value::Num(n) => *n != 0.0 && !n.is_nan(),
        Value::Bool(b) => *b,
    }
}

pub(crate) fn to_string(v: Value<'_>) -> Option<String> {
    match v {
        Value::Nodes(n) => Some(
            n.first()
                .map(|n| node_string(n).into_owned())
                .unwrap_or_default(),
        ),
        Value::Str(s) => Some(s),
        Value::Num(n) => number_to_string(n),
        Value::Bool(b) => Some(b.to_string()),
    }
}

pub(crate) fn to_number(v: &Value<'_>) -> Option<f64> {
    match v {
        Value::Nodes(n) => match n.first() {
            Some(node) => string_to_number(&node_string(node)),
            None => Some(f64::NAN),
        },
        Value::Str(s) => string_to_number(s),
        Value::Num(n) => Some(*n),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
    }
}

fn compare_numbers(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// XPath 1.0 §3.4 comparison of two values.
pub(crate) fn compare(op: CmpOp, a: &Value<'_>, b: &Value<'_>) -> Option<bool> {
    let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
    match (a, b) {
        (Value::Nodes(x), Value::Nodes(y)) => {
            let ys: Vec<Cow<str>> = y.iter().map(node_string).collect();
            for n in x {
                let s = node_string(n);
                for t in &ys {
                    let hit = if equality {
                        (s == *t) == (op == CmpOp::Eq)
                    } else {
                        compare_numbers(op, string_to_number(&s)?, string_to_number(t)?)
                    };
                    if hit {
                        return Some(true);
                    }
                }
            }
            Some(false)
        }
        (Value::Nodes(_), _) => compare_node_set(op, a, b),
        (_, Value::Nodes(_)) => compare_node_set(flip(op), b, a),
        _ if equality => {
            let eq = match (a, b) {
                (Value::Bool(_), _) | (_, Value::Bool(_)) => to_bool(a) == to_bool(b),
                (Value::Num(_), _) | (_, Value::Num(_)) => to_number(a)? == to_number(b)?,
                _ => to_string(a.clone())? == to_string(b.clone())?,
            };
            Some(eq == (op == CmpOp::Eq))
        }
        _ => Some(compare_numbers(op, to_number(a)?, to_number(b)?)),
    }
}

/// A node-set compared with a value that is not one.
fn compare_node_set(op: CmpOp, nodes: &Value<'_>, other: &Value<'_>) -> Option<bool> {
    let Value::Nodes(nodes) = nodes else {
        return None;
    };
    match other {
        Value::Bool(b) => {
            let a = !nodes.is_empty();
            match op {
                CmpOp::Eq => Some(a == *b),
                CmpOp::Ne => Some(a != *b),
                _ => Some(compare_numbers(
                    op,
                    f64::from(u8::from(a)),
                    f64::from(u8::from(*b)),
                )),
            }
        }
        Value::Num(n) => {
            for node in nodes {
                if compare_numbers(op, string_to_number(&node_string(node))?, *n) {
                    return Some(true);
                }
            }
            Some(false)
        }
        Value::Str(s) => {
            let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
            let other_number = if equality { 0.0 } else { string_to_number(s)? };
            for node in nodes {
                let v = node_string(node);
                let hit = if equality {
                    (v.as_ref() == s.as_str()) == (op == CmpOp::Eq)
                } else {
                    compare_numbers(op, string_to_number(&v)?, other_number)
                };
                if hit {
                    return Some(true);
                }
            }
            Some(false)
        }
        Value::Nodes(_) => None,
    }
}

pub(crate) fn sort_unique(nodes: &mut Vec<NodeRef<'_>>) {
    nodes.sort_by(|a, b| a.document_order(b));
    nodes.dedup();
}

/// XPath's `normalize-space()` (XML white space only).
pub fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // XML's white space is ASCII white space without the form feed, which
    // `split_ascii_whitespace` also splits at; that byte-wise split is the fast way.
    if !s.contains('\x0c') {
        for word in s.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        return out;
    }
    for word in s.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_space_uses_xml_white_space() {
        assert_eq!(normalize_space(" \t a \r\n b  "), "a b");
        assert_eq!(normalize_space("\u{a0}a"), "\u{a0}a");
        assert_eq!(normalize_space(" a\x0c b "), "a\x0c b");
        assert_eq!(normalize_space("\x0c"), "\x0c");
    }

    #[test]
    fn only_certain_number_conversions_are_answered() {
        assert_eq!(string_to_number(" -12 "), Some(-12.0));
        assert!(string_to_number("x").unwrap().is_nan());
        assert_eq!(string_to_number("1.5"), None);
        assert_eq!(number_to_string(3.0).as_deref(), Some("3"));
        assert_eq!(number_to_string(0.5), None);
    }
}
