//! The error of an expression that is not XPath 1.0, naming the XPath 2.0 construct
//! where the text is one.

/// An expression that is not XPath 1.0: where (byte offset) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (offset {offset})")]
pub struct SyntaxError {
    /// Byte offset in the expression text.
    pub offset: usize,
    /// What is wrong there.
    pub message: String,
    /// The XPath 2.0 construct found there, when the text is one (`if … then …
    /// else`, a range, a sequence …): valid XPath 2.0 that the engine does not run.
    pub construct: Option<&'static str>,
}

impl SyntaxError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        SyntaxError {
            offset,
            message: message.into(),
            construct: None,
        }
    }

    /// An XPath 2.0 construct at `offset`.
    pub(crate) fn xpath2(offset: usize, construct: &'static str) -> Self {
        SyntaxError {
            offset,
            message: format!("XPath 2.0 {construct} is not supported"),
            construct: Some(construct),
        }
    }
}
