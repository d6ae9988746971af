//! XPath 1.0 evaluated in Rust, for the expressions of a rule set that need nothing
//! beyond the common core: location paths on the child, attribute, self, parent,
//! ancestor, descendant and sibling axes with predicates, variables, comparisons,
//! arithmetic, the core string, number and boolean functions, and the engine's
//! extension functions (answered by the same [`Host`](super::functions::Host) libxml2
//! calls).
//!
//! A rule set evaluates thousands of small expressions per document, and libxml2's setup
//! of each evaluation costs more than the expression itself. Whatever this evaluator
//! does not cover is left to libxml2: an expression it cannot parse is compiled for
//! libxml2 only, and at run time [`Expr::eval`] answers `None` — "ask libxml2" — for a
//! value whose XPath 1.0 conversion it does not reproduce exactly (a fractional number
//! as a string, a string in scientific notation as a number), for an unbound variable,
//! and for any error, so that libxml2 reports it in its own words. The results are
//! those of libxml2; a test compares both on every expression of the bundled rules.

use super::expr::{EXTENSION_FUNCTIONS, FN_NS, XSLT_FUNCTIONS};
use super::simple::normalize_space;
use crate::xml::node::{NodeKind, NodeRef};
use crate::xml::xpath::Value;
use std::borrow::Cow;

