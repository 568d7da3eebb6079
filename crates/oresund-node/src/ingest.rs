//! `oresund ingest`: one VCF (or BCF, archived as its VCF text: `archive/bcf.rs`) and its individuals
//! file into a dataset, atomically and idempotently.
//!
//! Everything happens inside one store transaction: individuals, the file record, every variant's
//! carriers and the references to the encrypted originals in the archive become visible together
//! at commit, or not at all. A file whose SHA-256 the dataset already holds is recognised and not
//! ingested twice.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use oresund_core::individual::Individual;
use oresund_core::pseudonym::PseudonymBits;
use oresund_ingest::bcf::is_bcf_file;
use oresund_ingest::individuals::{Person, read_individuals};
use oresund_ingest::pipeline::{PipelineError, Summary, normalise_vcf_beside};
use oresund_ingest::vcf::reader::{VcfError, VcfReader};
use oresund_ingest::warning::Warning;
use oresund_store::{
    ArchiveKind, IndividualNumber, IngestStats, IngestTransaction, NewFile, StoreError, StoredFile, VariantKey,
    Withdrawal,
};

use crate::archive::bcf::archive_bcf;
use crate::archive::error::ArchiveError;
use crate::archive::ingest::{open_tapped, open_tapped_bcf};
use crate::archive::originals::Originals;
use crate::archive::{INDEX_SUFFIX, INDIVIDUALS_SUFFIX};
use crate::erasure::error::ErasureError;
use crate::error::NodeError;
use crate::genotype_agreement::GenotypeAgreement;
use crate::node::Node;

/// People stored per call while their file is read: a national cohort's file is not held whole
/// (at 60,000 people the parsed list took 39 MB, of the 64 MB a whole ingest may take: issue #19).
/// Debug builds (the tests) store 64 at a time, so that their cohorts of hundreds cross several
/// calls.
const PEOPLE_AT_ONCE: usize = if cfg!(debug_assertions) { 64 } else { 1024 };

/// What `ingest` did.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestOutcome {
    Ingested {
        accession: String,
        stats: IngestStats,
        individuals: usize,
        /// About lines of the individuals file.
        warnings: Vec<Warning>,
        /// About lines of the VCF (malformed ALT alleles, skipped).
        vcf_warnings: Vec<Warning>,
        /// Individuals this file shares with earlier files of the dataset (see [`shared_people`]).
        shared: Option<String>,
    },
    /// The dataset already holds a file with the same SHA-256; nothing was added.
    AlreadyIngested { accession: String },
}

/// Dataset ids appear in URLs and accessions: keep them plain.
pub fn check_dataset_id(id: &str) -> Result<(), NodeError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if ok { Ok(()) } else { Err(NodeError::DatasetId(id.to_string())) }
}

