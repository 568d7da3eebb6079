//! The node's individuals as bitmaps by attribute (sex, consent, phenotype), for cohort filters.
//!
//! Read from the catalog when a question first needs them (`CohortIndex::people`): a count over
//! everyone needs only the files' sample columns, and reading every individual's metadata was
//! most of a one-question command's start-up (issue #19).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use oresund_access::Reach;
use oresund_access::duo_match::{Outcome, allows_every_purpose, match_consent};
use oresund_core::individual::{Individual, Sex};
use oresund_core::ontology::Ontology;
use oresund_store::{IndividualNumber, StoredIndividual};
use roaring::RoaringBitmap;

use crate::cohort_filter::{CohortFilter, FilterError};
use crate::phenotype_index::{PhenotypeIndex, canonical_term};

#[derive(Debug, Default)]
pub struct PeopleIndex {
    pub sexes: SexSets,
    /// Everyone's metadata, by individual number.
    pub people: BTreeMap<IndividualNumber, Individual>,
    /// Individual number by pseudonym.
    pub by_pseudonym: HashMap<String, IndividualNumber>,
    /// Individuals by phenotype term, built when first needed.
    phenotypes: OnceLock<PhenotypeIndex>,
    /// Who each grant reach admits, computed on first use (the catalog generation fixes consent).
    consenting: Mutex<HashMap<Reach, Arc<RoaringBitmap>>>,
    /// Set once this index was offered to the people image (`people_image.rs`).
    imaged: OnceLock<()>,
}

/// Everyone, and the females and males among them.
#[derive(Debug, Default, PartialEq)]
pub struct SexSets {
    pub everyone: RoaringBitmap,
    pub females: RoaringBitmap,
    pub males: RoaringBitmap,
}

impl SexSets {
    /// The people of `sex` (unknown: neither female nor male).
    pub fn of(&self, sex: Sex) -> Cow<'_, RoaringBitmap> {
        match sex {
            Sex::Female => Cow::Borrowed(&self.females),
            Sex::Male => Cow::Borrowed(&self.males),
            Sex::Unknown => Cow::Owned(&self.everyone - &(&self.females | &self.males)),
        }
    }
}

/// The intersection of sets given one at a time; `None` (no restriction) until the first.
#[derive(Debug, Default)]
pub struct Intersection(Option<RoaringBitmap>);

impl Intersection {
    pub fn with(&mut self, set: &RoaringBitmap) {
        match self.0.as_mut() {
            Some(current) => *current &= set,
            None => self.0 = Some(set.clone()),
        }
    }

    pub fn into_set(self) -> Option<RoaringBitmap> {
        self.0
    }
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
            index.sexes.everyone.insert(n);
            match person.individual.sex {
                Sex::Female => index.sexes.females.insert(n),
                Sex::Male => index.sexes.males.insert(n),
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

    /// Runs `write` the first time it is called for this index (one people image per generation
    /// and process).
    pub fn offer_once(&self, write: impl FnOnce(&Self)) {
        if self.imaged.set(()).is_ok() {
            write(self);
        }
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
        let mut individuals = Intersection::default();
        if let Some(sex) = filter.sex {
            individuals.with(&self.sexes.of(sex));
        }
        let empty = RoaringBitmap::new();
        for term in &filter.terms {
            let id = canonical_term(&term.id, hpo).ok_or_else(|| FilterError::UnknownTerm(term.id.clone()))?;
            individuals.with(self.phenotypes(hpo).selected(&id, term.include_descendants, hpo).unwrap_or(&empty));
        }
        let reached = filter
            .consent
            .iter()
            .filter(|(_, reach)| *reach != Reach::Everyone)
            .map(|(dataset, reach)| (dataset.clone(), self.consenting(reach, hpo)))
            .collect();
        Ok(Restriction { individuals: individuals.into_set(), reached })
    }
}

/// A person for tests: numbered, pseudonymised under a fixed key, with terms and codes.
#[cfg(test)]
pub(crate) fn test_person(number: u32, sex: Sex, hpo: &[&str], icd10: &[&str]) -> StoredIndividual {
    let key = oresund_core::pseudonym::Pseudonymiser::new(&[1; 32]).expect("a 32-byte key");
    let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
    StoredIndividual {
        number: IndividualNumber::new(number),
        individual: Individual {
            pseudonym: key.pseudonym(&number.to_string()),
            sex,
            birth_year: None,
            hpo_terms: strings(hpo),
            icd10_codes: strings(icd10),
            consent: vec![],
        },
    }
}
