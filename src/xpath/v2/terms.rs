//! The terminal pieces of the XPath 2.0 grammar for `parser.rs`: comments, string
//! literals with doubled quotes, numeric literals by type, atomic and sequence types,
//! node tests.

use super::ast::{AtomType, ItemType, Kind, NodeTest, SeqType};
use super::parser::{is_kind_name, Parsed, Parser};
use super::Atomic;
use crate::xpath::lexer::Tok;
use crate::xpath::{NameTest, QName};

/// The text with comments `(: … :)` (which may nest) blanked out, offsets kept.
pub(super) fn without_comments(src: &str) -> Parsed<String> {
    if !src.contains("(:") {
        return Ok(src.to_string());
    }
    let bytes = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let (mut i, mut depth, mut quote) = (0, 0usize, None);
    while i < bytes.len() {
        let two = &bytes[i..(i + 2).min(bytes.len())];
        if depth == 0 && quote.is_none() && matches!(bytes[i], b'\'' | b'"') {
            quote = Some(bytes[i]);
        } else if quote == Some(bytes[i]) {
            quote = None;
        } else if quote.is_none() && two == b"(:" {
            depth += 1;
            out.push_str("  ");
            i += 2;
            continue;
        } else if depth > 0 && two == b":)" {
            depth -= 1;
            out.push_str("  ");
            i += 2;
            continue;
        }
        let c = src[i..].chars().next().unwrap_or(' ');
        out.push(if depth > 0 { ' ' } else { c });
        i += c.len_utf8();
    }
    if depth > 0 {
        return Err("unterminated comment".into());
    }
    Ok(out)
}

impl Parser<'_> {
    /// An atomic type name: `xs:date` and the like (the prefix is checked by binding).
    pub(super) fn atomic_type(&mut self) -> Parsed<AtomType> {
        let Some(Tok::Name(name)) = self.peek().cloned() else {
            return self.error("a type name");
        };
        self.at += 1;
        let q = QName::parse(&name);
        if q.prefix != "xs" {
            return Err(format!("unsupported type {name}"));
        }
        AtomType::from_local(&q.local).ok_or_else(|| format!("unsupported type {name}"))
    }

    pub(super) fn single_type(&mut self) -> Parsed<(AtomType, bool)> {
        let t = self.atomic_type()?;
        if t == AtomType::Any {
            return Err("cast to xs:anyAtomicType is not allowed".into());
        }
        Ok((t, self.eat(&Tok::Question)))
    }

    pub(super) fn sequence_type(&mut self) -> Parsed<SeqType> {
        if self.is_name(0, "empty-sequence") && self.peek_at(1) == Some(&Tok::LParen) {
            self.at += 2;
            self.expect(&Tok::RParen, "')'")?;
            return Ok(SeqType::Empty);
        }
        let item = if self.is_name(0, "item") && self.peek_at(1) == Some(&Tok::LParen) {
            self.at += 2;
            self.expect(&Tok::RParen, "')'")?;
            ItemType::Item
        } else if matches!(self.peek(), Some(Tok::Name(n)) if is_kind_name(n))
            && self.peek_at(1) == Some(&Tok::LParen)
        {
            match self.node_test()? {
                NodeTest::Kind(k) => ItemType::Kind(k),
                _ => return Err("unsupported sequence type".into()),
            }
        } else {
            ItemType::Atomic(self.atomic_type()?)
        };
        let occurrence = match self.peek() {
            Some(Tok::Question) => '?',
            Some(Tok::Star) => '*',
            Some(Tok::Plus) => '+',
            _ => '1',
        };
        if occurrence != '1' {
            self.at += 1;
        }
        Ok(SeqType::Items(item, occurrence))
    }

    pub(super) fn node_test(&mut self) -> Parsed<NodeTest> {
        let Some(tok) = self.peek().cloned() else {
            return self.error("a node test");
        };
        self.at += 1;
        match tok {
            Tok::Star => Ok(NodeTest::Any),
            Tok::Name(name) if self.peek() == Some(&Tok::LParen) => {
                self.at += 1;
                let kind = match name.as_str() {
                    "node" => Kind::Node,
                    "text" => Kind::Text,
                    "comment" => Kind::Comment,
                    "element" => Kind::Element,
                    "attribute" => Kind::Attribute,
                    "document-node" => Kind::Document,
                    "processing-instruction" => Kind::Pi,
                    other => return Err(format!("unsupported kind test {other}()")),
                };
                if !self.eat(&Tok::RParen) {
                    return Err(format!("{name}() with arguments is not supported"));
                }
                Ok(NodeTest::Kind(kind))
            }
            Tok::Name(name) => {
                let q = QName::parse(&name);
                let test = NameTest {
                    name: q,
                    uri: String::new(),
                };
                Ok(if test.name.local == "*" {
                    NodeTest::AnyIn(test)
                } else {
                    NodeTest::Name(test)
                })
            }
            other => {
                self.at -= 1;
                Err(format!(
                    "expected a node test at offset {}, found {other:?}",
                    self.offset()
                ))
            }
        }
    }

    /// A string literal, with `''` (or `""`) inside it standing for one quote: the
    /// lexer gives the halves as adjacent literals.
    pub(super) fn literal_rest(&mut self, mut s: String, offset: usize) -> String {
        let quote = self.src[offset..].chars().next().unwrap_or('\'');
        let mut end = offset + 1 + s.len();
        while let Some((Tok::Literal(next), at)) = self.toks.get(self.at).cloned() {
            if at != end + 1 || !self.src[at..].starts_with(quote) {
                break;
            }
            s.push(quote);
            s.push_str(&next);
            end = at + 1 + next.len();
            self.at += 1;
        }
        s
    }

    /// A numeric literal: `xs:integer` without a `.`, `xs:decimal` with one, and
    /// `xs:double` with an exponent (which the lexer gives as a following name, `e5`
    /// or `e-5`, or as `e`, `+` and digits).
    pub(super) fn number(&mut self, n: f64, offset: usize) -> Atomic {
        let text: String = self.src[offset..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let end = offset + text.len();
        if let Some((Tok::Name(e), at)) = self.toks.get(self.at).cloned() {
            if at == end && (e.starts_with('e') || e.starts_with('E')) {
                let exponent = &e[1..];
                let plus_digits = match (exponent.is_empty(), self.peek_at(1), self.peek_at(2)) {
                    (true, Some(Tok::Plus), Some(Tok::Number(d))) => Some(*d),
                    _ => None,
                };
                let digits = exponent.strip_prefix('-').unwrap_or(exponent);
                if let Some(d) = plus_digits {
                    self.at += 3;
                    return Atomic::Dbl(format!("{text}e{d}").parse().unwrap_or(f64::INFINITY));
                }
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    self.at += 1;
                    let value = format!("{text}e{exponent}")
                        .parse()
                        .unwrap_or(f64::INFINITY);
                    return Atomic::Dbl(value);
                }
            }
        }
        if text.contains('.') {
            Atomic::Dec(n)
        } else {
            text.parse().map_or(Atomic::Dbl(n), Atomic::Int)
        }
    }
}
