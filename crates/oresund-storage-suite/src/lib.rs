//! One storage test suite, run unchanged against every backend: each case in [`suite`] is a
//! generic function over a [`backends::Backend`]; [`storage_suite!`] makes a `#[test]` of each.
//! `tests/sqlite.rs` runs it on the embedded store (in-process tier), `tests/postgres.rs` on a
//! fresh PostgreSQL database per test (external tier: `./test` starts the server).
//!
//! Test code only (`publish = false`, no crate depends on it): its `unwrap`/`expect` calls are the
//! cases' assertions and never see input from outside the tests.

pub mod access_suite;
pub mod backends;
pub mod erasure_suite;
pub mod fixtures;
pub mod match_suite;
pub mod peer_heads_suite;
pub mod suite;

/// A `#[test]` for every case of the suite on one backend (a type implementing
/// [`backends::Backend`]), grouped in a module per store trait (`sqlite::budgets::…`). A new case
/// is added here once and runs on every backend.
#[macro_export]
macro_rules! storage_suite {
    ($backend:ty) => {
        $crate::storage_suite!(@group $backend; writers:
            an_ingest_is_invisible_until_commit,
            a_dropped_ingest_leaves_nothing_and_uses_no_number,
            the_generation_moves_on_every_commit_and_only_then,
            another_store_on_the_same_database_sees_a_commit,
            a_second_writer_is_refused_while_the_lock_is_held,
        );
        $crate::storage_suite!(@group $backend; catalog:
            a_file_is_found_again_by_dataset_and_checksum,
            individuals_keep_their_numbers_when_described_again,
        );
        $crate::storage_suite!(@group $backend; variant_index:
            variants_are_found_by_key_in_file_order,
            lookups_follow_commits_seen_at_the_generation_check,
            region_scans_go_file_by_file_in_position_order_with_overlaps,
            variants_are_found_by_vrs_id,
            haploid_sets_round_trip,
        );
        $crate::storage_suite!(@group $backend; archive_catalog:
            archive_objects_appear_at_commit_and_switch_all_or_nothing,
        );
        $crate::storage_suite!(@group $backend; access_requests:
            access_requests_are_decided_once_with_their_audit_entries,
        );
        $crate::storage_suite!(@group $backend; audit_log:
            audit_appends_from_two_handles_keep_one_chain,
            a_format_1_chain_continued_in_the_current_format_verifies_and_any_edit_breaks_it,
            entries_about_a_researcher_are_found_by_their_subject,
            a_journal_file_is_appended_once_whoever_applies_it,
        );
        $crate::storage_suite!(@group $backend; budgets:
            budgets_charge_once_refuse_and_lock,
            concurrent_charges_never_overspend,
            a_shared_budget_leaves_out_who_cannot_pay_and_locks_nobody,
        );
        $crate::storage_suite!(@group $backend; erasure:
            a_withdrawal_drops_the_persons_columns_everywhere_at_once,
            a_removed_file_leaves_every_answer_and_its_number_is_never_reused,
            a_reader_behind_a_removal_never_gives_a_block_to_another_file,
        );
        $crate::storage_suite!(@group $backend; match_cases:
            match_cases_are_replaced_by_id_removed_once_and_audited,
        );
        $crate::storage_suite!(@group $backend; peer_heads:
            peer_heads_only_move_forward_and_keep_the_evidence,
        );
    };
    (@group $backend:ty; $group:ident: $($case:ident),* $(,)?) => {
        mod $group {
            $( #[test] fn $case() { $crate::suite::$case::<$backend>() } )*
        }
    };
}
