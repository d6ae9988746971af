//! The XPath 2.0 grammar (XPath 2.0 §3 and appendix A), by recursive descent over the
//! tokens of the engine's lexer, into the tree of `ast.rs`. Keywords (`for`, `if`,
//! `eq`, `instance of` …) are names whose meaning the position decides: an operator
//! after an operand, a name test or function otherwise.

use super::ast::{
    Arith, AtomType, Call, ItemType, Kind, NodeOp, NodeTest, Path, Pred, PredKind, Preds, SeqType,
    SetOp, Slot, Step, VarRef, X,
};
use super::Atomic;
use crate::xpath::lexer::{lex, Tok};
use crate::xpath::{ArithOp, Axis, CmpOp, NameTest, QName};

type Parsed<T> = Result<T, String>;

struct Parser<'s> {
    toks: Vec<(Tok, usize)>,
    at: usize,
    src: &'s str,
}

/// Parses an XPath 2.0 expression (names unbound).
pub(super) fn parse(src: &str) -> Parsed<X> {
    let text = without_comments(src)?;
    let toks = lex(&text).map_err(|e| e.to_string())?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    let mut p = Parser {
        toks,
        at: 0,
        src: &text,
    };
    let e = p.expr()?;
    match p.toks.get(p.at) {
        None => Ok(e),
        Some((t, offset)) => Err(format!("unexpected {t:?} at offset {offset}")),
    }
}

