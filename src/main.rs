//! The `vitrine` command: logging to stderr (filtered by `VITRINE_LOG`), then the
//! command line of [`vitrine::cli`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    vitrine::logging::init();
    vitrine::cli::main().await
}
