//! The filter side of the people index on disk (`people.image` in the node directory): who is
//! female or male, and per phenotype term who is annotated with it or below it, as bitmaps of
//! individual numbers. A one-shot command with a sex or phenotype filter reads this instead of
//! every individual, the ontology and an index built from both (18 of 24 ms, issue #19).
//!
//! Written by the first reader of a catalog generation that builds the people index; used only
//! while the catalog generation and the ontology file's stamp are those it was written for, and
//! only when its SHA-256 holds. A filter with a grant still reads the catalog (consent is matched
//! person by person). The file holds numbers and terms, no pseudonyms; a withdrawal deletes it
//! after its catalog commit, and a writer that finds the generation moved while it wrote removes
//! what it wrote, so a withdrawn person's number does not stay behind in it (`query.rs`).
//!
//! ```text
//! "ORPEOPL1" | SHA-256 of the rest | generation u64 | ontology stamp [16] |
//! everyone, females, males: (u32 length, Roaring bitmap) each | u32 terms |
//! per term, by id: id, exact, below (u32 length, then the bytes, each)
//! ```
//! Integers are little-endian; bitmaps are in Roaring's portable format.

use std::ops::Range;

use oresund_core::ontology::Ontology;
use roaring::RoaringBitmap;
use sha2::{Digest, Sha256};

use crate::cohort_filter::{CohortFilter, FilterError};
use crate::people_index::{Intersection, PeopleIndex, Restriction, SexSets};

const MAGIC: &[u8; 8] = b"ORPEOPL1";
const HEADER: usize = MAGIC.len() + 32;

/// What an image is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageStamp {
    pub generation: u64,
    /// The ontology file's size and modification time (`LazyOntology::stamp`).
    pub ontology: [u8; 16],
}

/// Why an image was not used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("written for another catalog generation or ontology")]
    Stale,
    #[error("damaged: {0}")]
    Damaged(&'static str),
}

/// An image read from disk; bitmaps are decoded when a filter asks for them.
#[derive(Debug)]
pub struct PeopleImage {
    bytes: Vec<u8>,
    sexes: [Range<usize>; 3],
    /// Sorted by id.
    terms: Vec<TermEntry>,
}

#[derive(Debug)]
struct TermEntry {
    id: Range<usize>,
    exact: Range<usize>,
    below: Range<usize>,
}

/// The image of `people` (its phenotype index built with `hpo`, the node's ontology).
pub fn encode(stamp: &ImageStamp, people: &PeopleIndex, hpo: Option<&Ontology>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&stamp.generation.to_le_bytes());
    body.extend_from_slice(&stamp.ontology);
    for set in [&people.sexes.everyone, &people.sexes.females, &people.sexes.males] {
        put_bitmap(&mut body, set);
    }
    let mut terms: Vec<_> = people.phenotypes(hpo).by_canonical_id(hpo).collect();
    terms.sort_unstable_by_key(|(id, ..)| *id);
    body.extend_from_slice(&(terms.len() as u32).to_le_bytes());
    for (id, exact, below) in terms {
        put_bytes(&mut body, id.as_bytes());
        put_bitmap(&mut body, exact);
        put_bitmap(&mut body, below);
    }
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

fn put_bitmap(out: &mut Vec<u8>, set: &RoaringBitmap) {
    let mut bytes = Vec::with_capacity(set.serialized_size());
    // Writing into a Vec cannot fail.
    let _ = set.serialize_into(&mut bytes);
    put_bytes(out, &bytes);
}

/// A field of up to 4 GiB (a bitmap of 2^32 people is 512 MiB), its length first.
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

