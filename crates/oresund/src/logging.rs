//! The log of `serve` and `portal`: `tracing` events as lines on stderr, filtered by `RUST_LOG`
//! (default `info`: one line per request; with `--quiet`, warnings and errors only).

use tracing_subscriber::EnvFilter;

/// Installs the stderr log for this process; a second call keeps the first.
pub fn init(quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}
