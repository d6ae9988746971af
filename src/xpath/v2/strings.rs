//! The functions on strings and regular expressions. A string parameter takes at most
//! one item (XPTY0004 for more: the usual failure on elements split into several text
//! nodes), an untyped value or node as its string, and nothing else.

use super::ast::{Call, Fun};
use super::bind::compile_regex;
use super::eval::{Ev, Focus, R};
use super::functions::{missing, opt_item, too_many, wrong_type};
use super::value::node_text;
use super::{Atomic, DynError, Item, Seq};
use crate::xpath::normalize_space;
use regex::{Captures, Regex};
use std::borrow::Cow;

/// XPath's `round`: halves towards positive infinity.
pub(super) fn round_half_up(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() || x == 0.0 {
        return x;
    }
    let r = (x + 0.5).floor();
    if r == 0.0 && x < 0.0 {
        -0.0
    } else {
        r
    }
}

/// A string argument: `None` for the empty sequence.
fn opt_str<'d>(
    c: &Call,
    i: usize,
    ev: &mut Ev<'_, 'd>,
    f: Focus<'_, 'd>,
) -> R<Option<Cow<'d, str>>> {
    match opt_item(c, i, ev, f)? {
        None => Ok(None),
        Some(Item::Node(n)) => Ok(Some(node_text(n))),
        Some(Item::Atom(Atomic::Str(s) | Atomic::Untyped(s))) => Ok(Some(Cow::Owned(s))),
        Some(Item::Atom(a)) => Err(wrong_type(c, i, "xs:string", &a)),
    }
}

/// A string argument, "" for the empty sequence.
fn str_or_empty<'d>(c: &Call, i: usize, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Cow<'d, str>> {
    Ok(opt_str(c, i, ev, f)?.unwrap_or(Cow::Borrowed("")))
}

/// A required string argument.
fn one_str<'d>(c: &Call, i: usize, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Cow<'d, str>> {
    opt_str(c, i, ev, f)?.ok_or_else(|| missing(c, i))
}

/// The string argument, or the context item's string value without arguments.
fn str_or_context<'d>(c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Cow<'d, str>> {
    if !c.args.is_empty() {
        return str_or_empty(c, 0, ev, f);
    }
    Ok(match f.item {
        Item::Node(n) => node_text(*n),
        Item::Atom(a) => Cow::Owned(a.to_xs_string().into_owned()),
    })
}

/// The call's regular expression: compiled at binding for literals, else now.
fn regex<'c, 'd>(
    c: &'c Call,
    flags_at: usize,
    ev: &mut Ev<'_, 'd>,
    f: Focus<'_, 'd>,
) -> R<Cow<'c, Regex>> {
    if let Some(re) = &c.regex {
        return Ok(Cow::Borrowed(re));
    }
    let pattern = one_str(c, 1, ev, f)?.into_owned();
    let flags = match c.args.get(flags_at) {
        Some(_) => one_str(c, flags_at, ev, f)?.into_owned(),
        None => String::new(),
    };
    Ok(Cow::Owned(compile_regex(&pattern, &flags)?))
}

fn no_empty_match(re: &Regex) -> R<()> {
    if re.is_match("") {
        return Err(DynError::new(
            "FORX0003",
            "The regular expression must not be one that matches a zero-length string",
        ));
    }
    Ok(())
}

/// `contains`, `starts-with`, `ends-with`, `matches`.
pub(super) fn predicate<'d>(fun: Fun, c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<bool> {
    let s = str_or_empty(c, 0, ev, f)?;
    if fun == Fun::Matches {
        let re = regex(c, 2, ev, f)?;
        return Ok(re.is_match(&s));
    }
    let t = str_or_empty(c, 1, ev, f)?;
    Ok(match fun {
        Fun::Contains => s.contains(&*t),
        Fun::StartsWith => s.starts_with(&*t),
        _ => s.ends_with(&*t),
    })
}

fn string<'d>(s: impl Into<String>) -> Seq<'d> {
    vec![Item::Atom(Atomic::Str(s.into()))]
}

