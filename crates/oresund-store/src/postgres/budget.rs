//! Re-identification budgets in PostgreSQL: a user's charges queue on their `budget_users` row
//! (`FOR UPDATE`), so concurrent answers in any `serve` process never both spend one remainder.

use std::collections::BTreeMap;

use oresund_core::audit::AuditRecord;

use super::audit::append_in;
use super::pool::Conn;
use crate::access::{BudgetCharge, BudgetOutcome};
use crate::error::Result;
use crate::model::IndividualNumber;

pub(super) fn charge(conn: &mut Conn, charge: &BudgetCharge) -> Result<BudgetOutcome> {
    let mut tx = conn.client.transaction()?;
    tx.execute("INSERT INTO budget_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&charge.user])?;
    let locked: Option<String> =
        tx.query_one("SELECT locked FROM budget_users WHERE user_id = $1 FOR UPDATE", &[&charge.user])?.try_get(0)?;
    let fingerprints: Vec<&str> = charge.items.iter().map(|i| i.fingerprint.as_str()).collect();
    let seen: Vec<String> = tx
        .query(
            "SELECT fingerprint FROM budget_answers WHERE user_id = $1 AND fingerprint = ANY($2)",
            &[&charge.user, &fingerprints],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let new_items: Vec<_> = charge.items.iter().filter(|i| !seen.contains(&i.fingerprint)).collect();
    if locked.is_some() && (!new_items.is_empty() || charge.discloses_absence) {
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
    let individuals: Vec<i64> = costs.keys().map(|&i| i64::from(i)).collect();
    let spent: BTreeMap<i64, f64> = tx
        .query(
            "SELECT individual, spent FROM budget_spent WHERE user_id = $1 AND individual = ANY($2)",
            &[&charge.user, &individuals],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, postgres::Error>>()?;
    for (&individual, &cost) in &costs {
        let spent = spent.get(&i64::from(individual)).copied().unwrap_or(0.0);
        if spent + cost > charge.limit {
            tx.execute("UPDATE budget_users SET locked = $2 WHERE user_id = $1", &[&charge.user, &charge.time])?;
            tx.commit()?;
            return Ok(BudgetOutcome::Refused { individual, spent, cost });
        }
    }
    let amounts: Vec<f64> = costs.values().copied().collect();
    tx.execute(
        "INSERT INTO budget_spent (user_id, individual, spent) SELECT $1, * FROM unnest($2::bigint[], $3::float8[]) \
         ON CONFLICT (user_id, individual) DO UPDATE SET spent = budget_spent.spent + excluded.spent",
        &[&charge.user, &individuals, &amounts],
    )?;
    let new_fingerprints: Vec<&str> = new_items.iter().map(|i| i.fingerprint.as_str()).collect();
    tx.execute(
        "INSERT INTO budget_answers (user_id, fingerprint) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        &[&charge.user, &new_fingerprints],
    )?;
    tx.commit()?;
    Ok(BudgetOutcome::Charged)
}

pub(super) fn locked(conn: &mut Conn, user: &str) -> Result<bool> {
    let row = conn.client.query_opt("SELECT locked FROM budget_users WHERE user_id = $1", &[&user])?;
    Ok(row.map(|r| r.try_get::<_, Option<String>>(0)).transpose()?.flatten().is_some())
}

pub(super) fn unlock(conn: &mut Conn, user: &str, audit: &AuditRecord) -> Result<bool> {
    let mut tx = conn.client.transaction()?;
    let changed =
        tx.execute("UPDATE budget_users SET locked = NULL WHERE user_id = $1 AND locked IS NOT NULL", &[&user])?;
    if changed > 0 {
        append_in(&mut tx, std::slice::from_ref(audit))?;
    }
    tx.commit()?;
    Ok(changed > 0)
}
