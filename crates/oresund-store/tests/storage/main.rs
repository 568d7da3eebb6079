//! One storage test suite, run unchanged against both backends: every case in [`suite`] is a
//! generic function over a [`backends::Backend`], instantiated here for the embedded SQLite store
//! and for PostgreSQL (a fresh database per test, from `ORESUND_TEST_POSTGRES_URL`; `bash .ci/run`
//! starts the server).

mod access_suite;
mod backends;
mod fixtures;
mod suite;

/// A `#[test]` per case and backend: `sqlite::CASE` and `postgres::CASE`.
macro_rules! for_each_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $case() { crate::suite::$case::<crate::backends::Sqlite>() } )*
        }
        mod postgres {
            $( #[test] fn $case() { crate::suite::$case::<crate::backends::Postgres>() } )*
        }
    };
}

for_each_backend!(
    an_ingest_is_invisible_until_commit,
    a_dropped_ingest_leaves_nothing_and_uses_no_number,
    a_file_is_found_again_by_dataset_and_checksum,
    variants_are_found_by_key_in_file_order,
    region_scans_go_file_by_file_in_position_order_with_overlaps,
    variants_are_found_by_vrs_id,
    haploid_sets_round_trip,
    the_generation_moves_on_every_commit_and_only_then,
    another_store_on_the_same_database_sees_a_commit,
    individuals_keep_their_numbers_when_described_again,
    archive_objects_appear_at_commit_and_switch_all_or_nothing,
    a_second_writer_is_refused_while_the_lock_is_held,
    access_requests_are_decided_once_with_their_audit_entries,
    audit_appends_from_two_handles_keep_one_chain,
    budgets_charge_once_refuse_and_lock,
    concurrent_charges_never_overspend,
);
