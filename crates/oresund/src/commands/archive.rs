//! `oresund archive`: the encrypted originals of every ingested file.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use oresund_c4gh::keys::read_public_key_pem;
use oresund_core::region::Region;
use oresund_node::archive::error::ArchiveError;
use oresund_node::{Node, NodeError};
use serde_json::json;

use crate::commands::keys::node_keys;

/// The node's encrypted archive: every ingested VCF and individuals file, kept as Crypt4GH
/// (header and body stored apart), encrypted to the node key.
///
/// Accessions: the VCF has its catalog accession (DK-NGC-F000001), the individuals file given
/// with it the same with -M, and the BGZF block index used for region export -I.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  oresund archive list dk-node\n  oresund archive verify dk-node\n  \
oresund archive export dk-node DK-NGC-F000001 --recipient-key alice.pub > DK.vcf.gz.c4gh\n  \
oresund archive gc dk-node")]
pub struct ArchiveArgs {
    #[command(subcommand)]
    pub command: ArchiveCommand,
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    List(ListArgs),
    Verify(VerifyArgs),
    Export(ExportArgs),
    Gc(GcArgs),
}

/// List archived objects: accession, kind, name, sizes and SHA-256 checksums.
///
/// `plaintext_*` describe the original file, `body_*` the encrypted body as stored; `key_id` is
/// the node key its header is encrypted to. JSON also gives the object paths in the archive.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  oresund archive list dk-node --format json")]
pub struct ListArgs {
    /// Node directory.
    pub node_dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Tsv,
    Json,
}

/// Re-read every stored body and check its SHA-256 and size; with the node key, also decrypt
/// it (checking every segment's MAC) and check the original's SHA-256.
///
/// Every damaged object is reported by accession on stderr; the exit status is non-zero if any
/// is. The node key is unlocked with ORESUND_KEY_PASSPHRASE (or asked for on a terminal); when
/// it cannot be, only the encrypted bodies are checked, and a note says so.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ORESUND_KEY_PASSPHRASE=... oresund archive verify dk-node")]
pub struct VerifyArgs {
    /// Node directory.
    pub node_dir: PathBuf,
}

