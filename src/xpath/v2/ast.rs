//! The syntax tree of an XPath 2.0 expression. The parser fills in names as written;
//! binding (`bind.rs`) resolves prefixes to namespace URIs, function names to
//! [`Fun`]ctions, variables to host slots or local ranges and key names to indices,
//! after which the evaluator runs the tree.

use super::Atomic;
use crate::xpath::{ArithOp, Axis, CmpOp, NameTest, QName};
use regex::Regex;

/// An expression.
#[derive(Debug, Clone)]
pub(super) enum X {
    /// `(a, b, …)`; `()` when empty.
    Seq(Vec<X>),
    /// A string or numeric literal.
    Lit(Atomic),
    /// `$name`.
    Var(VarRef),
    /// `.`
    Context,
    /// A path: `/`, `//`, `a/b`, `E/f()` …
    Path(Box<Path>),
    /// A primary expression with predicates: `$v[1]`, `(a, b)[. = 'x']`.
    Filter(Box<X>, Preds),
    /// `a or b`
    Or(Box<X>, Box<X>),
    /// `a and b`
    And(Box<X>, Box<X>),
    /// A general comparison (`=`, `!=`, `<` …): existential over both sequences.
    General(CmpOp, Box<X>, Box<X>),
    /// A value comparison (`eq`, `ne`, `lt` …) of single items.
    Value(CmpOp, Box<X>, Box<X>),
    /// `is`, `<<`, `>>`.
    NodeCmp(NodeOp, Box<X>, Box<X>),
    /// `+ - * div idiv mod`.
    Arith(Arith, Box<X>, Box<X>),
    /// Unary minus (`true`) or plus (`false`).
    Unary(bool, Box<X>),
    /// `a to b`
    Range(Box<X>, Box<X>),
    /// `|`/`union`, `intersect`, `except`.
    Set(SetOp, Box<X>, Box<X>),
    /// `if (c) then a else b`
    If(Box<X>, Box<X>, Box<X>),
    /// `for $v in seq return body` (one binding; several are nested).
    For(VarRef, Box<X>, Box<X>),
    /// `some`/`every` (`true` for every) `$v in seq satisfies test`.
    Quantified(bool, VarRef, Box<X>, Box<X>),
    /// `e instance of T`
    InstanceOf(Box<X>, SeqType),
    /// `e cast as T?` (the flag: `?`, an empty operand allowed).
    Cast(Box<X>, AtomType, bool),
    /// `e castable as T?`
    Castable(Box<X>, AtomType, bool),
    /// A function call.
    Call(Box<Call>),
}

/// Arithmetic operators: XPath 1.0's and `idiv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arith {
    /// `+ - * div mod`
    Basic(ArithOp),
    /// `idiv`
    IDiv,
}

/// Node comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeOp {
    /// `is`
    Is,
    /// `<<`
    Precedes,
    /// `>>`
    Follows,
}

/// Operators on node sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SetOp {
    /// `|` or `union`
    Union,
    /// `intersect`
    Intersect,
    /// `except`
    Except,
}

/// A variable reference as written and, once bound, where its value lives.
#[derive(Debug, Clone)]
pub(super) struct VarRef {
    /// The name without `$`.
    pub name: String,
    /// Where the value lives.
    pub slot: Slot,
}

/// Where a variable's value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// Not bound yet.
    Unbound,
    /// A variable of the host ([`super::Env::var`]).
    Host(usize),
    /// A range variable of `for`/`some`/`every`: its depth among the enclosing ones.
    Local(usize),
}

/// A path: an optional start at the root, then steps.
#[derive(Debug, Clone)]
pub(super) struct Path {
    /// Starts at the root of the context node's tree (`/…`).
    pub root: bool,
    /// The steps, each evaluated with every item the previous one gave as context.
    pub steps: Vec<Step>,
}

/// One step of a path.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// `axis::test[preds]`
    Axis(Axis, NodeTest, Preds),
    /// A primary expression used as a step (`f()`, `(a|b)`, `.`, `$v`) with predicates.
    Filter(X, Preds),
}

