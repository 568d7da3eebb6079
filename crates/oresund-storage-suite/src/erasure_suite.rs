//! Erasure cases: a withdrawal's rewrite of the variant index and archive catalog, and removals,
//! each all or nothing.

use oresund_core::carriers::EncodedCarriers;
use oresund_store::prelude::*;
use oresund_store::{
    ArchiveObject, ErasurePlan, FileNumber, FileRewrite, IndividualNumber, StoreError, VariantKey, Withdrawal,
};

use crate::backends::Backend;
use crate::fixtures::{self, Ingest, run, scan};

/// Per variant of a file on both contigs: (contig, pos, ref, alt, columns with an ALT allele,
/// columns with a missing call).
type Columns = Vec<(u32, u64, String, String, Vec<u32>, Vec<u32>)>;

fn carriers_of(store: &dyn NodeStore, file: FileNumber, columns: usize) -> Columns {
    let mut out = Vec::new();
    for contig in [0, 1] {
        for e in scan(store, contig, 1, u64::from(u32::MAX)).into_iter().filter(|e| e.0 == file) {
            let sets = EncodedCarriers::parse(&e.6, columns).expect("carriers decode at the file's width").decode();
            let mut alleles: Vec<u32> = [sets.het, sets.hom_alt, sets.hemi].concat();
            alleles.sort_unstable();
            let mut missing: Vec<u32> = [sets.missing_one, sets.missing_two].concat();
            missing.sort_unstable();
            out.push((contig, e.1, e.2, e.3, alleles, missing));
        }
    }
    out
}

/// A new version of an object: same accession, new paths and key.
fn new_version(old: &ArchiveObject) -> ArchiveObject {
    ArchiveObject {
        header_path: format!("{}/h2", old.accession),
        body_path: format!("{}/b2", old.accession),
        key_id: "k2".into(),
        ..old.clone()
    }
}

fn withdrawal_of(pseudonym: &str) -> Option<Withdrawal> {
    Some(Withdrawal { pseudonym: pseudonym.into(), dataset: None, recorded: String::new() })
}

