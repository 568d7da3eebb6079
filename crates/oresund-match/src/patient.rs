//! The MME patient object (MME API 1.0, ga4gh/mme-apis `search-api.md` §"Patient"), as a
//! clinician submits it and as a match result carries it.
//!
//! Unknown members are ignored on the way in and never sent on: what leaves the node is exactly
//! the fields below, so a free-text field a sender adds cannot carry a name across the border.

use serde::{Deserialize, Serialize};

/// Most features and genomic features one case may hold: a bound on the work a request costs.
pub const MAX_FEATURES: usize = 500;
pub const MAX_GENOMIC_FEATURES: usize = 100;
/// Longest text accepted in any one field.
pub const MAX_TEXT: usize = 1024;
/// Largest variant coordinate accepted: beyond any chromosome (the longest is under 2.5·10⁸).
pub const MAX_POSITION: u64 = 1 << 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// The submitter's id for the case. At rest and on the wire the node's case id replaces it.
    pub id: String,
    /// Free text; may name the patient, so it is neither kept nor sent.
    #[serde(default, skip_serializing)]
    pub label: Option<String>,
    pub contact: Contact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub species: Option<String>,
    /// `FEMALE`, `MALE`, `OTHER`, `MIXED_SAMPLE` or `NOT_APPLICABLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// An HPO onset term (`HP:0003577`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_of_onset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inheritance_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disorders: Vec<Disorder>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<Feature>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub genomic_features: Vec<GenomicFeature>,
    /// A test case: matched, but never counted in the metrics.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

/// Who to contact about the case: the clinician, never the patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    /// `mailto:` or `https:` URL.
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disorder {
    /// `MIM:…`, `ORPHA:…` (or `OMIM:`).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feature {
    /// An HPO term.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `yes` (the default) or `no`: a feature looked for and not found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_of_onset: Option<String>,
}