/// The predicates of a step or filter, in order.
#[derive(Debug, Clone, Default)]
pub(super) struct Preds {
    /// The predicates.
    pub list: Vec<Pred>,
    /// How many leading predicates do not call `last()`, so that candidates can be
    /// tested one by one without knowing how many there are (set by binding).
    pub stream: usize,
}

/// One predicate and what binding learnt about the value it gives.
#[derive(Debug, Clone)]
pub(super) struct Pred {
    /// The expression.
    pub x: X,
    /// Its shape.
    pub kind: PredKind,
}

/// What a predicate's value is known to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PredKind {
    /// Not known: a number selects by position, anything else by its boolean value.
    Any,
    /// The literal position `[k]`.
    Index(i64),
    /// Never a number: its effective boolean value decides.
    Boolean,
}

/// A node test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NodeTest {
    /// `name`, `p:name`.
    Name(NameTest),
    /// `*`
    Any,
    /// `p:*`
    AnyIn(NameTest),
    /// A kind test.
    Kind(Kind),
}

/// The node kinds of kind tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `node()`
    Node,
    /// `text()`
    Text,
    /// `comment()`
    Comment,
    /// `element()`
    Element,
    /// `attribute()`
    Attribute,
    /// `document-node()`
    Document,
    /// `processing-instruction()`
    Pi,
}

/// The atomic types of casts, constructors and type tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AtomType {
    /// `xs:anyAtomicType` (type tests only)
    Any,
    /// `xs:untypedAtomic`
    Untyped,
    /// `xs:string`
    Str,
    /// `xs:integer`
    Int,
    /// `xs:decimal`
    Dec,
    /// `xs:double`
    Dbl,
    /// `xs:boolean`
    Bool,
    /// `xs:date`
    Date,
}

impl AtomType {
    /// The type named `local` in the XML Schema namespace.
    pub fn from_local(local: &str) -> Option<AtomType> {
        Some(match local {
            "anyAtomicType" => AtomType::Any,
            "untypedAtomic" => AtomType::Untyped,
            "string" => AtomType::Str,
            "integer" => AtomType::Int,
            "decimal" => AtomType::Dec,
            "double" => AtomType::Dbl,
            "boolean" => AtomType::Bool,
            "date" => AtomType::Date,
            _ => return None,
        })
    }
}

/// A sequence type of `instance of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SeqType {
    /// `empty-sequence()`
    Empty,
    /// An item type and its occurrence indicator (`'1'`, `'?'`, `'*'`, `'+'`).
    Items(ItemType, char),
}

/// An item type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ItemType {
    /// `item()`
    Item,
    /// A kind test (`node()`, `element()` …).
    Kind(Kind),
    /// An atomic type.
    Atomic(AtomType),
}

/// A function call.
#[derive(Debug, Clone)]
pub(super) struct Call {
    /// The name as written.
    pub name: QName,
    /// The function, once bound.
    pub fun: Option<Fun>,
    /// The arguments.
    pub args: Vec<X>,
    /// The compiled regular expression, where the pattern (and flags) are literals.
    pub regex: Option<Regex>,
    /// The key's index for `key()`, once bound.
    pub key: usize,
}

/// The functions the engine implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub(super) enum Fun {
    Position,
    Last,
    Count,
    Exists,
    Empty,
    Not,
    True,
    False,
    Boolean,
    String,
    Data,
    Number,
    Concat,
    Contains,
    StartsWith,
    EndsWith,
    SubstringBefore,
    SubstringAfter,
    Substring,
    StringLength,
    NormalizeSpace,
    Translate,
    UpperCase,
    LowerCase,
    Matches,
    Replace,
    Tokenize,
    StringJoin,
    DistinctValues,
    IndexOf,
    Subsequence,
    Reverse,
    InsertBefore,
    Remove,
    ExactlyOne,
    ZeroOrOne,
    OneOrMore,
    Sum,
    Avg,
    Max,
    Min,
    Floor,
    Ceiling,
    Round,
    Abs,
    CurrentDate,
    Root,
    Name,
    LocalName,
    NamespaceUri,
    Key,
    Current,
    /// `error()`: raises FOER0000 (or the code given).
    Error,
    /// A constructor function `xs:T(value)`.
    Construct(AtomType),
}