impl Node {
    /// Ingests `vcf` with the metadata in `individuals` into `dataset`. `progress` receives the
    /// compressed bytes of the VCF read so far (the VCF's size is the total).
    ///
    /// Both files are first archived, encrypted to a new file key sealed to the node key
    /// (`archive/file_keys.rs`; hashing on the way, one pass); the catalog transaction then refers
    /// to the archived objects and commits them with the file. If anything fails the objects and
    /// the file key are removed; if the process is killed they are left unreferenced, invisible,
    /// for `archive gc`.
    pub fn ingest(
        &self,
        dataset: &str,
        vcf: &Path,
        individuals: &Path,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<IngestOutcome, NodeError> {
        check_dataset_id(dataset)?;
        let _writer = self.lock_writers()?;
        let objects = self.archive()?;
        let mut originals = Originals::new(&objects, &self.key_files())?;
        let result = self.ingest_archiving(dataset, vcf, individuals, &mut originals, progress);
        if !matches!(result, Ok(IngestOutcome::Ingested { .. })) {
            // Refused, failed or already there: the objects written here must not linger.
            originals.discard();
        }
        result
    }

    fn ingest_archiving(
        &self,
        dataset: &str,
        vcf: &Path,
        individuals: &Path,
        originals: &mut Originals<'_>,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<IngestOutcome, NodeError> {
        // The individuals file is read once, into memory: the archived bytes are the parsed bytes.
        let metadata_bytes = std::fs::read(individuals).map_err(|e| NodeError::io(individuals, e))?;
        let metadata_object = originals.store(&metadata_bytes[..])?;
        // A BCF is archived as its VCF text (`archive/bcf.rs`), indexed as it is written.
        let bcf = is_bcf_file(vcf).map_err(|e| NodeError::io(vcf, e))?;
        let (vcf_object, written) = if bcf {
            let archived = archive_bcf(vcf, originals)?;
            (archived.stored, Some((archived.index, archived.source)))
        } else {
            let vcf_file = File::open(vcf).map_err(|e| NodeError::io(vcf, e))?;
            (originals.store(BufReader::with_capacity(1 << 20, vcf_file))?, None)
        };
        let (sha256, size) = (vcf_object.plaintext_sha256.clone(), vcf_object.plaintext_size);
        if let Some(existing) = self.store.find_file(dataset, &sha256)? {
            return Ok(IngestOutcome::AlreadyIngested { accession: existing.accession });
        }
        let pseudonymiser = self.pseudonymiser()?;
        // The individuals file's header is checked before the VCF's, its rows once the VCF's
        // header has named the sample columns.
        let mut people = read_individuals(&metadata_bytes[..], &pseudonymiser, self.hpo()?)
            .map_err(|error| NodeError::Individuals { path: individuals.to_path_buf(), error })?;
        // For a BCF, lines are those of `bcftools view --no-version` (the same text).
        let (input, tap): (Box<dyn BufRead + Send>, _) = if bcf {
            let (text, tap) = open_tapped_bcf(vcf, progress).map_err(|e| NodeError::io(vcf, e))?;
            (Box::new(text), tap)
        } else {
            open_tapped(vcf, progress).map_err(|e| NodeError::io(vcf, e))?
        };
        let reader = VcfReader::from_reader(vcf, input)?;
        // Sample names are unique (the reader refuses a repeated one), so their pseudonyms are.
        let samples: HashMap<PseudonymBits, usize> =
            reader.header().samples.iter().enumerate().map(|(column, s)| (pseudonymiser.bits(s), column)).collect();
        // A participant who withdrew is not taken in again (erasure/mod.rs).
        let withdrawals: HashMap<String, Withdrawal> = self
            .store
            .withdrawals()?
            .into_iter()
            .filter(|w| w.dataset.as_deref().is_none_or(|d| d == dataset))
            .map(|w| (w.pseudonym.clone(), w))
            .collect();
        let earlier: Vec<StoredFile> = self.store.files()?;
        let mut tx = self.store.begin_ingest()?;
        // People are stored as they are read, a thousand at a time; of each, only the number of a
        // sample column is kept. A refusal here rolls them back with the transaction.
        let mut numbers: Vec<Option<IndividualNumber>> = vec![None; samples.len()];
        let mut batch = Vec::with_capacity(PEOPLE_AT_ONCE);
        let mut count = 0;
        for person in people.by_ref() {
            let Person { line, individual } =
                person.map_err(|error| NodeError::Individuals { path: individuals.to_path_buf(), error })?;
            if let Some(withdrawal) = withdrawals.get(individual.pseudonym.as_str()) {
                let what = match individual.pseudonym.bits().and_then(|bits| samples.get(&bits)) {
                    Some(column) => format!("{}: sample column {}", vcf.display(), column + 1),
                    None => format!("{}:{line}", individuals.display()),
                };
                let scope = withdrawal
                    .dataset
                    .as_ref()
                    .map_or_else(|| "from every dataset".into(), |d| format!("from dataset {d}"));
                return Err(ErasureError::Withdrawn { what, scope, recorded: withdrawal.recorded.clone() }.into());
            }
            batch.push(individual);
            count += 1;
            if batch.len() == PEOPLE_AT_ONCE {
                store_people(tx.as_mut(), &mut batch, &samples, &mut numbers)?;
            }
        }
        store_people(tx.as_mut(), &mut batch, &samples, &mut numbers)?;
        let individual_warnings = people.into_warnings();
        drop((metadata_bytes, samples, withdrawals));
        // Each sample column must be a person described in the individuals file. Messages give
        // the column, never the sample name: it is a personal identifier.
        let columns = numbers
            .into_iter()
            .enumerate()
            .map(|(column, number)| {
                number.ok_or_else(|| {
                    reader.error_at(
                        reader.header().lines,
                        format!(
                            "sample column {} is not described in {}; every sample needs a row there",
                            column + 1,
                            individuals.display()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<IndividualNumber>, VcfError>>()?;
        let shared = shared_people(&columns, &earlier);
        let mut agreement = GenotypeAgreement::new(&columns, &earlier);
        let store = self.store.as_ref();
        let width = columns.len();
        let name = file_name(vcf);
        let new_file = NewFile { dataset: dataset.to_string(), name: name.clone(), sha256, size, columns };
        let (file, accession) = tx.add_file(&new_file, &self.config.node_id)?;
        let path = vcf.to_path_buf();
        // The parsing runs on its own thread; the catalog's writes here, beside it.
        let summary: Summary = normalise_vcf_beside(reader, &self.reference, |v| {
            let key =
                VariantKey { contig: v.contig as u32, pos: v.pos, reference: v.reference, alternate: v.alternate };
            tx.add_variant(file, &key, &v.vrs_id, &v.carriers.encode(width), &v.haploid).map_err(|e| match e {
                // Ordering problems are the file's: say where.
                StoreError::Conflict(message) => {
                    NodeError::Vcf(VcfError::Record { path: path.clone(), line: v.line, message })
                }
                other => NodeError::Store(other),
            })?;
            if !agreement.is_empty() {
                let length = self.reference.contigs().get(v.contig).map_or(u64::MAX, |c| c.length);
                if let Some(disagreement) = agreement.check(store, &key, length, &v.carriers)? {
                    let message = format!(
                        "{}:{} {}>{}: {disagreement}",
                        self.reference.contigs().get(v.contig).map_or("?", |c| c.name.as_str()),
                        key.pos,
                        key.reference,
                        key.alternate
                    );
                    return Err(NodeError::Vcf(VcfError::Record { path: path.clone(), line: v.line, message }));
                }
            }
            Ok(())
        })
        .map_err(|e| match e {
            PipelineError::Vcf(e) => NodeError::Vcf(e),
            PipelineError::Sink(e) => e,
        })?;
        // The reader is dropped (the decompressor stopped), so the tap has seen every raw byte.
        let tapped = tap.finish();
        // What was indexed must be what was archived: the same raw bytes were read both times.
        let (archived_sha256, archived_size, index) = match written {
            Some((index, source)) => (source.sha256, source.size, Some(index)),
            None => (vcf_object.plaintext_sha256.clone(), vcf_object.plaintext_size, tapped.index),
        };
        if (tapped.sha256.as_str(), tapped.size) != (archived_sha256.as_str(), archived_size) {
            return Err(ArchiveError::ChangedDuringIngest { path: vcf.to_path_buf() }.into());
        }
        let archived_name = if bcf { vcf_text_name(&name) } else { name.clone() };
        tx.add_archive_object(&vcf_object.record(accession.clone(), file, ArchiveKind::Vcf, archived_name.clone()))?;
        let metadata_accession = format!("{accession}{INDIVIDUALS_SUFFIX}");
        tx.add_archive_object(&metadata_object.record(
            metadata_accession,
            file,
            ArchiveKind::Individuals,
            file_name(individuals),
        ))?;
        if let Some(index) = index {
            // Its text is read as it is encrypted, not built whole first (the ingest's peak memory).
            let stored = originals.store(index.text())?;
            drop(index);
            let accession = format!("{accession}{INDEX_SUFFIX}");
            tx.add_archive_object(&stored.record(
                accession,
                file,
                ArchiveKind::BlockIndex,
                format!("{archived_name}.blocks"),
            ))?;
        }
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
            individuals: count,
            warnings: individual_warnings,
            vcf_warnings: summary.warnings,
            shared,
        })
    }
}

/// Stores `batch` (and empties it), noting the number of each person who is a sample column.
fn store_people(
    tx: &mut dyn IngestTransaction,
    batch: &mut Vec<Individual>,
    samples: &HashMap<PseudonymBits, usize>,
    numbers: &mut [Option<IndividualNumber>],
) -> Result<(), NodeError> {
    if batch.is_empty() {
        return Ok(());
    }
    let stored = tx.upsert_individuals(batch)?;
    for (person, number) in batch.iter().zip(stored) {
        let column = person.pseudonym.bits().and_then(|bits| samples.get(&bits));
        if let Some(slot) = column.and_then(|&column| numbers.get_mut(column)) {
            *slot = Some(number);
        }
    }
    batch.clear();
    Ok(())
}

/// A note when people of this file are already in earlier files (of any dataset). Files split by
/// chromosome share everyone; where two files hold the same variant, each person still counts
/// once (`query.rs`), and ingest has checked that their calls agree ([`GenotypeAgreement`]).
fn shared_people(columns: &[IndividualNumber], earlier: &[StoredFile]) -> Option<String> {
    let mine: std::collections::HashSet<IndividualNumber> =
        columns.iter().copied().filter(|n| *n != IndividualNumber::WITHDRAWN).collect();
    let overlaps: Vec<String> = earlier
        .iter()
        .filter_map(|f| {
            let n = f.columns.iter().filter(|c| mine.contains(c)).count();
            (n > 0).then(|| format!("{n} with {} in {}", f.accession, f.dataset))
        })
        .collect();
    (!overlaps.is_empty()).then(|| {
        format!(
            "individuals of this file are also in earlier files ({}); their calls agree wherever both files hold a \
             variant, and each person is counted once",
            overlaps.join(", ")
        )
    })
}

/// The archived VCF text of a BCF is named as a VCF: `cohort.bcf` → `cohort.vcf.gz`.
fn vcf_text_name(bcf_name: &str) -> String {
    let stem = bcf_name.strip_suffix(".bcf").or_else(|| bcf_name.strip_suffix(".BCF")).unwrap_or(bcf_name);
    format!("{stem}.vcf.gz")
}

/// A path's file name (no directories) for the catalog.
fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
