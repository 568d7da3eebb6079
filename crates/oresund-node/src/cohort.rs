//! Cohort filters as bitmaps of individual numbers, built once per catalog generation (the
//! people part: `people_index.rs`; phenotype terms: `phenotype_index.rs`).

use std::collections::BTreeMap;
use std::sync::{OnceLock, RwLock};

use foldhash::{HashMap, HashSet};
use oresund_core::carriers::{ColumnFilter, allele_slots};
use oresund_store::{FileNumber, IndividualNumber, StoredFile, StoredIndividual};
use roaring::RoaringBitmap;

use crate::once::get_or_try_init;
use crate::people_image::PeopleImage;
use crate::people_index::{PeopleIndex, Restriction};

pub use crate::cohort_filter::{CohortFilter, FilterError, TermFilter};

/// A filter resolved against one catalog generation: who passes, which files count, and each
/// file's passing sample columns. Built once per distinct filter and reused across queries.
#[derive(Debug)]
pub struct PreparedFilter {
    pub generation: u64,
    /// Individuals that pass; `None` means everyone.
    pub individuals: Option<RoaringBitmap>,
    files: HashMap<FileNumber, FileScope>,
    /// Allele slots per (file, haploid set), computed on first use.
    slots: RwLock<HashMap<(FileNumber, u32), u64>>,
    /// Per file, the people it shares with earlier admitted files (see [`Shadow`]).
    shadows: HashMap<FileNumber, Vec<Shadow>>,
    /// Files on either side of a shadow.
    overlapping: HashSet<FileNumber>,
}

/// The columns of a file whose people an earlier file (lower number) also holds. Where both files
/// hold a variant, those people are counted in the earlier one only: each person counts once per
/// variant (issue #17; ingest refuses files that disagree on a shared person's genotype, so
/// either copy gives the same answer).
#[derive(Debug)]
pub struct Shadow {
    pub by: FileNumber,
    pub columns: ColumnFilter,
    pub same_dataset: bool,
}

/// Columns to leave out of one file's count of one variant.
#[derive(Debug, Default)]
pub struct Shadowed {
    /// For the total across datasets.
    pub total: Option<ColumnFilter>,
    /// For the file's own dataset.
    pub dataset: Option<ColumnFilter>,
}

/// One admitted file as a filter sees it.
#[derive(Debug)]
pub struct FileScope {
    pub dataset: std::sync::Arc<str>,
    pub columns: usize,
    /// Columns that pass; `None` when every column does.
    pub filter: Option<ColumnFilter>,
}

impl PreparedFilter {
    /// The file's scope, or `None` when the filter leaves the file out.
    pub fn file(&self, file: FileNumber) -> Option<&FileScope> {
        self.files.get(&file)
    }

    /// Whether `file` shares admitted people with another admitted file (either way round).
    pub fn overlaps(&self, file: FileNumber) -> bool {
        self.overlapping.contains(&file)
    }

    /// The columns of `file` counted elsewhere, when `present(earlier)` says which files also hold
    /// the variant; `None` when no column is.
    pub fn shadowed(&self, file: FileNumber, present: impl Fn(FileNumber) -> bool) -> Option<Shadowed> {
        let mut out = Shadowed::default();
        for shadow in self.shadows.get(&file)?.iter().filter(|s| present(s.by)) {
            let targets = [Some(&mut out.total), shadow.same_dataset.then_some(&mut out.dataset)];
            for target in targets.into_iter().flatten() {
                match target {
                    Some(mask) => mask.union_with(&shadow.columns),
                    None => *target = Some(shadow.columns.clone()),
                }
            }
        }
        out.total.is_some().then_some(out)
    }

