//! The cases, each generic over the backend: what any `NodeStore` must do.

use oresund_core::individual::Sex;
use oresund_store::prelude::*;
use oresund_store::{ArchiveKind, FileNumber, HeaderSwitch, IndividualNumber, StoreError, VariantKey};

use crate::backends::Backend;
use crate::fixtures::{self, Ingest, expected_scan, run, scan, vrs_id};

pub use crate::access_suite::*;
pub use crate::erasure_suite::*;
pub use crate::match_suite::*;
pub use crate::peer_heads_suite::*;

fn everything(store: &dyn NodeStore) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        store.datasets().unwrap(),
        store.files().unwrap(),
        store.individuals().unwrap(),
        store.archive_objects().unwrap(),
        scan(store, 0, 1, u64::from(u32::MAX)).len() + scan(store, 1, 1, u64::from(u32::MAX)).len(),
    )
}

pub fn an_ingest_is_invisible_until_commit<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let ingest = Ingest::new("D1", "sha-a", 1, 6, 0);
    let empty = everything(store);
    let generation = store.generation().unwrap();
    let mut tx = store.begin_ingest().unwrap();
    let columns = tx.upsert_individuals(&ingest.people).unwrap();
    let new_file = oresund_store::NewFile {
        dataset: "D1".into(),
        name: "a.vcf.gz".into(),
        sha256: "sha-a".into(),
        size: 1,
        columns,
    };
    let (file, accession) = tx.add_file(&new_file, "TEST").unwrap();
    for call in &ingest.calls {
        tx.add_variant(file, &call.key, &vrs_id(&call.key), &call.carriers, &call.haploid).unwrap();
    }
    tx.add_archive_object(&fixtures::object(&accession, file, ArchiveKind::Vcf)).unwrap();
    tx.finish_file(file, &Default::default()).unwrap();
    // Mid-transaction, readers (other connections) see nothing of it.
    assert_eq!(everything(store), empty, "an uncommitted ingest is visible");
    assert!(store.find_file("D1", "sha-a").unwrap().is_none());
    assert!(store.variant(&ingest.calls[0].key).unwrap().is_none());
    assert_eq!(store.generation().unwrap(), generation);
    tx.commit().unwrap();
    assert_eq!(store.files().unwrap().len(), 1);
    assert_eq!(store.individuals().unwrap().len(), 6);
    assert_eq!(store.datasets().unwrap().iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["D1"]);
    assert_eq!(store.archive_objects().unwrap().len(), 1);
    assert_eq!(scan(store, 0, 1, 10_000_000).len() + scan(store, 1, 1, 10_000_000).len(), ingest.calls.len());
}

pub fn a_dropped_ingest_leaves_nothing_and_uses_no_number<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let empty = everything(store);
    let (_, accession) = run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), false);
    assert_eq!(accession, "TEST-F000001");
    assert_eq!(everything(store), empty, "a dropped ingest left something");
    assert_eq!(store.generation().unwrap(), 0);
    // The store is not wedged, and the next ingest gets the same numbers.
    let (file, accession) = run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    assert_eq!((file, accession.as_str()), (FileNumber::new(1), "TEST-F000001"));
    assert_eq!(store.individuals().unwrap().iter().map(|p| p.number.get()).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
}

pub fn a_file_is_found_again_by_dataset_and_checksum<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    assert!(store.find_file("D1", "sha-a").unwrap().is_none());
    let (file, accession) = run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    let found = store.find_file("D1", "sha-a").unwrap().expect("the committed file is found");
    assert_eq!((found.number, found.accession.as_str(), found.dataset.as_str()), (file, accession.as_str(), "D1"));
    assert_eq!(found.columns.iter().map(|c| c.get()).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(found.stats.variants as usize, fixtures::calls(6, 0).len());
    assert_eq!(store.files().unwrap(), std::slice::from_ref(&found));
    assert!(store.find_file("D2", "sha-a").unwrap().is_none(), "the checksum is per dataset");
    // The same checksum again in the same dataset is refused by the store itself, changing nothing.
    let before = everything(store);
    let mut tx = store.begin_ingest().unwrap();
    let again = oresund_store::NewFile {
        dataset: "D1".into(),
        name: "again.vcf.gz".into(),
        sha256: "sha-a".into(),
        size: 1,
        columns: vec![IndividualNumber::new(1)],
    };
    assert!(tx.add_file(&again, "TEST").is_err(), "a second (dataset, sha256) is refused");
    drop(tx);
    assert_eq!(everything(store), before);
    // In another dataset it is a new file.
    let (second, _) = run(store, &Ingest::new("D2", "sha-a", 1, 6, 0), true);
    assert_eq!(second, FileNumber::new(2));
    assert_eq!(store.datasets().unwrap().len(), 2);
}

