//! What a re-identification budget charge does (Raisaro et al. 2017), decided in one write
//! transaction that holds the user's budget row, so concurrent answers to one user (in any process)
//! never both spend the same remainder:
//!
//! * a locked user gets [`BudgetOutcome::Locked`] for anything new (a new item or an absence);
//! * nothing new disclosed is a free [`BudgetOutcome::Repeat`];
//! * if any individual would pass the limit, nothing is charged, the user is locked and the
//!   charge is [`BudgetOutcome::Refused`];
//! * otherwise every new item is charged and remembered ([`BudgetOutcome::Charged`]).

use std::collections::{BTreeMap, HashSet};

use oresund_core::audit::AuditRecord;

use super::audit_chain::{self, AuditRows};
use crate::budgets::{BudgetCharge, BudgetOutcome};
use crate::error::Result;
use crate::model::IndividualNumber;

/// Budget rows, inside one write transaction.
pub(crate) trait BudgetRows {
    /// Whether the user is locked; holds the user's budget row until the transaction ends, so
    /// that one user's charges queue.
    fn lock_budget_user(&mut self, user: &str) -> Result<bool>;

    /// Which of `fingerprints` the user was charged for before.
    fn charged_fingerprints(&mut self, user: &str, fingerprints: &[&str]) -> Result<HashSet<String>>;

    /// What the user has spent on each of `individuals` (missing: nothing yet).
    fn spent(&mut self, user: &str, individuals: &[IndividualNumber]) -> Result<BTreeMap<IndividualNumber, f64>>;

    /// Locks the user, recording when.
    fn lock_user(&mut self, user: &str, time: &str) -> Result<()>;

    /// Adds `costs` to what the user has spent on each individual.
    fn add_spent(&mut self, user: &str, costs: &BTreeMap<IndividualNumber, f64>) -> Result<()>;

    /// Remembers disclosures charged, so that asking again is free.
    fn remember_answers(&mut self, user: &str, fingerprints: &[&str]) -> Result<()>;

    /// Lifts the user's lock; false when they were not locked.
    fn unlock_user(&mut self, user: &str) -> Result<bool>;
}

pub(crate) fn charge(rows: &mut impl BudgetRows, charge: &BudgetCharge) -> Result<BudgetOutcome> {
    let user = charge.user.as_str();
    let locked = rows.lock_budget_user(user)?;
    let fingerprints: Vec<&str> = charge.items.iter().map(|i| i.fingerprint.as_str()).collect();
    let seen = rows.charged_fingerprints(user, &fingerprints)?;
    let new_items: Vec<_> = charge.items.iter().filter(|i| !seen.contains(&i.fingerprint)).collect();
    if locked && (!new_items.is_empty() || charge.discloses_absence) {
        return Ok(BudgetOutcome::Locked);
    }
    if new_items.is_empty() {
        return Ok(BudgetOutcome::Repeat);
    }
    let mut costs: BTreeMap<IndividualNumber, f64> = BTreeMap::new();
    for item in &new_items {
        for &(individual, cost) in &item.charges {
            *costs.entry(individual).or_default() += cost;
        }
    }
    let individuals: Vec<IndividualNumber> = costs.keys().copied().collect();
    let spent_before = rows.spent(user, &individuals)?;
    for (&individual, &cost) in &costs {
        let spent = spent_before.get(&individual).copied().unwrap_or(0.0);
        if spent + cost > charge.limit {
            rows.lock_user(user, &charge.time)?;
            return Ok(BudgetOutcome::Refused { individual, spent, cost });
        }
    }
    rows.add_spent(user, &costs)?;
    let new_fingerprints: Vec<&str> = new_items.iter().map(|i| i.fingerprint.as_str()).collect();
    rows.remember_answers(user, &new_fingerprints)?;
    Ok(BudgetOutcome::Charged)
}

/// A charge to a shared budget (see [`crate::budgets::Budgets::charge_shared_budget`]): items in
/// order, each disclosed when at least `min_payers` of its carriers can still pay for it (then
/// they do), or when it was disclosed before. Holding the shared budget's row queues concurrent
/// answers, so two answers never both spend one person's remainder.
pub(crate) fn charge_shared(rows: &mut impl BudgetRows, charge: &BudgetCharge, min_payers: usize) -> Result<Vec<bool>> {
    let user = charge.user.as_str();
    rows.lock_budget_user(user)?;
    let fingerprints: Vec<&str> = charge.items.iter().map(|i| i.fingerprint.as_str()).collect();
    let seen = rows.charged_fingerprints(user, &fingerprints)?;
    let individuals: Vec<IndividualNumber> = charge
        .items
        .iter()
        .filter(|i| !seen.contains(&i.fingerprint))
        .flat_map(|i| i.charges.iter().map(|(individual, _)| *individual))
        .collect();
    let mut spent = rows.spent(user, &individuals)?;
    let mut costs: BTreeMap<IndividualNumber, f64> = BTreeMap::new();
    let mut disclosed = Vec::with_capacity(charge.items.len());
    let mut remembered = Vec::new();
    for item in &charge.items {
        if seen.contains(&item.fingerprint) {
            disclosed.push(true);
            continue;
        }
        let payers: Vec<(IndividualNumber, f64)> = item
            .charges
            .iter()
            .filter(|(individual, cost)| spent.get(individual).copied().unwrap_or(0.0) + cost <= charge.limit)
            .copied()
            .collect();
        let paid = payers.len() >= min_payers.max(1);
        if paid {
            for (individual, cost) in payers {
                *spent.entry(individual).or_default() += cost;
                *costs.entry(individual).or_default() += cost;
            }
            remembered.push(item.fingerprint.as_str());
        }
        disclosed.push(paid);
    }
    rows.add_spent(user, &costs)?;
    rows.remember_answers(user, &remembered)?;
    Ok(disclosed)
}

/// Lifts a user's lock and records `audit` with it; nothing is recorded when there was no lock.
pub(crate) fn unlock<R: BudgetRows + AuditRows>(rows: &mut R, user: &str, audit: &AuditRecord) -> Result<bool> {
    let unlocked = rows.unlock_user(user)?;
    if unlocked {
        audit_chain::append(rows, std::slice::from_ref(audit))?;
    }
    Ok(unlocked)
}