/// What an expression needs from the validation run.
pub(crate) trait Env<'d> {
    /// The value bound to `$name`.
    fn var(&self, slot: usize) -> Option<&Value<'d>>;
    /// An extension function (`matches`, `key`, `current`, …).
    fn call(&self, name: &str, args: Vec<Value<'d>>) -> Result<Value<'d>, String>;
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Str(String),
    Num(f64),
    /// A variable: its name and its slot in the run's table (see [`Expr::resolve`]).
    Var(String, usize),
    Call(Func, Vec<Expr>),
    Path(Box<Path>),
    /// `@name` (or `attribute::ns:name`) of the context node: a path, evaluated
    /// without building node-sets.
    Attr(String, String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// A function: one of XPath 1.0's core library, or one the host answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Func {
    Last,
    Position,
    Count,
    LocalName,
    Name,
    String,
    Concat,
    StartsWith,
    Contains,
    SubstringBefore,
    SubstringAfter,
    Substring,
    StringLength,
    NormalizeSpace,
    Translate,
    Not,
    True,
    False,
    Boolean,
    Number,
    Sum,
    Floor,
    Ceiling,
    Host(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    start: Start,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Start {
    Context,
    Root,
    /// A filter expression: a primary expression and predicates.
    Filter(Expr, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
struct Step {
    axis: Axis,
    test: Test,
    preds: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Axis {
    Child,
    Attribute,
    Itself,
    Parent,
    Ancestor,
    AncestorOrSelf,
    Descendant,
    DescendantOrSelf,
    FollowingSibling,
    PrecedingSibling,
}

impl Axis {
    fn reverse(self) -> bool {
        matches!(
            self,
            Axis::Parent | Axis::Ancestor | Axis::AncestorOrSelf | Axis::PrecedingSibling
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// A name in a namespace ("" for none).
    Name(String, String),
    /// `*`
    Any,
    /// `p:*`
    AnyIn(String),
    Text,
    Node,
    Comment,
}

/// The evaluation context: node, position and size.
#[derive(Clone, Copy)]
struct Ctx<'d> {
    node: NodeRef<'d>,
    pos: usize,
    size: usize,
}

// ---------------------------------------------------------------------------------
// Parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Slash,
    DSlash,
    Pipe,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Star,
    Literal(String),
    Number(f64),
    Var(String),
    /// A name test, function name, axis name or operator name, as written.
    Name(String),
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || (c as u32) > 0x7f
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.'
}

fn lex(src: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let name_at = |i: &mut usize| -> String {
        let start = *i;
        while *i < chars.len() && is_name_char(chars[*i]) {
            *i += 1;
        }
        // QName or `p:*` (a single colon followed by a name start or `*`).
        if *i + 1 < chars.len()
            && chars[*i] == ':'
            && chars[*i + 1] != ':'
            && (is_name_start(chars[*i + 1]) || chars[*i + 1] == '*')
        {
            *i += 1;
            if chars[*i] == '*' {
                *i += 1;
            } else {
                while *i < chars.len() && is_name_char(chars[*i]) {
                    *i += 1;
                }
            }
        }
        chars[start..*i].iter().collect()
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let tok = match c {
            ' ' | '\t' | '\r' | '\n' => {
                i += 1;
                continue;
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '@' => Tok::At,
            ',' => Tok::Comma,
            '|' => Tok::Pipe,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '=' => Tok::Eq,
            '*' => Tok::Star,
            ':' if next == Some(':') => {
                i += 1;
                Tok::ColonColon
            }
            '/' if next == Some('/') => {
                i += 1;
                Tok::DSlash
            }
            '/' => Tok::Slash,
            '!' if next == Some('=') => {
                i += 1;
                Tok::Ne
            }
            '<' if next == Some('=') => {
                i += 1;
                Tok::Le
            }
            '<' => Tok::Lt,
            '>' if next == Some('=') => {
                i += 1;
                Tok::Ge
            }
            '>' => Tok::Gt,
            '\'' | '"' => {
                let end = chars[i + 1..].iter().position(|&x| x == c)? + i + 1;
                let text: String = chars[i + 1..end].iter().collect();
                i = end + 1;
                out.push(Tok::Literal(text));
                continue;
            }
            '.' if next == Some('.') => {
                i += 1;
                Tok::DotDot
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit()) => Tok::Dot,
            '0'..='9' | '.' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Tok::Number(text.parse().ok()?));
                continue;
            }
            '$' => {
                i += 1;
                if i >= chars.len() || !is_name_start(chars[i]) {
                    return None;
                }
                let name = name_at(&mut i);
                if name.ends_with('*') {
                    return None;
                }
                out.push(Tok::Var(name));
                continue;
            }
            c if is_name_start(c) => {
                let name = name_at(&mut i);
                out.push(Tok::Name(name));
                continue;
            }
            _ => return None,
        };
        out.push(tok);
        i += 1;
    }
    Some(out)
}

/// A binary operator of the comparison and arithmetic levels.
#[derive(Clone, Copy)]
enum Binary {
    Cmp(CmpOp),
    Arith(ArithOp),
}

struct Parser<'a, R: Fn(&str) -> Option<String>> {
    toks: Vec<Tok>,
    at: usize,
    ns: &'a R,
}

/// Parses `src`; `ns` resolves a prefix to its namespace. `None` when the expression
/// uses anything this evaluator leaves to libxml2 (or is not XPath at all).
pub(crate) fn parse(src: &str, ns: &impl Fn(&str) -> Option<String>) -> Option<Expr> {
    let toks = lex(src)?;
    let mut p = Parser { toks, at: 0, ns };
    let e = p.or()?;
    (p.at == p.toks.len()).then_some(e)
}

impl<R: Fn(&str) -> Option<String>> Parser<'_, R> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.at + k)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_op_name(&mut self, name: &str) -> bool {
        // An operator name is only an operator after an operand (XPath 1.0 §3.7), which
        // is where the binary-operator loops call this.
        if matches!(self.peek(), Some(Tok::Name(n)) if n == name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<Expr> {
        let mut e = self.and()?;
        while self.eat_op_name("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Some(e)
    }

    fn and(&mut self) -> Option<Expr> {
        let mut e = self.equality()?;
        while self.eat_op_name("and") {
            e = Expr::And(Box::new(e), Box::new(self.equality()?));
        }
        Some(e)
    }

    /// One level of left-associative binary operators: `operand (op operand)*`.
    fn binary(
        &mut self,
        operand: fn(&mut Self) -> Option<Expr>,
        operator: fn(&Tok) -> Option<Binary>,
    ) -> Option<Expr> {
        let mut e = operand(self)?;
        while let Some(op) = self.peek().and_then(operator) {
            self.at += 1;
            let right = Box::new(operand(self)?);
            e = match op {
                Binary::Cmp(op) => Expr::Cmp(op, Box::new(e), right),
                Binary::Arith(op) => Expr::Arith(op, Box::new(e), right),
            };
        }
        Some(e)
    }

    fn equality(&mut self) -> Option<Expr> {
        self.binary(Self::relational, |t| match t {
            Tok::Eq => Some(Binary::Cmp(CmpOp::Eq)),
            Tok::Ne => Some(Binary::Cmp(CmpOp::Ne)),
            _ => None,
        })
    }

    fn relational(&mut self) -> Option<Expr> {
        self.binary(Self::additive, |t| match t {
            Tok::Lt => Some(Binary::Cmp(CmpOp::Lt)),
            Tok::Le => Some(Binary::Cmp(CmpOp::Le)),
            Tok::Gt => Some(Binary::Cmp(CmpOp::Gt)),
            Tok::Ge => Some(Binary::Cmp(CmpOp::Ge)),
            _ => None,
        })
    }

    fn additive(&mut self) -> Option<Expr> {
        self.binary(Self::multiplicative, |t| match t {
            Tok::Plus => Some(Binary::Arith(ArithOp::Add)),
            Tok::Minus => Some(Binary::Arith(ArithOp::Sub)),
            _ => None,
        })
    }

    fn multiplicative(&mut self) -> Option<Expr> {
        self.binary(Self::unary, |t| match t {
            Tok::Star => Some(Binary::Arith(ArithOp::Mul)),
            Tok::Name(n) if n == "div" => Some(Binary::Arith(ArithOp::Div)),
            Tok::Name(n) if n == "mod" => Some(Binary::Arith(ArithOp::Mod)),
            _ => None,
        })
    }

    fn unary(&mut self) -> Option<Expr> {
        if self.eat(&Tok::Minus) {
            return Some(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut e = self.path_expr()?;
        while self.eat(&Tok::Pipe) {
            e = Expr::Union(Box::new(e), Box::new(self.path_expr()?));
        }
        Some(e)
    }

    fn path_expr(&mut self) -> Option<Expr> {
        let filter_start = match self.peek()? {
            Tok::Var(_) | Tok::LParen | Tok::Literal(_) | Tok::Number(_) => true,
            Tok::Name(n) => {
                self.peek_at(1) == Some(&Tok::LParen)
                    && !matches!(
                        n.as_str(),
                        "node" | "text" | "comment" | "processing-instruction"
                    )
            }
            _ => false,
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
            return Some(primary);
        }
        Some(Expr::Path(Box::new(Path {
            start: Start::Filter(primary, preds),
            steps,
        })))
    }

    /// `('/' | '//') RelativeLocationPath` after a filter expression; whether there was one.
    fn relative_tail(&mut self, steps: &mut Vec<Step>) -> Option<bool> {
        match self.peek() {
            Some(Tok::Slash) => {
                self.at += 1;
                self.relative(steps)?;
                Some(true)
            }
            Some(Tok::DSlash) => {
                self.at += 1;
                steps.push(descendant_or_self());
                self.relative(steps)?;
                Some(true)
            }
            _ => Some(false),
        }
    }

    fn primary(&mut self) -> Option<Expr> {
        match self.peek()?.clone() {
            Tok::Var(name) => {
                self.at += 1;
                Some(Expr::Var(name, usize::MAX))
            }
            Tok::Literal(s) => {
                self.at += 1;
                Some(Expr::Str(s))
            }
            Tok::Number(n) => {
                self.at += 1;
                Some(Expr::Num(n))
            }
            Tok::LParen => {
                self.at += 1;
                let e = self.or()?;
                self.eat(&Tok::RParen).then_some(e)
            }
            Tok::Name(name) => {
                self.at += 2; // name and '('
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        args.push(self.or()?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        if !self.eat(&Tok::Comma) {
                            return None;
                        }
                    }
                }
                let func = self.function(&name, args.len())?;
                Some(Expr::Call(func, args))
            }
            _ => None,
        }
    }

    fn function(&self, name: &str, n: usize) -> Option<Func> {
        let (prefix, local) = match name.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, name),
        };
        if let Some(p) = prefix {
            let uri = (self.ns)(p)?;
            return (uri == FN_NS && EXTENSION_FUNCTIONS.contains(&local))
                .then(|| Func::Host(local.to_string()));
        }
        let arity = |min: usize, max: usize| (min..=max).contains(&n);
        let f = match local {
            "last" if arity(0, 0) => Func::Last,
            "position" if arity(0, 0) => Func::Position,
            "count" if arity(1, 1) => Func::Count,
            "local-name" if arity(0, 1) => Func::LocalName,
            "name" if arity(0, 1) => Func::Name,
            "string" if arity(0, 1) => Func::String,
            "concat" if n >= 2 => Func::Concat,
            "starts-with" if arity(2, 2) => Func::StartsWith,
            "contains" if arity(2, 2) => Func::Contains,
            "substring-before" if arity(2, 2) => Func::SubstringBefore,
            "substring-after" if arity(2, 2) => Func::SubstringAfter,
            "substring" if arity(2, 3) => Func::Substring,
            "string-length" if arity(0, 1) => Func::StringLength,
            "normalize-space" if arity(0, 1) => Func::NormalizeSpace,
            "translate" if arity(3, 3) => Func::Translate,
            "not" if arity(1, 1) => Func::Not,
            "true" if arity(0, 0) => Func::True,
            "false" if arity(0, 0) => Func::False,
            "boolean" if arity(1, 1) => Func::Boolean,
            "number" if arity(0, 1) => Func::Number,
            "sum" if arity(1, 1) => Func::Sum,
            "floor" if arity(1, 1) => Func::Floor,
            "ceiling" if arity(1, 1) => Func::Ceiling,
            l if EXTENSION_FUNCTIONS.contains(&l) || XSLT_FUNCTIONS.contains(&l) => {
                Func::Host(l.to_string())
            }
            _ => return None,
        };
        Some(f)
    }

    fn predicate(&mut self) -> Option<Expr> {
        self.at += 1; // '['
        let e = self.or()?;
        self.eat(&Tok::RBracket).then_some(e)
    }

    fn location_path(&mut self) -> Option<Expr> {
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
                steps.push(descendant_or_self());
                self.relative(&mut steps)?;
                Start::Root
            }
            _ => {
                self.relative(&mut steps)?;
                Start::Context
            }
        };
        Some(Expr::Path(Box::new(Path { start, steps })))
    }

    fn step_can_start(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Name(_) | Tok::Star | Tok::At | Tok::Dot | Tok::DotDot)
        )
    }

    fn relative(&mut self, steps: &mut Vec<Step>) -> Option<()> {
        loop {
            steps.push(self.step()?);
            match self.peek() {
                Some(Tok::Slash) => self.at += 1,
                Some(Tok::DSlash) => {
                    self.at += 1;
                    steps.push(descendant_or_self());
                }
                _ => return Some(()),
            }
        }
    }

    fn step(&mut self) -> Option<Step> {
        if self.eat(&Tok::Dot) {
            return Some(Step {
                axis: Axis::Itself,
                test: Test::Node,
                preds: Vec::new(),
            });
        }
        if self.eat(&Tok::DotDot) {
            return Some(Step {
                axis: Axis::Parent,
                test: Test::Node,
                preds: Vec::new(),
            });
        }
        let axis = if self.eat(&Tok::At) {
            Axis::Attribute
        } else if self.peek_at(1) == Some(&Tok::ColonColon) {
            let Some(Tok::Name(name)) = self.peek() else {
                return None;
            };
            let axis = match name.as_str() {
                "child" => Axis::Child,
                "attribute" => Axis::Attribute,
                "self" => Axis::Itself,
                "parent" => Axis::Parent,
                "ancestor" => Axis::Ancestor,
                "ancestor-or-self" => Axis::AncestorOrSelf,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                "following-sibling" => Axis::FollowingSibling,
                "preceding-sibling" => Axis::PrecedingSibling,
                _ => return None,
            };
            self.at += 2;
            axis
        } else {
            Axis::Child
        };
        let test = match self.peek()?.clone() {
            Tok::Star => {
                self.at += 1;
                Test::Any
            }
            Tok::Name(name) if self.peek_at(1) == Some(&Tok::LParen) => {
                let test = match name.as_str() {
                    "node" => Test::Node,
                    "text" => Test::Text,
                    "comment" => Test::Comment,
                    _ => return None,
                };
                self.at += 1;
                self.eat(&Tok::LParen);
                if !self.eat(&Tok::RParen) {
                    return None;
                }
                test
            }
            Tok::Name(name) => {
                self.at += 1;
                match name.split_once(':') {
                    Some((p, "*")) => Test::AnyIn((self.ns)(p)?),
                    Some((p, l)) => Test::Name((self.ns)(p)?, l.to_string()),
                    None => Test::Name(String::new(), name),
                }
            }
            _ => return None,
        };
        let mut preds = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            preds.push(self.predicate()?);
        }
        Some(Step { axis, test, preds })
    }
}

