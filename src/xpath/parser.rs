//! The XPath 1.0 grammar (XPath 1.0 §3), by recursive descent over the tokens of
//! `lexer.rs`, into the tree of `ast.rs`. It accepts every expression of the
//! language, including what the evaluator leaves to libxml2 (the `following`,
//! `preceding` and `namespace` axes, processing-instruction tests, any function
//! name): which of those an expression uses is a question about the tree.

use super::ast::{ArithOp, Axis, Call, CmpOp, Expr, NameTest, Path, QName, Start, Step, Test, Var};
use super::error::SyntaxError;
use super::lexer::{lex, Tok};
use super::xpath2::construct_at;

/// A binary operator of the comparison and arithmetic levels.
#[derive(Clone, Copy)]
enum Binary {
    Cmp(CmpOp),
    Arith(ArithOp),
}

struct Parser<'s> {
    toks: Vec<(Tok, usize)>,
    at: usize,
    len: usize,
    src: &'s str,
}

type Parsed<T> = Result<T, SyntaxError>;

/// Parses an XPath 1.0 expression.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        at: 0,
        len: src.len(),
        src,
    };
    if p.toks.is_empty() {
        return Err(SyntaxError::new(0, "empty expression"));
    }
    let e = p.or()?;
    match p.toks.get(p.at) {
        None => Ok(e),
        Some((_, offset)) => Err(p.error_at(*offset, "unexpected text after the expression")),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.at + k).map(|t| &t.0)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.len, |t| t.1)
    }

    fn error_at(&self, offset: usize, message: &str) -> SyntaxError {
        if let Some(i) = self.toks.iter().position(|t| t.1 == offset) {
            if let Some(construct) = construct_at(&self.toks, i) {
                return SyntaxError::xpath2(offset, construct);
            }
        }
        let near: String = self.src[offset..].chars().take(20).collect();
        if near.is_empty() {
            SyntaxError::new(offset, format!("{message} at the end"))
        } else {
            SyntaxError::new(offset, format!("{message} at '{near}'"))
        }
    }

    fn error(&self, message: &str) -> SyntaxError {
        self.error_at(self.offset(), message)
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
            Err(self.error(&format!("expected {what}")))
        }
    }

    /// An operator name is only an operator after an operand (XPath 1.0 §3.7), which is
    /// where the binary-operator loops call this.
    fn eat_op_name(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Name(n)) if n == name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Parsed<Expr> {
        let mut e = self.and()?;
        while self.eat_op_name("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Parsed<Expr> {
        let mut e = self.equality()?;
        while self.eat_op_name("and") {
            e = Expr::And(Box::new(e), Box::new(self.equality()?));
        }
        Ok(e)
    }

    /// One level of left-associative binary operators: `operand (op operand)*`.
    fn binary(
        &mut self,
        operand: fn(&mut Self) -> Parsed<Expr>,
        operator: fn(&Tok) -> Option<Binary>,
    ) -> Parsed<Expr> {
        let mut e = operand(self)?;
        while let Some(op) = self.peek().and_then(operator) {
            self.at += 1;
            let right = Box::new(operand(self)?);
            e = match op {
                Binary::Cmp(op) => Expr::Cmp(op, Box::new(e), right),
                Binary::Arith(op) => Expr::Arith(op, Box::new(e), right),
            };
        }
        Ok(e)
    }

    fn equality(&mut self) -> Parsed<Expr> {
        self.binary(Self::relational, |t| match t {
            Tok::Eq => Some(Binary::Cmp(CmpOp::Eq)),
            Tok::Ne => Some(Binary::Cmp(CmpOp::Ne)),
            _ => None,
        })
    }

    fn relational(&mut self) -> Parsed<Expr> {
        self.binary(Self::additive, |t| match t {
            Tok::Lt => Some(Binary::Cmp(CmpOp::Lt)),
            Tok::Le => Some(Binary::Cmp(CmpOp::Le)),
            Tok::Gt => Some(Binary::Cmp(CmpOp::Gt)),
            Tok::Ge => Some(Binary::Cmp(CmpOp::Ge)),
            _ => None,
        })
    }

    fn additive(&mut self) -> Parsed<Expr> {
        self.binary(Self::multiplicative, |t| match t {
            Tok::Plus => Some(Binary::Arith(ArithOp::Add)),
            Tok::Minus => Some(Binary::Arith(ArithOp::Sub)),
            _ => None,
        })
    }

    fn multiplicative(&mut self) -> Parsed<Expr> {
        self.binary(Self::unary, |t| match t {
            Tok::Star => Some(Binary::Arith(ArithOp::Mul)),
            Tok::Name(n) if n == "div" => Some(Binary::Arith(ArithOp::Div)),
            Tok::Name(n) if n == "mod" => Some(Binary::Arith(ArithOp::Mod)),
            _ => None,
        })
    }

    fn unary(&mut self) -> Parsed<Expr> {
        if self.eat(&Tok::Minus) {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut e = self.path_expr()?;
        while self.eat(&Tok::Pipe) {
            e = Expr::Union(Box::new(e), Box::new(self.path_expr()?));
        }
        Ok(e)
    }

    fn path_expr(&mut self) -> Parsed<Expr> {
        let filter_start = match self.peek() {
            None => return Err(self.error("expected an expression")),
            Some(Tok::Var(_) | Tok::LParen | Tok::Literal(_) | Tok::Number(_)) => true,
            Some(Tok::Name(n)) => self.peek_at(1) == Some(&Tok::LParen) && !is_node_type(n),
            Some(_) => false,
        };
        if !filter_start {
            return self.location_path();
        }
        let primary = self.primary()?;
        let mut preds = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            preds.push(self.predicate()?);
        }
        let mut steps = Vec::new();
        if !self.relative_tail(&mut steps)? && preds.is_empty() {
            return Ok(primary);
        }
        Ok(Expr::Path(Box::new(Path {
            start: Start::Filter(primary, preds),
            steps,
        })))
    }

    /// `('/' | '//') RelativeLocationPath` after a filter expression; whether there was one.
    fn relative_tail(&mut self, steps: &mut Vec<Step>) -> Parsed<bool> {
        match self.peek() {
            Some(Tok::Slash) => {
                self.at += 1;
                self.relative(steps)?;
                Ok(true)
            }
            Some(Tok::DSlash) => {
                self.at += 1;
                steps.push(Step::descendant_or_self());
                self.relative(steps)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn primary(&mut self) -> Parsed<Expr> {
        let tok = self.peek().cloned();
        self.at += 1;
        match tok {
            Some(Tok::Var(name)) => Ok(Expr::Var(Var {
                name,
                slot: usize::MAX,
            })),
            Some(Tok::Literal(s)) => Ok(Expr::Str(s)),
            Some(Tok::Number(n)) => Ok(Expr::Num(n)),
            Some(Tok::LParen) => {
                let e = self.or()?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Some(Tok::Name(name)) => {
                self.at += 1; // '('
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        args.push(self.or()?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        self.expect(&Tok::Comma, "',' or ')' in the argument list")?;
                    }
                }
                Ok(Expr::Call(Box::new(Call {
                    name: QName::parse(&name),
                    func: None,
                    args,
                })))
            }
            _ => {
                self.at -= 1;
                Err(self.error("expected an expression"))
            }
        }
    }

    fn predicate(&mut self) -> Parsed<Expr> {
        self.at += 1; // '['
        let e = self.or()?;
        self.expect(&Tok::RBracket, "']'")?;
        Ok(e)
    }

    fn location_path(&mut self) -> Parsed<Expr> {
        let mut steps = Vec::new();
        let start = match self.peek() {
            Some(Tok::Slash) => {
                self.at += 1;
                if self.step_can_start() {
                    self.relative(&mut steps)?;
                }
                Start::Root
            }
            Some(Tok::DSlash) => {
                self.at += 1;
                steps.push(Step::descendant_or_self());
                self.relative(&mut steps)?;
                Start::Root
            }
            _ => {
                self.relative(&mut steps)?;
                Start::Context
            }
        };
        Ok(Expr::Path(Box::new(Path { start, steps })))
    }

    fn step_can_start(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Name(_) | Tok::Star | Tok::At | Tok::Dot | Tok::DotDot)
        )
    }

    fn relative(&mut self, steps: &mut Vec<Step>) -> Parsed<()> {
        loop {
            steps.push(self.step()?);
            match self.peek() {
                Some(Tok::Slash) => self.at += 1,
                Some(Tok::DSlash) => {
                    self.at += 1;
                    steps.push(Step::descendant_or_self());
                }
                _ => return Ok(()),
            }
        }
    }

    fn step(&mut self) -> Parsed<Step> {
        let abbreviated = |axis| Step {
            axis,
            test: Test::Node,
            preds: Vec::new(),
        };
        if self.eat(&Tok::Dot) {
            return Ok(abbreviated(Axis::Itself));
        }
        if self.eat(&Tok::DotDot) {
            return Ok(abbreviated(Axis::Parent));
        }
        let axis = if self.eat(&Tok::At) {
            Axis::Attribute
        } else if self.peek_at(1) == Some(&Tok::ColonColon) {
            let axis = match self.peek() {
                Some(Tok::Name(name)) => Axis::from_name(name),
                _ => None,
            };
            let Some(axis) = axis else {
                return Err(self.error("unknown axis"));
            };
            self.at += 2;
            axis
        } else {
            Axis::Child
        };
        let test = self.node_test()?;
        let mut preds = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            preds.push(self.predicate()?);
        }
        Ok(Step { axis, test, preds })
    }

    fn node_test(&mut self) -> Parsed<Test> {
        let test = match self.peek().cloned() {
            Some(Tok::Star) => {
                self.at += 1;
                Test::Any
            }
            Some(Tok::Name(name)) if self.peek_at(1) == Some(&Tok::LParen) => {
                self.at += 2;
                let test = match name.as_str() {
                    "node" => Test::Node,
                    "text" => Test::Text,
                    "comment" => Test::Comment,
                    "processing-instruction" => match self.peek().cloned() {
                        Some(Tok::Literal(target)) => {
                            self.at += 1;
                            Test::Pi(Some(target))
                        }
                        _ => Test::Pi(None),
                    },
                    _ => {
                        self.at -= 2;
                        return Err(self.error("expected a node test"));
                    }
                };
                self.expect(&Tok::RParen, "')'")?;
                test
            }
            Some(Tok::Name(name)) => {
                self.at += 1;
                let name = QName::parse(&name);
                if name.local == "*" {
                    Test::AnyIn(NameTest {
                        name,
                        uri: String::new(),
                    })
                } else {
                    Test::Name(NameTest {
                        name,
                        uri: String::new(),
                    })
                }
            }
            _ => return Err(self.error("expected a node test")),
        };
        Ok(test)
    }
}

