//! The node's individuals as bitmaps by attribute (sex, consent, phenotype), for cohort filters.
//!
//! Read from the catalog when a question first needs them (`CohortIndex::people`): a count over
//! everyone needs only the files' sample columns, and reading every individual's metadata was
//! most of a one-question command's start-up (issue #19).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use oresund_access::Reach;
use oresund_access::duo_match::{Outcome, allows_every_purpose, match_consent};
use oresund_core::individual::{Individual, Sex, icd10_closure};
use oresund_core::ontology::Ontology;
use oresund_store::{IndividualNumber, StoredIndividual};
use roaring::RoaringBitmap;

use crate::cohort_filter::{CohortFilter, FilterError};
use crate::phenotype_index::PhenotypeIndex;

#[derive(Debug, Default)]
pub struct PeopleIndex {
    everyone: RoaringBitmap,
    females: RoaringBitmap,
    males: RoaringBitmap,
    /// Everyone's metadata, by individual number.
    pub people: BTreeMap<IndividualNumber, Individual>,
    /// Individual number by pseudonym.
    pub by_pseudonym: HashMap<String, IndividualNumber>,
    /// Individuals by phenotype term, built when first needed.
    phenotypes: OnceLock<PhenotypeIndex>,
    /// Who each grant reach admits, computed on first use (the catalog generation fixes consent).
    consenting: Mutex<HashMap<Reach, Arc<RoaringBitmap>>>,
}

/// What a filter's people part leaves: who passes its sex and terms (`None`: no such part), and
/// per dataset with a grant, who the grant reaches.
#[derive(Debug, Default)]
pub struct Restriction {
    pub individuals: Option<RoaringBitmap>,
    pub reached: HashMap<String, Arc<RoaringBitmap>>,
}

impl PeopleIndex {
    pub fn build(individuals: impl IntoIterator<Item = StoredIndividual>) -> Self {
        let mut index = PeopleIndex::default();
        for person in individuals {
            index.by_pseudonym.insert(person.individual.pseudonym.as_str().to_string(), person.number);
            let n = person.number.get();
            index.everyone.insert(n);
            match person.individual.sex {
                Sex::Female => index.females.insert(n),
                Sex::Male => index.males.insert(n),
                Sex::Unknown => false,
            };
            index.people.insert(person.number, person.individual);
        }
        index
    }

    /// Individuals by phenotype term; `hpo` must be the node's ontology (the index is built with
    /// the first one given and kept for this catalog generation).
    pub fn phenotypes(&self, hpo: Option<&Ontology>) -> &PhenotypeIndex {
        self.phenotypes.get_or_init(|| PhenotypeIndex::build(&self.people, hpo))
    }

    /// Everyone whose consent allows a purpose of `reach` (DUO matching as the committee does,
    /// `oresund_access::duo_match`: only an automatic approve admits a person).
    pub fn consenting(&self, reach: &Reach, hpo: Option<&Ontology>) -> Arc<RoaringBitmap> {
        if let Some(found) = self.consenting.lock().ok().and_then(|c| c.get(reach).cloned()) {
            return found;
        }
        let diseases = crate::diseases::NodeDiseases { hpo };
        let admits = |consent: &[String]| match reach {
            Reach::Everyone => true,
            Reach::Purposes(purposes) => {
                purposes.iter().any(|p| match_consent(p, consent, &diseases).outcome == Outcome::Approve)
            }
            Reach::Unstated => allows_every_purpose(consent, &diseases),
        };
        let set: RoaringBitmap =
            self.people.iter().filter(|(_, person)| admits(&person.consent)).map(|(n, _)| n.get()).collect();
        let set = Arc::new(set);
        if let Ok(mut cache) = self.consenting.lock() {
            cache.insert(reach.clone(), set.clone());
        }
        set
    }

    /// The people part of `filter`: sex, terms (every one must hold) and grants. `hpo` tells a
    /// known-but-absent term (count 0) from an unknown one (error).
    pub fn restrict(&self, filter: &CohortFilter, hpo: Option<&Ontology>) -> Result<Restriction, FilterError> {
        let mut individuals: Option<RoaringBitmap> = None;
        let mut restrict = |set: &RoaringBitmap| match individuals.as_mut() {
            Some(current) => *current &= set,
            None => individuals = Some(set.clone()),
        };
        match filter.sex {
            Some(Sex::Female) => restrict(&self.females),
            Some(Sex::Male) => restrict(&self.males),
            Some(Sex::Unknown) => restrict(&(&self.everyone - &(&self.females | &self.males))),
            None => {}
        }
        let empty = RoaringBitmap::new();
        for term in &filter.terms {
            let id = canonical_term(&term.id, hpo).ok_or_else(|| FilterError::UnknownTerm(term.id.clone()))?;
            restrict(self.phenotypes(hpo).selected(&id, term.include_descendants, hpo).unwrap_or(&empty));
        }
        let reached = filter
            .consent
            .iter()
            .filter(|(_, reach)| *reach != Reach::Everyone)
            .map(|(dataset, reach)| (dataset.clone(), self.consenting(reach, hpo)))
            .collect();
        Ok(Restriction { individuals, reached })
    }
}

/// The id under which a filter term is indexed, or `None` for a term the node cannot know.
fn canonical_term(id: &str, hpo: Option<&Ontology>) -> Option<String> {
    let id = id.trim();
    if id.starts_with("HP:") {
        return match hpo {
            Some(o) => o.resolve(id).map(|t| o.id(t).to_string()),
            None => Some(id.to_string()),
        };
    }
    let code = id.strip_prefix("ICD10:").unwrap_or(id);
    let b = code.as_bytes();
    let looks_icd10 =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_digit() && b[2].is_ascii_alphanumeric();
    looks_icd10.then(|| icd10_closure(code).swap_remove(0))
}
