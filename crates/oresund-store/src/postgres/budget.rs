//! Re-identification budgets' rows in PostgreSQL (what a charge does is [`crate::rules::budget`]):
//! a user's charges queue on their `budget_users` row (`FOR UPDATE`), so concurrent answers in any
//! `serve` process never both spend one remainder.

use std::collections::{BTreeMap, HashSet};

use super::pool::Conn;
use super::rows::unsigned;
use super::tx::WriteTx;
use crate::error::Result;
use crate::model::IndividualNumber;
use crate::rules::BudgetRows;

impl BudgetRows for WriteTx<'_> {
    fn lock_budget_user(&mut self, user: &str) -> Result<bool> {
        self.execute("INSERT INTO budget_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&user])?;
        let locked: Option<String> =
            self.query_one("SELECT locked FROM budget_users WHERE user_id = $1 FOR UPDATE", &[&user])?.try_get(0)?;
        Ok(locked.is_some())
    }

    fn charged_fingerprints(&mut self, user: &str, fingerprints: &[&str]) -> Result<HashSet<String>> {
        let rows = self.query(
            "SELECT fingerprint FROM budget_answers WHERE user_id = $1 AND fingerprint = ANY($2)",
            &[&user, &fingerprints],
        )?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn spent(&mut self, user: &str, individuals: &[IndividualNumber]) -> Result<BTreeMap<IndividualNumber, f64>> {
        let individuals: Vec<i64> = individuals.iter().map(|&i| i64::from(i)).collect();
        let rows = self.query(
            "SELECT individual, spent FROM budget_spent WHERE user_id = $1 AND individual = ANY($2)",
            &[&user, &individuals],
        )?;
        rows.iter().map(|r| Ok((unsigned(r.try_get(0)?, "individual number")?, r.try_get(1)?))).collect()
    }

    fn lock_user(&mut self, user: &str, time: &str) -> Result<()> {
        self.execute("UPDATE budget_users SET locked = $2 WHERE user_id = $1", &[&user, &time])?;
        Ok(())
    }

    fn add_spent(&mut self, user: &str, costs: &BTreeMap<IndividualNumber, f64>) -> Result<()> {
        let individuals: Vec<i64> = costs.keys().map(|&i| i64::from(i)).collect();
        let amounts: Vec<f64> = costs.values().copied().collect();
        self.execute(
            "INSERT INTO budget_spent (user_id, individual, spent) SELECT $1, * FROM unnest($2::bigint[], $3::float8[]) \
             ON CONFLICT (user_id, individual) DO UPDATE SET spent = budget_spent.spent + excluded.spent",
            &[&user, &individuals, &amounts],
        )?;
        Ok(())
    }

    fn remember_answers(&mut self, user: &str, fingerprints: &[&str]) -> Result<()> {
        self.execute(
            "INSERT INTO budget_answers (user_id, fingerprint) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
            &[&user, &fingerprints],
        )?;
        Ok(())
    }

    fn unlock_user(&mut self, user: &str) -> Result<bool> {
        let changed =
            self.execute("UPDATE budget_users SET locked = NULL WHERE user_id = $1 AND locked IS NOT NULL", &[&user])?;
        Ok(changed > 0)
    }
}

pub(super) fn locked(conn: &mut Conn, user: &str) -> Result<bool> {
    let row = conn.client.query_opt("SELECT locked FROM budget_users WHERE user_id = $1", &[&user])?;
    Ok(row.map(|r| r.try_get::<_, Option<String>>(0)).transpose()?.flatten().is_some())
}