    /// Allele slots of the passing columns of `file` for a haploid set; `haploid` loads the set's
    /// columns the first time.
    pub fn slots<E>(
        &self,
        file: FileNumber,
        set: u32,
        haploid: impl FnOnce() -> Result<std::sync::Arc<Vec<u32>>, E>,
    ) -> Result<u64, E> {
        if let Some(&slots) = self.slots.read().ok().as_ref().and_then(|m| m.get(&(file, set))) {
            return Ok(slots);
        }
        let Some(scope) = self.files.get(&file) else { return Ok(0) };
        let slots = allele_slots(scope.columns, &haploid()?, scope.filter.as_ref());
        if let Ok(mut cache) = self.slots.write() {
            cache.insert((file, set), slots);
        }
        Ok(slots)
    }
}

/// The node's files and datasets for one catalog generation, with its people read on first use.
#[derive(Debug, Default)]
pub struct CohortIndex {
    pub generation: u64,
    pub files: Vec<StoredFile>,
    /// Dataset id → its files.
    pub datasets: BTreeMap<String, Vec<FileNumber>>,
    /// The individuals' metadata as bitmaps, read when a question first needs it.
    people: OnceLock<PeopleIndex>,
    /// The people image of this generation, if one was current when first looked for.
    image: OnceLock<Option<PeopleImage>>,
}

impl CohortIndex {
    /// Per dataset, the individuals whose genotypes it holds and who pass `prepared`.
    pub fn selected(&self, prepared: &PreparedFilter) -> BTreeMap<String, RoaringBitmap> {
        let mut out: BTreeMap<String, RoaringBitmap> = BTreeMap::new();
        for file in &self.files {
            let Some(scope) = prepared.file(file.number) else { continue };
            let set = out.entry(file.dataset.clone()).or_default();
            for (column, number) in file.columns.iter().enumerate() {
                if *number != IndividualNumber::WITHDRAWN
                    && scope.filter.as_ref().is_none_or(|f| f.contains(column as u32))
                {
                    set.insert(number.get());
                }
            }
        }
        out
    }

    pub fn build(generation: u64, files: Vec<StoredFile>) -> Self {
        let mut datasets: BTreeMap<String, Vec<FileNumber>> = BTreeMap::new();
        for file in &files {
            datasets.entry(file.dataset.clone()).or_default().push(file.number);
        }
        CohortIndex { generation, files, datasets, people: OnceLock::new(), image: OnceLock::new() }
    }

    /// The people part, read with `load` (the catalog's individuals) the first time it is needed.
    pub fn people<E>(&self, load: impl FnOnce() -> Result<Vec<StoredIndividual>, E>) -> Result<&PeopleIndex, E> {
        get_or_try_init(&self.people, || Ok(PeopleIndex::build(load()?)))
    }

    /// Whether the people part was read already (then it answers faster than any image).
    pub fn people_loaded(&self) -> bool {
        self.people.get().is_some()
    }

    /// The people image of this generation, looked for with `read` the first time.
    pub fn people_image(&self, read: impl FnOnce() -> Option<PeopleImage>) -> Option<&PeopleImage> {
        self.image.get_or_init(read).as_ref()
    }

    /// Individuals whose genotypes some file of `datasets` (all when empty) holds.
    pub fn members(&self, datasets: &[String]) -> RoaringBitmap {
        let mut out = RoaringBitmap::new();
        for file in &self.files {
            if datasets.is_empty() || datasets.contains(&file.dataset) {
                out.extend(file.columns.iter().filter(|n| **n != IndividualNumber::WITHDRAWN).map(|n| n.get()));
            }
        }
        out
    }

