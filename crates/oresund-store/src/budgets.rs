//! Re-identification budgets of registered callers, behind [`Budgets`] (what a charge does is
//! written once, in `rules/budget.rs`, for both backends).

use oresund_core::audit::AuditRecord;

use crate::error::Result;
use crate::model::IndividualNumber;

/// What answering discloses about one variant in one dataset, and what it costs each carrier.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeItem {
    /// Identifies the disclosure: asked again, it is a repeat and costs nothing.
    pub fingerprint: String,
    /// Each carrier and the cost to them, in nats.
    pub charges: Vec<(IndividualNumber, f64)>,
}

/// One answer's charges to a user's budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetCharge {
    pub user: String,
    /// Budget per individual, in nats.
    pub limit: f64,
    pub items: Vec<ChargeItem>,
    /// The answer also says that some variant has no carrier (that informs too: see
    /// [`Budgets::charge_budget`]).
    pub discloses_absence: bool,
    /// RFC 3339 time, recorded when the user is locked.
    pub time: String,
}

/// How a charge went.
#[derive(Debug, Clone, PartialEq)]
pub enum BudgetOutcome {
    /// Nothing new is disclosed: free.
    Repeat,
    /// The new items were charged.
    Charged,
    /// An individual would exceed the budget: nothing was charged, and the user is now locked.
    Refused { individual: IndividualNumber, spent: f64, cost: f64 },
    /// The user was locked by an earlier refusal.
    Locked,
}

/// Re-identification budgets: charged per answer, locking a user who would overspend.
pub trait Budgets {
    /// Charges an answer to a user's budgets, in one transaction. Items whose fingerprint the user
    /// was charged for before are free. If any new item would take an individual past `limit`,
    /// nothing is charged, the user is locked and [`BudgetOutcome::Refused`] returned. A locked
    /// user gets [`BudgetOutcome::Locked`] for anything new (new items, or an absence disclosed).
    fn charge_budget(&self, charge: &BudgetCharge) -> Result<BudgetOutcome>;

    /// Charges an answer to a budget that many callers share (the public tier's), in one
    /// transaction, and says which items may be disclosed. Nobody is locked — one caller's
    /// questions must not shut the others out — and no answer is refused: a carrier who cannot pay
    /// for a new item is left out of it, and an item is disclosed only when at least
    /// `min_payers` of its carriers pay (nothing is charged for an item withheld). A repeat of
    /// an item disclosed before is disclosed again, free. `discloses_absence` and `time` are not
    /// used.
    fn charge_shared_budget(&self, charge: &BudgetCharge, min_payers: usize) -> Result<Vec<bool>>;

    /// Whether the user is locked.
    fn budget_locked(&self, user: &str) -> Result<bool>;

    /// Lifts a user's lock (their spent budgets stay spent) and records `audit` in the same
    /// transaction. False when the user was not locked (nothing is recorded then).
    fn unlock_budget(&self, user: &str, audit: &AuditRecord) -> Result<bool>;
}