/// The other string functions.
pub(super) fn call<'d>(fun: Fun, c: &Call, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    Ok(match fun {
        Fun::Concat => {
            let mut out = String::new();
            for i in 0..c.args.len() {
                if let Some(item) = opt_item(c, i, ev, f)? {
                    match item {
                        Item::Node(n) => out.push_str(&node_text(n)),
                        Item::Atom(a) => out.push_str(&a.to_xs_string()),
                    }
                }
            }
            string(out)
        }
        Fun::SubstringBefore | Fun::SubstringAfter => {
            let s = str_or_empty(c, 0, ev, f)?;
            let t = str_or_empty(c, 1, ev, f)?;
            let found = s.find(&*t);
            string(match (fun, found) {
                (_, None) => "",
                (Fun::SubstringBefore, Some(i)) => &s[..i],
                (_, Some(i)) => &s[i + t.len()..],
            })
        }
        Fun::Substring => {
            let s = str_or_empty(c, 0, ev, f)?;
            let start = round_half_up(super::functions::double(c, 1, ev, f)?);
            let end = match c.args.len() {
                3 => start + round_half_up(super::functions::double(c, 2, ev, f)?),
                _ => f64::INFINITY,
            };
            let out: String = s
                .chars()
                .enumerate()
                .filter(|(i, _)| {
                    let p = (*i + 1) as f64;
                    p >= start && p < end
                })
                .map(|(_, ch)| ch)
                .collect();
            string(out)
        }
        Fun::StringLength => {
            let s = str_or_context(c, ev, f)?;
            vec![Item::Atom(Atomic::Int(s.chars().count() as i64))]
        }
        Fun::NormalizeSpace => string(normalize_space(&str_or_context(c, ev, f)?)),
        Fun::Translate => {
            let s = str_or_empty(c, 0, ev, f)?;
            let from: Vec<char> = one_str(c, 1, ev, f)?.chars().collect();
            let to: Vec<char> = one_str(c, 2, ev, f)?.chars().collect();
            let out: String = s
                .chars()
                .filter_map(|ch| match from.iter().position(|&x| x == ch) {
                    Some(i) => to.get(i).copied(),
                    None => Some(ch),
                })
                .collect();
            string(out)
        }
        Fun::UpperCase => string(str_or_empty(c, 0, ev, f)?.to_uppercase()),
        Fun::LowerCase => string(str_or_empty(c, 0, ev, f)?.to_lowercase()),
        Fun::Replace => {
            let s = str_or_empty(c, 0, ev, f)?;
            let re = regex(c, 3, ev, f)?;
            let replacement = one_str(c, 2, ev, f)?;
            no_empty_match(&re)?;
            let parts = replacement_parts(&replacement, re.captures_len() - 1)?;
            let out = re.replace_all(&s, |caps: &Captures| {
                let mut r = String::new();
                for p in &parts {
                    match p {
                        Part::Text(t) => r.push_str(t),
                        Part::Group(g) => r.push_str(caps.get(*g).map_or("", |m| m.as_str())),
                    }
                }
                r
            });
            string(out.into_owned())
        }
        Fun::Tokenize => {
            let s = str_or_empty(c, 0, ev, f)?;
            if c.args.len() == 1 {
                return Ok(s
                    .split([' ', '\t', '\n', '\r'])
                    .filter(|t| !t.is_empty())
                    .map(|t| Item::Atom(Atomic::Str(t.to_string())))
                    .collect());
            }
            let re = regex(c, 2, ev, f)?;
            no_empty_match(&re)?;
            if s.is_empty() {
                return Ok(Vec::new());
            }
            re.split(&s)
                .map(|t| Item::Atom(Atomic::Str(t.to_string())))
                .collect()
        }
        Fun::StringJoin => {
            let items = super::eval::eval(&c.args[0], ev, f)?;
            let sep = match c.args.len() {
                2 => one_str(c, 1, ev, f)?,
                _ => Cow::Borrowed(""),
            };
            let mut out = String::new();
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&sep);
                }
                match it {
                    Item::Node(n) => out.push_str(&node_text(*n)),
                    Item::Atom(a) => out.push_str(&a.to_xs_string()),
                }
            }
            string(out)
        }
        _ => return Err(too_many(c, 0)),
    })
}

enum Part {
    Text(String),
    Group(usize),
}

/// Splits a replacement string into text and `$N` group references (`\$` and `\\`
/// stand for themselves; any other `\` or `$` is FORX0004).
fn replacement_parts(r: &str, groups: usize) -> R<Vec<Part>> {
    let invalid = || DynError::new("FORX0004", format!("Invalid replacement string '{r}'"));
    let mut parts = Vec::new();
    let mut text = String::new();
    let chars: Vec<char> = r.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => match chars.get(i + 1) {
                Some(c @ ('\\' | '$')) => {
                    text.push(*c);
                    i += 2;
                }
                _ => return Err(invalid()),
            },
            '$' => {
                let digits: Vec<usize> = chars[i + 1..]
                    .iter()
                    .map_while(|c| c.to_digit(10).map(|d| d as usize))
                    .collect();
                if digits.is_empty() {
                    return Err(invalid());
                }
                // The longest prefix of the digits that names a group (the first digit
                // always counts; a group beyond the last one gives "").
                let mut n = digits[0];
                let mut used = 1;
                for &d in &digits[1..] {
                    if n * 10 + d > groups {
                        break;
                    }
                    n = n * 10 + d;
                    used += 1;
                }
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                if n <= groups {
                    parts.push(Part::Group(n));
                }
                i += 1 + used;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}
