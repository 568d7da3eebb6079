//! Allele counts for a variant over any cohort filter, and the counting every region count
//! ([`crate::region_count`]) shares: the question every other part of Øresund (CLI, Beacon,
//! network) asks.

use std::sync::Arc;

use oresund_core::carrier_links::CarrierBytes;
use oresund_core::carrier_order::ColumnOrder;
use oresund_core::carriers::{AlleleCounts, ColumnFilter, EncodedCarriers, allele_slots};
use oresund_core::variant::Variant;
use oresund_ingest::normalize::{check_reference, realign};
use oresund_store::{FileCalls, FileNumber, IndividualNumber, StoreError, VariantCalls, VariantKey};

use crate::cohort::{CohortFilter, PreparedFilter};
use crate::error::NodeError;
use crate::node::Node;

/// Counts for one variant: in total and per dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantCount {
    pub variant: Variant,
    pub vrs_id: String,
    pub counts: AlleleCounts,
    /// Per dataset, in order of dataset id.
    pub datasets: PerDataset,
}

/// Counts per dataset, in order of dataset id.
pub(crate) type PerDataset = Vec<(Arc<str>, AlleleCounts)>;

/// One file's calls of one variant.
struct FileEntry<'a> {
    file: FileNumber,
    haploid_set: u32,
    carriers: CarrierBytes<'a>,
}

