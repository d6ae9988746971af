//! The vocabulary of vitrine as types that cannot hold invalid values: domain names,
//! record identifiers, datestamps and set specs. Each has a `parse` constructor. And the
//! [`Clock`] every time of day is read from.

mod clock;
mod datestamp;
mod identifier;
mod name;
mod set_spec;
pub mod settings;
mod states;
mod tree;
mod validation;

pub use clock::{Clock, ManualClock};
pub use datestamp::{Datestamp, Granularity};
pub use identifier::{check_repository_identifier, LocalId, OaiIdentifier};
pub use name::DomainName;
pub use set_spec::SetSpec;
pub use states::{InstanceRole, JobPhase, JobStatus, ValidationState};
pub use tree::{
    Domain, DomainSetting, DomainTree, UnknownDomain, DEFAULT_PAGE_SIZE,
    DEFAULT_REPOSITORY_IDENTIFIER, DEFAULT_RULE_SET,
};
pub use validation::{StoredFinding, StoredRepair, ValidationOutcome, ValidationTask};

/// Why a value could not be parsed into one of the domain types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid: {reason}")]
pub struct InvalidValue {
    /// Which kind of value was expected.
    pub what: &'static str,
    /// The refused input.
    pub value: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl InvalidValue {
    pub(crate) fn new(what: &'static str, value: &str, reason: &'static str) -> Self {
        InvalidValue {
            what,
            value: value.to_string(),
            reason,
        }
    }
}