pub fn variants_are_found_by_key_in_file_order<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let first = Ingest::new("D1", "sha-a", 1, 6, 0);
    let second = Ingest::new("D2", "sha-b", 4, 9, 3);
    run(store, &first, true);
    run(store, &second, true);
    let shared: Vec<&fixtures::Call> =
        first.calls.iter().filter(|c| second.calls.iter().any(|d| d.key == c.key)).collect();
    assert!(shared.len() > 10, "the two files share variants");
    for call in &first.calls {
        let found = store.variant(&call.key).unwrap().expect("every ingested variant is found");
        assert_eq!(found.key, call.key);
        assert_eq!(found.vrs_id, vrs_id(&call.key));
        assert_eq!(found.calls[0].file, FileNumber::new(1));
        // The files have six and nine sample columns; common variants come in their block's order.
        assert_eq!(found.calls[0].plain_carriers(6).unwrap(), call.carriers);
        if let Some(other) = second.calls.iter().find(|d| d.key == call.key) {
            assert_eq!(found.calls.len(), 2);
            let plain = found.calls[1].plain_carriers(9).unwrap();
            assert_eq!((found.calls[1].file, &plain), (FileNumber::new(2), &other.carriers));
        } else {
            assert_eq!(found.calls.len(), 1);
        }
    }
    let missing = VariantKey { contig: 0, pos: 1001, reference: "A".into(), alternate: "T".into() };
    assert!(store.variant(&missing).unwrap().is_none());
}

pub fn region_scans_go_file_by_file_in_position_order_with_overlaps<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let first = Ingest::new("D1", "sha-a", 1, 6, 0);
    let second = Ingest::new("D2", "sha-b", 4, 9, 3);
    run(store, &first, true);
    run(store, &second, true);
    let files = [(FileNumber::new(1), &first.calls[..]), (FileNumber::new(2), &second.calls[..])];
    let deletion = first.calls.iter().find(|c| c.key.reference.len() == 60).unwrap().key.clone();
    let windows = [
        (0, 1, 20_000_000),                        // everything on contig 0
        (0, 5_000, 9_000),                         // inside one block
        (0, deletion.pos + 30, deletion.pos + 40), // only overlapped by a deletion starting before
        (0, 12_000, 300_000),                      // across the gap wider than a block's span
        (1, 5_000, 5_200),                         // the haploid contig
        (0, 50_000_000, 60_000_000),               // nothing there
    ];
    for (contig, start, end) in windows {
        let got: Vec<_> = scan(store, contig, start, end).into_iter().map(|e| (e.0, e.1, e.2, e.3)).collect();
        assert_eq!(got, expected_scan(&files, contig, start, end), "scan {contig}:{start}-{end}");
    }
    // Readers that hold the contig's directory (a lookup reads it) scan through their block
    // cache: everything held, one block held, none; each scan twice (the second finds what the
    // first kept). Entries whole, as the writer's scan (no directory) gives them.
    for reader in [backend.reopen(), backend.reopen_keeping_one_block(), backend.reopen_keeping_no_blocks()] {
        reader.generation().unwrap();
        reader.variant(&first.calls[0].key).unwrap();
        reader.variant(&first.calls.last().unwrap().key).unwrap();
        for (contig, start, end) in windows.iter().chain(&windows) {
            assert_eq!(
                scan(&reader, *contig, *start, *end),
                scan(store, *contig, *start, *end),
                "{contig}:{start}-{end}"
            );
        }
    }
    let overlapped = scan(store, 0, deletion.pos + 30, deletion.pos + 40);
    assert!(overlapped.iter().any(|e| e.1 == deletion.pos && e.2.len() == 60), "the deletion overlaps");
    // Entries come back whole.
    let all = scan(store, 0, 1, 20_000_000);
    let call = &first.calls[10];
    let entry =
        all.iter().find(|e| e.0 == FileNumber::new(1) && e.1 == call.key.pos && e.3 == call.key.alternate).unwrap();
    assert_eq!((&entry.4, &entry.6), (&vrs_id(&call.key), &call.carriers));
}