fn descendant_or_self() -> Step {
    Step {
        axis: Axis::DescendantOrSelf,
        test: Test::Node,
        preds: Vec::new(),
    }
}

impl Expr {
    /// The variables the expression reads.
    pub(crate) fn variables(&self, out: &mut Vec<(String, usize)>) {
        let mut visit = |e: &Expr| e.variables(out);
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => {
                visit(a);
                visit(b);
            }
            Expr::Neg(a) => visit(a),
            Expr::Str(_) | Expr::Num(_) | Expr::Attr(..) => {}
            Expr::Var(name, slot) => {
                if !out.iter().any(|(n, _)| n == name) {
                    out.push((name.clone(), *slot))
                }
            }
            Expr::Call(_, args) => args.iter().for_each(visit),
            Expr::Path(path) => {
                if let Start::Filter(e, preds) = &path.start {
                    visit(e);
                    preds.iter().for_each(&mut visit);
                }
                for step in &path.steps {
                    step.preds.iter().for_each(&mut visit);
                }
            }
        }
    }

    /// Gives every variable its slot; `false` if one is not declared (libxml2 then
    /// reports it).
    pub(crate) fn resolve(&mut self, slot_of: &impl Fn(&str) -> Option<usize>) -> bool {
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => a.resolve(slot_of) && b.resolve(slot_of),
            Expr::Neg(a) => a.resolve(slot_of),
            Expr::Str(_) | Expr::Num(_) | Expr::Attr(..) => true,
            Expr::Var(name, slot) => match slot_of(name) {
                Some(s) => {
                    *slot = s;
                    true
                }
                None => false,
            },
            Expr::Call(_, args) => args.iter_mut().all(|a| a.resolve(slot_of)),
            Expr::Path(path) => {
                let start = match &mut path.start {
                    Start::Filter(e, preds) => {
                        e.resolve(slot_of) && preds.iter_mut().all(|p| p.resolve(slot_of))
                    }
                    _ => true,
                };
                start
                    && path
                        .steps
                        .iter_mut()
                        .all(|s| s.preds.iter_mut().all(|p| p.resolve(slot_of)))
            }
        }
    }

    /// Optimises `//name` (descendant-or-self::node()/child::name) into one descendant
    /// step where the predicates cannot depend on the position.
    pub(crate) fn optimised(mut self) -> Expr {
        self.optimise();
        self
    }

    fn optimise(&mut self) {
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => {
                a.optimise();
                b.optimise();
            }
            Expr::Neg(a) => a.optimise(),
            Expr::Str(_) | Expr::Num(_) | Expr::Var(..) | Expr::Attr(..) => {}
            Expr::Call(_, args) => args.iter_mut().for_each(Expr::optimise),
            Expr::Path(path) => {
                if let Start::Filter(e, preds) = &mut path.start {
                    e.optimise();
                    preds.iter_mut().for_each(Expr::optimise);
                }
                for step in &mut path.steps {
                    step.preds.iter_mut().for_each(Expr::optimise);
                }
                if let Some(attr) = path.single_attribute() {
                    *self = attr;
                    return;
                }
                let mut i = 0;
                while i + 1 < path.steps.len() {
                    let fusable = path.steps[i] == descendant_or_self()
                        && path.steps[i + 1].axis == Axis::Child
                        && path.steps[i + 1].preds.iter().all(Expr::positionless);
                    if fusable {
                        path.steps.remove(i);
                        path.steps[i].axis = Axis::Descendant;
                    }
                    i += 1;
                }
            }
        }
    }

    /// Whether the expression, as a predicate, is a plain truth test: it can never be a
    /// number and never asks for the position or size.
    fn positionless(&self) -> bool {
        self.boolean_typed() && !self.uses_position()
    }

    fn boolean_typed(&self) -> bool {
        match self {
            Expr::Or(..) | Expr::And(..) | Expr::Cmp(..) | Expr::Path(_) | Expr::Union(..) => true,
            Expr::Str(_) => true,
            Expr::Call(f, _) => matches!(
                f,
                Func::Not
                    | Func::True
                    | Func::False
                    | Func::Boolean
                    | Func::StartsWith
                    | Func::Contains
                    | Func::String
                    | Func::NormalizeSpace
                    | Func::Concat
            ),
            _ => false,
        }
    }

    fn uses_position(&self) -> bool {
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => a.uses_position() || b.uses_position(),
            Expr::Neg(a) => a.uses_position(),
            Expr::Str(_) | Expr::Num(_) | Expr::Var(..) | Expr::Attr(..) => false,
            Expr::Call(f, args) => {
                matches!(f, Func::Last | Func::Position) || args.iter().any(Expr::uses_position)
            }
            // A path's own predicates have their own context.
            Expr::Path(path) => match &path.start {
                Start::Filter(e, _) => e.uses_position(),
                _ => false,
            },
        }
    }
}

