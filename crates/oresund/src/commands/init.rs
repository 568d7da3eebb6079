//! `oresund init`.

use std::path::PathBuf;

use clap::Args;
use oresund_node::init::{InitOptions, init};

use crate::progress;

/// Create a node: a directory holding its configuration, reference, ontology, keys and store.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  oresund init dk-node --node-id DK-NGC --country DK --assembly GRCh38 \\\n      --reference reference.fa.gz --hpo hp.obo.gz"
)]
pub struct InitArgs {
    /// Directory to create (must not exist, or be empty).
    pub node_dir: PathBuf,
    /// Node identifier, also the prefix of accessions (DK-NGC → DK-NGC-F000001).
    #[arg(long)]
    pub node_id: String,
    /// ISO 3166-1 alpha-2 country code of the node (DK, SE, ...).
    #[arg(long)]
    pub country: String,
    /// Name of the reference assembly the data is called against.
    #[arg(long, default_value = "GRCh38")]
    pub assembly: String,
    /// Reference FASTA (plain, gzip or bgzip). It is imported into the node; VCFs are checked against it.
    #[arg(long)]
    pub reference: PathBuf,
    /// HPO release (hp.obo, plain or gzip) for phenotype filters with descendant terms.
    #[arg(long)]
    pub hpo: Option<PathBuf>,
}

pub fn run(args: InitArgs, quiet: bool) -> anyhow::Result<()> {
    let total = std::fs::metadata(&args.reference).map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(total, "reference", quiet);
    let options = InitOptions {
        node_id: args.node_id,
        country: args.country,
        assembly: args.assembly,
        reference: args.reference,
        hpo: args.hpo,
    };
    let progress_bar = bar.clone();
    let config = init(&args.node_dir, &options, move |n| progress_bar.set_position(n))?;
    bar.finish_and_clear();
    if !quiet {
        eprintln!(
            "created node {} ({}, {}) in {}",
            config.node_id,
            config.country,
            config.assembly,
            args.node_dir.display()
        );
    }
    Ok(())
}
