//! Logging: human-readable by default, JSON lines with `MAITRED_LOG_FORMAT=json`. The level
//! comes from `RUST_LOG` (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    if format == LogFormat::Json {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}