impl PeopleImage {
    /// The image in `bytes` if it was written for `stamp` and is whole.
    pub fn decode(bytes: Vec<u8>, stamp: &ImageStamp) -> Result<Self, ImageError> {
        let (magic, rest) =
            bytes.split_at_checked(MAGIC.len()).ok_or(ImageError::Damaged("shorter than its header"))?;
        if magic != MAGIC {
            return Err(ImageError::Damaged("not a people image"));
        }
        let (digest, body) = rest.split_at_checked(32).ok_or(ImageError::Damaged("shorter than its header"))?;
        let mut cursor = Cursor { bytes: &bytes, at: HEADER };
        let generation = u64::from_le_bytes(cursor.array()?);
        let ontology: [u8; 16] = cursor.array()?;
        if (ImageStamp { generation, ontology }) != *stamp {
            return Err(ImageError::Stale);
        }
        if Sha256::digest(body).as_slice() != digest {
            return Err(ImageError::Damaged("checksum mismatch"));
        }
        let sexes = [cursor.field()?, cursor.field()?, cursor.field()?];
        let count = u32::from_le_bytes(cursor.array()?) as usize;
        let mut terms = Vec::with_capacity(count.min(body.len() / 10));
        for _ in 0..count {
            terms.push(TermEntry { id: cursor.field()?, exact: cursor.field()?, below: cursor.field()? });
        }
        if cursor.at != bytes.len() {
            return Err(ImageError::Damaged("bytes after the last term"));
        }
        let image = PeopleImage { bytes, sexes, terms };
        if !image.terms.windows(2).all(|w| image.id(&w[0]) < image.id(&w[1])) {
            return Err(ImageError::Damaged("terms out of order"));
        }
        Ok(image)
    }

    fn id(&self, entry: &TermEntry) -> &[u8] {
        &self.bytes[entry.id.clone()]
    }

    fn bitmap(&self, range: &Range<usize>) -> Result<RoaringBitmap, ImageError> {
        RoaringBitmap::deserialize_from(&self.bytes[range.clone()]).map_err(|_| ImageError::Damaged("a bitmap"))
    }

    fn sexes(&self) -> Result<SexSets, ImageError> {
        let [everyone, females, males] = &self.sexes;
        Ok(SexSets { everyone: self.bitmap(everyone)?, females: self.bitmap(females)?, males: self.bitmap(males)? })
    }

    /// The people a canonical term id selects; `None` when the image holds no such term.
    fn term(&self, id: &str, include_descendants: bool) -> Result<Option<RoaringBitmap>, ImageError> {
        let Ok(found) = self.terms.binary_search_by(|e| self.id(e).cmp(id.as_bytes())) else { return Ok(None) };
        let entry = &self.terms[found];
        self.bitmap(if include_descendants { &entry.below } else { &entry.exact }).map(Some)
    }

    /// The people part of `filter`, which must have no grant: as `PeopleIndex::restrict` gives it.
    /// A term the image does not hold under the id given is resolved by `canonical` (the node's
    /// ontology: an alternative id, a term nobody has, or an unknown one). `Ok(Err(_))`: the
    /// image could not answer, ask the catalog.
    pub fn restrict<E: From<FilterError>>(
        &self,
        filter: &CohortFilter,
        mut canonical: impl FnMut(&str) -> Result<Option<String>, E>,
    ) -> Result<Result<Restriction, ImageError>, E> {
        let mut individuals = Intersection::default();
        if let Some(sex) = filter.sex {
            match self.sexes() {
                Ok(sexes) => individuals.with(&sexes.of(sex)),
                Err(e) => return Ok(Err(e)),
            }
        }
        for term in &filter.terms {
            let id = term.id.trim();
            let found = match self.term(id, term.include_descendants) {
                Ok(None) => match canonical(id)? {
                    Some(id) => self.term(&id, term.include_descendants),
                    None => return Err(FilterError::UnknownTerm(term.id.clone()).into()),
                },
                found => found,
            };
            match found {
                Ok(set) => individuals.with(&set.unwrap_or_default()),
                Err(e) => return Ok(Err(e)),
            }
        }
        Ok(Ok(Restriction { individuals: individuals.into_set(), reached: Default::default() }))
    }
}

