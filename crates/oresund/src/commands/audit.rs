//! `oresund audit`: check and read the node's hash-chained audit log.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_core::audit::verify_with_head;
use oresund_core::time::{parse_rfc3339, rfc3339};
use oresund_node::Node;
use oresund_store::AuditQuery;

/// The audit log: every request decision and every data access committee action, each entry
/// holding the SHA-256 of the one before it.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  oresund audit verify dk-node\n  oresund audit verify dk-node --against-peer GMS\n  \
oresund audit show dk-node --user 'https://login.example.org/#alice' --since 2026-11-01\n  \
oresund audit show dk-node --dataset DK-COHORT-1 --since 2026-11-25T08:00:00Z --until 2026-11-25T18:00:00Z"
)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain: exits with an error naming the first edited, removed or reordered entry.
    Verify {
        node_dir: PathBuf,
        /// Also check the chain against the head this peer (its id or url in `[network]`) keeps
        /// for the node: finds entries removed from the end, or a chain rewritten and rehashed,
        /// which the database alone cannot show.
        #[arg(long, value_name = "PEER_ID_OR_URL")]
        against_peer: Option<String>,
        /// Peers file to find the peer in (default: the `[network]` section of oresund.toml).
        #[arg(long, requires = "against_peer")]
        peers: Option<PathBuf>,
    },
    /// Print entries (tab-separated: seq, time, actor, action, decision, granularity, datasets,
    /// resource, detail, subject — the researcher an entry concerns when another acted), oldest first.
    Show {
        node_dir: PathBuf,
        /// Only entries by or about this user id (`iss#sub`, a token user, a committee member's name,
        /// `anonymous`, `unauthenticated`): what they did, and what others did concerning them.
        #[arg(long)]
        user: Option<String>,
        /// Only entries about this dataset.
        #[arg(long)]
        dataset: Option<String>,
        /// From this UTC time on (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ).
        #[arg(long)]
        since: Option<String>,
        /// Up to this UTC time.
        #[arg(long)]
        until: Option<String>,
        /// Output format.
        #[arg(long, default_value = "tsv", value_parser = ["tsv", "json"])]
        format: String,
    },
}

pub fn run(args: AuditArgs, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        AuditCommand::Verify { node_dir, against_peer, peers } => {
            let node = Node::open(&node_dir)?;
            // The head first: entries a running server appends meanwhile come after it.
            let (seq, hash) = node.audit_head()?;
            let mut entries = node.audit_entries(&AuditQuery::default())?;
            entries.retain(|e| e.seq <= seq);
            verify_with_head(&entries, (seq, &hash))
                .map_err(|e| anyhow::anyhow!("the audit log was tampered with: {e}"))?;
            if !quiet {
                eprintln!("audit log intact: {} entries, head {hash}", entries.len());
            }
            if let Some(peer) = against_peer {
                let matched = super::audit_peer::verify(&node, &peer, peers.as_deref(), seq)?;
                if !quiet {
                    eprintln!("{matched}");
                }
            }
        }
        AuditCommand::Show { node_dir, user, dataset, since, until, format } => {
            let time = |t: Option<String>, name: &str| -> anyhow::Result<Option<String>> {
                t.map(|t| parse_rfc3339(&t).map(rfc3339).map_err(|e| anyhow::anyhow!("--{name}: {e}"))).transpose()
            };
            let query = AuditQuery {
                user,
                dataset,
                since: time(since, "since")?,
                until: time(until, "until")?,
                ..AuditQuery::default()
            };
            let node = Node::open(&node_dir)?;
            for entry in node.audit_entries(&query)? {
                let r = &entry.record;
                if format == "json" {
                    println!("{}", serde_json::to_string(&entry)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        entry.seq,
                        r.time,
                        r.actor,
                        r.action,
                        r.decision,
                        r.granularity.as_deref().unwrap_or("-"),
                        r.datasets.join(","),
                        r.resource,
                        r.detail.replace(['\t', '\n'], " "),
                        r.subject.as_deref().unwrap_or("-")
                    );
                }
            }
        }
    }
    Ok(())
}