pub fn a_withdrawal_drops_the_persons_columns_everywhere_at_once<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    // Person 5 is column 4 of file A (people 1-6) and column 1 of file B (people 4-9).
    let (a, _) = run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    let (b, _) = run(store, &Ingest::new("D2", "sha-b", 4, 6, 3), true);
    let people = store.individuals().unwrap();
    let five = people.iter().find(|p| p.individual.pseudonym == fixtures::person(5, p.individual.sex).pseudonym);
    let five = five.expect("person 5 is stored");
    let before_a = carriers_of(store, a, 6);
    let before_b = carriers_of(store, b, 6);
    // The blanked column: no ALT allele, uncalled.
    let blank =
        |column: u32, (contig, pos, r, a, alleles, missing): &(u32, u64, String, String, Vec<u32>, Vec<u32>)| {
            let alleles: Vec<u32> = alleles.iter().copied().filter(|&c| c != column).collect();
            let mut missing: Vec<u32> = missing.iter().copied().filter(|&c| c != column).chain([column]).collect();
            missing.sort_unstable();
            (*contig, *pos, r.clone(), a.clone(), alleles, missing)
        };
    let objects_a = store.archive_objects_of_file(a).unwrap();
    let objects_b = store.archive_objects_of_file(b).unwrap();
    let generation = store.generation().unwrap();
    // A reader that locates entries through block heads read before the rewrite (PostgreSQL's
    // cache when it keeps no blocks), and has not yet checked the generation after it.
    let stale = backend.reopen_keeping_no_blocks();
    stale.generation().unwrap();
    let looked_up: Vec<VariantKey> = Ingest::new("D1", "sha-a", 1, 6, 0).calls.iter().map(|c| c.key.clone()).collect();
    for key in &looked_up {
        assert_eq!(stale.variant(key).unwrap(), store.variant(key).unwrap());
    }

    // A plan that leaves one object of a file without a new version is refused, changing nothing.
    let partial = ErasurePlan {
        rewrites: vec![FileRewrite { file: a, blank_columns: vec![4], objects: vec![new_version(&objects_a[0])] }],
        withdrawal: withdrawal_of(five.individual.pseudonym.as_str()),
        cause: "withdrawal".into(),
        ..ErasurePlan::default()
    };
    assert!(matches!(store.erase(&partial), Err(StoreError::Conflict(_))));
    assert_eq!(carriers_of(store, a, 6), before_a, "a refused plan changed the index");
    assert_eq!(store.generation().unwrap(), generation);
    assert!(store.withdrawals().unwrap().is_empty());

    let plan = ErasurePlan {
        rewrites: vec![
            FileRewrite { file: a, blank_columns: vec![4], objects: objects_a.iter().map(new_version).collect() },
            FileRewrite { file: b, blank_columns: vec![1], objects: objects_b.iter().map(new_version).collect() },
        ],
        withdrawal: withdrawal_of(five.individual.pseudonym.as_str()),
        cause: "withdrawal".into(),
        ..ErasurePlan::default()
    };
    let outcome = store.erase(&plan).unwrap();
    assert!(store.generation().unwrap() > generation, "readers must reload");
    assert_eq!(outcome.individuals_removed, 1);
    assert_eq!(outcome.shredded.len(), 4);
    assert!(outcome.shredded.iter().all(|s| s.version == 1 && s.key_id == "k1" && s.cause == "withdrawal"));
    assert_eq!(store.shredded_objects().unwrap().len(), 4);
    // The variant index: every variant still there, column 4 (A) / 1 (B) blank, the width kept
    // (a reader holding the old layout reads the new sets right).
    let after_a = carriers_of(store, a, 6);
    assert_eq!(after_a.len(), before_a.len());
    assert!(before_a.iter().any(|v| v.4.contains(&4)), "person 5 carries something in A");
    for (old, new) in before_a.iter().zip(&after_a) {
        assert_eq!(new, &blank(4, old), "file A at {}:{}", old.0, old.1);
    }
    for (old, new) in before_b.iter().zip(carriers_of(store, b, 6)) {
        assert_eq!(new, blank(1, old), "file B at {}:{}", old.0, old.1);
    }
    // A single-variant lookup reads the rewritten entry too (PostgreSQL reads it by offset).
    for call in Ingest::new("D1", "sha-a", 1, 6, 0).calls.iter().step_by(17) {
        let found = store.variant(&call.key).unwrap().expect("variant still indexed");
        let in_a = found.calls.iter().find(|c| c.file == a).expect("file A's calls");
        let scanned = scan(store, call.key.contig, call.key.pos, call.key.pos)
            .into_iter()
            .find(|e| e.0 == a && e.2 == call.key.reference && e.3 == call.key.alternate)
            .expect("scanned");
        assert_eq!(in_a.plain_carriers(6).unwrap(), scanned.6);
    }
    // The reader with the old heads reads the rewritten blocks right (a rewrite moves entries).
    for key in &looked_up {
        assert_eq!(stale.variant(key).unwrap(), store.variant(key).unwrap(), "{key:?} through old heads");
    }
    // Haploid sets stay (men are columns 1, 3, 5 of A); the column list names no one there.
    assert_eq!(store.haploid_set(a, 1).unwrap(), [1, 3, 5]);
    let files = store.files().unwrap();
    let numbers = |f: FileNumber| files.iter().find(|x| x.number == f).unwrap().columns.clone();
    assert_eq!((numbers(a).len(), numbers(a)[4]), (6, IndividualNumber::WITHDRAWN));
    assert_eq!((numbers(b).len(), numbers(b)[1]), (6, IndividualNumber::WITHDRAWN));
    assert!(!numbers(a).contains(&five.number) && !numbers(b).contains(&five.number));
    assert!(store.individuals().unwrap().iter().all(|p| p.number != five.number));
    // New versions: version 2, the new paths.
    let now = store.archive_objects_of_file(a).unwrap();
    assert!(now.iter().all(|o| o.version == 2 && o.key_id == "k2" && o.header_path.ends_with("/h2")));
    assert_eq!(store.withdrawals().unwrap().len(), 1);
    // Recorded once, however often.
    let again = ErasurePlan { withdrawal: withdrawal_of(five.individual.pseudonym.as_str()), ..ErasurePlan::default() };
    assert_eq!(store.erase(&again).unwrap().individuals_removed, 0);
    assert_eq!(store.withdrawals().unwrap().len(), 1);
}

