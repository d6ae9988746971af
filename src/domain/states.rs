//! The words vitrine stores in its state columns, as types: a record's
//! `zmods_validation` state, a job run's status and phase, and the role of an instance
//! in a run. Each has one spelling (`as_str`, what the column holds and the database's
//! `CHECK` constraint allows) and one `parse`; code compares and binds these, never
//! string literals.

use super::InvalidValue;
use std::fmt;
use std::str::FromStr;

/// Declares a stored word: an enum, its spellings, `as_str`, `parse`, `FromStr` and
/// `Display`.
macro_rules! stored_word {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in the order of declaration.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word as stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// Reads the word as stored; any other text is refused.
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                match text {
                    $( $text => Ok($name::$variant), )+
                    _ => Err(InvalidValue::new($what, text, concat!("not one of: ", $($text, " "),+))),
                }
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(text: &str) -> Result<Self, InvalidValue> {
                $name::parse(text)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_word! {
    /// A record's ZVDD validation state (SPEC §2 `zmods_validation`).
    ValidationState, "zmods_validation state" {
        /// Not validated since its METS last changed.
        Undefined => "undefined",
        /// Errors remain in what harvesters receive.
        Invalid => "invalid",
        /// Only warnings remain.
        ValidWarn => "valid_warn",
        /// Nothing remains.
        Valid => "valid",
    }
}

impl ValidationState {
    /// Whether a record in this state may be disseminated as zmods/zvdd (`valid` or
    /// `valid_warn`).
    pub fn exportable(self) -> bool {
        matches!(self, ValidationState::Valid | ValidationState::ValidWarn)
    }
}

stored_word! {
    /// How a job run ended, or that it still runs (`job_run.status`).
    JobStatus, "job status" {
        /// At work (or its process died and no later run has found out yet).
        Running => "running",
        /// Ended normally.
        Finished => "finished",
        /// Ended with an error.
        Failed => "failed",
        /// Found still running when a later run of its job and domain started.
        Killed => "killed",
    }
}

stored_word! {
    /// How far a job run got (`job_run.phase`).
    JobPhase, "job phase" {
        /// The coordinator marks the records of its scope `undefined`.
        Preparing => "preparing",
        /// Records are validated; other instances may join.
        Validating => "validating",
        /// The coordinator takes over what is left.
        Sweeping => "sweeping",
        /// Over.
        Done => "done",
    }
}

stored_word! {
    /// The part an instance takes in a job run (`job_run_instance.role`).
    InstanceRole, "instance role" {
        /// The instance that started the run and finishes it.
        Coordinator => "coordinator",
        /// An instance that joined a run another one coordinates.
        Worker => "worker",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_word_reads_back_as_itself() {
        for s in ValidationState::ALL {
            assert_eq!(ValidationState::parse(s.as_str()), Ok(*s));
        }
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Ok(*s));
        }
        for s in JobPhase::ALL {
            assert_eq!(JobPhase::parse(s.as_str()), Ok(*s));
        }
        for s in InstanceRole::ALL {
            assert_eq!(InstanceRole::parse(s.as_str()), Ok(*s));
        }
    }

    #[test]
    fn a_word_not_in_the_list_is_refused_with_its_kind() {
        let err = ValidationState::parse("Valid").unwrap_err();
        assert_eq!(err.what, "zmods_validation state");
        assert_eq!(err.value, "Valid");
        assert!(JobStatus::parse("done").is_err());
        assert!(JobPhase::parse("running").is_err());
        assert!(InstanceRole::parse("leader").is_err());
    }
}