fn parse_carriers(bytes: CarrierBytes<'_>, columns: usize) -> Result<EncodedCarriers<'_>, NodeError> {
    bytes.parse(columns).map_err(|e| NodeError::Store(StoreError::Corrupt(e.to_string())))
}

/// Adds `counts` to `dataset`'s entry, keeping the list ordered by dataset id.
pub(crate) fn add_dataset(datasets: &mut PerDataset, dataset: &Arc<str>, counts: AlleleCounts) {
    match datasets.binary_search_by(|(d, _)| d.as_ref().cmp(dataset.as_ref())) {
        Ok(i) => datasets[i].1 += counts,
        Err(i) => datasets.insert(i, (dataset.clone(), counts)),
    }
}

impl Node {
    /// Normalises a query variant as ingest normalises data, so a right-shifted indel finds its
    /// left-aligned record. Errors when the contig is unknown or REF does not match.
    pub fn normalise(&self, variant: &Variant) -> Result<VariantKey, NodeError> {
        let (index, _) = self.contig(variant.chrom())?;
        let sequence = self.sequence(index)?;
        check_reference(&sequence, variant.chrom(), variant.pos(), variant.reference().as_bytes())?;
        let n = realign(&sequence, variant.pos(), variant.reference().as_bytes(), variant.alternate().as_bytes())?;
        Ok(VariantKey {
            contig: index as u32,
            pos: n.pos,
            reference: String::from_utf8_lossy(&n.reference).into_owned(),
            alternate: String::from_utf8_lossy(&n.alternate).into_owned(),
        })
    }

    pub(crate) fn contig(&self, name: &str) -> Result<(usize, u64), NodeError> {
        self.reference.contig(name).map(|(i, c)| (i, c.length)).ok_or_else(|| {
            let known: Vec<&str> = self.reference.contigs().iter().map(|c| c.name.as_str()).take(30).collect();
            NodeError::UnknownContig { name: name.to_string(), known: known.join(", ") }
        })
    }

    /// A contig's sequence; the reference index names every contig, so a missing one is damage.
    fn sequence(&self, index: usize) -> Result<oresund_ingest::reference::ContigSequence<'_>, NodeError> {
        self.reference
            .sequence(index)
            .ok_or_else(|| NodeError::Damaged(format!("the reference has no sequence for contig number {index}")))
    }

    /// Counts for one variant; `None` when no ingested file the filter admits has it.
    pub fn count_variant(&self, variant: &Variant, filter: &CohortFilter) -> Result<Option<VariantCount>, NodeError> {
        let key = self.normalise(variant)?;
        let prepared = self.prepare_filter(filter)?;
        match self.store.variant(&key)? {
            Some(calls) => self.count_calls(&calls, &prepared),
            None => Ok(None),
        }
    }

    /// One variant, as a block of the contig numbered `contig` stores it.
    pub(crate) fn stored_variant(
        &self,
        contig: usize,
        pos: u64,
        reference: &str,
        alternate: &str,
    ) -> Result<Variant, StoreError> {
        let chrom = &self.reference.contigs()[contig].name;
        // Stored alleles were checked at ingest; one that is not a variant is damage.
        Variant::new(chrom.as_str(), pos, reference, alternate)
            .map_err(|e| StoreError::Corrupt(format!("stored variant at {chrom}:{pos}: {e}")))
    }

    /// Counts one variant over the files holding it, each person once: a person several of these
    /// files hold is counted in the first of them only, for the total and within each dataset
    /// (issue #17: files are not trusted to hold different people).
    fn count_files(
        &self,
        prepared: &PreparedFilter,
        entries: &mut [FileEntry<'_>],
    ) -> Result<(AlleleCounts, PerDataset), NodeError> {
        entries.sort_by_key(|e| e.file);
        let mut total = AlleleCounts::default();
        let mut datasets = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let Some(scope) = prepared.file(entry.file) else { continue };
            let Some(shadowed) = prepared.shadowed(entry.file, |f| entries[..i].iter().any(|e| e.file == f)) else {
                let counts = self.count_entry(prepared, entry.file, entry.haploid_set, entry.carriers)?;
                total += counts;
                add_dataset(&mut datasets, &scope.dataset, counts);
                continue;
            };
            let carriers = parse_carriers(entry.carriers, scope.columns)?;
            let haploid = self.haploid_set(entry.file, entry.haploid_set)?;
            let count_without = |removed: Option<&ColumnFilter>| match removed {
                None => {
                    carriers.counts(scope.filter.as_ref(), allele_slots(scope.columns, &haploid, scope.filter.as_ref()))
                }
                Some(removed) => {
                    let kept = ColumnFilter::without(scope.filter.as_ref(), scope.columns, removed);
                    carriers.counts(Some(&kept), allele_slots(scope.columns, &haploid, Some(&kept)))
                }
            };
            total += count_without(shadowed.total.as_ref());
            add_dataset(&mut datasets, &scope.dataset, count_without(shadowed.dataset.as_ref()));
        }
        Ok((total, datasets))
    }

    pub(crate) fn count_entry(
        &self,
        prepared: &PreparedFilter,
        file: FileNumber,
        haploid_set: u32,
        carriers: CarrierBytes<'_>,
    ) -> Result<AlleleCounts, NodeError> {
        let scope = prepared
            .file(file)
            .ok_or_else(|| NodeError::Damaged(format!("file {file} not admitted by the prepared filter")))?;
        let slots = prepared.slots(file, haploid_set, || self.haploid_set(file, haploid_set))?;
        Ok(parse_carriers(carriers, scope.columns)?.counts(scope.filter.as_ref(), slots))
    }

    /// Sums the calls of every file the filter admits; `None` when it admits none of them.
    pub fn count_calls(
        &self,
        calls: &VariantCalls,
        prepared: &PreparedFilter,
    ) -> Result<Option<VariantCount>, NodeError> {
        // A file committed after the filter was prepared is not in it; the next refresh adds it.
        let admitted: Vec<(&FileCalls, usize)> =
            calls.calls.iter().filter_map(|c| prepared.file(c.file).map(|scope| (c, scope.columns))).collect();
        if admitted.is_empty() {
            return Ok(None);
        }
        // The orders of people some carriers are in, read once, for counting in place.
        let orders = admitted
            .iter()
            .map(|(c, columns)| c.order.as_deref().map(|order| ColumnOrder::parse(order, *columns)).transpose())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| NodeError::Store(StoreError::Corrupt(e.to_string())))?;
        let mut entries: Vec<FileEntry<'_>> = admitted
            .iter()
            .zip(&orders)
            .map(|((c, columns), order)| {
                let carriers = match order {
                    Some(order) => CarrierBytes::sorted(&c.carriers, order, *columns),
                    None => CarrierBytes::plain(&c.carriers),
                };
                FileEntry { file: c.file, haploid_set: c.haploid_set, carriers }
            })
            .collect();
        let (total, datasets) = self.count_files(prepared, &mut entries)?;
        let chrom = self.reference.contigs().get(calls.key.contig as usize).map(|c| c.name.clone()).unwrap_or_default();
        let variant = Variant::new(chrom, calls.key.pos, &calls.key.reference, &calls.key.alternate)
            .map_err(|e| NodeError::Store(StoreError::Corrupt(format!("stored variant {}: {e}", calls.vrs_id))))?;
        Ok(Some(VariantCount { variant, vrs_id: calls.vrs_id.clone(), counts: total, datasets }))
    }

    /// The VRS computed identifier of a normalised variant.
    pub fn vrs_id(&self, key: &VariantKey) -> Result<String, NodeError> {
        let contig = &self.reference.contigs()[key.contig as usize];
        let sequence = self.sequence(key.contig as usize)?;
        // The key was normalised against this reference: an allele it cannot describe is damage.
        let allele =
            oresund_core::vrs::Allele::from_vcf(&contig.refget, &sequence, key.pos, &key.reference, &key.alternate)
                .map_err(|e| NodeError::Damaged(e.to_string()))?;
        Ok(allele.id())
    }
}

