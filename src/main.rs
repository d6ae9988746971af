//! The `vitrine` command: logging to stderr (filtered by `VITRINE_LOG`), then the
//! command line of [`vitrine::cli`].

use std::process::ExitCode;

/// mimalloc serves the many small, short-lived allocations of validation (node-sets and
/// strings of the XPath evaluator, findings) faster than the C library's allocator;
/// libxml2 and libxslt are switched to it first thing in `main`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    vitrine::xml::alloc::use_mimalloc();
    vitrine::logging::init();
    vitrine::cli::main().await
}
