//! `oresund report`: the node's cost-and-value report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use oresund_core::time::{parse_rfc3339, rfc3339};
use oresund_node::Node;
use oresund_node::report::{Period, Report, csv, html};

/// What the node holds and costs, how it is used, how its committee decides, what it delivered
/// and how it protected participants — from the catalog, the archive and the audit log.
///
/// Holdings are as of now; everything else covers the period (`--since`/`--until`, inclusive,
/// UTC; the whole log by default). Storage is priced from `[economy]` in oresund.toml
/// (`currency`, `storage_per_tb_month`, `per_1000_requests`; defaults 20 EUR per TB-month and
/// 0.40 EUR per 1,000 requests). Callers' countries come from the node's country (its own
/// visas and operator tokens), `country` of `[[access.issuers]]`, and network peers.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  oresund report dk-node -o report.html\n  \
oresund report dk-node --since 2026-01-01 --until 2026-06-30 --format csv -o h1.csv\n  \
oresund report dk-node --format json | jq .cost.perGenomeYear\n\n\
The JSON schema (oresund-report/3) is documented in the README.")]
pub struct ReportArgs {
    /// Node directory.
    pub node_dir: PathBuf,
    /// From this UTC time on (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ).
    #[arg(long)]
    pub since: Option<String>,
    /// Up to this UTC time; a date alone includes that whole day.
    #[arg(long)]
    pub until: Option<String>,
    /// Output format (default: from the extension of -o, else json).
    #[arg(long, value_parser = ["html", "json", "csv"])]
    pub format: Option<String>,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(args: ReportArgs, quiet: bool) -> anyhow::Result<()> {
    let format = args.format.clone().unwrap_or_else(|| format_of(args.output.as_deref()).into());
    let period = Period {
        since: bound(args.since.as_deref(), "since", 0)?,
        until: bound(args.until.as_deref(), "until", 86_399)?,
    };
    if let (Some(since), Some(until)) = (&period.since, &period.until)
        && since > until
    {
        anyhow::bail!("--since {since} is after --until {until}");
    }
    let node = Node::open(&args.node_dir)?;
    let started = Instant::now();
    let report = node.report(&period, own_issuers(&node))?;
    let text = render(&report, &format)?;
    match &args.output {
        Some(path) => oresund_node::fsutil::write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    tracing::info!(entries = report.audit_entries, seconds = started.elapsed().as_secs_f64(), "report computed");
    if !quiet {
        let to = args.output.as_ref().map_or("standard output".into(), |p| p.display().to_string());
        eprintln!(
            "report of {} ({} audit entries read in {:.1} s) written to {to}",
            report.node,
            report.audit_entries,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn render(report: &Report, format: &str) -> anyhow::Result<String> {
    Ok(match format {
        "html" => html::render(report),
        "csv" => csv::render(report),
        _ => serde_json::to_string_pretty(report)? + "\n",
    })
}

fn format_of(output: Option<&Path>) -> &'static str {
    match output.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        Some("html" | "htm") => "html",
        Some("csv") => "csv",
        _ => "json",
    }
}

/// A period bound as RFC 3339; `end_of_day` seconds are added to a date given alone.
fn bound(text: Option<&str>, name: &str, end_of_day: i64) -> anyhow::Result<Option<String>> {
    let Some(text) = text else { return Ok(None) };
    let unix = parse_rfc3339(text).map_err(|e| anyhow::anyhow!("--{name}: {e}"))?;
    let date_only = !text.trim().contains(['T', 't', ' ']);
    Ok(Some(rfc3339(if date_only { unix + end_of_day } else { unix })))
}

/// The `iss` this node signs its visas with: its configured base URL, else its listen address
/// (as `serve` derives it).
fn own_issuers(node: &Node) -> Vec<String> {
    let server = &node.config.server;
    let mut issuers = vec![format!("http://{}", server.listen)];
    issuers.extend(server.base_url.clone());
    issuers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_alone_as_until_takes_the_whole_day() {
        assert_eq!(bound(Some("2026-11-30"), "until", 86_399).unwrap().as_deref(), Some("2026-11-30T23:59:59Z"));
        assert_eq!(bound(Some("2026-11-30"), "since", 0).unwrap().as_deref(), Some("2026-11-30T00:00:00Z"));
        assert_eq!(
            bound(Some("2026-11-30T10:00:00Z"), "until", 86_399).unwrap().as_deref(),
            Some("2026-11-30T10:00:00Z")
        );
        assert!(bound(Some("yesterday"), "since", 0).unwrap_err().to_string().contains("--since"));
        assert_eq!(format_of(Some(Path::new("r.HTML"))), "json");
        assert_eq!(format_of(Some(Path::new("r.html"))), "html");
    }
}
