//! The node's matchmaker (Matchmaker Exchange): clinicians' cases, kept under a case id that is a
//! keyed hash of the submitter's own id, ranked against a query by `oresund-match`.
//!
//! The ranking model (HPO ancestors and gene-based information content, from the node's HPO and
//! the gene table shipped in `oresund-match/data`) is built once per process when first needed;
//! the case index is rebuilt when the store's case generation moves (a case added or removed by
//! any process).

pub mod config;
pub mod error;
pub mod model;

use std::collections::BTreeSet;
use std::sync::Arc;

use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_core::ontology::TermIndex;
use oresund_core::variant::Variant;
use oresund_match::patient::MmeVariant;
use oresund_match::{Case, CaseIndex, GeneKey, GeneTable, Patient, Score, Weights};
use oresund_store::{MatchCounters, StoredCase};
use serde::Serialize;

pub use config::{MmeConfig, MmePartner};
pub use error::MatchError;
pub use model::Matchmaker;

use crate::node::Node;
use crate::once::get_or_try_init;
use model::LoadedCases;

/// Who asks for matches: a clinician of this node (every case but their own query's) or a
/// partner (cross-border cases only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker<'a> {
    Clinician(&'a str),
    Partner,
}

/// A case as its submitter sees it.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    pub case_id: String,
    pub submitter: String,
    pub cross_border: bool,
    pub updated: String,
    pub patient: Patient,
}

/// A submission's outcome.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub case_id: String,
    pub replaced: bool,
    pub warnings: Vec<String>,
}

/// One match: the MME result, and what made it.
#[derive(Debug, Clone)]
pub struct MatchResult {
    pub score: Score,
    pub patient: Patient,
    /// Genes both cases name (symbols where known).
    pub shared_genes: Vec<String>,
    /// Observed features both cases name.
    pub shared_features: Vec<String>,
}

impl MatchResult {
    /// The MME result as sent (search-api.md §"Response"), with what made it (`_phenotype`,
    /// `_genotype`, `_sharedGenes`, `_sharedFeatures`) and, when given, the node it came from.
    pub fn mme_json(&self, node: Option<&str>) -> serde_json::Value {
        let mut out = serde_json::json!({
            "score": {"patient": self.score.patient, "_phenotype": self.score.phenotype, "_genotype": self.score.genotype},
            "patient": self.patient,
            "_sharedGenes": self.shared_genes,
            "_sharedFeatures": self.shared_features,
        });
        if let Some(node) = node {
            out["_node"] = serde_json::json!(node);
        }
        out
    }
}

/// The genes (symbols where known) and the observed HPO features two cases share.
pub type Shared = (Vec<String>, Vec<String>);

/// The results of one node and what the node could not use of the query.
#[derive(Debug, Clone, Default)]
pub struct MatchAnswer {
    pub results: Vec<MatchResult>,
    pub warnings: Vec<String>,
}

/// The MME metrics API's figures (metrics-api.md), test cases left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MmeMetrics {
    pub number_of_cases: u64,
    pub number_of_submitters: u64,
    pub number_of_genes: u64,
    pub number_of_unique_genes: u64,
    pub number_of_variants: u64,
    pub number_of_unique_variants: u64,
    pub number_of_features: u64,
    pub number_of_unique_features: u64,
    pub number_of_feature_sets: u64,
    pub number_of_cases_with_diagnosis: u64,
    pub number_of_requests_received: u64,
    pub number_of_potential_matches_sent: u64,
    pub date_generated: String,
}

impl Node {
    /// The matchmaker, built on first use.
    pub fn matchmaker(&self) -> Result<&Matchmaker, MatchError> {
        get_or_try_init(&self.matchmaker, || Matchmaker::build(self.hpo()?.ok_or(MatchError::NoOntology)?))
    }

    /// The node's id for a submitter's case: keyed, so neither the submitter's id nor the
    /// patient can be read back from it, and stable, so a second submission replaces the first.
    pub fn mme_case_id(&self, submitter: &str, id: &str) -> Result<String, MatchError> {
        let key = self.cached_pseudonymiser()?.pseudonym(&format!("mme-case\u{1f}{submitter}\u{1f}{}", id.trim()));
        Ok(format!("{}-MME-{}", self.config.node_id, &key.as_str()[..20]))
    }

