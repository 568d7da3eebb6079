//! Forgetting: a participant's withdrawal, and the removal of a file or a dataset, behind
//! [`Erasure`]. The node rewrites the archived files and computes an [`ErasurePlan`]; the store
//! applies it in one transaction (rules in `rules/erasure.rs`), so a reader sees the person, file
//! or dataset wholly there or wholly gone, and a kill leaves the old state.

use crate::error::Result;
use crate::model::{ErasureOutcome, ErasurePlan, ShreddedObject, Withdrawal};

/// Withdrawals, removals and the record of shredded archive versions.
pub trait Erasure {
    /// Applies `plan` atomically and moves the catalog generation (every reader reloads). Fails
    /// with [`crate::StoreError::Conflict`] — changing nothing — if a file in it is not a
    /// committed file or an object it replaces is not current.
    fn erase(&self, plan: &ErasurePlan) -> Result<ErasureOutcome>;

    /// Every recorded withdrawal.
    fn withdrawals(&self) -> Result<Vec<Withdrawal>>;

    /// Every shredded archive version, by accession and version.
    fn shredded_objects(&self) -> Result<Vec<ShreddedObject>>;
}
