//! The Beacon v2 entry types of the default model (models/beacon-v2-default-model/
//! beaconConfiguration.json), with the paths this node serves them under.

/// One entry type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryType {
    pub id: &'static str,
    pub name: &'static str,
    /// `defaultSchema.id`, also used in `returnedSchemas`.
    pub schema: &'static str,
    /// Folder of the default model holding its `defaultSchema.json`.
    pub model_dir: &'static str,
    pub term: (&'static str, &'static str),
    /// Root path (`/g_variants`).
    pub path: &'static str,
    /// Collections (datasets, cohorts) are listed, not searched.
    pub collection_of: Option<(&'static str, &'static str)>,
    /// Whether this node holds entries of this type.
    pub held: bool,
}

pub const GENOMIC_VARIANT: EntryType = EntryType {
    id: "genomicVariant",
    name: "Genomic Variants",
    schema: "ga4gh-beacon-variant-v2.0.0",
    model_dir: "genomicVariations",
    term: ("ENSGLOSSARY:0000092", "Variant"),
    path: "g_variants",
    collection_of: None,
    held: true,
};

pub const INDIVIDUAL: EntryType = EntryType {
    id: "individual",
    name: "Individual",
    schema: "ga4gh-beacon-individual-v2.0.0",
    model_dir: "individuals",
    term: ("NCIT:C25190", "Person"),
    path: "individuals",
    collection_of: None,
    held: true,
};

pub const DATASET: EntryType = EntryType {
    id: "dataset",
    name: "Dataset",
    schema: "ga4gh-beacon-dataset-v2.0.0",
    model_dir: "datasets",
    term: ("NCIT:C47824", "Data set"),
    path: "datasets",
    collection_of: Some(("genomicVariant", "Genomic Variants")),
    held: true,
};

pub const COHORT: EntryType = EntryType {
    id: "cohort",
    name: "Cohort",
    schema: "ga4gh-beacon-cohort-v2.0.0",
    model_dir: "cohorts",
    term: ("NCIT:C61512", "Cohort"),
    path: "cohorts",
    collection_of: Some(("individual", "Individuals")),
    held: true,
};

pub const BIOSAMPLE: EntryType = EntryType {
    id: "biosample",
    name: "Biological Sample",
    schema: "ga4gh-beacon-biosample-v2.0.0",
    model_dir: "biosamples",
    term: ("NCIT:C70699", "Biospecimen"),
    path: "biosamples",
    collection_of: None,
    held: false,
};

pub const ANALYSIS: EntryType = EntryType {
    id: "analysis",
    name: "Bioinformatics analysis",
    schema: "ga4gh-beacon-analysis-v2.0.0",
    model_dir: "analyses",
    term: ("edam:operation_2945", "Analysis"),
    path: "analyses",
    collection_of: None,
    held: false,
};

pub const RUN: EntryType = EntryType {
    id: "run",
    name: "Sequencing run",
    schema: "ga4gh-beacon-run-v2.0.0",
    model_dir: "runs",
    term: ("NCIT:C148088", "Sequencing run"),
    path: "runs",
    collection_of: None,
    held: false,
};

pub const ALL: [EntryType; 7] = [GENOMIC_VARIANT, INDIVIDUAL, DATASET, COHORT, BIOSAMPLE, ANALYSIS, RUN];

/// The entry type served under `path` (`g_variants`, `individuals`...).
pub fn by_path(path: &str) -> Option<EntryType> {
    ALL.into_iter().find(|e| e.path == path)
}