    /// Resolves a filter: its datasets here, its people part as `restriction` leaves it
    /// ([`PeopleIndex::restrict`]; the default when the filter has none, see
    /// [`CohortFilter::needs_people`]).
    pub fn prepare(&self, filter: &CohortFilter, restriction: Restriction) -> Result<PreparedFilter, FilterError> {
        for dataset in &filter.datasets {
            if !self.datasets.contains_key(dataset) {
                return Err(FilterError::UnknownDataset(dataset.clone()));
            }
        }
        let Restriction { individuals, reached } = restriction;
        let files = self
            .files
            .iter()
            .filter(|f| filter.datasets.is_empty() || filter.datasets.contains(&f.dataset))
            .map(|f| {
                let columns = f.columns.len();
                let consenting = reached.get(f.dataset.as_str());
                let filter = match (individuals.as_ref(), consenting) {
                    (None, None) => None,
                    (passing, consenting) => Some(ColumnFilter::from_fn(columns, |c| {
                        let n = f.columns[c].get();
                        passing.is_none_or(|set| set.contains(n)) && consenting.is_none_or(|set| set.contains(n))
                    })),
                };
                (f.number, FileScope { dataset: f.dataset.as_str().into(), columns, filter })
            })
            .collect();
        let shadows = shadows(&self.files, &files);
        let overlapping = shadows.iter().flat_map(|(file, s)| s.iter().map(|s| s.by).chain([*file])).collect();
        Ok(PreparedFilter {
            generation: self.generation,
            individuals,
            files,
            slots: RwLock::new(HashMap::default()),
            shadows,
            overlapping,
        })
    }
}

