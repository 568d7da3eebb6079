//! Progress bars on stderr: shown on a terminal, silent in pipes, logs and with `--quiet`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-count bar for reading a file of `total` bytes.
pub fn bytes(total: u64, message: &str, quiet: bool) -> ProgressBar {
    bar(total, message, quiet, "{msg:>12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
}

/// A bar counting `total` items.
pub fn items(total: u64, message: &str, quiet: bool) -> ProgressBar {
    bar(total, message, quiet, "{msg:>12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
}

fn bar(total: u64, message: &str, quiet: bool, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}
