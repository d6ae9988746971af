//! The `vitrine` command: logging to stderr (filtered by `VITRINE_LOG`), then the
//! command line of [`vitrine::cli`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VITRINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    vitrine::cli::main().await
}
