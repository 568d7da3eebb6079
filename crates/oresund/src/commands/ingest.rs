//! `oresund ingest`.

use std::path::PathBuf;

use clap::Args;
use oresund_node::Node;
use oresund_node::ingest::IngestOutcome;

use crate::progress;

/// Ingest a multi-sample VCF (or BCF) and its individuals file into a dataset.
///
/// Every record is checked against the node's reference, normalised exactly like
/// `bcftools norm -f REF -m -any` and indexed; local ids are replaced by keyed pseudonyms.
/// The ingest is atomic (a failure or kill leaves the node as it was) and idempotent (the same
/// file twice into one dataset adds nothing).
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  oresund ingest dk-node --dataset DK-COHORT-1 --individuals DK.individuals.tsv DK.vcf.gz\n\n\
The individuals file is tab-separated with a header: local_id, sex, birth_year, hpo_terms,\n\
icd10_codes, consent (lists comma-separated). Every VCF sample must have a row."
)]
pub struct IngestArgs {
    /// Node directory made by `oresund init`.
    pub node_dir: PathBuf,
    /// The VCF (plain, gzip or bgzip; multi-sample, GT first in FORMAT) or BCF (as `bcftools
    /// view -Ob` or `-Ou` write it). A BCF is read as the text `bcftools view --no-version` prints
    /// for it: that text is archived (as FILE.vcf.gz), and error lines are its lines.
    pub vcf: PathBuf,
    /// Dataset to ingest into (created on first use).
    #[arg(long)]
    pub dataset: String,
    /// Individuals metadata (TSV) describing every sample of the VCF.
    #[arg(long)]
    pub individuals: PathBuf,
}

pub fn run(args: IngestArgs, quiet: bool) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let total = std::fs::metadata(&args.vcf).map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(total, "ingest", quiet);
    let progress_bar = bar.clone();
    let outcome = node.ingest(&args.dataset, &args.vcf, &args.individuals, move |n| progress_bar.set_position(n));
    bar.finish_and_clear();
    match outcome? {
        IngestOutcome::AlreadyIngested { accession } => {
            eprintln!(
                "{} is already in dataset {} as {accession} (same SHA-256); nothing added",
                args.vcf.display(),
                args.dataset
            );
        }
        IngestOutcome::Ingested { accession, stats, individuals, warnings, vcf_warnings, shared } => {
            for warning in &vcf_warnings {
                eprintln!("warning: {}:{warning}", args.vcf.display());
            }
            for warning in &warnings {
                eprintln!("warning: {}:{warning}", args.individuals.display());
            }
            if let Some(shared) = shared {
                eprintln!("note: {}: {shared}", args.vcf.display());
            }
            if !quiet {
                eprintln!("ingested {} into {} as {accession}", args.vcf.display(), args.dataset);
                eprintln!("  individuals described   {individuals}");
                eprintln!("  records read            {}", stats.records);
                eprintln!("  multi-allelic, split    {}", stats.split);
                eprintln!("  variants written        {}", stats.variants);
                eprintln!("  realigned               {}", stats.realigned);
                eprintln!("  rejected (no ALT, symbolic, *) {}", stats.skipped);
                if stats.duplicates > 0 {
                    eprintln!("  duplicates after normalisation (kept once) {}", stats.duplicates);
                }
            }
        }
    }
    Ok(())
}