// ---------------------------------------------------------------------------------
// Evaluation

/// XML white space, as `normalize-space` knows it.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// XPath `number()` of a string, where libxml2's result is certain: an optional minus
/// and up to 15 digits (with white space around). `None` for a fraction or exponent.
fn string_to_number(s: &str) -> Option<f64> {
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

fn to_number(v: &Value<'_>) -> Option<f64> {
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
fn compare(op: CmpOp, a: &Value<'_>, b: &Value<'_>) -> Option<bool> {
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

fn sort_unique(nodes: &mut Vec<NodeRef<'_>>) {
    nodes.sort_by(|a, b| a.document_order(b));
    nodes.dedup();
}

fn test_matches(test: &Test, axis: Axis, node: NodeRef<'_>) -> bool {
    let principal = if axis == Axis::Attribute {
        NodeKind::Attribute
    } else {
        NodeKind::Element
    };
    match test {
        Test::Node => true,
        Test::Text => node.kind() == NodeKind::Text,
        Test::Comment => node.kind() == NodeKind::Comment,
        Test::Any => node.kind() == principal,
        Test::AnyIn(ns) => node.kind() == principal && node.namespace_uri_is(ns),
        Test::Name(ns, local) => {
            node.kind() == principal && node.local_name_is(local) && node.namespace_uri_is(ns)
        }
    }
}

/// The nodes on `axis` from `node` that pass `test`, in axis order.
fn axis_nodes<'d>(axis: Axis, test: &Test, node: NodeRef<'d>, out: &mut Vec<NodeRef<'d>>) {
    axis_visit(axis, test, node, &mut |n| {
        out.push(n);
        true
    });
}

/// Calls `visit` with the nodes on `axis` from `node` that pass `test`, in axis order,
/// until it returns `false`; returns whether it went to the end.
fn axis_visit<'d>(
    axis: Axis,
    test: &Test,
    node: NodeRef<'d>,
    visit: &mut dyn FnMut(NodeRef<'d>) -> bool,
) -> bool {
    let mut each = |nodes: &mut dyn Iterator<Item = NodeRef<'d>>| {
        for n in nodes {
            if test_matches(test, axis, n) && !visit(n) {
                return false;
            }
        }
        true
    };
    match axis {
        Axis::Child => each(&mut node.children()),
        Axis::Attribute => each(&mut node.attributes()),
        Axis::Itself => each(&mut std::iter::once(node)),
        Axis::Parent => each(&mut node.parent().into_iter()),
        Axis::Ancestor => each(&mut std::iter::successors(node.parent(), NodeRef::parent)),
        Axis::AncestorOrSelf => each(&mut std::iter::successors(Some(node), NodeRef::parent)),
        Axis::Descendant => each(&mut Descendants::new(node)),
        Axis::DescendantOrSelf => each(&mut std::iter::once(node).chain(Descendants::new(node))),
        Axis::FollowingSibling | Axis::PrecedingSibling if node.kind() == NodeKind::Attribute => {
            true
        }
        Axis::FollowingSibling => each(&mut std::iter::successors(
            node.next_sibling(),
            NodeRef::next_sibling,
        )),
        Axis::PrecedingSibling => each(&mut std::iter::successors(
            node.prev_sibling(),
            NodeRef::prev_sibling,
        )),
    }
}

/// The descendants of a node in document order (pre-order, without recursion).
struct Descendants<'d> {
    top: NodeRef<'d>,
    next: Option<NodeRef<'d>>,
}