pub fn variants_are_found_by_vrs_id<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let ingest = Ingest::new("D1", "sha-a", 1, 6, 0);
    run(store, &ingest, true);
    for call in ingest.calls.iter().step_by(7) {
        let found = store.variant_by_vrs_id(&vrs_id(&call.key)).unwrap().expect("found by VRS id");
        assert_eq!(found.key, call.key, "the key, contig included, comes back");
        assert_eq!(found.calls.len(), 1);
        assert_eq!(found.calls[0].plain_carriers(6).unwrap(), call.carriers);
    }
    assert!(store.variant_by_vrs_id("ga4gh:VA.nothing").unwrap().is_none());
}

pub fn haploid_sets_round_trip<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let ingest = Ingest::new("D1", "sha-a", 1, 6, 0);
    let (file, _) = run(store, &ingest, true);
    let on_x = scan(store, 1, 1, 1_000_000);
    let sets: std::collections::BTreeSet<u32> = on_x.iter().map(|e| e.5).collect();
    assert_eq!(sets.into_iter().collect::<Vec<_>>(), [0, 1], "one interned set plus the all-diploid site");
    assert_eq!(store.haploid_set(file, 1).unwrap(), [1, 3, 5]);
    assert!(store.haploid_set(file, 0).unwrap().is_empty());
    assert!(matches!(store.haploid_set(file, 9), Err(StoreError::Corrupt(_))));
    let lookup = store.variant(&ingest.calls.last().unwrap().key).unwrap().unwrap();
    assert_eq!(lookup.calls[0].haploid_set, 1);
}

pub fn the_generation_moves_on_every_commit_and_only_then<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let g0 = store.generation().unwrap();
    run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), false);
    assert_eq!(store.generation().unwrap(), g0, "a rollback does not move it");
    run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    let g1 = store.generation().unwrap();
    assert!(g1 > g0);
    run(store, &Ingest::new("D1", "sha-b", 1, 6, 1), true);
    assert!(store.generation().unwrap() > g1);
}

pub fn another_store_on_the_same_database_sees_a_commit<B: Backend>() {
    let backend = B::fresh();
    let reader = backend.reopen();
    let g0 = reader.generation().unwrap();
    let ingest = Ingest::new("D1", "sha-a", 1, 6, 0);
    run(backend.store(), &ingest, true);
    assert!(reader.generation().unwrap() > g0, "another process sees the generation move");
    assert!(reader.variant(&ingest.calls[3].key).unwrap().is_some());
    assert_eq!(reader.files().unwrap(), backend.store().files().unwrap());
}

/// A reader that keeps blocks (PostgreSQL's block cache) answers as one that keeps none, and as
/// one whose cache is too small for any block (entries read piecewise), and a commit by another
/// process shows once the readers have checked the generation.
pub fn lookups_follow_commits_seen_at_the_generation_check<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let first = Ingest::new("D1", "sha-a", 1, 6, 0);
    run(store, &first, true);
    let (reader, plain, piecewise) =
        (backend.reopen(), backend.reopen_without_cache(), backend.reopen_keeping_no_blocks());
    reader.generation().unwrap();
    piecewise.generation().unwrap();
    let key = first.calls[3].key.clone();
    assert_eq!(reader.variant(&key).unwrap().unwrap().calls.len(), 1);
    assert_eq!(piecewise.variant(&key).unwrap(), reader.variant(&key).unwrap());
    // Another process adds the same sites for other people, and other sites.
    run(store, &Ingest::new("D2", "sha-b", 7, 6, 0), true);
    run(store, &Ingest::new("D3", "sha-c", 13, 6, 1), true);
    reader.generation().unwrap();
    piecewise.generation().unwrap();
    let found = reader.variant(&key).unwrap().unwrap();
    assert_eq!(found.calls.iter().map(|c| c.file.get()).collect::<Vec<_>>(), [1, 2]);
    let mut keys: Vec<VariantKey> = first.calls.iter().chain(&fixtures::calls(6, 1)).map(|c| c.key.clone()).collect();
    keys.push(VariantKey { alternate: "T".into(), ..key.clone() });
    keys.push(VariantKey { contig: 7, ..key.clone() });
    for key in &keys {
        let expected = plain.variant(key).unwrap();
        assert_eq!(reader.variant(key).unwrap(), expected, "{key:?}");
        assert_eq!(piecewise.variant(key).unwrap(), expected, "{key:?} read piecewise");
    }
    assert!(reader.variant(&keys[keys.len() - 2]).unwrap().is_none());
    // A reader with room for one block: its first lookup reads every block at the position whole
    // and keeps the first, file 1's (blocks come in id order); a second lookup finds that one held
    // and reads the other files' entries as pieces, which come first. The calls still come by
    // file, as from every other path.
    let one_block = backend.reopen_keeping_one_block();
    for key in &keys {
        let expected = plain.variant(key).unwrap();
        for round in ["first", "second"] {
            assert_eq!(one_block.variant(key).unwrap(), expected, "{key:?}, {round} lookup with room for one block");
        }
    }
    // By VRS id, through each reader's cache (the second time from what the first kept), as the
    // key lookups found them.
    let fresh = backend.reopen();
    for key in &keys {
        let expected = plain.variant(key).unwrap();
        for (name, reader) in
            [("cached", &reader), ("fresh", &fresh), ("no blocks", &piecewise), ("one block", &one_block)]
        {
            for round in ["first", "second"] {
                let found = reader.variant_by_vrs_id(&vrs_id(key)).unwrap();
                assert_eq!(found, expected, "{key:?} by VRS id, {name}, {round} lookup");
            }
        }
    }
}

