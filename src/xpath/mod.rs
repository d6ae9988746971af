//! The XPath engine: one parser, one syntax tree, one evaluator.
//!
//! An expression is parsed once ([`parse`]) into a tree ([`Expr`]); every question a
//! compiler asks about it — which functions, prefixes and variables it uses, whether it
//! depends on the context position, whether it is a path of a given shape — is a walk
//! over that tree (`query.rs`), and [`Expr`] prints back as XPath text (`display.rs`).
//! Binding ([`Expr::bind`]) resolves its names against the surroundings, after which
//! the evaluator ([`Expr::eval`], [`Expr::truth`]) runs it over libxml2's tree through
//! [`NodeRef`](crate::xml::node::NodeRef)s, with the results of libxml2's XPath 1.0.
//! What the evaluator does not implement is named by binding, and whatever it cannot
//! answer with certainty at run time it answers with `None`, leaving the expression to
//! libxml2 (`crate::xml::xpath`), which stays the fallback.
//!
//! An expression written for XPath 2.0 is refused with the name of the construct it
//! uses ([`SyntaxError::construct`]).
//!
//! Files: `lexer.rs` (tokens), `parser.rs` (grammar), `xpath2.rs` (recognising XPath
//! 2.0 constructs), `ast.rs` (the tree), `query.rs`
//! (walks), `display.rs` (text), `bind.rs` (names and rewrites), `eval.rs` (paths and
//! operators), `functions.rs` (the core library), `axes.rs`, `value.rs` (conversions
//! and comparisons).

mod ast;
mod axes;
mod bind;
mod display;
mod error;
mod eval;
mod functions;
pub(crate) mod lexer;
mod parser;
mod query;
pub mod v2;
mod value;
mod xpath2;

pub use ast::{
    ArithOp, Axis, Call, CmpOp, Expr, Func, NameTest, Path, QName, Start, Step, Test, Var,
};
pub use bind::Bindings;
pub use error::SyntaxError;
pub use eval::Env;
pub use parser::parse;
pub use value::normalize_space;
pub(crate) use value::{node_string, to_string};
