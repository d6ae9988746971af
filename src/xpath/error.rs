//! The error of an expression that is not XPath.

/// An expression that is not XPath: where (byte offset) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (offset {offset})")]
pub struct SyntaxError {
    /// Byte offset in the expression text.
    pub offset: usize,
    /// What is wrong there.
    pub message: String,
}

impl SyntaxError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        SyntaxError {
            offset,
            message: message.into(),
        }
    }
}