/// The text with comments `(: … :)` (which may nest) blanked out, offsets kept.
fn without_comments(src: &str) -> Parsed<String> {
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

fn is_kind_name(n: &str) -> bool {
    matches!(
        n,
        "node"
            | "text"
            | "comment"
            | "element"
            | "attribute"
            | "document-node"
            | "processing-instruction"
            | "schema-element"
            | "schema-attribute"
            | "item"
            | "empty-sequence"
    )
}

fn bx(x: X) -> Box<X> {
    Box::new(x)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.at + k).map(|t| &t.0)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.src.len(), |t| t.1)
    }

    fn error<T>(&self, what: &str) -> Parsed<T> {
        match self.peek() {
            Some(t) => Err(format!(
                "expected {what} at offset {}, found {t:?}",
                self.offset()
            )),
            None => Err(format!("expected {what} at the end of the expression")),
        }
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Parsed<()> {
        if self.eat(t) {
            Ok(())
        } else {
            self.error(what)
        }
    }

    fn is_name(&self, k: usize, name: &str) -> bool {
        matches!(self.peek_at(k), Some(Tok::Name(n)) if n == name)
    }

    fn eat_name(&mut self, name: &str) -> bool {
        if self.is_name(0, name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_name(&mut self, name: &str) -> Parsed<()> {
        if self.eat_name(name) {
            Ok(())
        } else {
            self.error(&format!("'{name}'"))
        }
    }

    /// `Expr ::= ExprSingle ("," ExprSingle)*`
    fn expr(&mut self) -> Parsed<X> {
        let first = self.single()?;
        if self.peek() != Some(&Tok::Comma) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(&Tok::Comma) {
            items.push(self.single()?);
        }
        Ok(X::Seq(items))
    }

    fn single(&mut self) -> Parsed<X> {
        let var_follows = matches!(self.peek_at(1), Some(Tok::Var(_)));
        if var_follows && self.eat_name("for") {
            return self.bindings("return", &mut |v, seq, body| X::For(v, bx(seq), bx(body)));
        }
        if var_follows && (self.is_name(0, "some") || self.is_name(0, "every")) {
            let every = self.is_name(0, "every");
            self.at += 1;
            return self.bindings("satisfies", &mut |v, seq, body| {
                X::Quantified(every, v, bx(seq), bx(body))
            });
        }
        if self.is_name(0, "if") && self.peek_at(1) == Some(&Tok::LParen) {
            self.at += 2;
            let cond = self.expr()?;
            self.expect(&Tok::RParen, "')'")?;
            self.expect_name("then")?;
            let then = self.single()?;
            self.expect_name("else")?;
            let other = self.single()?;
            return Ok(X::If(bx(cond), bx(then), bx(other)));
        }
        self.or()
    }

    /// `$v in E (, $w in F)* keyword body`, nested from the last binding inwards.
    fn bindings(&mut self, keyword: &str, make: &mut dyn FnMut(VarRef, X, X) -> X) -> Parsed<X> {
        let mut binds = Vec::new();
        loop {
            let Some(Tok::Var(name)) = self.peek().cloned() else {
                return self.error("a variable");
            };
            self.at += 1;
            self.expect_name("in")?;
            let seq = self.single()?;
            binds.push((name, seq));
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect_name(keyword)?;
        let mut body = self.single()?;
        while let Some((name, seq)) = binds.pop() {
            let v = VarRef {
                name,
                slot: Slot::Unbound,
            };
            body = make(v, seq, body);
        }
        Ok(body)
    }

    fn or(&mut self) -> Parsed<X> {
        let mut e = self.and()?;
        while self.eat_name("or") {
            e = X::Or(bx(e), bx(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Parsed<X> {
        let mut e = self.comparison()?;
        while self.eat_name("and") {
            e = X::And(bx(e), bx(self.comparison()?));
        }
        Ok(e)
    }

    fn comparison(&mut self) -> Parsed<X> {
        let left = self.range()?;
        let adjacent = |p: &Self| p.toks.get(p.at + 1).is_some_and(|t| t.1 == p.offset() + 1);
        let general = |op| Some((op, 0u8));
        let value = |op| Some((op, 1u8));
        let (op, class) = match self.peek() {
            Some(Tok::Eq) => general(CmpOp::Eq),
            Some(Tok::Ne) => general(CmpOp::Ne),
            Some(Tok::Lt) if self.peek_at(1) == Some(&Tok::Lt) && adjacent(self) => {
                self.at += 1;
                Some((CmpOp::Lt, 2))
            }
            Some(Tok::Gt) if self.peek_at(1) == Some(&Tok::Gt) && adjacent(self) => {
                self.at += 1;
                Some((CmpOp::Gt, 2))
            }
            Some(Tok::Lt) => general(CmpOp::Lt),
            Some(Tok::Le) => general(CmpOp::Le),
            Some(Tok::Gt) => general(CmpOp::Gt),
            Some(Tok::Ge) => general(CmpOp::Ge),
            Some(Tok::Name(n)) => match n.as_str() {
                "eq" => value(CmpOp::Eq),
                "ne" => value(CmpOp::Ne),
                "lt" => value(CmpOp::Lt),
                "le" => value(CmpOp::Le),
                "gt" => value(CmpOp::Gt),
                "ge" => value(CmpOp::Ge),
                "is" => Some((CmpOp::Eq, 2)),
                _ => None,
            },
            _ => None,
        }
        .map_or((None, 0), |(op, c)| (Some(op), c));
        let Some(op) = op else {
            return Ok(left);
        };
        self.at += 1;
        let right = self.range()?;
        Ok(match class {
            0 => X::General(op, bx(left), bx(right)),
            1 => X::Value(op, bx(left), bx(right)),
            _ => {
                let node_op = match op {
                    CmpOp::Lt => NodeOp::Precedes,
                    CmpOp::Gt => NodeOp::Follows,
                    _ => NodeOp::Is,
                };
                X::NodeCmp(node_op, bx(left), bx(right))
            }
        })
    }

    fn range(&mut self) -> Parsed<X> {
        let e = self.additive()?;
        if self.eat_name("to") {
            return Ok(X::Range(bx(e), bx(self.additive()?)));
        }
        Ok(e)
    }

    fn additive(&mut self) -> Parsed<X> {
        let mut e = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Plus) => ArithOp::Add,
                Some(Tok::Minus) => ArithOp::Sub,
                _ => return Ok(e),
            };
            self.at += 1;
            e = X::Arith(Arith::Basic(op), bx(e), bx(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Parsed<X> {
        let mut e = self.union()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Star) => Arith::Basic(ArithOp::Mul),
                Some(Tok::Name(n)) if n == "div" => Arith::Basic(ArithOp::Div),
                Some(Tok::Name(n)) if n == "mod" => Arith::Basic(ArithOp::Mod),
                Some(Tok::Name(n)) if n == "idiv" => Arith::IDiv,
                _ => return Ok(e),
            };
            self.at += 1;
            e = X::Arith(op, bx(e), bx(self.union()?));
        }
    }

    fn union(&mut self) -> Parsed<X> {
        let mut e = self.intersect()?;
        while self.eat(&Tok::Pipe) || self.eat_name("union") {
            e = X::Set(SetOp::Union, bx(e), bx(self.intersect()?));
        }
        Ok(e)
    }

    fn intersect(&mut self) -> Parsed<X> {
        let mut e = self.instance_of()?;
        loop {
            let op = if self.eat_name("intersect") {
                SetOp::Intersect
            } else if self.eat_name("except") {
                SetOp::Except
            } else {
                return Ok(e);
            };
            e = X::Set(op, bx(e), bx(self.instance_of()?));
        }
    }

    fn instance_of(&mut self) -> Parsed<X> {
        let e = self.treat()?;
        if self.is_name(0, "instance") && self.is_name(1, "of") {
            self.at += 2;
            return Ok(X::InstanceOf(bx(e), self.sequence_type()?));
        }
        Ok(e)
    }

    fn treat(&mut self) -> Parsed<X> {
        let e = self.castable()?;
        if self.is_name(0, "treat") && self.is_name(1, "as") {
            return Err("'treat as' is not supported".into());
        }
        Ok(e)
    }

    fn castable(&mut self) -> Parsed<X> {
        let e = self.cast()?;
        if self.is_name(0, "castable") && self.is_name(1, "as") {
            self.at += 2;
            let (t, optional) = self.single_type()?;
            return Ok(X::Castable(bx(e), t, optional));
        }
        Ok(e)
    }

    fn cast(&mut self) -> Parsed<X> {
        let e = self.unary()?;
        if self.is_name(0, "cast") && self.is_name(1, "as") {
            self.at += 2;
            let (t, optional) = self.single_type()?;
            return Ok(X::Cast(bx(e), t, optional));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Parsed<X> {
        if self.eat(&Tok::Minus) {
            return Ok(X::Unary(true, bx(self.unary()?)));
        }
        if self.eat(&Tok::Plus) {
            return Ok(X::Unary(false, bx(self.unary()?)));
        }
        self.path()
    }

    /// An atomic type name: `xs:date` and the like (the prefix is checked by binding).
    fn atomic_type(&mut self) -> Parsed<AtomType> {
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

    fn single_type(&mut self) -> Parsed<(AtomType, bool)> {
        let t = self.atomic_type()?;
        if t == AtomType::Any {
            return Err("cast to xs:anyAtomicType is not allowed".into());
        }
        Ok((t, self.eat(&Tok::Question)))
    }

    fn sequence_type(&mut self) -> Parsed<SeqType> {
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

    fn step_can_start(&self) -> bool {
        matches!(
            self.peek(),
            Some(
                Tok::Name(_)
                    | Tok::Star
                    | Tok::At
                    | Tok::Dot
                    | Tok::DotDot
                    | Tok::Var(_)
                    | Tok::LParen
                    | Tok::Literal(_)
                    | Tok::Number(_)
            )
        )
    }

    fn path(&mut self) -> Parsed<X> {
        let mut steps = Vec::new();
        let root = match self.peek() {
            Some(Tok::Slash) => {
                self.at += 1;
                if !self.step_can_start() {
                    return Ok(X::Path(Box::new(Path { root: true, steps })));
                }
                true
            }
            Some(Tok::DSlash) => {
                self.at += 1;
                steps.push(descendant_or_self());
                true
            }
            _ => false,
        };
        steps.push(self.step()?);
        loop {
            match self.peek() {
                Some(Tok::Slash) => self.at += 1,
                Some(Tok::DSlash) => {
                    self.at += 1;
                    steps.push(descendant_or_self());
                }
                _ => break,
            }
            steps.push(self.step()?);
        }
        if !root && steps.len() == 1 {
            if let Step::Filter(primary, preds) = &mut steps[0] {
                let primary = std::mem::replace(primary, X::Context);
                return Ok(if preds.list.is_empty() {
                    primary
                } else {
                    X::Filter(bx(primary), std::mem::take(preds))
                });
            }
        }
        Ok(X::Path(Box::new(Path { root, steps })))
    }

    fn predicates(&mut self) -> Parsed<Preds> {
        let mut list = Vec::new();
        while self.eat(&Tok::LBracket) {
            let x = self.expr()?;
            list.push(Pred {
                x,
                kind: PredKind::Any,
            });
            self.expect(&Tok::RBracket, "']'")?;
        }
        Ok(Preds { list, stream: 0 })
    }

    fn step(&mut self) -> Parsed<Step> {
        if let Some(primary) = self.primary()? {
            return Ok(Step::Filter(primary, self.predicates()?));
        }
        if self.eat(&Tok::DotDot) {
            return Ok(Step::Axis(
                Axis::Parent,
                NodeTest::Kind(Kind::Node),
                Preds::default(),
            ));
        }
        let explicit = self.peek_at(1) == Some(&Tok::ColonColon);
        let axis = if self.eat(&Tok::At) {
            Axis::Attribute
        } else if explicit {
            let axis = match self.peek() {
                Some(Tok::Name(n)) => Axis::from_name(n),
                _ => None,
            };
            let Some(axis) = axis else {
                return self.error("an axis name");
            };
            self.at += 2;
            axis
        } else {
            Axis::Child
        };
        let test = self.node_test()?;
        // `attribute()` and `@x` select on the attribute axis by default.
        let axis = match (&test, axis) {
            (NodeTest::Kind(Kind::Attribute), Axis::Child) if !explicit => Axis::Attribute,
            _ => axis,
        };
        Ok(Step::Axis(axis, test, self.predicates()?))
    }

    fn node_test(&mut self) -> Parsed<NodeTest> {
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

    /// A primary expression, if one starts here.
    fn primary(&mut self) -> Parsed<Option<X>> {
        let offset = self.offset();
        let Some(tok) = self.peek().cloned() else {
            return self.error("an expression");
        };
        let x = match tok {
            Tok::Literal(s) => {
                self.at += 1;
                X::Lit(Atomic::Str(self.literal_rest(s, offset)))
            }
            Tok::Number(n) => {
                self.at += 1;
                X::Lit(self.number(n, offset))
            }
            Tok::Var(name) => {
                self.at += 1;
                X::Var(VarRef {
                    name,
                    slot: Slot::Unbound,
                })
            }
            Tok::LParen => {
                self.at += 1;
                if self.eat(&Tok::RParen) {
                    X::Seq(Vec::new())
                } else {
                    let e = self.expr()?;
                    self.expect(&Tok::RParen, "')'")?;
                    e
                }
            }
            Tok::Dot => {
                self.at += 1;
                X::Context
            }
            Tok::Name(name)
                if self.peek_at(1) == Some(&Tok::LParen)
                    && !is_kind_name(&name)
                    && name != "if" =>
            {
                self.at += 2;
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        args.push(self.single()?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        self.expect(&Tok::Comma, "',' or ')' in the argument list")?;
                    }
                }
                X::Call(Box::new(Call {
                    name: QName::parse(&name),
                    fun: None,
                    args,
                    regex: None,
                    key: 0,
                }))
            }
            _ => return Ok(None),
        };
        Ok(Some(x))
    }

    /// A string literal, with `''` (or `""`) inside it standing for one quote: the
    /// lexer gives the halves as adjacent literals.
    fn literal_rest(&mut self, mut s: String, offset: usize) -> String {
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
    fn number(&mut self, n: f64, offset: usize) -> Atomic {
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

fn descendant_or_self() -> Step {
    Step::Axis(
        Axis::DescendantOrSelf,
        NodeTest::Kind(Kind::Node),
        Preds::default(),
    )
}
