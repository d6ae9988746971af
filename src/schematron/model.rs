//! The compiled schema: structure, expression strings and their bound syntax trees
//! only, so that it is `Send + Sync` and can be shared by every validating thread.
//! Expressions are referred to by index into [`Compiled::exprs`]; each thread compiles
//! that table once into libxml2 expressions for the fallback (see `run.rs`).

use super::report::{Class, Kind};
use std::sync::Arc;

/// Index into [`Compiled::exprs`].
pub(crate) type ExprId = usize;

/// A compiled schema.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// Process-unique id, the key of the per-thread expression cache.
    pub id: u64,
    pub title: Option<String>,
    pub namespaces: Vec<(String, String)>,
    pub lets: Vec<LetDef>,
    pub keys: Vec<KeyDef>,
    pub patterns: Vec<PatternDef>,
    pub exprs: Vec<String>,
    /// Each of `exprs` bound for the engine's evaluator, where it can take it.
    pub native: Vec<Option<crate::xpath::Expr>>,
    /// The variables each native expression reads (bound in libxml2 before it falls back).
    pub native_vars: Vec<Vec<(String, usize)>>,
    /// Number of variable slots (one per distinct let name).
    pub var_slots: usize,
    /// The variables libxml2-only expressions may read, bound in libxml2 as they are set.
    pub libxml_vars: std::collections::HashSet<String>,
}

#[derive(Debug)]
pub(crate) struct LetDef {
    pub name: String,
    /// The variable's slot in a run's table (set once the schema is compiled).
    pub slot: usize,
    /// `name` as a C string for binding (`None` if it cannot be one).
    pub c_name: Option<std::ffi::CString>,
    pub value: ExprId,
}

#[derive(Debug)]
pub(crate) struct KeyDef {
    pub name: String,
    /// `//(match)` as a selection from the root.
    pub select: ExprId,
    /// The match pattern tested node by node, when it is simple enough.
    pub matcher: Option<super::matcher::Matcher>,
    pub use_: ExprId,
}

#[derive(Debug)]
pub(crate) struct PatternDef {
    pub id: Option<Arc<str>>,
    pub name: Option<Arc<str>>,
    pub lets: Vec<LetDef>,
    pub rules: Vec<RuleDef>,
}

#[derive(Debug)]
pub(crate) struct RuleDef {
    pub id: Option<Arc<str>>,
    /// The context as written (for SVRL and findings).
    pub context: Arc<str>,
    /// The context as an XPath selecting its nodes from the root.
    pub select: ExprId,
    /// The context tested node by node, when it is simple enough (else `select` is used).
    pub matcher: Option<super::matcher::Matcher>,
    pub lets: Vec<LetDef>,
    pub checks: Vec<CheckDef>,
}

#[derive(Debug)]
pub(crate) struct CheckDef {
    pub rule_id: Arc<str>,
    pub kind: Kind,
    pub test_src: Arc<str>,
    pub test: ExprId,
    pub role: Option<Arc<str>>,
    pub class: Class,
    pub flag: Option<Arc<str>>,
    pub see: Option<Arc<str>>,
    pub message: Vec<MessagePart>,
    pub diagnostics: Vec<(Arc<str>, Vec<MessagePart>)>,
}

/// A piece of an assertion or diagnostic message; `E` is how an expression is held (an
/// index into [`Compiled::exprs`], or an XPath 2.0 expression under `xslt2`).
#[derive(Debug, Clone)]
pub(crate) enum MessagePart<E = ExprId> {
    Text(String),
    ValueOf(E),
    /// `name` with an optional `@path`.
    Name(Option<E>),
}
