//! The namespaces the engine knows and the options a schema is compiled with.

use super::report::Class;
use std::path::PathBuf;

/// The ISO Schematron namespace.
pub const SCH_NS: &str = "http://purl.oclc.org/dsdl/schematron";
/// The XSLT namespace (for top-level `xsl:key`).
pub const XSL_NS: &str = "http://www.w3.org/1999/XSL/Transform";
/// The SVRL namespace.
pub const SVRL_NS: &str = "http://purl.oclc.org/dsdl/svrl";

/// How to compile a schema.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// The phase to run: `None` or `#DEFAULT` (the schema's `@defaultPhase`, else all),
    /// `#ALL`, or a phase id.
    pub phase: Option<String>,
    /// Directory `include/@href` is resolved against (the schema file's directory).
    pub base_dir: Option<PathBuf>,
    /// Class of asserts and reports without a (known) role.
    pub default_role: Class,
    /// Evaluate the expressions it can with the engine's own XPath evaluator
    /// (`crate::xpath`); `false` leaves every expression to libxml2, which gives the
    /// same results more slowly.
    pub native_xpath: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            phase: None,
            base_dir: None,
            default_role: Class::Error,
            native_xpath: true,
        }
    }
}