pub fn individuals_keep_their_numbers_when_described_again<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    // Persons 4..=12: 4, 5, 6 are known (keep 4, 5, 6), the rest are new (7..=12).
    let mut second = Ingest::new("D2", "sha-b", 4, 9, 3);
    second.people[0].hpo_terms = vec!["HP:0000707".into()];
    second.people[0].birth_year = None;
    run(store, &second, true);
    let people = store.individuals().unwrap();
    assert_eq!(people.len(), 12);
    let columns = store.find_file("D2", "sha-b").unwrap().unwrap().columns;
    assert_eq!(columns.iter().map(|c| c.get()).collect::<Vec<_>>(), [4, 5, 6, 7, 8, 9, 10, 11, 12]);
    let updated = &people[3];
    assert_eq!(updated.individual.pseudonym, second.people[0].pseudonym);
    assert_eq!(
        (updated.individual.hpo_terms.as_slice(), updated.individual.birth_year),
        (&["HP:0000707".to_string()][..], None)
    );
    assert_eq!(updated.individual.sex, Sex::Female);
    assert_eq!(people[11].individual, second.people[8]);
}

pub fn archive_objects_appear_at_commit_and_switch_all_or_nothing<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), false);
    assert!(store.archive_objects().unwrap().is_empty(), "rolled back objects are invisible");
    let (file, accession) = run(store, &Ingest::new("D1", "sha-a", 1, 6, 0), true);
    let all = store.archive_objects().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].kind, all[1].kind), (ArchiveKind::Vcf, ArchiveKind::Individuals));
    assert!(!all[0].created.is_empty());
    assert_eq!(store.archive_objects_of_file(file).unwrap(), all);
    assert_eq!(store.archive_object(&accession).unwrap().unwrap(), all[0]);
    assert!(store.archive_object("TEST-F999999").unwrap().is_none());
    let switch = |acc: &str, from: &str| HeaderSwitch {
        accession: acc.into(),
        from_header_path: from.into(),
        to_header_path: format!("{acc}/h2"),
        to_key_id: "k2".into(),
    };
    let metadata = format!("{accession}-M");
    let stale = [switch(&accession, &all[0].header_path), switch(&metadata, "nope")];
    assert!(matches!(store.switch_archive_headers(&stale), Err(StoreError::Conflict(_))));
    assert_eq!(store.archive_objects().unwrap(), all, "one stale switch refuses the batch");
    let good = [switch(&accession, &all[0].header_path), switch(&metadata, &all[1].header_path)];
    store.switch_archive_headers(&good).unwrap();
    assert!(store.archive_objects().unwrap().iter().all(|o| o.key_id == "k2" && o.header_path.ends_with("/h2")));
}

pub fn a_second_writer_is_refused_while_the_lock_is_held<B: Backend>() {
    let backend = B::fresh();
    let other = backend.reopen();
    let held = backend.store().lock_writers().unwrap();
    assert_eq!(held.is_some(), B::SHARED_WRITER_LOCK);
    if B::SHARED_WRITER_LOCK {
        assert!(matches!(other.lock_writers(), Err(StoreError::Busy(_))), "a second writer must wait its turn");
        drop(held);
        assert!(other.lock_writers().unwrap().is_some(), "released with its holder");
    }
}
