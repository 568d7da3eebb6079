//! `oresund subject-report`: what the node holds about one person (GDPR article 15).

use std::path::PathBuf;

use clap::Args;
use oresund_node::Node;
use oresund_node::erasure::Person;

/// What the node holds about one person, for a data subject's access request: their record
/// (sex, year of birth, phenotype and diagnosis terms, consent), the datasets and files that hold
/// them and at how many variants they carry an alternate allele, the access grants to those
/// datasets, how many audited answers drew on those datasets and when, and any withdrawal. The
/// report is recorded in the audit log (by pseudonym). The local id is pseudonymised at once and
/// never stored or printed.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  oresund subject-report dk-node --individual 070248-4770 --format text > letter.txt"
)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["individual", "pseudonym"]))]
pub struct SubjectReportArgs {
    pub node_dir: PathBuf,
    /// The person's local id (CPR number, personnummer); `-` reads it from standard input.
    #[arg(long)]
    pub individual: Option<String>,
    /// The person's pseudonym.
    #[arg(long)]
    pub pseudonym: Option<String>,
    /// `json` (documented in the README) or `text`.
    #[arg(long, default_value = "json", value_parser = ["json", "text"])]
    pub format: String,
}

pub fn run(args: SubjectReportArgs) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let id = args.individual.as_deref().map(crate::commands::withdraw::local_id).transpose()?;
    let person = match (&id, &args.pseudonym) {
        (Some(id), _) => Person::LocalId(id),
        (None, Some(p)) => Person::Pseudonym(p),
        (None, None) => anyhow::bail!("say whose report: --individual LOCAL_ID or --pseudonym PSEUDONYM"),
    };
    let report = node.subject_report(person, "operator")?;
    match args.format.as_str() {
        "text" => print!("{}", report.text()),
        _ => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(())
}