    /// Adds or replaces a clinician's case.
    pub fn mme_submit(
        &self,
        submitter: &str,
        mut patient: Patient,
        cross_border: bool,
    ) -> Result<Submitted, MatchError> {
        patient.check()?;
        let matchmaker = self.matchmaker()?;
        let case_id = self.mme_case_id(submitter, &patient.id)?;
        let (_, warnings) = self.prepare(matchmaker, &patient);
        patient.id = case_id.clone();
        patient.label = None;
        let stored = StoredCase {
            case_id: case_id.clone(),
            submitter: submitter.to_string(),
            cross_border,
            patient: serde_json::to_string(&patient)
                .map_err(|e| MatchError::Stored { case_id: case_id.clone(), message: e.to_string() })?,
            updated: crate::clock::now_rfc3339(),
        };
        let detail = format!(
            "{}; {} features, {} genomic features",
            scope_name(cross_border),
            patient.features.len(),
            patient.genomic_features.len()
        );
        let audit = self.mme_audit(submitter, AuditAction::MmeCase, &case_id, detail);
        let replaced = self.store.put_match_case(&stored, &audit)?;
        Ok(Submitted { case_id, replaced, warnings })
    }

    /// The cases of one submitter, or of everyone (`None`: the operator).
    pub fn mme_cases(&self, submitter: Option<&str>) -> Result<Vec<CaseSummary>, MatchError> {
        self.store
            .match_cases()?
            .into_iter()
            .filter(|c| submitter.is_none_or(|s| s == c.submitter))
            .map(|c| {
                let patient = read_patient(&c)?;
                Ok(CaseSummary {
                    case_id: c.case_id,
                    submitter: c.submitter,
                    cross_border: c.cross_border,
                    updated: c.updated,
                    patient,
                })
            })
            .collect()
    }

    /// Removes a case named by its case id or by the submitter's own id. A clinician removes only
    /// their own cases; the operator (`submitter` None, `actor` names them) any.
    pub fn mme_remove(&self, submitter: Option<&str>, actor: &str, id: &str) -> Result<String, MatchError> {
        let cases = self.store.match_cases()?;
        let mine = |c: &&StoredCase| submitter.is_none_or(|s| s == c.submitter);
        let by_case_id = cases.iter().filter(mine).find(|c| c.case_id == id.trim());
        let found = match by_case_id {
            Some(c) => Some(c),
            None => match submitter {
                Some(s) => {
                    let derived = self.mme_case_id(s, id)?;
                    cases.iter().filter(mine).find(|c| c.case_id == derived)
                }
                None => None,
            },
        };
        let case = found.ok_or_else(|| MatchError::UnknownCase(id.trim().to_string()))?;
        let audit = self.mme_audit(actor, AuditAction::MmeRemove, &case.case_id, String::new());
        if !self.store.remove_match_case(&case.case_id, &audit)? {
            return Err(MatchError::UnknownCase(id.trim().to_string()));
        }
        Ok(case.case_id.clone())
    }

    /// Ranks this node's cases against a query.
    pub fn mme_match(&self, query: &Patient, asker: Asker<'_>) -> Result<MatchAnswer, MatchError> {
        query.check()?;
        let matchmaker = self.matchmaker()?;
        let (mut prepared, warnings) = self.prepare(matchmaker, query);
        let own = match asker {
            Asker::Clinician(submitter) => Some(self.mme_case_id(submitter, &query.id)?),
            Asker::Partner => None,
        };
        prepared.key = own.clone().unwrap_or_default();
        let loaded = self.loaded_cases(matchmaker)?;
        let config = &self.config.mme;
        let weights = Weights { phenotype: config.phenotype_weight, genotype: config.genotype_weight };
        let eligible = |i: usize| {
            own.as_deref() != Some(loaded.patients[i].id.as_str())
                && (asker != Asker::Partner || loaded.cross_border[i])
        };
        let ranked = loaded.index.best(&matchmaker.model, &prepared, weights, config.threshold, config.limit, eligible);
        let results = ranked
            .into_iter()
            .map(|r| {
                let (shared_genes, shared_features) = self.shared(matchmaker, &prepared, loaded.index.case(r.index));
                MatchResult { score: r.score, patient: loaded.patients[r.index].clone(), shared_genes, shared_features }
            })
            .collect();
        Ok(MatchAnswer { results, warnings })
    }

    /// The genes (symbols where known) and observed features the query shares with each of
    /// `others`: what the clinicians' page shows for a partner's results, as for this node's own.
    pub fn mme_shared(&self, query: &Patient, others: &[Patient]) -> Result<Vec<Shared>, MatchError> {
        let matchmaker = self.matchmaker()?;
        let (query, _) = self.prepare(matchmaker, query);
        Ok(others.iter().map(|other| self.shared(matchmaker, &query, &self.prepare(matchmaker, other).0)).collect())
    }

