//! Beacon v2 filters to a node cohort filter. Supported: HPO terms (`HP:…`, with
//! `includeDescendantTerms`, default true), sex as NCIT terms (`NCIT:C16576` female, `NCIT:C20197`
//! male), ICD-10 codes (`ICD10:G40.9`, `ICD10CM:…`, or a bare code; categories cover their
//! codes). A term the node cannot interpret is reported back as a warning and matches nobody:
//! ignoring it would silently widen the cohort.

use oresund_core::individual::Sex;
use oresund_core::ontology::Ontology;
use oresund_node::{CohortFilter, TermFilter};

use crate::request::Filter;

/// Filters resolved for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolvedFilters {
    pub cohort: CohortFilter,
    /// One message per filter the node could not use.
    pub warnings: Vec<String>,
}

impl ResolvedFilters {
    /// True when some filter could not be used: the cohort is empty.
    pub fn matches_nobody(&self) -> bool {
        !self.warnings.is_empty()
    }
}

/// NCIT terms for sex (Beacon v2 default model, individuals `sex`).
pub const FEMALE: &str = "NCIT:C16576";
pub const MALE: &str = "NCIT:C20197";

fn icd10_code(id: &str) -> Option<&str> {
    let code = id.strip_prefix("ICD10:").or_else(|| id.strip_prefix("ICD10CM:")).unwrap_or(id);
    let b = code.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_alphanumeric()).then_some(code)
}

/// Resolves Beacon filters against the node's HPO release.
pub fn resolve(filters: &[Filter], hpo: Option<&Ontology>) -> ResolvedFilters {
    let mut out = ResolvedFilters::default();
    for filter in filters {
        let id = filter.id.trim();
        if filter.operator.is_some() {
            out.warnings
                .push(format!("filter {id:?}: alphanumeric filters (with an operator) are not supported by this node"));
            continue;
        }
        let sex = match id {
            FEMALE => Some(Sex::Female),
            MALE => Some(Sex::Male),
            _ => None,
        };
        if let Some(sex) = sex {
            if out.cohort.sex.is_some_and(|s| s != sex) {
                // Female and male together: nobody, and that is not an error.
                out.warnings.push(format!("filters {FEMALE} and {MALE} together select nobody"));
            }
            out.cohort.sex = Some(sex);
        } else if id.starts_with("HP:") {
            let known = hpo.is_none_or(|o| o.resolve(id).is_some());
            if known {
                out.cohort
                    .terms
                    .push(TermFilter { id: id.to_string(), include_descendants: filter.include_descendants });
            } else {
                out.warnings.push(format!("unknown filter term {id:?}: not in this node's HPO release"));
            }
        } else if let Some(code) = icd10_code(id) {
            out.cohort
                .terms
                .push(TermFilter { id: format!("ICD10:{code}"), include_descendants: filter.include_descendants });
        } else {
            out.warnings.push(format!(
                "unknown filter term {id:?}: this node filters on HPO terms (HP:…), sex ({FEMALE}, {MALE}) and \
                 ICD-10 codes (ICD10:…); see /filtering_terms"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(id: &str) -> Filter {
        Filter { id: id.into(), include_descendants: true, operator: None }
    }

    #[test]
    fn maps_terms_and_reports_the_rest() {
        let hpo = Ontology::from_obo("[Term]\nid: HP:0001250\nname: Seizure\n".as_bytes()).unwrap();
        let resolved = resolve(
            &[filter("HP:0001250"), filter(FEMALE), filter("ICD10:G40.9"), filter("HP:9999999"), filter("EFO:1")],
            Some(&hpo),
        );
        assert_eq!(resolved.cohort.sex, Some(Sex::Female));
        let ids: Vec<&str> = resolved.cohort.terms.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["HP:0001250", "ICD10:G40.9"]);
        assert_eq!(resolved.warnings.len(), 2);
        assert!(resolved.matches_nobody());
        let alphanumeric = Filter { operator: Some(">".into()), ..filter("age") };
        assert!(resolve(&[alphanumeric], None).matches_nobody());
        assert!(!resolve(&[filter(MALE)], None).matches_nobody());
    }
}