impl<'d> Descendants<'d> {
    fn new(top: NodeRef<'d>) -> Self {
        Descendants {
            top,
            next: top.first_child(),
        }
    }
}

impl<'d> Iterator for Descendants<'d> {
    type Item = NodeRef<'d>;

    fn next(&mut self) -> Option<NodeRef<'d>> {
        let n = self.next?;
        // Down to the first child, else to the next sibling of the nearest node that has
        // one, stopping at the top.
        self.next = n.first_child().or_else(|| {
            let mut up = Some(n);
            while let Some(u) = up.filter(|u| *u != self.top) {
                if let Some(next) = u.next_sibling() {
                    return Some(next);
                }
                up = u.parent();
            }
            None
        });
        Some(n)
    }
}

impl Expr {
    /// The value of the expression at `node`, or `None` to leave it to libxml2.
    pub(crate) fn eval<'d>(&self, env: &dyn Env<'d>, node: NodeRef<'d>) -> Option<Value<'d>> {
        self.value(
            env,
            Ctx {
                node,
                pos: 1,
                size: 1,
            },
        )
    }

    /// The effective boolean value at `node`.
    pub(crate) fn truth<'d>(&self, env: &dyn Env<'d>, node: NodeRef<'d>) -> Option<bool> {
        self.boolean(
            env,
            Ctx {
                node,
                pos: 1,
                size: 1,
            },
        )
    }

    fn boolean<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<bool> {
        match self {
            Expr::Or(a, b) => Some(a.boolean(env, ctx)? || b.boolean(env, ctx)?),
            Expr::And(a, b) => Some(a.boolean(env, ctx)? && b.boolean(env, ctx)?),
            Expr::Cmp(op, a, b) => self.comparison(*op, a, b, env, ctx),
            Expr::Path(path) => path.exists(env, ctx),
            Expr::Attr(ns, local) => Some(attribute(ctx.node, ns, local).is_some()),
            _ => Some(to_bool(&self.value(env, ctx)?)),
        }
    }

    fn comparison<'d>(
        &self,
        op: CmpOp,
        a: &Expr,
        b: &Expr,
        env: &dyn Env<'d>,
        ctx: Ctx<'d>,
    ) -> Option<bool> {
        // The common `@x = 'literal'` and `$v != ''` without building values.
        if let (CmpOp::Eq | CmpOp::Ne, Expr::Str(lit)) = (op, b) {
            let equal = match a {
                // An absent attribute is an empty node-set: no comparison is true.
                Expr::Attr(ns, local) => match attribute(ctx.node, ns, local) {
                    Some(n) => node_string(&n) == lit.as_str(),
                    None => return Some(false),
                },
                _ => match a.borrowed_string(env) {
                    Some(s) => s.as_ref() == lit,
                    None => return compare(op, &a.value(env, ctx)?, &b.value(env, ctx)?),
                },
            };
            return Some(equal == (op == CmpOp::Eq));
        }
        compare(op, &a.value(env, ctx)?, &b.value(env, ctx)?)
    }

    /// The string of a variable or literal holding a string, without copying it.
    fn borrowed_string<'e, 'd: 'e>(&'e self, env: &'e dyn Env<'d>) -> Option<Cow<'e, str>> {
        match self {
            Expr::Str(s) => Some(Cow::Borrowed(s)),
            Expr::Var(_, slot) => match env.var(*slot)? {
                Value::Str(s) => Some(Cow::Borrowed(s)),
                _ => None,
            },
            _ => None,
        }
    }

    fn string<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<String> {
        to_string(self.value(env, ctx)?)
    }

    fn number<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<f64> {
        to_number(&self.value(env, ctx)?)
    }

    fn nodes<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Vec<NodeRef<'d>>> {
        match self.value(env, ctx)? {
            Value::Nodes(n) => Some(n),
            _ => None,
        }
    }

    fn value<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Value<'d>> {
        Some(match self {
            Expr::Or(..) | Expr::And(..) | Expr::Cmp(..) => Value::Bool(self.boolean(env, ctx)?),
            Expr::Arith(op, a, b) => {
                let (x, y) = (a.number(env, ctx)?, b.number(env, ctx)?);
                Value::Num(match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                    ArithOp::Mod => x % y,
                })
            }
            Expr::Neg(a) => Value::Num(-a.number(env, ctx)?),
            Expr::Union(a, b) => {
                let mut nodes = a.nodes(env, ctx)?;
                nodes.extend(b.nodes(env, ctx)?);
                sort_unique(&mut nodes);
                Value::Nodes(nodes)
            }
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Num(n) => Value::Num(*n),
            Expr::Var(_, slot) => env.var(*slot)?.clone(),
            Expr::Call(f, args) => call(f, args, env, ctx)?,
            Expr::Path(path) => Value::Nodes(path.select(env, ctx)?),
            Expr::Attr(ns, local) => {
                Value::Nodes(attribute(ctx.node, ns, local).into_iter().collect())
            }
        })
    }
}

