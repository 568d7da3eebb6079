//! Allele counts for a variant or a region, over any cohort filter: the question every other part
//! of Øresund (CLI, Beacon, network) asks.

use std::collections::BTreeMap;

use oresund_core::carriers::{AlleleCounts, allele_slots};
use oresund_core::region::Region;
use oresund_core::variant::Variant;
use oresund_ingest::normalize::{check_reference, realign};
use oresund_store::{VariantCalls, VariantKey};
use serde::Serialize;

use crate::cohort::{CohortFilter, CohortIndex, ResolvedFilter};
use crate::error::NodeError;
use crate::node::Node;

/// Counts for one variant: in total and per dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantCount {
    pub variant: Variant,
    pub vrs_id: String,
    pub counts: AlleleCounts,
    pub datasets: BTreeMap<String, AlleleCounts>,
}

impl Node {
    /// Normalises a query variant as ingest normalises data, so a right-shifted indel finds its
    /// left-aligned record. Errors when the contig is unknown or REF does not match.
    pub fn normalise(&self, variant: &Variant) -> Result<VariantKey, NodeError> {
        let (index, _) = self.contig(&variant.chrom)?;
        let sequence = self.reference.sequence(index).ok_or_else(|| NodeError::Invalid("reference damaged".into()))?;
        let invalid = |e: oresund_ingest::normalize::NormaliseError| NodeError::Invalid(e.to_string());
        check_reference(&sequence, &variant.chrom, variant.pos, variant.reference.as_bytes()).map_err(invalid)?;
        let n = realign(&sequence, variant.pos, variant.reference.as_bytes(), variant.alternate.as_bytes())
            .map_err(invalid)?;
        Ok(VariantKey {
            contig: index as u32,
            pos: n.pos,
            reference: String::from_utf8_lossy(&n.reference).into_owned(),
            alternate: String::from_utf8_lossy(&n.alternate).into_owned(),
        })
    }

    fn contig(&self, name: &str) -> Result<(usize, u64), NodeError> {
        self.reference.contig(name).map(|(i, c)| (i, c.length)).ok_or_else(|| {
            let known: Vec<&str> = self.reference.contigs().iter().map(|c| c.name.as_str()).take(30).collect();
            NodeError::Invalid(format!(
                "contig {name:?} is not in this node's reference (it has: {})",
                known.join(", ")
            ))
        })
    }

    /// Resolves a filter against the current cohort.
    pub fn resolve_filter(
        &self,
        filter: &CohortFilter,
    ) -> Result<(std::sync::Arc<CohortIndex>, ResolvedFilter), NodeError> {
        let cohort = self.cohort()?;
        let resolved = cohort.resolve(filter, self.hpo.as_ref()).map_err(|e| NodeError::Invalid(e.to_string()))?;
        Ok((cohort, resolved))
    }

    /// Counts for one variant; `None` when no ingested file has it.
    pub fn count_variant(&self, variant: &Variant, filter: &CohortFilter) -> Result<Option<VariantCount>, NodeError> {
        let key = self.normalise(variant)?;
        let (cohort, resolved) = self.resolve_filter(filter)?;
        match self.store.variant(&key)? {
            Some(calls) => self.count_calls(&calls, &cohort, &resolved).map(Some),
            None => Ok(None),
        }
    }

    /// Counts for every variant overlapping a region (1-based, inclusive).
    pub fn count_region(&self, region: &Region, filter: &CohortFilter) -> Result<Vec<VariantCount>, NodeError> {
        let (index, length) = self.contig(&region.chrom)?;
        if region.start > length {
            return Err(NodeError::Invalid(format!(
                "region {region} starts after the end of {} ({length})",
                region.chrom
            )));
        }
        let (cohort, resolved) = self.resolve_filter(filter)?;
        let mut out = Vec::new();
        for calls in self.store.region(index as u32, region.start, region.end)? {
            let count = self.count_calls(&calls, &cohort, &resolved)?;
            // A filter to datasets without this variant leaves nothing to report.
            if !count.datasets.is_empty() {
                out.push(count);
            }
        }
        Ok(out)
    }

    /// Sums the calls of every file the filter admits, restricted to the filter's individuals.
    pub fn count_calls(
        &self,
        calls: &VariantCalls,
        cohort: &CohortIndex,
        filter: &ResolvedFilter,
    ) -> Result<VariantCount, NodeError> {
        let individuals = filter.individuals.as_ref();
        let mut total = AlleleCounts::default();
        let mut datasets: BTreeMap<String, AlleleCounts> = BTreeMap::new();
        for file_calls in &calls.calls {
            if !filter.includes_file(file_calls.file) {
                continue;
            }
            let Some(file) = cohort.files.iter().find(|f| f.number == file_calls.file) else {
                // Committed after this cohort index was built; the next refresh will include it.
                continue;
            };
            let haploid = self.haploid_set(file.number, file_calls.haploid_set)?;
            let slots = allele_slots(&file.members, &haploid, individuals);
            let counts = file_calls.carriers.counts(individuals, slots);
            total += counts;
            *datasets.entry(file.dataset.clone()).or_default() += counts;
        }
        let chrom = self.reference.contigs().get(calls.key.contig as usize).map(|c| c.name.clone()).unwrap_or_default();
        let variant = Variant {
            chrom,
            pos: calls.key.pos,
            reference: calls.key.reference.clone(),
            alternate: calls.key.alternate.clone(),
        };
        Ok(VariantCount { variant, vrs_id: calls.vrs_id.clone(), counts: total, datasets })
    }
}

impl Node {
    /// The VRS computed identifier of a normalised variant.
    pub fn vrs_id(&self, key: &VariantKey) -> Result<String, NodeError> {
        let contig = &self.reference.contigs()[key.contig as usize];
        let sequence = self
            .reference
            .sequence(key.contig as usize)
            .ok_or_else(|| NodeError::Invalid("reference damaged".into()))?;
        let allele =
            oresund_core::vrs::Allele::from_vcf(&contig.refget, &sequence, key.pos, &key.reference, &key.alternate)
                .map_err(|e| NodeError::Invalid(e.to_string()))?;
        Ok(allele.id())
    }
}
