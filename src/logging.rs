//! The log on stderr: what an admin reads in a terminal, a journal or a Goobi task log.
//! `VITRINE_LOG` sets the filter (`info`, `debug`, `vitrine=debug,sqlx=info`, …; the
//! `tracing_subscriber::EnvFilter` syntax); without it the default [`DEFAULT_FILTER`]
//! keeps vitrine's own messages at `info` and the libraries' chatter (PostgreSQL notices
//! such as "relation _sqlx_migrations already exists, skipping", the cron scheduler's
//! internal steps) out. Colours only when stderr is a terminal.

use std::io::IsTerminal;

/// The filter when `VITRINE_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tokio_cron_scheduler=warn";

/// The filter for a value of `VITRINE_LOG` (`None`, empty or invalid: the default).
pub fn filter(setting: Option<&str>) -> tracing_subscriber::EnvFilter {
    setting
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| tracing_subscriber::EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER))
}

/// Installs the log for the process: stderr, the filter of `VITRINE_LOG`, colours only
/// on a terminal.
pub fn init() {
    let setting = std::env::var("VITRINE_LOG").ok();
    tracing_subscriber::fmt()
        .with_env_filter(filter(setting.as_deref()))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_filter_keeps_library_notices_out() {
        let text = filter(None).to_string();
        assert!(text.contains("sqlx=warn"), "{text}");
        assert!(text.contains("tokio_cron_scheduler=warn"), "{text}");
        assert_eq!(filter(Some("debug")).to_string(), "debug");
        assert_eq!(filter(Some("")).to_string(), filter(None).to_string());
    }
}
