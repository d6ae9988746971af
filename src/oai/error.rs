//! `OaiError`: the eight protocol error codes of OAI-PMH §3.6. They are answered inside
//! an HTTP 200 response, never turned into an HTTP status.

use std::fmt;

/// An OAI-PMH error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Illegal, missing, repeated or malformed arguments.
    BadArgument,
    /// Unknown, damaged, expired token, or a token of another verb or endpoint.
    BadResumptionToken,
    /// Missing, repeated or unknown verb.
    BadVerb,
    /// The format is not supported by the item or the repository.
    CannotDisseminateFormat,
    /// Unknown identifier.
    IdDoesNotExist,
    /// The arguments select nothing.
    NoRecordsMatch,
    /// The item has no metadata formats.
    NoMetadataFormats,
    /// The repository has no sets.
    NoSetHierarchy,
}

impl Code {
    /// The code as it appears in `<error code="…">`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadArgument => "badArgument",
            Code::BadResumptionToken => "badResumptionToken",
            Code::BadVerb => "badVerb",
            Code::CannotDisseminateFormat => "cannotDisseminateFormat",
            Code::IdDoesNotExist => "idDoesNotExist",
            Code::NoRecordsMatch => "noRecordsMatch",
            Code::NoMetadataFormats => "noMetadataFormats",
            Code::NoSetHierarchy => "noSetHierarchy",
        }
    }
}

/// One protocol error with a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiError {
    /// The protocol code.
    pub code: Code,
    /// What exactly is wrong.
    pub message: String,
}

impl OaiError {
    /// A new error.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        OaiError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for OaiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}
