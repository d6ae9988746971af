//! XPath 2.0, as the XSLT 2.0 query binding of Schematron (`queryBinding="xslt2"`) needs
//! it: sequences of nodes and typed atomic values, general and value comparisons,
//! `if`, `for`, `some`/`every`, ranges, `except`/`intersect`, casts and type tests,
//! the functions on strings, sequences, numbers and dates, and XSLT's `key()` and
//! `current()` through the host ([`Env`]).
//!
//! An expression is compiled once ([`Expr2::compile`]): parsed with the engine's lexer,
//! its names bound against a [`Scope`] (namespace prefixes, variables, keys), and
//! everything it uses that this engine cannot honour refused with the name of what it
//! is. The compiled expression is plain data (`Send + Sync`) and is evaluated over
//! libxml2's tree through [`NodeRef`]s. A dynamic error carries the error code the
//! XPath 2.0 and XQuery functions specifications give it (`XPTY0004`, `FORG0001`, …), so that a
//! rule set stops on a document exactly where Saxon stops.

use crate::xml::node::NodeRef;

/// A sequence: XPath 2.0's only kind of value.
pub type Seq<'d> = Vec<Item<'d>>;

/// One item of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'d> {
    /// A node of a parsed document (the validated one or an inline tree of the schema).
    Node(NodeRef<'d>),
    /// An atomic value.
    Atom(Atomic),
}

/// The atomic values the engine distinguishes, by XML Schema type.
#[derive(Debug, Clone, PartialEq)]
pub enum Atomic {
    /// `xs:untypedAtomic`: what atomizing a node of an untyped document gives.
    Untyped(String),
    /// `xs:string`
    Str(String),
    /// `xs:integer`
    Int(i64),
    /// `xs:decimal`
    Dec(f64),
    /// `xs:double`
    Dbl(f64),
    /// `xs:boolean`
    Bool(bool),
    /// `xs:date`
    Date(Date),
}

/// An `xs:date`: year, month, day and an optional timezone in minutes east of UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// The year (negative before year 1).
    pub year: i32,
    /// The month, 1–12.
    pub month: u8,
    /// The day of the month, 1–31.
    pub day: u8,
    /// The timezone offset in minutes, if the value has one.
    pub tz_minutes: Option<i16>,
}

/// A dynamic error: its code as the specifications name it and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DynError {
    /// `XPTY0004`, `FORG0001`, `FORG0006`, `FOAR0001`, `XPTY0020`, `FORX0002`, …
    pub code: &'static str,
    /// What went wrong, in words.
    pub message: String,
}

impl DynError {
    /// An error with `code`.
    pub fn new(code: &'static str, message: impl Into<String>) -> DynError {
        DynError {
            code,
            message: message.into(),
        }
    }
}

/// What an expression needs from its surroundings while it runs.
pub trait Env<'d> {
    /// The value of the variable bound to `slot` (see [`Scope::var`]); the host may compute
    /// it on first use, and report the error that computing it raised.
    fn var(&self, slot: usize) -> Result<Seq<'d>, DynError>;
    /// XSLT's `key(name, values, top)`: the nodes of key `key` (see [`Scope::key`])
    /// whose `use` value equals one of `values`, in document order, within the tree of
    /// `top` (the context node's document when `None`).
    fn key(
        &self,
        key: usize,
        values: &[Atomic],
        top: Option<NodeRef<'d>>,
    ) -> Result<Seq<'d>, DynError>;
    /// XSLT's `current()`: the node the rule fired on.
    fn current(&self) -> Option<NodeRef<'d>>;
}

/// The names an expression may use, for [`Expr2::compile`].
pub struct Scope<'a> {
    /// Namespace prefixes and their URIs (the schema's `ns` elements).
    pub namespaces: &'a [(String, String)],
    /// The slot of variable `name`, if one is in scope.
    pub var: &'a dyn Fn(&str) -> Option<usize>,
    /// The index of the key named `name`, if the schema defines it.
    pub key: &'a dyn Fn(&str) -> Option<usize>,
}

mod ast;
mod bind;
mod compare;
mod eval;
mod functions;
mod parser;
mod path;
mod strings;
mod terms;
#[cfg(test)]
mod tests;
mod value;

use ast::X;
use eval::{Ev, Focus};
pub use value::{atomize, string_value};

/// A compiled XPath 2.0 expression: parsed, its names bound, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Expr2 {
    source: String,
    x: X,
    vars: Vec<usize>,
}

impl Expr2 {
    /// Parses and binds an XPath 2.0 expression; `Err(message)` names what is wrong or
    /// what the engine does not support (a construct, an unknown function, prefix,
    /// variable or key name).
    pub fn compile(src: &str, scope: &Scope) -> Result<Expr2, String> {
        let mut x = parser::parse(src)?;
        let vars = bind::bind(&mut x, scope)?;
        Ok(Expr2 {
            source: src.to_string(),
            x,
            vars,
        })
    }

    /// Evaluates with context item `ctx` (a node, or an atomic value as in
    /// `xsl:for-each` over strings), position 1, size 1.
    pub fn eval<'d>(&self, env: &dyn Env<'d>, ctx: &Item<'d>) -> Result<Seq<'d>, DynError> {
        let mut ev = Ev {
            env,
            locals: Vec::new(),
        };
        let f = Focus {
            item: ctx,
            pos: 1,
            size: 1,
        };
        eval::eval(&self.x, &mut ev, f)
    }

    /// The effective boolean value (FORG0006 where XPath 2.0 raises it).
    pub fn ebv<'d>(&self, env: &dyn Env<'d>, ctx: &Item<'d>) -> Result<bool, DynError> {
        let mut ev = Ev {
            env,
            locals: Vec::new(),
        };
        let f = Focus {
            item: ctx,
            pos: 1,
            size: 1,
        };
        eval::ebv(&self.x, &mut ev, f)
    }

    /// The expression text as compiled.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variable slots the expression reads anywhere.
    pub fn variables(&self) -> Vec<usize> {
        self.vars.clone()
    }
}