    fn shared(&self, matchmaker: &Matchmaker, query: &Case, case: &Case) -> Shared {
        let genes = query.genes.iter().filter(|g| case.genes.contains(g)).map(|g| gene_name(&matchmaker.genes, g));
        let features = query.terms.iter().filter(|t| case.terms.contains(t));
        // The matchmaker was built from the parsed ontology.
        let ids = features.filter_map(|&t| self.hpo.parsed().map(|o| o.id(t).to_string()));
        (genes.collect(), ids.collect())
    }

    /// Whether a stored case may be matched across the border (`None`: no such case).
    pub fn mme_cross_border(&self, case_id: &str) -> Result<Option<bool>, MatchError> {
        let loaded = self.loaded_cases(self.matchmaker()?)?;
        let found = loaded.patients.binary_search_by(|p| p.id.as_str().cmp(case_id));
        Ok(found.ok().map(|i| loaded.cross_border[i]))
    }

    /// HPO terms for a clinician's autocomplete: the term with this id, then names starting with
    /// the text, then names containing it (case-insensitive), obsolete terms left out.
    pub fn hpo_terms(&self, text: &str, limit: usize) -> Result<Vec<(String, String)>, MatchError> {
        let ontology = self.hpo()?.ok_or(MatchError::NoOntology)?;
        let text = text.trim().to_lowercase();
        if text.len() < 2 {
            return Ok(Vec::new());
        }
        let mut ranked: Vec<(u8, usize, TermIndex)> = Vec::new();
        for t in 0..ontology.len() as TermIndex {
            if ontology.is_obsolete(t) || !ontology.id(t).starts_with("HP:") {
                continue;
            }
            let name = ontology.name(t).to_lowercase();
            let rank = if ontology.id(t).eq_ignore_ascii_case(&text) {
                0
            } else if name.starts_with(&text) {
                1
            } else if name.contains(&text) {
                2
            } else {
                continue;
            };
            ranked.push((rank, name.len(), t));
        }
        ranked.sort_unstable();
        Ok(ranked
            .into_iter()
            .take(limit)
            .map(|(_, _, t)| (ontology.id(t).to_string(), ontology.name(t).to_string()))
            .collect())
    }

    /// Counts a partner's answered request (not a test one) and the results sent.
    pub fn mme_count_request(&self, results_sent: usize) -> Result<(), MatchError> {
        Ok(self.store.count_match_request(results_sent as u64)?)
    }

    pub fn mme_metrics(&self) -> Result<MmeMetrics, MatchError> {
        let MatchCounters { requests_received, potential_matches_sent } = self.store.match_counters()?;
        let mut m = MmeMetrics {
            number_of_requests_received: requests_received,
            number_of_potential_matches_sent: potential_matches_sent,
            date_generated: crate::clock::now_rfc3339()[..10].to_string(),
            ..MmeMetrics::default()
        };
        let table = &self.matchmaker()?.genes;
        let (mut submitters, mut genes, mut variants, mut features) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for stored in self.store.match_cases()? {
            let p = read_patient(&stored)?;
            if p.test {
                continue;
            }
            m.number_of_cases += 1;
            submitters.insert(stored.submitter);
            m.number_of_genes += p.genomic_features.len() as u64;
            m.number_of_features += p.features.len() as u64;
            m.number_of_feature_sets += u64::from(!p.features.is_empty());
            m.number_of_cases_with_diagnosis += u64::from(!p.disorders.is_empty());
            for g in &p.genomic_features {
                genes.insert(table.resolve(&g.gene.id));
                if let Some(v) = &g.variant {
                    m.number_of_variants += 1;
                    variants.insert(raw_variant_key(v));
                }
            }
            features.extend(p.features.iter().map(|f| f.id.clone()));
        }
        m.number_of_submitters = submitters.len() as u64;
        m.number_of_unique_genes = genes.len() as u64;
        m.number_of_unique_variants = variants.len() as u64;
        m.number_of_unique_features = features.len() as u64;
        Ok(m)
    }

    /// An audit record of a matchmaking action.
    pub fn mme_audit(&self, actor: &str, action: AuditAction, resource: &str, detail: String) -> AuditRecord {
        AuditRecord {
            time: crate::clock::now_rfc3339(),
            actor: actor.to_string(),
            action,
            resource: resource.to_string(),
            datasets: Vec::new(),
            granularity: None,
            decision: Decision::Allowed,
            detail,
            subject: None,
        }
    }

