//! Atomic values: string values of items, atomization, the canonical string forms of
//! numbers and dates, and casting between the supported types (XPath 2.0 §17,
//! "Casting").

use super::ast::AtomType;
use super::{Atomic, Date, DynError, Item};
use crate::xml::node::{NodeKind, NodeRef};
use std::borrow::Cow;

/// The string value of an item: a node's string value, an atomic value's canonical form
/// as XPath 2.0 casts it to `xs:string` (`xs:double` 2024 → "2024", 1.5E20 → "1.5E20",
/// NaN → "NaN"; dates "2026-12-03Z").
pub fn string_value(item: &Item<'_>) -> String {
    match item {
        Item::Node(n) => node_text(*n).into_owned(),
        Item::Atom(a) => a.to_xs_string().into_owned(),
    }
}

/// Atomization (`fn:data`): nodes give `xs:untypedAtomic` of their string value.
pub fn atomize(seq: &[Item<'_>]) -> Vec<Atomic> {
    seq.iter().map(|i| atom_of(i.clone())).collect()
}

/// Atomizes one item, taking it over.
pub(super) fn atom_of(item: Item<'_>) -> Atomic {
    match item {
        Item::Node(n) => Atomic::Untyped(node_text(n).into_owned()),
        Item::Atom(a) => a,
    }
}

/// The string value of a node, borrowed from the tree where it is stored in one piece.
pub(super) fn node_text<'d>(n: NodeRef<'d>) -> Cow<'d, str> {
    match n.stored_text() {
        Some(s) => Cow::Borrowed(s),
        None if n.kind() == NodeKind::Element && n.first_child().is_none() => Cow::Borrowed(""),
        None => Cow::Owned(n.string_value()),
    }
}

impl Atomic {
    /// The value cast to `xs:string`.
    pub fn to_xs_string(&self) -> Cow<'_, str> {
        match self {
            Atomic::Untyped(s) | Atomic::Str(s) => Cow::Borrowed(s),
            Atomic::Int(i) => Cow::Owned(i.to_string()),
            Atomic::Dec(d) => Cow::Owned(format_decimal(*d)),
            Atomic::Dbl(d) => Cow::Owned(format_double(*d)),
            Atomic::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Atomic::Date(d) => Cow::Owned(d.to_string()),
        }
    }

    /// The name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Atomic::Untyped(_) => "xs:untypedAtomic",
            Atomic::Str(_) => "xs:string",
            Atomic::Int(_) => "xs:integer",
            Atomic::Dec(_) => "xs:decimal",
            Atomic::Dbl(_) => "xs:double",
            Atomic::Bool(_) => "xs:boolean",
            Atomic::Date(_) => "xs:date",
        }
    }

    /// Whether the value is of a numeric type.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Atomic::Int(_) | Atomic::Dec(_) | Atomic::Dbl(_))
    }

    /// A numeric value as a double (`None` for other types).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Atomic::Int(i) => Some(*i as f64),
            Atomic::Dec(d) | Atomic::Dbl(d) => Some(*d),
            _ => None,
        }
    }
}

/// `xs:decimal` to string: no exponent, no trailing zeros, no point for whole numbers.
pub(super) fn format_decimal(d: f64) -> String {
    if d == d.trunc() && d.abs() < 1e18 {
        format!("{}", d as i64)
    } else {
        format!("{d}")
    }
}

/// `xs:double` to string (XPath 2.0 §17.1.2): plain notation from 1E-6 up to 1E6,
/// scientific notation with at least one fractional digit outside.
pub(super) fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "INF" } else { "-INF" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let a = d.abs();
    if (1e-6..1e6).contains(&a) {
        return format_decimal(d);
    }
    let s = format!("{d:E}");
    match s.split_once('E') {
        Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
        _ => s,
    }
}

