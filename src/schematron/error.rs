//! Why a schema was refused: every construct the engine cannot honour is reported
//! with its line instead of being skipped.

use std::fmt;

/// A schema the engine refuses to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// 1-based line of the offending construct in its schema file (0 when unknown).
    pub line: usize,
    /// The construct, e.g. `let`, `assert/@test`, `extends`, `include`.
    pub construct: String,
    /// What is wrong with it.
    pub message: String,
}

impl CompileError {
    pub(crate) fn new(
        line: usize,
        construct: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CompileError {
            line,
            construct: construct.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {}: {}",
            self.line, self.construct, self.message
        )
    }
}

impl std::error::Error for CompileError {}