fn is_node_type(name: &str) -> bool {
    matches!(name, "node" | "text" | "comment" | "processing-instruction")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_language_parses_and_round_trips() {
        for src in [
            "a/b[@c = 'x'][2]//d | /e",
            "count(//m:div[not(m:mptr)]) > 0 and $v or -1 div 2 mod 3",
            "following::x | preceding::y | namespace::* | processing-instruction('t')",
            "(//a)[last()]/@b",
            "key('k', @x)/../p:*",
            "/",
            "* * *",
            "self::node()[. != ''] and text() and comment()",
        ] {
            let e = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            let again = parse(&e.to_string()).unwrap();
            assert_eq!(e, again, "{src} -> {e}");
        }
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = parse("a[b").unwrap_err();
        assert_eq!(e.offset, 3, "{e}");
        let e = parse("a = = b").unwrap_err();
        assert_eq!(e.offset, 4, "{e}");
        assert!(parse("bogus::x").unwrap_err().to_string().contains("axis"));
        assert!(parse("").is_err());
        assert!(parse("f(a b)").is_err());
    }

    #[test]
    fn xpath_2_constructs_are_named() {
        for (src, construct) in [
            ("if (a) then b else c", "if … then … else"),
            ("for $x in a return $x", "for … return"),
            ("every $x in a satisfies $x", "some/every … satisfies"),
            ("count(1 to 3)", "range (to)"),
            ("(a, b)", "sequence constructor (a, b)"),
            ("a = ()", "empty sequence ()"),
            ("a except b", "except/intersect"),
            ("@x eq 'y'", "value comparison (eq, ne, lt, le, gt, ge)"),
            ("a is b", "node comparison (is)"),
            ("a << b", "node order comparison (<< or >>)"),
            ("@x castable as xs:date", "cast/castable/treat as"),
            (". instance of element()", "instance of"),
            ("a/replace(., 'x', 'y')", "function call as a path step"),
            ("//element()", "kind test"),
            ("a (: note :)", "comment (: … :)"),
        ] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.construct, Some(construct), "{src}: {e}");
        }
        assert_eq!(parse("a/to | b/eq").map(|_| ()), Ok(()));
    }
}
