//! Exit codes and the end of a command, as scripts and Goobi script steps expect them:
//! 0 done, 1 a failure that needs a person, 98 a transient failure after which the step
//! should simply run again (database unreachable or locked, storage full), 130 stopped
//! by Ctrl-C. A closed standard output (`vitrine … | head`) ends the command quietly.

use crate::store::{OpenError, StoreError};

/// A failure that needs a person.
pub const NEEDS_A_PERSON: u8 = 1;
/// A transient failure: Goobi restarts the script step.
pub const TRANSIENT: u8 = 98;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;
/// The exit status of a command whose reader went away (128 + SIGPIPE, as the shell
/// reports a command killed by a closed pipe).
pub const CLOSED_PIPE: u8 = 141;

/// The exit code of a command that failed with `error`.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if is_transient(error) {
        TRANSIENT
    } else {
        NEEDS_A_PERSON
    }
}

/// Whether the command failed because its output was closed: a write error passed up
/// as it is (a database connection's broken pipe arrives wrapped, and is not this).
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Whether anything in the cause chain is a transient failure.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<OpenError>()
            .is_some_and(OpenError::is_transient)
            || cause
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_transient)
            || cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::StorageFull)
    })
}

/// Makes a write to a closed standard output end the process quietly (status 141)
/// instead of with a panic message and status 101: `print!` panics when the reader of a
/// pipe has gone, and this hook recognises exactly that panic.
pub fn end_quietly_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(CLOSED_PIPE));
        }
        default(info);
    }));
}