fn trim_ws(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// The `xs:double` lexical space (with XML Schema 1.1's `+INF`).
pub(super) fn parse_double(s: &str) -> Option<f64> {
    let s = trim_ws(s);
    match s {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if !is_decimal(mantissa) {
        return None;
    }
    if let Some(e) = exponent {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    s.parse().ok()
}

/// The `xs:decimal` lexical space: `(+|-)?(d+(.d*)?|.d+)`.
fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac) && body != "."
}

fn parse_decimal(s: &str) -> Option<f64> {
    let s = trim_ws(s);
    is_decimal(s).then(|| s.parse().ok()).flatten()
}

fn parse_integer(s: &str) -> Option<i64> {
    let s = trim_ws(s);
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    (!body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parse_boolean(s: &str) -> Option<bool> {
    match trim_ws(s) {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn invalid(value: &str, t: AtomType) -> DynError {
    DynError::new(
        "FORG0001",
        format!("Cannot convert string \"{value}\" to {}", type_label(t)),
    )
}

/// The name of a type, for messages.
pub(super) fn type_label(t: AtomType) -> &'static str {
    match t {
        AtomType::Any => "xs:anyAtomicType",
        AtomType::Untyped => "xs:untypedAtomic",
        AtomType::Str => "xs:string",
        AtomType::Int => "xs:integer",
        AtomType::Dec => "xs:decimal",
        AtomType::Dbl => "xs:double",
        AtomType::Bool => "xs:boolean",
        AtomType::Date => "xs:date",
    }
}

/// Casts `a` to type `t` (XPath 2.0 §17.1): FORG0001 for a string outside the target's
/// lexical space, FOCA0002 for NaN or infinity to a decimal or integer, XPTY0004 where
/// the types do not cast.
pub(super) fn cast(a: Atomic, t: AtomType) -> Result<Atomic, DynError> {
    let not_castable = |a: &Atomic| {
        DynError::new(
            "XPTY0004",
            format!("Cannot cast {} to {}", a.type_name(), type_label(t)),
        )
    };
    let whole = |d: f64| -> Result<f64, DynError> {
        if d.is_finite() {
            Ok(d)
        } else {
            Err(DynError::new(
                "FOCA0002",
                format!("Cannot convert {} to {}", format_double(d), type_label(t)),
            ))
        }
    };
    Ok(match (t, a) {
        (AtomType::Any, a) => a,
        (AtomType::Str, Atomic::Str(s)) => Atomic::Str(s),
        (AtomType::Str, a) => Atomic::Str(a.to_xs_string().into_owned()),
        (AtomType::Untyped, Atomic::Untyped(s) | Atomic::Str(s)) => Atomic::Untyped(s),
        (AtomType::Untyped, a) => Atomic::Untyped(a.to_xs_string().into_owned()),
        (_, Atomic::Str(s) | Atomic::Untyped(s)) => from_string(&s, t)?,
        (AtomType::Int, Atomic::Int(i)) => Atomic::Int(i),
        (AtomType::Int, Atomic::Dec(d) | Atomic::Dbl(d)) => {
            let d = whole(d)?.trunc();
            if d.abs() >= 9.2e18 {
                return Err(DynError::new("FOCA0003", "Integer value too large"));
            }
            Atomic::Int(d as i64)
        }
        (AtomType::Dec, Atomic::Int(i)) => Atomic::Dec(i as f64),
        (AtomType::Dec, Atomic::Dec(d) | Atomic::Dbl(d)) => Atomic::Dec(whole(d)?),
        (AtomType::Dbl, a @ (Atomic::Int(_) | Atomic::Dec(_) | Atomic::Dbl(_))) => {
            Atomic::Dbl(a.as_f64().unwrap_or(f64::NAN))
        }
        (AtomType::Int | AtomType::Dec | AtomType::Dbl, Atomic::Bool(b)) => {
            let v = if b { 1.0 } else { 0.0 };
            match t {
                AtomType::Int => Atomic::Int(v as i64),
                AtomType::Dec => Atomic::Dec(v),
                _ => Atomic::Dbl(v),
            }
        }
        (AtomType::Bool, Atomic::Bool(b)) => Atomic::Bool(b),
        (AtomType::Bool, a @ (Atomic::Int(_) | Atomic::Dec(_) | Atomic::Dbl(_))) => {
            let d = a.as_f64().unwrap_or(f64::NAN);
            Atomic::Bool(!(d == 0.0 || d.is_nan()))
        }
        (AtomType::Date, Atomic::Date(d)) => Atomic::Date(d),
        (_, a) => return Err(not_castable(&a)),
    })
}

fn from_string(s: &str, t: AtomType) -> Result<Atomic, DynError> {
    let v = match t {
        AtomType::Int => parse_integer(s).map(Atomic::Int),
        AtomType::Dec => parse_decimal(s).map(Atomic::Dec),
        AtomType::Dbl => parse_double(s).map(Atomic::Dbl),
        AtomType::Bool => parse_boolean(s).map(Atomic::Bool),
        AtomType::Date => Date::parse(trim_ws(s)).map(Atomic::Date),
        AtomType::Str => Some(Atomic::Str(s.to_string())),
        AtomType::Untyped | AtomType::Any => Some(Atomic::Untyped(s.to_string())),
    };
    v.ok_or_else(|| invalid(s, t))
}

/// `fn:number`: the value as `xs:double`, NaN where it does not convert.
pub(super) fn number(a: &Atomic) -> f64 {
    match a {
        Atomic::Int(_) | Atomic::Dec(_) | Atomic::Dbl(_) => a.as_f64().unwrap_or(f64::NAN),
        Atomic::Bool(b) => f64::from(u8::from(*b)),
        Atomic::Str(s) | Atomic::Untyped(s) => parse_double(s).unwrap_or(f64::NAN),
        Atomic::Date(_) => f64::NAN,
    }
}

impl Date {
    /// Parses the `xs:date` lexical form `-?YYYY-MM-DD(Z|(+|-)hh:mm)?`, checking the day
    /// against the month and leap years.
    pub fn parse(s: &str) -> Option<Date> {
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let year_len = body.bytes().take_while(u8::is_ascii_digit).count();
        if year_len < 4 || (year_len > 4 && body.starts_with('0')) {
            return None;
        }
        let rest = &body[year_len..];
        let b = rest.as_bytes();
        if b.len() < 6 || b[0] != b'-' || b[3] != b'-' {
            return None;
        }
        let two = |x: &[u8]| -> Option<u8> {
            (x.len() == 2 && x.iter().all(u8::is_ascii_digit))
                .then(|| (x[0] - b'0') * 10 + x[1] - b'0')
        };
        let month = two(&b[1..3])?;
        let day = two(&b[4..6])?;
        let year: i32 = body[..year_len].parse().ok()?;
        let year = if neg { -year } else { year };
        if year == 0 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let tz = &rest[6..];
        let tz_minutes = match tz {
            "" => None,
            "Z" => Some(0),
            _ => {
                let t = tz.as_bytes();
                if t.len() != 6 || !matches!(t[0], b'+' | b'-') || t[3] != b':' {
                    return None;
                }
                let (h, m) = (two(&t[1..3])? as i16, two(&t[4..6])? as i16);
                if m > 59 || h > 14 {
                    return None;
                }
                Some(if t[0] == b'-' {
                    -(h * 60 + m)
                } else {
                    h * 60 + m
                })
            }
        };
        Some(Date {
            year,
            month,
            day,
            tz_minutes,
        })
    }

    /// Minutes since 1970-01-01T00:00Z of the date's start, taking a missing
    /// timezone as UTC (the implicit timezone): the order of dates.
    pub fn instant(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 1440
            - i64::from(self.tz_minutes.unwrap_or(0))
    }

    /// Today in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let (year, month, day) = civil_from_days(secs.div_euclid(86400));
        Date {
            year,
            month,
            day,
            tz_minutes: Some(0),
        }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.year < 0 {
            write!(f, "-")?;
        }
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year.abs(),
            self.month,
            self.day
        )?;
        match self.tz_minutes {
            None => Ok(()),
            Some(0) => write!(f, "Z"),
            Some(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
        }
    }
}

fn is_leap(y: i32) -> bool {
    // XML Schema 1.0 counts years without a year 0: -1 is leap like 0 would be.
    let y = if y < 0 { y + 1 } else { y };
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(if y < 0 { y + 1 } else { y }) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}
