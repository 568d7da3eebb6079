//! The matchmaker's model, built once per process: the gene table and HPO annotations shipped
//! with the node, the phenotype model over the node's HPO, and the case index of the latest
//! generation of cases (filled by `Node::loaded_cases`).

use std::io::Read;
use std::sync::{Arc, Mutex};

use oresund_core::ontology::Ontology;
use oresund_match::{CaseIndex, GeneTable, Patient, PhenotypeModel};

use super::error::MatchError;

/// The gene table and HPO annotations (see `crates/oresund-match/data/README.md`).
const GENE_TABLE: &[u8] = include_bytes!("../../../oresund-match/data/hpo-genes.tsv.gz");

/// The ranking model: built once per process.
pub struct Matchmaker {
    pub(crate) genes: GeneTable,
    pub(crate) model: PhenotypeModel,
    pub(crate) cases: Mutex<Option<(u64, Arc<LoadedCases>)>>,
}

/// Every stored case, parsed and indexed, at one generation, sorted by case id (each patient's
/// `id` is its case id). The stored JSON text is not kept: the parsed patient is what is sent.
pub(crate) struct LoadedCases {
    pub(crate) index: CaseIndex,
    pub(crate) patients: Vec<Patient>,
    pub(crate) cross_border: Vec<bool>,
}

impl Matchmaker {
    pub(crate) fn build(ontology: &Ontology) -> Result<Self, MatchError> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(GENE_TABLE)
            .read_to_string(&mut text)
            .map_err(|e| MatchError::GeneTable(e.to_string()))?;
        let genes = GeneTable::parse(&text).map_err(|e| MatchError::GeneTable(e.to_string()))?;
        let annotations = genes.annotations().iter().filter_map(|(term, gene)| Some((ontology.resolve(term)?, *gene)));
        let model = PhenotypeModel::new(ontology, annotations);
        Ok(Matchmaker { genes, model, cases: Mutex::new(None) })
    }
}
