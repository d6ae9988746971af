//! Rule sets under the `xslt2` query binding — the DDB's METS/MODS rule sets among them —
//! run as their compiled XSLT 2.0 validator runs them on Saxon, with XPath 2.0 from
//! [`crate::xpath::v2`]:
//!
//! * each pattern visits the document node and then every element in document order
//!   (never attributes or text: the validator applies templates to `*` only); on each,
//!   the first of the pattern's rules whose context matches fires (`pattern.rs`);
//! * `let`s are evaluated on first use, once per document (schema-level) or per firing
//!   (rule-level); a `let` may hold an XML tree (a code list) or XSLT instructions
//!   (`xsl:variable`, `xsl:for-each`, `xsl:if`, `xsl:value-of`, `xsl:copy-of`), and
//!   `xsl:key` indexes both the document and such trees (`key()` with a third argument);
//! * a dynamic error (`XPTY0004` where one item is required and a sequence is given, …)
//!   stops the validation of the document, as it stops the XSLT transformation: the report
//!   is that one error, naming its code, rule and test.
//!
//! `sch:properties` and `@properties` are accepted and not evaluated (they do not change
//! which checks fail). Phases, abstract patterns and rules, `diagnostics` and XSLT beyond
//! the instructions above are refused at compile time with their line.

mod compile;
mod model;
mod pattern;
mod program;
mod run;

pub(crate) use model::Compiled;

use super::error::CompileError;
use super::options::CompileOptions;
use super::report::Report;
use super::tree::Elem;
use libxml::tree::Document;

/// Compiles a schema whose query binding is `xslt2`.
pub(super) fn compile(root: &Elem, options: &CompileOptions) -> Result<Compiled, CompileError> {
    compile::compile(root, options)
}

/// Validates `doc` as given (an OAI-PMH envelope is part of what the rules see).
pub(super) fn validate(schema: &Compiled, doc: &Document) -> Report {
    run::validate(schema, doc)
}