fn call<'d>(f: &Func, args: &[Expr], env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Value<'d>> {
    let string_arg = |i: usize| -> Option<Cow<'_, str>> {
        match args.get(i) {
            Some(e) => borrowed_or_owned(e, env, ctx),
            None => Some(node_string(&ctx.node)),
        }
    };
    let first_node = |i: usize| -> Option<Option<NodeRef<'d>>> {
        match args.get(i) {
            Some(e) => Some(e.nodes(env, ctx)?.first().copied()),
            None => Some(Some(ctx.node)),
        }
    };
    Some(match f {
        Func::Last => Value::Num(ctx.size as f64),
        Func::Position => Value::Num(ctx.pos as f64),
        Func::Count => Value::Num(args[0].nodes(env, ctx)?.len() as f64),
        Func::LocalName => Value::Str(
            first_node(0)?
                .filter(|n| matches!(n.kind(), NodeKind::Element | NodeKind::Attribute))
                .map(|n| n.local_name().to_string())
                .unwrap_or_default(),
        ),
        Func::Name => Value::Str(
            first_node(0)?
                .filter(|n| matches!(n.kind(), NodeKind::Element | NodeKind::Attribute))
                .map(|n| n.name())
                .unwrap_or_default(),
        ),
        Func::String => Value::Str(string_arg(0)?.into_owned()),
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                match a.borrowed_string(env) {
                    Some(s) => out.push_str(&s),
                    None => out.push_str(&a.string(env, ctx)?),
                }
            }
            Value::Str(out)
        }
        Func::StartsWith | Func::Contains | Func::SubstringBefore | Func::SubstringAfter => {
            let hay = borrowed_or_owned(&args[0], env, ctx)?;
            let needle = borrowed_or_owned(&args[1], env, ctx)?;
            match f {
                Func::StartsWith => Value::Bool(hay.starts_with(needle.as_ref())),
                Func::Contains => Value::Bool(hay.contains(needle.as_ref())),
                Func::SubstringBefore => Value::Str(
                    hay.find(needle.as_ref())
                        .map(|i| hay[..i].to_string())
                        .unwrap_or_default(),
                ),
                _ => Value::Str(
                    hay.find(needle.as_ref())
                        .map(|i| hay[i + needle.len()..].to_string())
                        .unwrap_or_default(),
                ),
            }
        }
        Func::Substring => {
            let s = string_arg(0)?;
            let start = args[1].number(env, ctx)?;
            let len = match args.get(2) {
                Some(e) => Some(e.number(env, ctx)?),
                None => None,
            };
            if !start.is_finite() || len.is_some_and(|l| !l.is_finite()) {
                return None;
            }
            let round = |x: f64| (x + 0.5).floor();
            let from = round(start);
            let to = len.map(|l| from + round(l));
            Value::Str(
                s.chars()
                    .enumerate()
                    .filter(|(i, _)| {
                        let p = (*i + 1) as f64;
                        p >= from && to.is_none_or(|t| p < t)
                    })
                    .map(|(_, c)| c)
                    .collect(),
            )
        }
        Func::StringLength => Value::Num(string_arg(0)?.chars().count() as f64),
        Func::NormalizeSpace => Value::Str(normalize_space(&string_arg(0)?)),
        Func::Translate => {
            let s = string_arg(0)?;
            let from: Vec<char> = string_arg(1)?.chars().collect();
            let to: Vec<char> = string_arg(2)?.chars().collect();
            Value::Str(
                s.chars()
                    .filter_map(|c| match from.iter().position(|&f| f == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect(),
            )
        }
        Func::Not => Value::Bool(!args[0].boolean(env, ctx)?),
        Func::True => Value::Bool(true),
        Func::False => Value::Bool(false),
        Func::Boolean => Value::Bool(args[0].boolean(env, ctx)?),
        Func::Number => match args.first() {
            Some(e) => Value::Num(e.number(env, ctx)?),
            None => Value::Num(string_to_number(&ctx.node.string_value())?),
        },
        Func::Sum => {
            let mut total = 0.0;
            for n in args[0].nodes(env, ctx)? {
                total += string_to_number(&node_string(&n))?;
            }
            Value::Num(total)
        }
        Func::Floor => Value::Num(args[0].number(env, ctx)?.floor()),
        Func::Ceiling => Value::Num(args[0].number(env, ctx)?.ceil()),
        Func::Host(name) => {
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(a.value(env, ctx)?);
            }
            env.call(name, values).ok()?
        }
    })
}