/// Reads fields in order, every length checked against the bytes left.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, length: usize) -> Result<Range<usize>, ImageError> {
        let end = self.at.checked_add(length).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or(ImageError::Damaged("a field runs past the end"))?;
        let range = self.at..end;
        self.at = end;
        Ok(range)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ImageError> {
        let range = self.take(N)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.bytes[range]);
        Ok(out)
    }

    fn field(&mut self) -> Result<Range<usize>, ImageError> {
        let length = u32::from_le_bytes(self.array()?) as usize;
        self.take(length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort_filter::TermFilter;
    use crate::people_index::test_person as person;
    use crate::phenotype_index::canonical_term;
    use oresund_core::individual::Sex;

    const OBO: &str = "[Term]\nid: HP:0000001\nname: All\n\n[Term]\nid: HP:0000707\nname: Nervous\nalt_id: HP:0001333\nis_a: HP:0000001\n\n\
        [Term]\nid: HP:0001250\nname: Seizure\nis_a: HP:0000707\n\n[Term]\nid: HP:0000003\nname: Kidney\nis_a: HP:0000001\n\n\
        [Term]\nid: HP:0000057\nname: Old\nis_obsolete: true\nreplaced_by: HP:0001250\n";

    fn people() -> PeopleIndex {
        PeopleIndex::build([
            person(1, Sex::Female, &["HP:0001250"], &["G40.9"]),
            person(2, Sex::Male, &["HP:0001333"], &[]),
            person(3, Sex::Female, &[], &["G40.1"]),
            person(4, Sex::Unknown, &["HP:0000057", "HP:9999999"], &["I10"]),
            person(70_000, Sex::Male, &["HP:0000707"], &[]),
        ])
    }

    const STAMP: ImageStamp = ImageStamp { generation: 7, ontology: [3; 16] };

    #[test]
    fn every_filter_is_answered_as_the_people_index_answers_it() {
        let hpo = Ontology::from_obo(OBO.as_bytes()).unwrap();
        let index = people();
        let image = PeopleImage::decode(encode(&STAMP, &index, Some(&hpo)), &STAMP).unwrap();
        let terms = [
            "HP:0000001",
            "HP:0000707",
            " HP:0001333",
            "HP:0001250",
            "HP:0000057",
            "HP:0000003",
            "HP:9999999",
            "G40",
            "ICD10:G40.9",
            "G40.1",
            "I10",
            "C50.9",
            "NCIT:C1",
            "",
        ];
        let sexes = [None, Some(Sex::Female), Some(Sex::Male), Some(Sex::Unknown)];
        let mut asked = 0;
        for id in terms {
            for include_descendants in [true, false] {
                for sex in sexes {
                    let terms = vec![TermFilter { id: id.into(), include_descendants }];
                    let filter = CohortFilter { terms, sex, ..CohortFilter::default() };
                    let canonical = |id: &str| Ok::<_, FilterError>(canonical_term(id, Some(&hpo)));
                    let from_image = image.restrict(&filter, canonical).map(|r| r.unwrap().individuals);
                    let from_index = index.restrict(&filter, Some(&hpo)).map(|r| r.individuals);
                    assert_eq!(from_image, from_index, "{filter:?}");
                    asked += from_index.is_ok() as usize;
                }
            }
        }
        assert!(asked > 60, "most filters are answerable: {asked}");
        // Without an ontology, HPO ids are kept as given.
        let image = PeopleImage::decode(encode(&STAMP, &people(), None), &STAMP).unwrap();
        let filter = CohortFilter {
            terms: vec![TermFilter { id: "HP:0001333".into(), include_descendants: true }],
            ..CohortFilter::default()
        };
        let from_image = image.restrict(&filter, |id| Ok::<_, FilterError>(canonical_term(id, None))).unwrap();
        assert_eq!(from_image.unwrap().individuals.unwrap().iter().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_stale_or_damaged_image_is_refused_never_misread() {
        let hpo = Ontology::from_obo(OBO.as_bytes()).unwrap();
        let bytes = encode(&STAMP, &people(), Some(&hpo));
        let later = ImageStamp { generation: 8, ..STAMP };
        assert_eq!(PeopleImage::decode(bytes.clone(), &later).unwrap_err(), ImageError::Stale);
        let other_ontology = ImageStamp { ontology: [4; 16], ..STAMP };
        assert_eq!(PeopleImage::decode(bytes.clone(), &other_ontology).unwrap_err(), ImageError::Stale);
        for length in 0..bytes.len() {
            assert!(PeopleImage::decode(bytes[..length].to_vec(), &STAMP).is_err(), "cut at {length}");
        }
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x04;
            assert!(PeopleImage::decode(flipped, &STAMP).is_err(), "byte {at} flipped");
        }
    }
}
