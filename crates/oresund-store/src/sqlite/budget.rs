//! Re-identification budgets in `access.db`: one write transaction per charge, so concurrent
//! answers to one user (in any process) never both spend the same remaining budget.

use std::collections::BTreeMap;

use oresund_core::audit::AuditRecord;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::audit::append_in;

use crate::access::{BudgetCharge, BudgetOutcome};
use crate::error::Result;
use crate::model::IndividualNumber;

pub(super) fn charge(conn: &mut Connection, charge: &BudgetCharge) -> Result<BudgetOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let locked: Option<Option<String>> = tx
        .query_row("SELECT locked FROM budget_users WHERE user_id = ?1", params![charge.user], |r| r.get(0))
        .optional()?;
    let locked = locked.flatten().is_some();
    let mut new_items = Vec::new();
    {
        let mut seen = tx.prepare_cached("SELECT 1 FROM budget_answers WHERE user_id = ?1 AND fingerprint = ?2")?;
        for item in &charge.items {
            if !seen.exists(params![charge.user, item.fingerprint])? {
                new_items.push(item);
            }
        }
    }
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
    {
        let mut spent_of =
            tx.prepare_cached("SELECT spent FROM budget_spent WHERE user_id = ?1 AND individual = ?2")?;
        for (&individual, &cost) in &costs {
            let spent: f64 =
                spent_of.query_row(params![charge.user, individual], |r| r.get(0)).optional()?.unwrap_or(0.0);
            if spent + cost > charge.limit {
                drop(spent_of);
                tx.execute(
                    "INSERT INTO budget_users (user_id, locked) VALUES (?1, ?2) \
                     ON CONFLICT (user_id) DO UPDATE SET locked = excluded.locked",
                    params![charge.user, charge.time],
                )?;
                tx.commit()?;
                return Ok(BudgetOutcome::Refused { individual, spent, cost });
            }
        }
    }
    {
        let mut add = tx.prepare_cached(
            "INSERT INTO budget_spent (user_id, individual, spent) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, individual) DO UPDATE SET spent = spent + excluded.spent",
        )?;
        for (&individual, &cost) in &costs {
            add.execute(params![charge.user, individual, cost])?;
        }
        let mut remember = tx.prepare_cached(
            "INSERT INTO budget_answers (user_id, fingerprint) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?;
        for item in &new_items {
            remember.execute(params![charge.user, item.fingerprint])?;
        }
    }
    tx.commit()?;
    Ok(BudgetOutcome::Charged)
}

pub(super) fn locked(conn: &Connection, user: &str) -> Result<bool> {
    let locked: Option<Option<String>> =
        conn.query_row("SELECT locked FROM budget_users WHERE user_id = ?1", params![user], |r| r.get(0)).optional()?;
    Ok(locked.flatten().is_some())
}

pub(super) fn unlock(conn: &mut Connection, user: &str, audit: &AuditRecord) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed =
        tx.execute("UPDATE budget_users SET locked = NULL WHERE user_id = ?1 AND locked IS NOT NULL", params![user])?;
    if changed > 0 {
        append_in(&tx, std::slice::from_ref(audit))?;
    }
    tx.commit()?;
    Ok(changed > 0)
}