/// `string()` of an expression, borrowed where it is a literal, a string variable or
/// an attribute stored in one piece.
fn borrowed_or_owned<'e, 'd: 'e>(
    e: &'e Expr,
    env: &'e dyn Env<'d>,
    ctx: Ctx<'d>,
) -> Option<Cow<'e, str>> {
    if let Expr::Attr(ns, local) = e {
        return Some(match attribute(ctx.node, ns, local) {
            Some(n) => node_string(&n),
            None => Cow::Borrowed(""),
        });
    }
    match e.borrowed_string(env) {
        Some(s) => Some(s),
        None => Some(Cow::Owned(e.string(env, ctx)?)),
    }
}

/// The attribute `local` in namespace `ns` of `node`.
fn attribute<'d>(node: NodeRef<'d>, ns: &str, local: &str) -> Option<NodeRef<'d>> {
    node.attributes()
        .find(|a| a.local_name_is(local) && a.namespace_uri_is(ns))
}

impl Path {
    /// `@name` of the context node, as [`Expr::Attr`].
    fn single_attribute(&self) -> Option<Expr> {
        match (&self.start, self.steps.as_slice()) {
            (
                Start::Context,
                [Step {
                    axis: Axis::Attribute,
                    test: Test::Name(ns, local),
                    preds,
                }],
            ) if preds.is_empty() => Some(Expr::Attr(ns.clone(), local.clone())),
            _ => None,
        }
    }

