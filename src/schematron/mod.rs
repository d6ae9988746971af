//! Native ISO Schematron (ISO/IEC 19757-3) for the ZVDD METS/MODS profile checks.
//!
//! A schema is compiled once into a [`Schema`] — plain data, `Send + Sync`, shared by
//! all validating threads — and each call to [`Schema::validate`] runs it against one
//! document on the calling thread. Every expression is parsed once by the engine's XPath
//! module (`crate::xpath`), and every question the compiler asks about one is a walk
//! over its tree; the expressions that module evaluates (paths, predicates, variables,
//! the core and extension functions) run in Rust, the rest in libxml2 with the
//! expressions compiled once per thread; both give the same results. Query bindings `xslt`, `xslt1` and `xpath` are
//! supported; whatever the engine cannot honour is a [`CompileError`].
//!
//! Results are meant to equal those of lxml.isoschematron (the ISO skeleton for
//! XSLT 1), which is why: locations are written as that skeleton writes them (see
//! `location.rs`; an attribute's location is the attribute step alone), abstract
//! pattern parameters are also substituted in message text, and white-space-only
//! text between message elements is dropped. Where this engine deliberately differs:
//! rules whose context is `text()` or `node()` fire on text nodes (and `node()`,
//! `comment()` on comments), which the skeleton never visits; a phase's `let`s exist
//! only while that phase runs; XPath errors at run time become error findings.

mod builder;
mod compile;
mod error;
mod expr;
mod functions;
mod location;
mod matcher;
mod model;
mod options;
pub mod output;
mod patterns;
mod regex;
mod report;
mod rules;
mod run;
pub mod svrl;
mod tree;
mod xslt2;

#[cfg(test)]
mod tests;

pub use error::CompileError;
pub use report::{ActivePattern, Class, Diagnostic, Finding, FiredRule, Kind, Report, Verdict};

pub use options::{CompileOptions, SCH_NS, SVRL_NS, XSL_NS};

use crate::xml::{parse, ParseError, ParseLimits};
use libxml::tree::Document;
use std::path::Path;
use std::sync::Arc;

/// A compiled schema; cheap to clone and shareable across threads.
#[derive(Debug, Clone)]
pub struct Schema {
    inner: Engine,
}

/// The engine a schema runs on, by its query binding.
#[derive(Debug, Clone)]
enum Engine {
    /// `xslt`, `xslt1`, `xpath`: XPath 1.0, results as lxml.isoschematron gives them.
    Xslt1(Arc<model::Compiled>),
    /// `xslt2`: XPath 2.0 and XSLT 2.0 patterns, results as the compiled XSLT on Saxon.
    Xslt2(Arc<xslt2::Compiled>),
}

impl Schema {
    /// Compiles the schema in `bytes`.
    pub fn compile(bytes: &[u8], options: &CompileOptions) -> Result<Schema, CompileError> {
        let root = tree::load(bytes, options.base_dir.as_deref())?;
        if !root.is_sch("schema") {
            return Err(CompileError::new(
                root.line,
                root.name.clone(),
                format!("root element must be schema in namespace {SCH_NS}"),
            ));
        }
        let inner = match root.attr("queryBinding").map(str::trim) {
            None | Some("xslt") | Some("xslt1") | Some("xpath") => {
                Engine::Xslt1(Arc::new(compile::compile(&root, options)?))
            }
            Some("xslt2") => Engine::Xslt2(Arc::new(xslt2::compile(&root, options)?)),
            Some(other) => {
                return Err(CompileError::new(
                    root.line,
                    "schema/@queryBinding",
                    format!(
                        "query binding '{other}' is not supported (xslt, xslt1, xpath or xslt2)"
                    ),
                ))
            }
        };
        Ok(Schema { inner })
    }

    /// Compiles the schema file at `path`; includes resolve against its directory
    /// unless `options.base_dir` says otherwise.
    pub fn compile_file(path: &Path, options: &CompileOptions) -> Result<Schema, CompileError> {
        let bytes = std::fs::read(path).map_err(|e| {
            CompileError::new(0, "schema", format!("cannot read {}: {e}", path.display()))
        })?;
        let mut options = options.clone();
        if options.base_dir.is_none() {
            options.base_dir = path.parent().map(Path::to_path_buf);
        }
        Schema::compile(&bytes, &options)
    }

    /// Validates a parsed document.
    pub fn validate(&self, doc: &Document) -> Report {
        match &self.inner {
            Engine::Xslt1(compiled) => run::validate(compiled, doc),
            Engine::Xslt2(compiled) => xslt2::validate(compiled, doc),
        }
    }

    /// Whether the schema reads the document exactly as delivered (`xslt2` rule sets, such
    /// as the DDB's, test the OAI-PMH envelope around a record too), rather than the METS
    /// document taken out of its envelope.
    pub fn reads_whole_document(&self) -> bool {
        matches!(self.inner, Engine::Xslt2(_))
    }

    /// Parses `bytes` with the hardened parser and validates the document.
    pub fn validate_bytes(&self, bytes: &[u8]) -> Result<Report, ParseError> {
        let doc = parse(bytes, ParseLimits::default())?;
        Ok(self.validate(&doc))
    }

    /// The schema title, if any.
    pub fn title(&self) -> Option<&str> {
        match &self.inner {
            Engine::Xslt1(compiled) => compiled.title.as_deref(),
            Engine::Xslt2(compiled) => compiled.title.as_deref(),
        }
    }

    /// Number of active patterns, rules and checks (asserts + reports).
    pub fn size(&self) -> (usize, usize, usize) {
        let p = match &self.inner {
            Engine::Xslt1(compiled) => &compiled.patterns,
            Engine::Xslt2(compiled) => return compiled.size(),
        };
        let rules = p.iter().map(|p| p.rules.len()).sum();
        let checks = p
            .iter()
            .flat_map(|p| &p.rules)
            .map(|r| r.checks.len())
            .sum();
        (p.len(), rules, checks)
    }
}

/// Translates an XML Schema / XPath 2.0 regular expression with its flags into the
/// `regex` crate's syntax, as `matches()`, `replace()` and `tokenize()` use it; what
/// cannot be translated is refused with the reason.
pub fn translate_regex(pattern: &str, flags: &str) -> Result<String, String> {
    regex::translate(pattern, flags)
}

/// Validates `doc` against every schema and merges the findings into one report.
pub fn validate_all(schemas: &[Schema], doc: &Document) -> Report {
    let mut report = Report::default();
    for schema in schemas {
        report.merge(schema.validate(doc));
    }
    report
}