/// How an individual carries a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zygosity {
    Heterozygous,
    Homozygous,
    Hemizygous,
}

/// One carrier of a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    pub dataset: Arc<str>,
    pub individual: IndividualNumber,
    pub zygosity: Zygosity,
}

impl Node {
    /// A stored variant by its VRS id (`ga4gh:VA.…`) or its `CHROM-POS-REF-ALT` notation (normalised first).
    pub fn find_variant(&self, id: &str) -> Result<Option<VariantCalls>, NodeError> {
        if id.starts_with("ga4gh:VA.") {
            return Ok(self.store.variant_by_vrs_id(id)?);
        }
        let variant: Variant = id.parse().map_err(NodeError::VariantId)?;
        let key = self.normalise(&variant)?;
        Ok(self.store.variant(&key)?)
    }

    /// Everyone carrying an ALT allele of `calls` among the individuals and files `prepared` admits.
    pub fn carriers(&self, calls: &VariantCalls, prepared: &PreparedFilter) -> Result<Vec<Carrier>, NodeError> {
        let cohort = self.cohort()?;
        let mut out = Vec::new();
        for file_calls in &calls.calls {
            let Some(scope) = prepared.file(file_calls.file) else { continue };
            let Some(file) = cohort.files.iter().find(|f| f.number == file_calls.file) else { continue };
            let sets = file_calls
                .with_carriers(scope.columns, |c| c.parse(scope.columns).map(|c| c.decode()))?
                .map_err(|e| NodeError::Store(oresund_store::StoreError::Corrupt(e.to_string())))?;
            for (columns, zygosity) in [
                (&sets.het, Zygosity::Heterozygous),
                (&sets.hom_alt, Zygosity::Homozygous),
                (&sets.hemi, Zygosity::Hemizygous),
            ] {
                for &column in columns {
                    let admitted = scope.filter.as_ref().is_none_or(|f| f.contains(column));
                    if let (true, Some(&individual)) = (admitted, file.columns.get(column as usize)) {
                        out.push(Carrier { dataset: scope.dataset.clone(), individual, zygosity });
                    }
                }
            }
        }
        out.sort_by_key(|c| (c.dataset.clone(), c.individual));
        // A person two files of a dataset hold is one carrier (issue #17).
        out.dedup_by(|a, b| a.dataset == b.dataset && a.individual == b.individual);
        Ok(out)
    }
}
