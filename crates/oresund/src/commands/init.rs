//! `oresund init`.

use std::path::PathBuf;

use clap::Args;
use oresund_node::archive::location::ArchiveLocation;
use oresund_node::catalog::check_command_line_url;
use oresund_node::init::{InitOptions, StorageOptions, init_with_storage};

use crate::progress;

/// Create a node: a directory holding its configuration, reference, ontology, keys and store.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  oresund init dk-node --node-id DK-NGC --country DK --assembly GRCh38 \\\n      --reference reference.fa.gz --hpo hp.obo.gz\n\n  \
# At scale: PostgreSQL catalog and S3 archive; passwords and keys from the environment only.\n  \
PGPASSWORD=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... oresund init dk-node --node-id DK-NGC --country DK \\\n      \
--reference reference.fa.gz --catalog 'postgres://oresund@db:5432/dk' \\\n      \
--archive 's3://dk-archive?endpoint=http://127.0.0.1:8333'"
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
    /// PostgreSQL catalog and variant index instead of the embedded database:
    /// postgres://USER@HOST:PORT/DB. The password comes from PGPASSWORD, never from this URL.
    #[arg(long, value_name = "URL")]
    pub catalog: Option<String>,
    /// Where the encrypted archive lives instead of NODE_DIR/archive: a directory, or
    /// s3://BUCKET[/PREFIX]?endpoint=URL with keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    #[arg(long, value_name = "LOCATION")]
    pub archive: Option<String>,
}

pub fn run(args: InitArgs, quiet: bool) -> anyhow::Result<()> {
    // Command lines end up in shell history and process lists: no credentials there.
    if let Some(url) = &args.catalog {
        check_command_line_url(url)?;
    }
    if let Some(location) = &args.archive {
        ArchiveLocation::parse(location, &args.node_dir).map_err(|e| anyhow::anyhow!("--archive: {e}"))?;
    }
    let storage = StorageOptions { catalog: args.catalog, archive: args.archive };
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
    let config = init_with_storage(&args.node_dir, &options, &storage, move |n| progress_bar.set_position(n))?;
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
