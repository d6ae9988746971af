//! The compiled `xslt2` rule set: plain data (`Send + Sync`), shared by every validating
//! thread. Inline XML trees are kept as text and parsed once per thread (`run.rs`).

use super::pattern::{Pattern, Selection};
pub(crate) use crate::schematron::model::MessagePart;
use crate::schematron::report::{Class, Kind};
use crate::xpath::v2::Expr2;
use std::sync::Arc;

/// A compiled rule set.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// Process-unique id, the key of the per-thread cache of inline trees.
    pub id: u64,
    pub title: Option<String>,
    pub namespaces: Vec<(String, String)>,
    /// Every `let`, by index; schema- and pattern-level ones are evaluated with the
    /// document node as context, rule-level ones at the node the rule fired on.
    pub lets: Vec<LetDef>,
    /// Number of variable slots (lets and the variables of XSLT instructions).
    pub slots: usize,
    pub keys: Vec<KeyDef>,
    /// Inline XML trees (code lists held by `let`s), as XML text.
    pub trees: Vec<String>,
    pub patterns: Vec<PatternDef>,
}

impl Compiled {
    /// Number of patterns, rules and checks.
    pub fn size(&self) -> (usize, usize, usize) {
        let rules = self.patterns.iter().map(|p| p.rules.len()).sum();
        let checks = self
            .patterns
            .iter()
            .flat_map(|p| &p.rules)
            .map(|r| r.checks.len())
            .sum();
        (self.patterns.len(), rules, checks)
    }
}

#[derive(Debug)]
pub(crate) struct LetDef {
    pub slot: usize,
    /// Whether it is evaluated at the rule's node (else at the document node).
    pub rule_level: bool,
    pub value: LetValue,
}

#[derive(Debug)]
pub(crate) enum LetValue {
    /// `value="…"`
    Expr(Expr2),
    /// An XML tree: index into [`Compiled::trees`]; the value is its document node.
    Tree(usize),
    /// XSLT instructions; the value is the text they write (a temporary tree of text).
    Program(Vec<Instr>),
}

/// An XSLT instruction of a `let`'s content.
#[derive(Debug)]
pub(crate) enum Instr {
    /// `xsl:variable` with `@select` or content.
    Variable {
        slot: usize,
        value: VarValue,
    },
    ForEach {
        select: Expr2,
        body: Vec<Instr>,
    },
    If {
        test: Expr2,
        body: Vec<Instr>,
    },
    /// `xsl:value-of`: the string values of the items, separated by `separator`.
    ValueOf {
        select: Expr2,
        separator: String,
    },
    CopyOf {
        select: Expr2,
    },
    Text(String),
}

#[derive(Debug)]
pub(crate) enum VarValue {
    Select(Expr2),
    Content(Vec<Instr>),
}

#[derive(Debug)]
pub(crate) struct KeyDef {
    pub pattern: Pattern,
    /// The nodes the pattern can match (`None`: any node).
    pub names: Option<Selection>,
    pub use_: Expr2,
}

#[derive(Debug)]
pub(crate) struct PatternDef {
    pub id: Option<Arc<str>>,
    pub name: Option<Arc<str>>,
    pub rules: Vec<RuleDef>,
}

#[derive(Debug)]
pub(crate) struct RuleDef {
    pub id: Option<Arc<str>>,
    /// The context as written.
    pub context: Arc<str>,
    pub pattern: Pattern,
    /// The nodes the context can match (`None`: any node).
    pub names: Option<Selection>,
    /// Indexes into [`Compiled::lets`], in order.
    pub lets: Vec<usize>,
    pub checks: Vec<CheckDef>,
}

#[derive(Debug)]
pub(crate) struct CheckDef {
    pub rule_id: Arc<str>,
    pub kind: Kind,
    pub test_src: Arc<str>,
    pub test: Expr2,
    pub role: Option<Arc<str>>,
    pub class: Class,
    pub flag: Option<Arc<str>>,
    pub see: Option<Arc<str>>,
    pub message: Vec<MessagePart<Expr2>>,
}
