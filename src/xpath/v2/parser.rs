//! The XPath 2.0 grammar (XPath 2.0 §3 and appendix A), by recursive descent over the
//! tokens of the engine's lexer, into the tree of `ast.rs`. Keywords (`for`, `if`,
//! `eq`, `instance of` …) are names whose meaning the position decides: an operator
//! after an operand, a name test or function otherwise. Literals, numbers, sequence
//! types and node tests are read by `terms.rs`.

use super::ast::{
    Arith, Call, Kind, NodeOp, NodeTest, Path, Pred, PredKind, Preds, SetOp, Slot, Step, VarRef, X,
};
use super::terms::without_comments;
use super::Atomic;
use crate::xpath::lexer::{lex, Tok};
use crate::xpath::{ArithOp, Axis, CmpOp, QName};

pub(super) type Parsed<T> = Result<T, String>;

pub(super) struct Parser<'s> {
    pub(super) toks: Vec<(Tok, usize)>,
    pub(super) at: usize,
    pub(super) src: &'s str,
}

/// Parses an XPath 2.0 expression (names unbound).
pub(super) fn parse(src: &str) -> Parsed<X> {
    let text = without_comments(src)?;
    let toks = lex(&text).map_err(|e| e.to_string())?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    check_nesting(&toks)?;
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

/// How deep brackets and signs may nest: the parser, the binder and the evaluator recurse
/// once per level, and an expression of a schema must not exhaust the stack.
const MAX_NESTING: usize = 200;

fn check_nesting(toks: &[(Tok, usize)]) -> Parsed<()> {
    let (mut depth, mut signs) = (0usize, 0usize);
    for (t, offset) in toks {
        match t {
            Tok::LParen | Tok::LBracket => depth += 1,
            Tok::RParen | Tok::RBracket => depth = depth.saturating_sub(1),
            _ => {}
        }
        signs = if matches!(t, Tok::Minus | Tok::Plus) {
            signs + 1
        } else {
            0
        };
        if depth > MAX_NESTING || signs > MAX_NESTING {
            return Err(format!(
                "the expression nests deeper than {MAX_NESTING} levels at offset {offset}"
            ));
        }
    }
    Ok(())
}

pub(super) fn is_kind_name(n: &str) -> bool {
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
    pub(super) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }

    pub(super) fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.at + k).map(|t| &t.0)
    }

    pub(super) fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.src.len(), |t| t.1)
    }

    pub(super) fn error<T>(&self, what: &str) -> Parsed<T> {
        match self.peek() {
            Some(t) => Err(format!(
                "expected {what} at offset {}, found {t:?}",
                self.offset()
            )),
            None => Err(format!("expected {what} at the end of the expression")),
        }
    }

    pub(super) fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, t: &Tok, what: &str) -> Parsed<()> {
        if self.eat(t) {
            Ok(())
        } else {
            self.error(what)
        }
    }

    pub(super) fn is_name(&self, k: usize, name: &str) -> bool {
        matches!(self.peek_at(k), Some(Tok::Name(n)) if n == name)
    }

    pub(super) fn eat_name(&mut self, name: &str) -> bool {
        if self.is_name(0, name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect_name(&mut self, name: &str) -> Parsed<()> {
        if self.eat_name(name) {
            Ok(())
        } else {
            self.error(&format!("'{name}'"))
        }
    }

    /// `Expr ::= ExprSingle ("," ExprSingle)*`
    pub(super) fn expr(&mut self) -> Parsed<X> {
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

    pub(super) fn single(&mut self) -> Parsed<X> {
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
}

fn descendant_or_self() -> Step {
    Step::Axis(
        Axis::DescendantOrSelf,
        NodeTest::Kind(Kind::Node),
        Preds::default(),
    )
}