    fn select<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Vec<NodeRef<'d>>> {
        let nodes = self.start_nodes(env, ctx)?;
        steps(nodes, &self.steps, env)
    }

    /// Whether the path selects any node, stopping at the first one found where the last
    /// step's predicates allow it.
    fn exists<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<bool> {
        let Some((last, before)) = self.steps.split_last() else {
            return Some(!self.start_nodes(env, ctx)?.is_empty());
        };
        if !last.preds.iter().all(Expr::positionless) {
            return Some(!self.select(env, ctx)?.is_empty());
        }
        let nodes = steps(self.start_nodes(env, ctx)?, before, env)?;
        let mut failed = false;
        for n in nodes {
            let finished = axis_visit(last.axis, &last.test, n, &mut |c| {
                let ctx = Ctx {
                    node: c,
                    pos: 1,
                    size: 1,
                };
                for p in &last.preds {
                    match p.boolean(env, ctx) {
                        Some(true) => {}
                        Some(false) => return true,
                        None => {
                            failed = true;
                            return false;
                        }
                    }
                }
                false
            });
            if failed {
                return None;
            }
            if !finished {
                return Some(true);
            }
        }
        Some(false)
    }

    fn start_nodes<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Vec<NodeRef<'d>>> {
        Some(match &self.start {
            Start::Context => vec![ctx.node],
            Start::Root => {
                let root = std::iter::successors(Some(ctx.node), NodeRef::parent)
                    .last()
                    .filter(|n| n.kind() == NodeKind::Document)?;
                vec![root]
            }
            Start::Filter(e, preds) => {
                let mut nodes = e.nodes(env, ctx)?;
                for p in preds {
                    nodes = filter(nodes, p, env)?;
                }
                nodes
            }
        })
    }
}

/// Applies location steps to a node-set in document order.
fn steps<'d>(
    mut nodes: Vec<NodeRef<'d>>,
    steps: &[Step],
    env: &dyn Env<'d>,
) -> Option<Vec<NodeRef<'d>>> {
    for step in steps {
        let mut out = Vec::new();
        for &n in &nodes {
            if let Some(k) = step.nth() {
                out.extend(step.nth_node(k, n, env)?);
                continue;
            }
            let mut found = Vec::new();
            axis_nodes(step.axis, &step.test, n, &mut found);
            for p in &step.preds {
                found = filter(found, p, env)?;
            }
            if step.axis.reverse() {
                found.reverse();
            }
            out.extend(found);
        }
        if nodes.len() > 1 {
            sort_unique(&mut out);
        }
        nodes = out;
    }
    Some(nodes)
}

impl Step {
    /// `k` when the last predicate is the literal position `k` and the others are plain
    /// truth tests (`preceding-sibling::div[@TYPE='page'][1]`): the step then stops at
    /// the k-th node instead of collecting the whole axis.
    fn nth(&self) -> Option<usize> {
        let (last, others) = self.preds.split_last()?;
        match last {
            Expr::Num(k)
                if *k >= 1.0 && k.fract() == 0.0 && others.iter().all(Expr::positionless) =>
            {
                Some(*k as usize)
            }
            _ => None,
        }
    }

    fn nth_node<'d>(
        &self,
        k: usize,
        node: NodeRef<'d>,
        env: &dyn Env<'d>,
    ) -> Option<Option<NodeRef<'d>>> {
        let truth_tests = &self.preds[..self.preds.len() - 1];
        let mut seen = 0;
        let mut found = None;
        let mut failed = false;
        axis_visit(self.axis, &self.test, node, &mut |c| {
            let ctx = Ctx {
                node: c,
                pos: 1,
                size: 1,
            };
            for p in truth_tests {
                match p.boolean(env, ctx) {
                    Some(true) => {}
                    Some(false) => return true,
                    None => {
                        failed = true;
                        return false;
                    }
                }
            }
            seen += 1;
            if seen == k {
                found = Some(c);
                return false;
            }
            true
        });
        (!failed).then_some(found)
    }
}

/// Applies a predicate to nodes in the order of their axis (positions count from 1).
fn filter<'d>(nodes: Vec<NodeRef<'d>>, pred: &Expr, env: &dyn Env<'d>) -> Option<Vec<NodeRef<'d>>> {
    let size = nodes.len();
    let mut out = Vec::with_capacity(size);
    for (i, node) in nodes.into_iter().enumerate() {
        let ctx = Ctx {
            node,
            pos: i + 1,
            size,
        };
        let keep = match pred {
            Expr::Num(n) => *n == (i + 1) as f64,
            p if p.boolean_typed() => p.boolean(env, ctx)?,
            p => match p.value(env, ctx)? {
                Value::Num(n) => n == (i + 1) as f64,
                v => to_bool(&v),
            },
        };
        if keep {
            out.push(node);
        }
    }
    Some(out)
}