impl X {
    /// Calls `f` with every expression directly inside this one (operands, arguments,
    /// predicates, steps).
    pub fn children(&self, f: &mut dyn FnMut(&X)) {
        let preds = |p: &Preds, f: &mut dyn FnMut(&X)| p.list.iter().for_each(|p| f(&p.x));
        match self {
            X::Seq(items) => items.iter().for_each(&mut *f),
            X::Lit(_) | X::Var(_) | X::Context => {}
            X::Path(p) => {
                for s in &p.steps {
                    match s {
                        Step::Axis(_, _, ps) => preds(ps, f),
                        Step::Filter(x, ps) => {
                            f(x);
                            preds(ps, f);
                        }
                    }
                }
            }
            X::Filter(x, ps) => {
                f(x);
                preds(ps, f);
            }
            X::Or(a, b)
            | X::And(a, b)
            | X::General(_, a, b)
            | X::Value(_, a, b)
            | X::NodeCmp(_, a, b)
            | X::Arith(_, a, b)
            | X::Range(a, b)
            | X::Set(_, a, b)
            | X::For(_, a, b)
            | X::Quantified(_, _, a, b) => {
                f(a);
                f(b);
            }
            X::Unary(_, a) | X::InstanceOf(a, _) | X::Cast(a, _, _) | X::Castable(a, _, _) => f(a),
            X::If(c, a, b) => {
                f(c);
                f(a);
                f(b);
            }
            X::Call(c) => c.args.iter().for_each(f),
        }
    }

    /// As [`X::children`], mutably.
    pub fn children_mut(&mut self, f: &mut dyn FnMut(&mut X)) {
        let preds =
            |p: &mut Preds, f: &mut dyn FnMut(&mut X)| p.list.iter_mut().for_each(|p| f(&mut p.x));
        match self {
            X::Seq(items) => items.iter_mut().for_each(&mut *f),
            X::Lit(_) | X::Var(_) | X::Context => {}
            X::Path(p) => {
                for s in &mut p.steps {
                    match s {
                        Step::Axis(_, _, ps) => preds(ps, f),
                        Step::Filter(x, ps) => {
                            f(x);
                            preds(ps, f);
                        }
                    }
                }
            }
            X::Filter(x, ps) => {
                f(x);
                preds(ps, f);
            }
            X::Or(a, b)
            | X::And(a, b)
            | X::General(_, a, b)
            | X::Value(_, a, b)
            | X::NodeCmp(_, a, b)
            | X::Arith(_, a, b)
            | X::Range(a, b)
            | X::Set(_, a, b)
            | X::For(_, a, b)
            | X::Quantified(_, _, a, b) => {
                f(a);
                f(b);
            }
            X::Unary(_, a) | X::InstanceOf(a, _) | X::Cast(a, _, _) | X::Castable(a, _, _) => f(a),
            X::If(c, a, b) => {
                f(c);
                f(a);
                f(b);
            }
            X::Call(c) => c.args.iter_mut().for_each(f),
        }
    }

    /// Whether this expression or any inside it satisfies `test`.
    pub fn any(&self, test: &dyn Fn(&X) -> bool) -> bool {
        if test(self) {
            return true;
        }
        let mut found = false;
        self.children(&mut |x| found = found || x.any(test));
        found
    }

    /// Whether the expression calls one of `funs` anywhere (conservatively also inside
    /// nested predicates, where the focus differs).
    pub fn calls(&self, funs: &[Fun]) -> bool {
        self.any(&|x| matches!(x, X::Call(c) if c.fun.is_some_and(|f| funs.contains(&f))))
    }
}
