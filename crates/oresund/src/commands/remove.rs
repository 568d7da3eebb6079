//! `oresund dataset remove` and `oresund file remove`: taking data out of a node.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_node::Node;
use oresund_node::erasure::RemovalOutcome;

use crate::commands::withdraw::warn_sealed_to_node_key;

/// Datasets of the node.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    #[command(subcommand)]
    pub command: DatasetCommand,
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Remove a dataset: its files leave every answer at once and their archived versions are
    /// crypto-shredded (unreadable in every copy and backup). Recorded in the audit log.
    #[command(
        after_help = "Example:\n  oresund dataset remove dk-node DK-PILOT --reason 'pilot ended; data to be deleted'"
    )]
    Remove {
        node_dir: PathBuf,
        /// The dataset id.
        dataset: String,
        /// Why; kept in the audit log.
        #[arg(long)]
        reason: String,
    },
}

/// Ingested files of the node.
#[derive(Debug, Args)]
pub struct FileArgs {
    #[command(subcommand)]
    pub command: FileCommand,
}

#[derive(Debug, Subcommand)]
pub enum FileCommand {
    /// Remove one ingested file (also the way out of a wrongly ingested one): its variants leave
    /// every answer at once and its archived versions are crypto-shredded. Its accession is never
    /// given again. Recorded in the audit log.
    #[command(
        after_help = "Example:\n  oresund file remove dk-node DK-NGC-F000002 --reason 'ingested into the wrong dataset'"
    )]
    Remove {
        node_dir: PathBuf,
        /// The file's accession (`oresund archive list` shows them).
        accession: String,
        /// Why; kept in the audit log.
        #[arg(long)]
        reason: String,
    },
}

pub fn run_dataset(args: DatasetArgs, quiet: bool) -> anyhow::Result<()> {
    let DatasetCommand::Remove { node_dir, dataset, reason } = args.command;
    let outcome = Node::open(&node_dir)?.remove_dataset(&dataset, &reason, "operator")?;
    report(&outcome, &format!("dataset {dataset}"), quiet);
    Ok(())
}

pub fn run_file(args: FileArgs, quiet: bool) -> anyhow::Result<()> {
    let FileCommand::Remove { node_dir, accession, reason } = args.command;
    let outcome = Node::open(&node_dir)?.remove_file(&accession, &reason, "operator")?;
    report(&outcome, &accession, quiet);
    Ok(())
}

fn report(outcome: &RemovalOutcome, what: &str, quiet: bool) {
    if outcome.files.is_empty() {
        println!("{what}\talready removed");
        if !quiet {
            eprintln!("{what} had already been removed; nothing more to do");
        }
        return;
    }
    for version in &outcome.shredded {
        println!("{}\tv{}\tshredded", version.accession, version.version);
    }
    if !quiet {
        eprintln!(
            "removed {what}: {} files ({}), {} archived versions shredded, {} individuals no other file holds removed",
            outcome.files.len(),
            outcome.files.join(", "),
            outcome.shredded.len(),
            outcome.individuals_removed
        );
        warn_sealed_to_node_key(&outcome.sealed_to_node_key);
    }
}
