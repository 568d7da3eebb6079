//! Disease ancestry for DUO matching of disease-specific consent (DS, DUO:0000007): is the disease a
//! researcher studies the consented disease or a kind of it?
//!
//! * HPO terms: along `is_a` in the node's HPO release;
//! * ICD-10 codes: a code lies under its category (`ICD10:G40.9` under `ICD10:G40`);
//! * MONDO, DOID, OMIM, ORPHA and terms of different vocabularies: the node holds no ontology
//!   for them, so only the same term matches and anything else is left to the committee.

use oresund_access::duo_match::DiseaseHierarchy;
use oresund_core::ontology::Ontology;

/// The node's ontologies as a [`DiseaseHierarchy`].
pub struct NodeDiseases<'a> {
    pub hpo: Option<&'a Ontology>,
}

/// An ICD-10 code without prefix or dot, upper case: `G409`.
fn icd10(term: &str) -> Option<String> {
    let code = term.strip_prefix("ICD10:")?.trim().to_ascii_uppercase().replace('.', "");
    let b = code.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_digit() && b[2].is_ascii_alphanumeric())
        .then_some(code)
}

impl DiseaseHierarchy for NodeDiseases<'_> {
    fn is_a(&self, descendant: &str, ancestor: &str) -> Option<bool> {
        let (descendant, ancestor) = (descendant.trim(), ancestor.trim());
        if descendant == ancestor {
            return Some(true);
        }
        if descendant.starts_with("HP:") && ancestor.starts_with("HP:") {
            let hpo = self.hpo?;
            let (d, a) = (hpo.resolve(descendant)?, hpo.resolve(ancestor)?);
            return Some(hpo.ancestors(d).contains(&a));
        }
        if let (Some(d), Some(a)) = (icd10(descendant), icd10(ancestor)) {
            // ICD-10 nests by prefix: the category (3 characters) holds its subdivisions.
            return Some(d.starts_with(&a));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpo_icd10_and_unknown_vocabularies() {
        let hpo = Ontology::from_obo(
            "[Term]\nid: HP:0000001\nname: All\n\n[Term]\nid: HP:0000707\nname: Nervous\nis_a: HP:0000001\n\n\
             [Term]\nid: HP:0001250\nname: Seizure\nis_a: HP:0000707\n"
                .as_bytes(),
        )
        .unwrap();
        let d = NodeDiseases { hpo: Some(&hpo) };
        assert_eq!(d.is_a("HP:0001250", "HP:0000707"), Some(true));
        assert_eq!(d.is_a("HP:0000707", "HP:0001250"), Some(false));
        assert_eq!(d.is_a("HP:9999999", "HP:0000707"), None);
        assert_eq!(d.is_a("ICD10:G40.9", "ICD10:G40"), Some(true));
        assert_eq!(d.is_a("ICD10:g409", "ICD10:G40.9"), Some(true));
        assert_eq!(d.is_a("ICD10:G40", "ICD10:G40.9"), Some(false));
        assert_eq!(d.is_a("ICD10:F84.0", "ICD10:G40"), Some(false));
        assert_eq!(d.is_a("MONDO:0005027", "MONDO:0005027"), Some(true));
        assert_eq!(d.is_a("MONDO:0005027", "MONDO:0000001"), None);
        assert_eq!(d.is_a("HP:0001250", "MONDO:0005027"), None);
    }
}