impl Feature {
    pub fn is_observed(&self) -> bool {
        self.observed.as_deref() != Some("no")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenomicFeature {
    pub gene: Gene,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<MmeVariant>,
    /// Number of alternate alleles: 1 (heterozygous or hemizygous) or 2 (homozygous).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zygosity: Option<u8>,
    /// A Sequence Ontology term for the variant's effect.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Term>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gene {
    /// HGNC symbol, NCBI Gene id or Ensembl gene id.
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A variant as MME writes it: `start` and `end` 0-based, half-open (search-api.md §"Variant").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MmeVariant {
    /// `GRCh37`, `GRCh38`, `NCBI36`.
    pub assembly: String,
    /// `1`…`22`, `X`, `Y`, `MT`.
    pub reference_name: String,
    pub start: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_bases: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_bases: Option<String>,
}

/// Why a patient was refused, with the member at fault (`patient.features[2].id`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PatientError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> PatientError {
    PatientError { field: field.into(), message: message.into() }
}

impl Patient {
    /// Reads a patient from JSON that has already parsed; a member of the wrong type is a
    /// [`PatientError`] naming it (HTTP 422), as is every rule of [`Patient::check`].
    pub fn from_value(value: serde_json::Value) -> Result<Self, PatientError> {
        let patient: Patient = serde_json::from_value(value)
            .map_err(|e| refuse("patient", format!("does not follow the MME schema: {e}")))?;
        patient.check()?;
        Ok(patient)
    }

    /// The rules the schema states and types cannot: required text present, ids in their
    /// namespaces, at least one feature or genomic feature (search-api.md §"Patient").
    pub fn check(&self) -> Result<(), PatientError> {
        text("patient.id", &self.id)?;
        if self.id.len() > 255 {
            return Err(refuse("patient.id", "longer than 255 characters"));
        }
        text("patient.contact.name", &self.contact.name)?;
        text("patient.contact.href", &self.contact.href)?;
        let optional = [
            ("patient.label", &self.label),
            ("patient.contact.institution", &self.contact.institution),
            ("patient.contact.email", &self.contact.email),
            ("patient.species", &self.species),
            ("patient.sex", &self.sex),
            ("patient.ageOfOnset", &self.age_of_onset),
            ("patient.inheritanceMode", &self.inheritance_mode),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                bounded(field, value)?;
            }
        }
        if !self.contact.href.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        }) {
            return Err(refuse("patient.contact.href", "must be a URL such as mailto:name@hospital.org or https://…"));
        }
        let patterns = [
            ("patient.species", &self.species, is_taxon as fn(&str) -> bool, "NCBITaxon:9606"),
            ("patient.ageOfOnset", &self.age_of_onset, is_hpo_id, "an HPO term, HP:0000000"),
            ("patient.inheritanceMode", &self.inheritance_mode, is_hpo_id, "an HPO term, HP:0000000"),
        ];
        for (field, value, valid, form) in patterns {
            if let Some(value) = value
                && !valid(value)
            {
                return Err(refuse(field, format!("{value:?} is not {form}")));
            }
        }
        if let Some(sex) = &self.sex
            && !["FEMALE", "MALE", "OTHER", "MIXED_SAMPLE", "NOT_APPLICABLE"].contains(&sex.as_str())
        {
            return Err(refuse(
                "patient.sex",
                format!("{sex:?} is not FEMALE, MALE, OTHER, MIXED_SAMPLE or NOT_APPLICABLE"),
            ));
        }
        if self.features.is_empty() && self.genomic_features.is_empty() {
            return Err(refuse("patient", "needs at least one of features and genomicFeatures"));
        }
        if self.features.len() > MAX_FEATURES {
            return Err(refuse("patient.features", format!("more than {MAX_FEATURES} features")));
        }
        if self.genomic_features.len() > MAX_GENOMIC_FEATURES {
            return Err(refuse(
                "patient.genomicFeatures",
                format!("more than {MAX_GENOMIC_FEATURES} genomic features"),
            ));
        }
        for (i, d) in self.disorders.iter().enumerate() {
            if !is_disorder_id(&d.id) {
                return Err(refuse(
                    format!("patient.disorders[{i}].id"),
                    format!("{:?} is not MIM:nnnnnn or Orphanet:nnnnn", d.id),
                ));
            }
        }
        for (i, f) in self.features.iter().enumerate() {
            let field = format!("patient.features[{i}]");
            text(&format!("{field}.id"), &f.id)?;
            if !is_hpo_id(&f.id) {
                return Err(refuse(format!("{field}.id"), format!("{:?} is not an HPO term (HP:0000000)", f.id)));
            }
            if let Some(observed) = &f.observed
                && observed != "yes"
                && observed != "no"
            {
                return Err(refuse(format!("{field}.observed"), format!("{observed:?} is neither \"yes\" nor \"no\"")));
            }
        }
        for (i, g) in self.genomic_features.iter().enumerate() {
            let field = format!("patient.genomicFeatures[{i}]");
            text(&format!("{field}.gene.id"), &g.gene.id)?;
            if let Some(z) = g.zygosity
                && !(1..=2).contains(&z)
            {
                return Err(refuse(format!("{field}.zygosity"), format!("{z} is neither 1 nor 2")));
            }
            if let Some(v) = &g.variant {
                check_variant(&format!("{field}.variant"), v)?;
            }
            if let Some(kind) = &g.kind
                && !kind.id.strip_prefix("SO:").is_some_and(|n| n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(refuse(
                    format!("{field}.type.id"),
                    format!("{:?} is not a Sequence Ontology term (SO:0000000)", kind.id),
                ));
            }
        }
        Ok(())
    }

    /// The observed HPO features, in order, without repeats.
    pub fn observed_terms(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for f in self.features.iter().filter(|f| f.is_observed()) {
            if !seen.contains(&f.id.as_str()) {
                seen.push(f.id.as_str());
            }
        }
        seen
    }
}

fn check_variant(field: &str, v: &MmeVariant) -> Result<(), PatientError> {
    let (name, patch) = v.assembly.split_once(".p").unwrap_or((&v.assembly, "0"));
    if !["NCBI36", "GRCh37", "GRCh38"].contains(&name) || !digits(patch) {
        return Err(refuse(
            format!("{field}.assembly"),
            format!("{:?} is not NCBI36, GRCh37 or GRCh38 (with an optional .pN)", v.assembly),
        ));
    }
    if !(digits(&v.reference_name) || ["X", "Y", "M"].contains(&v.reference_name.as_str())) {
        return Err(refuse(
            format!("{field}.referenceName"),
            format!("{:?} is not 1–22, X, Y or M (no chr prefix)", v.reference_name),
        ));
    }
    if v.start > MAX_POSITION || v.end.is_some_and(|end| end > MAX_POSITION) {
        return Err(refuse(format!("{field}.start"), format!("a position beyond {MAX_POSITION} is on no chromosome")));
    }
    if let Some(end) = v.end
        && end < v.start
    {
        return Err(refuse(format!("{field}.end"), format!("end {end} is before start {}", v.start)));
    }
    for (name, bases) in [("referenceBases", &v.reference_bases), ("alternateBases", &v.alternate_bases)] {
        if let Some(bases) = bases
            && !oresund_core::variant::is_plain_allele(bases)
        {
            return Err(refuse(format!("{field}.{name}"), format!("{bases:?} is not a string of A, C, G, T or N")));
        }
    }
    Ok(())
}