    /// The query as the matcher compares it, and what of it could not be used.
    fn prepare(&self, matchmaker: &Matchmaker, patient: &Patient) -> (Case, Vec<String>) {
        let mut warnings = Vec::new();
        let mut terms: Vec<TermIndex> = Vec::new();
        if let Some(ontology) = self.hpo.parsed() {
            for id in patient.observed_terms() {
                match ontology.resolve(id) {
                    Some(t) if !terms.contains(&t) => terms.push(t),
                    Some(_) => {}
                    None => {
                        warnings.push(format!("feature {id} is not in this node's HPO release; it was not compared"))
                    }
                }
            }
        }
        let mut genes = Vec::new();
        let mut variants = Vec::new();
        for g in &patient.genomic_features {
            let key = matchmaker.genes.resolve(&g.gene.id);
            if let GeneKey::Unknown(id) = &key {
                warnings.push(format!("gene {id} is not in the gene table; it matches only the same id"));
            }
            if !genes.contains(&key) {
                genes.push(key);
            }
            if let Some(v) = &g.variant {
                let (key, warning) = self.variant_key(v);
                variants.push(key);
                warnings.extend(warning);
            }
        }
        (Case { key: patient.id.clone(), terms, genes, variants }, warnings)
    }

    /// A variant as a comparable key: left-aligned against the reference when it is on this
    /// node's assembly and has both alleles, as given otherwise.
    fn variant_key(&self, v: &MmeVariant) -> (String, Option<String>) {
        let raw = raw_variant_key(v);
        let (Some(reference), Some(alternate)) = (&v.reference_bases, &v.alternate_bases) else {
            return (raw, None);
        };
        if assembly_name(&v.assembly) != assembly_name(&self.config.assembly) {
            return (raw, None);
        }
        let chrom = contig_name(&v.reference_name);
        // MME positions are 0-based (search-api.md §"Variant"); VCF's and ours are 1-based.
        let normalised = Variant::new(chrom, v.start + 1, reference, alternate)
            .map_err(|e| e.to_string())
            .and_then(|variant| self.normalise(&variant).map_err(|e| e.to_string()));
        match normalised {
            Ok(k) => {
                let contig = self.reference.contigs().get(k.contig as usize).map_or(chrom, |c| c.name.as_str());
                (format!("{}-{contig}-{}-{}-{}", assembly_name(&v.assembly), k.pos, k.reference, k.alternate), None)
            }
            Err(e) => (raw, Some(format!("variant {}: {e}; compared as given", raw_variant_key(v)))),
        }
    }

    fn loaded_cases(&self, matchmaker: &Matchmaker) -> Result<Arc<LoadedCases>, MatchError> {
        let generation = self.store.match_cases_generation()?;
        let mut cached = matchmaker.cases.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((g, loaded)) = cached.as_ref()
            && *g == generation
        {
            return Ok(loaded.clone());
        }
        let mut stored = self.store.match_cases()?;
        // Sorted here, not by the database's collation: `mme_cross_border` searches it.
        stored.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        let mut patients = Vec::with_capacity(stored.len());
        let mut cases = Vec::with_capacity(stored.len());
        let cross_border = stored.iter().map(|s| s.cross_border).collect();
        for s in stored {
            let mut patient = read_patient(&s)?;
            patient.id = s.case_id;
            let (mut case, _) = self.prepare(matchmaker, &patient);
            case.key = patient.id.clone();
            cases.push(case);
            patients.push(patient);
        }
        let loaded = Arc::new(LoadedCases { index: CaseIndex::new(cases), patients, cross_border });
        *cached = Some((generation, loaded.clone()));
        Ok(loaded)
    }
}

fn read_patient(stored: &StoredCase) -> Result<Patient, MatchError> {
    serde_json::from_str(&stored.patient)
        .map_err(|e| MatchError::Stored { case_id: stored.case_id.clone(), message: e.to_string() })
}

fn scope_name(cross_border: bool) -> &'static str {
    if cross_border { "cross-border" } else { "national only" }
}

fn gene_name(genes: &GeneTable, key: &GeneKey) -> String {
    match key {
        GeneKey::Ncbi(n) => genes.symbol(key).map_or_else(|| format!("NCBIGene:{n}"), str::to_string),
        GeneKey::Unknown(id) => id.clone(),
    }
}

/// `GRCh38.p14` → `GRCh38`: patches do not move coordinates of the primary assembly.
fn assembly_name(assembly: &str) -> &str {
    assembly.split('.').next().unwrap_or(assembly).trim()
}

fn contig_name(name: &str) -> &str {
    name.strip_prefix("chr").unwrap_or(name)
}

fn raw_variant_key(v: &MmeVariant) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        assembly_name(&v.assembly),
        contig_name(&v.reference_name),
        v.start + 1,
        v.reference_bases.as_deref().unwrap_or("").to_ascii_uppercase(),
        v.alternate_bases.as_deref().unwrap_or("").to_ascii_uppercase()
    )
}
