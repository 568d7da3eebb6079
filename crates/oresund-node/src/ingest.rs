//! `oresund ingest`: one VCF and its individuals file into a dataset, atomically and idempotently.
//!
//! Everything happens inside one store transaction: individuals, the file record and every
//! variant's carriers become visible together at commit, or not at all. A file whose SHA-256 the
//! dataset already holds is recognised and not ingested twice.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use oresund_ingest::individuals::{Warning, read_individuals};
use oresund_ingest::pipeline::{PipelineError, Summary, normalise_vcf};
use oresund_ingest::vcf::reader::{VcfError, VcfReader};
use oresund_store::{IngestStats, NewFile, StoreError, VariantKey};
use sha2::{Digest, Sha256};

use crate::error::NodeError;
use crate::node::Node;

/// What `ingest` did.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestOutcome {
    Ingested {
        accession: String,
        stats: IngestStats,
        individuals: usize,
        warnings: Vec<Warning>,
    },
    /// The dataset already holds a file with the same SHA-256; nothing was added.
    AlreadyIngested {
        accession: String,
    },
}

/// Dataset ids appear in URLs and accessions: keep them plain.
pub fn check_dataset_id(id: &str) -> Result<(), NodeError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(NodeError::Invalid(format!(
            "dataset id {id:?} must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )))
    }
}

/// SHA-256 (hex) and size of a file.
pub fn sha256_file(path: &Path) -> Result<(String, u64), NodeError> {
    let io = |e| NodeError::io(path, e);
    let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(), size))
}

impl Node {
    /// Ingests `vcf` with the metadata in `individuals` into `dataset`. `progress` receives the
    /// compressed bytes of the VCF read so far (the VCF's size is the total).
    pub fn ingest(
        &self,
        dataset: &str,
        vcf: &Path,
        individuals: &Path,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<IngestOutcome, NodeError> {
        check_dataset_id(dataset)?;
        let lock_path = self.layout.ingest_lock();
        let lock = File::create(&lock_path).map_err(|e| NodeError::io(&lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(NodeError::Busy(lock_path));
        }
        let (sha256, size) = sha256_file(vcf)?;
        if let Some(existing) = self.store.find_file(dataset, &sha256)? {
            return Ok(IngestOutcome::AlreadyIngested { accession: existing.accession });
        }
        let pseudonymiser = self.pseudonymiser()?;
        let metadata = {
            let file = File::open(individuals).map_err(|e| NodeError::io(individuals, e))?;
            read_individuals(BufReader::new(file), &pseudonymiser, self.hpo.as_ref())
                .map_err(|error| NodeError::Individuals { path: individuals.to_path_buf(), error })?
        };
        let mut reader = VcfReader::open(vcf, progress)?;
        // Each sample column must be a person described in the individuals file. Messages give
        // the column, never the sample name: it is a personal identifier.
        let mut positions = Vec::with_capacity(reader.header().samples.len());
        for (column, sample) in reader.header().samples.iter().enumerate() {
            let position = metadata.position(&pseudonymiser.pseudonym(sample)).ok_or_else(|| {
                reader.error_at(
                    reader.header().lines,
                    format!(
                        "sample column {} is not described in {}; every sample needs a row there",
                        column + 1,
                        individuals.display()
                    ),
                )
            })?;
            positions.push(position);
        }
        let mut tx = self.store.begin_ingest()?;
        let numbers = tx.upsert_individuals(&metadata.people)?;
        let columns: Vec<u32> = positions.iter().map(|&p| numbers[p]).collect();
        let width = columns.len();
        let name = vcf.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let new_file = NewFile { dataset: dataset.to_string(), name, sha256, size, columns };
        let (file, accession) = tx.add_file(&new_file, &self.config.node_id)?;
        let path = vcf.to_path_buf();
        let summary: Summary = normalise_vcf(&mut reader, &self.reference, |v| {
            let key =
                VariantKey { contig: v.contig as u32, pos: v.pos, reference: v.reference, alternate: v.alternate };
            tx.add_variant(file, &key, &v.vrs_id, &v.carriers.encode(width), &v.haploid).map_err(|e| match e {
                // Ordering problems are the file's: say where.
                StoreError::Conflict(message) => {
                    NodeError::Vcf(VcfError::Record { path: path.clone(), line: v.line, message })
                }
                other => NodeError::Store(other),
            })
        })
        .map_err(|e| match e {
            PipelineError::Vcf(e) => NodeError::Vcf(e),
            PipelineError::Sink(e) => e,
        })?;
        let stats = IngestStats {
            records: summary.records,
            split: summary.split,
            variants: summary.variants,
            realigned: summary.realigned,
            skipped: summary.skipped,
            duplicates: 0,
        };
        let stats = tx.finish_file(file, &stats)?;
        tx.commit()?;
        Ok(IngestOutcome::Ingested {
            accession,
            stats,
            individuals: metadata.people.len(),
            warnings: metadata.warnings,
        })
    }
}