fn text(field: &str, value: &str) -> Result<(), PatientError> {
    if value.trim().is_empty() {
        return Err(refuse(field, "is required and may not be empty"));
    }
    bounded(field, value)
}

fn bounded(field: &str, value: &str) -> Result<(), PatientError> {
    if value.len() > MAX_TEXT {
        return Err(refuse(field, format!("longer than {MAX_TEXT} bytes")));
    }
    Ok(())
}

fn digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_taxon(id: &str) -> bool {
    id.strip_prefix("NCBITaxon:").is_some_and(digits)
}

fn is_disorder_id(id: &str) -> bool {
    let number = id.strip_prefix("MIM:").or_else(|| id.strip_prefix("Orphanet:"));
    number.is_some_and(|n| digits(n) && n.len() <= 6)
}

fn is_hpo_id(id: &str) -> bool {
    id.strip_prefix("HP:").is_some_and(|n| n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case() -> serde_json::Value {
        json!({
            "id": "P1", "label": "Jens Jensen",
            "contact": {"name": "Dr A", "institution": "Rigshospitalet", "href": "mailto:a@rh.dk"},
            "features": [{"id": "HP:0001250"}, {"id": "HP:0001263", "observed": "no"}],
            "genomicFeatures": [{"gene": {"id": "KCNQ2"}, "zygosity": 1,
                "variant": {"assembly": "GRCh38", "referenceName": "20", "start": 63439708, "end": 63439709,
                            "referenceBases": "C", "alternateBases": "T"}}],
            "somethingElse": {"name": "dropped"}
        })
    }

    #[test]
    fn a_case_reads_and_its_label_and_unknown_members_are_not_written() {
        let p = Patient::from_value(case()).unwrap();
        assert_eq!(p.observed_terms(), ["HP:0001250"]);
        let out = serde_json::to_value(&p).unwrap();
        assert!(out.get("label").is_none() && out.get("somethingElse").is_none(), "{out}");
        assert_eq!(out["genomicFeatures"][0]["variant"]["referenceName"], "20");
    }

    #[test]
    fn each_rule_names_the_member_at_fault() {
        let cases = [
            (json!({"features": [{"id": "seizure"}]}), "patient.features[0].id"),
            (json!({"features": [{"id": "HP:0001250", "observed": "maybe"}]}), "patient.features[0].observed"),
            (json!({"features": [], "genomicFeatures": []}), "patient"),
            (json!({"genomicFeatures": [{"gene": {"id": " "}}]}), "patient.genomicFeatures[0].gene.id"),
            (json!({"genomicFeatures": [{"gene": {"id": "X"}, "zygosity": 3}]}), "patient.genomicFeatures[0].zygosity"),
            (json!({"sex": "F"}), "patient.sex"),
            (json!({"contact": {"name": "", "href": "mailto:x"}}), "patient.contact.name"),
            (json!({"features": "HP:0001250"}), "patient"),
            (json!({"disorders": [{"id": "ORPHA:1234"}]}), "patient.disorders[0].id"),
            (json!({"species": "human"}), "patient.species"),
            (json!({"contact": {"name": "Dr A", "href": "a@rh.dk"}}), "patient.contact.href"),
            (
                json!({"genomicFeatures": [{"gene": {"id": "X"}, "variant": {"assembly": "hg38", "referenceName": "1", "start": 1}}]}),
                "patient.genomicFeatures[0].variant.assembly",
            ),
            (
                json!({"genomicFeatures": [{"gene": {"id": "X"}, "variant": {"assembly": "GRCh38.p13", "referenceName": "chr1", "start": 1}}]}),
                "patient.genomicFeatures[0].variant.referenceName",
            ),
            (
                json!({"genomicFeatures": [{"gene": {"id": "X"}, "type": {"id": "missense"}}]}),
                "patient.genomicFeatures[0].type.id",
            ),
            (
                json!({"genomicFeatures": [{"gene": {"id": "X"},
                    "variant": {"assembly": "GRCh38", "referenceName": "1", "start": u64::MAX}}]}),
                "patient.genomicFeatures[0].variant.start",
            ),
        ];
        for (change, field) in cases {
            let mut p = case();
            for (k, v) in change.as_object().unwrap() {
                p[k] = v.clone();
            }
            let err = Patient::from_value(p).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
    }
}