/// Write an archived object as a Crypt4GH file for one reader (to stdout or --output).
///
/// Only the header is re-encrypted, for the reader's public key; the body is streamed
/// unchanged. The reader decrypts it with `crypt4gh decrypt --sk alice.sec` (Python) or
/// `oresund c4gh decrypt --sk alice.sec` into bytes identical to the ingested file (for an ingested
/// BCF: to its VCF text, as `bcftools view --no-version` prints it, bgzipped).
///
/// With --region (a BGZF-compressed VCF only), the file carries only the compressed blocks of
/// the VCF header, the region's records and the end-of-file block, selected by a Crypt4GH edit
/// list over the unchanged encrypted segments: decrypted, it is a valid bgzipped VCF holding the
/// region's records, possibly with a few neighbours that share their blocks (like htsget). This
/// needs blocks aligned to lines, as `bcftools view -Oz` writes them; files cut into fixed-size
/// blocks that split lines (bgzip 1.16, for one, writes them so) are refused with that
/// explanation.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
oresund archive export dk-node DK-NGC-F000001 --recipient-key alice.pub > DK.vcf.gz.c4gh\n  \
crypt4gh decrypt --sk alice.sec < DK.vcf.gz.c4gh > DK.vcf.gz\n  \
oresund archive export dk-node DK-NGC-F000001 --recipient-key alice.pub --region 22:1-100000 -o part.c4gh")]
pub struct ExportArgs {
    /// Node directory.
    pub node_dir: PathBuf,
    /// Accession of the object (see `oresund archive list`).
    pub accession: String,
    /// The reader's Crypt4GH public key file.
    #[arg(long, value_name = "FILE")]
    pub recipient_key: PathBuf,
    /// Only this region of a bgzipped VCF: CHROM:START-END, 1-based, inclusive.
    #[arg(long)]
    pub region: Option<Region>,
    /// Write here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Remove archive objects no catalog entry refers to (left by an interrupted ingest or key
/// rotation). Waits for no one: refused while an ingest runs.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  oresund archive gc dk-node --dry-run")]
pub struct GcArgs {
    /// Node directory.
    pub node_dir: PathBuf,
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: ArchiveArgs, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        ArchiveCommand::List(args) => list(args),
        ArchiveCommand::Verify(args) => verify(args, quiet),
        ArchiveCommand::Export(args) => export(args, quiet),
        ArchiveCommand::Gc(args) => gc(args, quiet),
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let objects = node.archive_objects()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Tsv => {
            writeln!(
                out,
                "accession\tkind\tname\tplaintext_size\tplaintext_sha256\tbody_size\tbody_sha256\tkey_id\tcreated\tversion"
            )?;
            for o in &objects {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    o.accession,
                    o.kind,
                    o.name,
                    o.plaintext_size,
                    o.plaintext_sha256,
                    o.body_size,
                    o.body_sha256,
                    o.key_id,
                    o.created,
                    o.version
                )?;
            }
        }
        Format::Json => {
            let rows: Vec<_> = objects
                .iter()
                .map(|o| {
                    json!({
                        "accession": o.accession,
                        "kind": o.kind.as_str(),
                        "name": o.name,
                        "plaintext_size": o.plaintext_size,
                        "plaintext_sha256": o.plaintext_sha256,
                        "body_size": o.body_size,
                        "body_sha256": o.body_sha256,
                        "key_id": o.key_id,
                        "version": o.version,
                        "header_object": o.header_path,
                        "body_object": o.body_path,
                        "created": o.created,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn verify(args: VerifyArgs, quiet: bool) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let keys = match node_keys(&node) {
        Ok(keys) => Some(keys),
        Err(NodeError::Archive(ArchiveError::PassphraseRequired(path))) => {
            eprintln!(
                "note: {} is sealed and ORESUND_KEY_PASSPHRASE is not set: checking encrypted bodies only, \
                 not the originals",
                path.display()
            );
            None
        }
        Err(e) => return Err(e.into()),
    };
    let report = node.verify_archive(keys.as_ref(), |_| {})?;
    let mut corrupt = 0;
    for check in report.corrupt() {
        corrupt += 1;
        for problem in &check.problems {
            eprintln!("error: {} ({}): {problem}", check.accession, check.kind);
        }
    }
    let mut unfinished = 0;
    for check in &report.shredded {
        let v = &check.version;
        let state = match (check.sealed_to_node_key, check.key_destroyed, check.objects_deleted) {
            (true, _, _) => "deleted; archived before file keys, so a backup of it opens with the node key until \
                             `oresund keys rotate` retires that key"
                .to_string(),
            (false, true, true) => "unrecoverable: file key destroyed, objects deleted".to_string(),
            (false, true, false) => {
                "unrecoverable: file key destroyed (some objects remain; `oresund archive gc` removes them)".into()
            }
            (false, false, _) => {
                unfinished += 1;
                "NOT YET SHREDDED: its key still exists; run the withdrawal or removal again, or `oresund archive gc`"
                    .into()
            }
        };
        println!("{}\tv{}\tshredded {} ({})\t{state}", v.accession, v.version, v.shredded, v.cause);
    }
    if corrupt > 0 {
        bail!("{corrupt} of {} archived objects are damaged", report.objects.len());
    }
    if unfinished > 0 {
        bail!("{unfinished} shredded versions still have their key");
    }
    if !quiet {
        let decrypted = report.objects.iter().filter(|o| o.plaintext_checked).count();
        let shredded = match report.shredded.len() {
            0 => String::new(),
            n => format!("; {n} old versions shredded"),
        };
        eprintln!(
            "{} archived objects intact ({decrypted} decrypted and checked against the originals' SHA-256){shredded}",
            report.objects.len()
        );
    }
    Ok(())
}

fn export(args: ExportArgs, quiet: bool) -> anyhow::Result<()> {
    let text = oresund_node::fsutil::read_key_file(&args.recipient_key)
        .with_context(|| args.recipient_key.display().to_string())?;
    let recipient = read_public_key_pem(&text).with_context(|| args.recipient_key.display().to_string())?;
    let node = Node::open(&args.node_dir)?;
    // Fail on a wrong accession or key before touching the output.
    node.archive_object(&args.accession)?;
    let keys = node_keys(&node)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| path.display().to_string())?),
        None if std::io::stdout().is_terminal() => {
            bail!("refusing to write a Crypt4GH file to a terminal; redirect stdout or pass --output FILE")
        }
        None => Box::new(crate::commands::c4gh::stdout()?),
    };
    let summary = node.export(&args.accession, &recipient, args.region.as_ref(), &keys, &mut out);
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            if let Some(path) = &args.output {
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
    };
    if !quiet {
        let what = match (summary.region_blocks, &args.region) {
            (Some(blocks), Some(region)) => format!(" (region {region}: {blocks} blocks with records)"),
            _ => String::new(),
        };
        eprintln!(
            "exported {}{what}: {} header bytes re-encrypted, {} body bytes unchanged, {} bytes for the reader",
            args.accession, summary.header_bytes, summary.body_bytes, summary.plaintext_bytes
        );
    }
    Ok(())
}

fn gc(args: GcArgs, quiet: bool) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let summary = node.archive_gc(args.dry_run)?;
    for (path, size) in &summary.unreferenced {
        println!("{path}\t{size}");
    }
    for id in &summary.unreferenced_keys {
        println!("file key {id}");
    }
    if !quiet {
        let verb = if args.dry_run { "would remove" } else { "removed" };
        eprintln!(
            "{verb} {} unreferenced objects and {} unreferenced file keys; {} referenced objects kept",
            summary.unreferenced.len(),
            summary.unreferenced_keys.len(),
            summary.referenced
        );
    }
    Ok(())
}
