//! `oresund withdraw`: a participant withdraws consent (GDPR article 17).

use std::path::PathBuf;

use clap::Args;
use oresund_node::Node;
use oresund_node::erasure::Person;

use crate::commands::keys::node_keys;

/// Withdraw a participant: from the next request on, no answer of any running server counts
/// them, and every archived file that held them is replaced by a new version without them,
/// the old versions crypto-shredded (their file keys destroyed: unreadable in every copy and
/// backup). One audit entry records the pseudonym and the reason, never the local id. Running
/// it again is harmless, and completes a withdrawal that was interrupted. The node's secret key
/// opens the archived files (ORESUND_KEY_PASSPHRASE if it is sealed).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  oresund withdraw dk-node --individual 070248-4770 --reason 'consent withdrawn, letter of 2026-11-30'\n  \
oresund withdraw dk-node --pseudonym ps_3f2a… --dataset DK-COHORT-1 --reason 'withdrew from the epilepsy study'"
)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["individual", "pseudonym"]))]
pub struct WithdrawArgs {
    pub node_dir: PathBuf,
    /// The participant's local id (CPR number, personnummer), pseudonymised at once, never stored.
    /// `-` reads it from standard input, so that it stays out of the process list and shell history.
    #[arg(long)]
    pub individual: Option<String>,
    /// The participant's pseudonym, as the node's answers and audit log show it.
    #[arg(long)]
    pub pseudonym: Option<String>,
    /// Withdraw from this dataset only (default: every dataset).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Why; kept in the audit log (local ids in it are replaced by pseudonyms).
    #[arg(long)]
    pub reason: String,
}

/// The local id as given, or read from standard input for `-`.
pub fn local_id(given: &str) -> anyhow::Result<String> {
    if given != "-" {
        return Ok(given.to_string());
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let id = line.trim().to_string();
    anyhow::ensure!(!id.is_empty(), "--individual -: no local id on standard input");
    Ok(id)
}

pub fn run(args: WithdrawArgs, quiet: bool) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let id = args.individual.as_deref().map(local_id).transpose()?;
    let person = match (&id, &args.pseudonym) {
        (Some(id), _) => Person::LocalId(id),
        (None, Some(p)) => Person::Pseudonym(p),
        (None, None) => anyhow::bail!("say who withdraws: --individual LOCAL_ID or --pseudonym PSEUDONYM"),
    };
    let keys = node_keys(&node)?;
    let outcome = node.withdraw(person, args.dataset.as_deref(), &args.reason, &keys, "operator")?;
    if !outcome.changed {
        println!("{}\talready withdrawn", outcome.pseudonym);
        if !quiet {
            eprintln!("{} had already been withdrawn; nothing more to do", outcome.pseudonym);
        }
        return Ok(());
    }
    println!("{}\twithdrawn\t{}", outcome.pseudonym, outcome.datasets.join(","));
    for version in &outcome.shredded {
        println!("{}\tv{}\tshredded", version.accession, version.version);
    }
    if !quiet {
        eprintln!(
            "withdrew {} from {}: {} files rewritten without them ({}), {} old versions shredded{}",
            outcome.pseudonym,
            args.dataset.as_deref().unwrap_or("every dataset"),
            outcome.files.len(),
            outcome.files.join(", "),
            outcome.shredded.len(),
            if outcome.individuals_removed > 0 { "; their record is removed" } else { "" }
        );
        warn_sealed_to_node_key(&outcome.sealed_to_node_key);
    }
    Ok(())
}

/// Old versions archived before file keys are unreadable in backups only once the node key is rotated.
pub fn warn_sealed_to_node_key(versions: &[String]) {
    if !versions.is_empty() {
        eprintln!(
            "note: {} were archived before file keys, encrypted to the node key itself: they are deleted here, but a \
             backup holding them stays readable with the node key until `oresund keys rotate` retires it",
            versions.join(", ")
        );
    }
}