/// For each admitted file, the admitted people that earlier admitted files hold too.
fn shadows(files: &[StoredFile], scopes: &HashMap<FileNumber, FileScope>) -> HashMap<FileNumber, Vec<Shadow>> {
    let mut admitted: Vec<(&StoredFile, RoaringBitmap)> = files
        .iter()
        .filter_map(|f| {
            let scope = scopes.get(&f.number)?;
            let people = f
                .columns
                .iter()
                .enumerate()
                .filter(|(c, n)| {
                    **n != IndividualNumber::WITHDRAWN && scope.filter.as_ref().is_none_or(|x| x.contains(*c as u32))
                })
                .map(|(_, n)| n.get())
                .collect();
            Some((f, people))
        })
        .collect();
    admitted.sort_by_key(|(f, _)| f.number);
    let mut out: HashMap<FileNumber, Vec<Shadow>> = HashMap::default();
    for (i, (later, later_people)) in admitted.iter().enumerate() {
        for (earlier, earlier_people) in &admitted[..i] {
            let shared = later_people & earlier_people;
            if shared.is_empty() {
                continue;
            }
            let columns = ColumnFilter::from_fn(later.columns.len(), |c| shared.contains(later.columns[c].get()));
            let same_dataset = later.dataset == earlier.dataset;
            out.entry(later.number).or_default().push(Shadow { by: earlier.number, columns, same_dataset });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people_index::test_person as person;
    use oresund_access::Reach;
    use oresund_access::duo_match::ResearchPurpose;
    use oresund_core::individual::Sex;
    use oresund_core::ontology::Ontology;

    fn consenting(number: u32, consent: &[&str]) -> StoredIndividual {
        let mut p = person(number, Sex::Unknown, &[], &[]);
        p.individual.consent = consent.iter().map(|s| s.to_string()).collect();
        p
    }

    fn file(number: u32, dataset: &str, columns: &[u32]) -> StoredFile {
        StoredFile {
            number: FileNumber::new(number),
            accession: format!("N-F{number}"),
            dataset: dataset.into(),
            name: "x.vcf.gz".into(),
            sha256: String::new(),
            size: 0,
            created: String::new(),
            stats: Default::default(),
            columns: columns.iter().map(|n| IndividualNumber::new(*n)).collect(),
        }
    }

    #[test]
    fn a_grant_reaches_the_consenting_people_of_its_dataset_only() {
        let people = [
            consenting(1, &["DUO:0000042"]),
            consenting(2, &["DUO:0000006"]),
            consenting(3, &["DUO:0000007", "MONDO:0005027"]),
            consenting(4, &["DUO:0000006", "DUO:0000045"]),
        ];
        // Persons 3 and 4 are in both datasets: left out of D1 by its grant, counted in D2.
        let index = CohortIndex::build(1, vec![file(1, "D1", &[1, 2, 3, 4]), file(2, "D2", &[3, 4])]);
        let everyone = PeopleIndex::build(people);
        let hmb = ResearchPurpose { purpose: "DUO:0000006".into(), disease: None, commercial: false, methods: false };
        let filter = |consent: Vec<(String, Reach)>| CohortFilter { consent, ..CohortFilter::default() };
        let selected = |f: &CohortFilter| -> Vec<(String, Vec<u32>)> {
            let restriction = everyone.restrict(f, None).unwrap();
            index.selected(&index.prepare(f, restriction).unwrap()).into_iter().map(|(d, s)| (d, ids(&s))).collect()
        };
        let d1 = |reach: Reach| vec![("D1".to_string(), reach)];
        assert_eq!(selected(&filter(vec![])), [("D1".into(), vec![1, 2, 3, 4]), ("D2".into(), vec![3, 4])]);
        assert_eq!(
            selected(&filter(d1(Reach::purpose(hmb.clone())))),
            [("D1".into(), vec![1, 2, 4]), ("D2".into(), vec![3, 4])]
        );
        // For profit: NPU (person 4) forbids it.
        let commercial = ResearchPurpose { commercial: true, ..hmb.clone() };
        assert_eq!(
            selected(&filter(d1(Reach::purpose(commercial)))),
            [("D1".into(), vec![1, 2]), ("D2".into(), vec![3, 4])]
        );
        // Epilepsy research for profit: the DS(epilepsy) consent allows it, HMB with NPU does not.
        let disease = Some("MONDO:0005027".to_string());
        let epilepsy = ResearchPurpose { purpose: "DUO:0000007".into(), disease, commercial: true, methods: false };
        let both = vec![("D1".to_string(), Reach::Unstated), ("D2".to_string(), Reach::purpose(epilepsy))];
        assert_eq!(selected(&filter(both)), [("D1".into(), vec![1]), ("D2".into(), vec![3])]);
        assert_eq!(
            selected(&filter(d1(Reach::Everyone))),
            [("D1".into(), vec![1, 2, 3, 4]), ("D2".into(), vec![3, 4])]
        );
    }

    fn ids(b: &RoaringBitmap) -> Vec<u32> {
        b.iter().collect()
    }

    #[test]
    fn descendants_sex_and_icd10_categories() {
        let hpo = Ontology::from_obo(
            "[Term]\nid: HP:0000001\nname: All\n\n[Term]\nid: HP:0000707\nname: Nervous\nis_a: HP:0000001\n\n[Term]\nid: HP:0001250\nname: Seizure\nis_a: HP:0000707\n"
                .as_bytes(),
        )
        .unwrap();
        let people = [
            person(1, Sex::Female, &["HP:0001250"], &["G40.9"]),
            person(2, Sex::Male, &["HP:0000707"], &[]),
            person(3, Sex::Female, &[], &["G40.1"]),
        ];
        let index = PeopleIndex::build(people);
        let term = |id: &str, d: bool| TermFilter { id: id.into(), include_descendants: d };
        let resolve = |terms: Vec<TermFilter>, sex| {
            ids(&index
                .restrict(&CohortFilter { terms, sex, ..CohortFilter::default() }, Some(&hpo))
                .unwrap()
                .individuals
                .unwrap())
        };
        assert_eq!(resolve(vec![term("HP:0000707", true)], None), [1, 2]);
        assert_eq!(resolve(vec![term("HP:0000707", false)], None), [2]);
        assert_eq!(resolve(vec![term("HP:0000707", true)], Some(Sex::Female)), [1]);
        assert_eq!(resolve(vec![term("G40", true)], None), [1, 3]);
        assert_eq!(resolve(vec![term("ICD10:G40.9", false)], None), [1]);
        assert_eq!(resolve(vec![term("HP:0000001", true), term("G40", true)], None), [1]);
        assert_eq!(resolve(vec![], Some(Sex::Male)), [2]);
        let unknown = CohortFilter { terms: vec![term("HP:9999999", true)], ..Default::default() };
        assert_eq!(index.restrict(&unknown, Some(&hpo)).unwrap_err(), FilterError::UnknownTerm("HP:9999999".into()));
    }
}