pub fn a_removed_file_leaves_every_answer_and_its_number_is_never_reused<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let (a, _) = run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    let (b, b_accession) = run(store, &Ingest::new("D2", "sha-b", 4, 6, 3), true);
    let only_b = Ingest::new("D2", "sha-b", 4, 6, 3).calls[0].key.clone();
    assert!(store.variant(&only_b).unwrap().unwrap().calls.iter().any(|c| c.file == b));
    let plan = ErasurePlan { removals: vec![b], cause: "file removed".into(), ..ErasurePlan::default() };
    let outcome = store.erase(&plan).unwrap();
    assert_eq!(outcome.shredded.len(), 2);
    assert!(outcome.shredded.iter().all(|s| s.cause == "file removed"));
    // People 7-9 were only in B; 4-6 are still in A.
    assert_eq!(outcome.individuals_removed, 3);
    assert_eq!(store.individuals().unwrap().len(), 6);
    assert_eq!(store.files().unwrap().iter().map(|f| f.number).collect::<Vec<_>>(), [a]);
    assert_eq!(store.datasets().unwrap().iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["D1"]);
    assert!(store.archive_object(&b_accession).unwrap().is_none());
    assert!(store.archive_objects_of_file(b).unwrap().is_empty());
    assert!(store.variant(&only_b).unwrap().is_none_or(|v| v.calls.iter().all(|c| c.file != b)));
    assert!(scan(store, 0, 1, u64::from(u32::MAX)).iter().all(|e| e.0 != b));
    // People 7-9 held the highest numbers and are retired: new people get numbers above them.
    run(store, &Ingest::new("D4", "sha-d", 30, 2, 0), true);
    let newest: Vec<u32> = store.individuals().unwrap().iter().map(|p| p.number.get()).filter(|&n| n > 6).collect();
    assert_eq!(newest, [10, 11], "a retired person's number was given again");
    // Removing it again is refused; the same file may be ingested anew, under a new number.
    assert!(matches!(store.erase(&plan), Err(StoreError::Conflict(_))));
    let (again, accession) = run(store, &Ingest::new("D2", "sha-b", 4, 6, 3), true);
    assert!(again > b && accession != b_accession);
    assert_eq!(store.individuals().unwrap().len(), 11, "people come back with a new file, with their numbers");
}

/// A reader that has not checked the generation since another process removed a file and
/// ingested one may answer without the new file, but never from the removed one, and never with
/// one file's block given to another (SQLite gives a deleted row's id to the next row inserted;
/// the reader's block directory still lists the old one). Once it has checked, it answers as a
/// reader without a cache.
pub fn a_reader_behind_a_removal_never_gives_a_block_to_another_file<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let (a, _) = run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    let (b, _) = run(store, &Ingest::new("D2", "sha-b", 7, 6, 3), true);
    let reader = backend.reopen();
    reader.generation().unwrap();
    // Nothing is stored at position 10: after two lookups there the reader holds the contig's block
    // directory (the embedded store reads it at a process's second lookup), and no block.
    let nowhere = VariantKey { contig: 0, pos: 10, reference: "A".into(), alternate: "C".into() };
    for _ in 0..2 {
        assert!(reader.variant(&nowhere).unwrap().is_none());
    }
    store.erase(&ErasurePlan { removals: vec![b], cause: "file removed".into(), ..ErasurePlan::default() }).unwrap();
    let third = Ingest::new("D3", "sha-c", 20, 6, 5);
    let (c, _) = run(store, &third, true);
    let truth = backend.reopen_without_cache();
    let on_contig_0: Vec<_> = third.calls.iter().filter(|call| call.key.contig == 0).collect();
    let mut seen = 0;
    for call in &on_contig_0 {
        let expected = truth.variant(&call.key).unwrap().expect("the third file holds it");
        for given in reader.variant(&call.key).unwrap().iter().flat_map(|v| &v.calls) {
            assert!(given.file == a || given.file == c, "{:?}: calls given to file {}", call.key, given.file);
            assert!(
                expected.calls.contains(given),
                "{:?}: file {}'s calls are not the stored ones",
                call.key,
                given.file
            );
            seen += usize::from(given.file == c);
        }
    }
    // On contig 0, whose directory the reader holds, the embedded store finds the new file at once
    // (each block is checked against its row); a PostgreSQL reader, whose directory does not list
    // it yet, after its check.
    assert!(seen == 0 || seen == on_contig_0.len(), "the third file's calls were given {seen} times");
    reader.generation().unwrap();
    for call in &third.calls {
        assert_eq!(reader.variant(&call.key).unwrap(), truth.variant(&call.key).unwrap(), "{:?}", call.key);
    }
}
