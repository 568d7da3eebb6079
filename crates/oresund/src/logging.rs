//! The log of every command: `tracing` events as lines on stderr — text, or one JSON object per
//! line with `--log-format json` — filtered by `RUST_LOG` (default `info` for the servers: one
//! line per request with its id; `warn` for other commands and with `--quiet`). Events carry
//! route shapes, user ids and counts, never a local personal id or a pseudonym.

use tracing_subscriber::EnvFilter;

/// Installs the stderr log for this process; a second call keeps the first.
pub fn init(quiet: bool, json: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}
