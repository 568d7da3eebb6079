//! Re-identification budgets' rows in `access.db` (what a charge does is
//! [`crate::rules::budget`]). The IMMEDIATE transaction a charge runs in holds `access.db`'s write
//! lock, so concurrent answers to one user (in any process) queue.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::tx::WriteTx;
use crate::error::Result;
use crate::model::IndividualNumber;
use crate::rules::BudgetRows;

impl BudgetRows for WriteTx<'_> {
    fn lock_budget_user(&mut self, user: &str) -> Result<bool> {
        locked(self, user)
    }

    fn charged_fingerprints(&mut self, user: &str, fingerprints: &[&str]) -> Result<HashSet<String>> {
        let mut seen = self.prepare_cached("SELECT 1 FROM budget_answers WHERE user_id = ?1 AND fingerprint = ?2")?;
        let mut out = HashSet::new();
        for &fingerprint in fingerprints {
            if seen.exists(params![user, fingerprint])? {
                out.insert(fingerprint.to_string());
            }
        }
        Ok(out)
    }

    fn spent(&mut self, user: &str, individuals: &[IndividualNumber]) -> Result<BTreeMap<IndividualNumber, f64>> {
        let mut spent_of =
            self.prepare_cached("SELECT spent FROM budget_spent WHERE user_id = ?1 AND individual = ?2")?;
        let mut out = BTreeMap::new();
        for &individual in individuals {
            if let Some(spent) = spent_of.query_row(params![user, individual], |r| r.get(0)).optional()? {
                out.insert(individual, spent);
            }
        }
        Ok(out)
    }

    fn lock_user(&mut self, user: &str, time: &str) -> Result<()> {
        self.execute(
            "INSERT INTO budget_users (user_id, locked) VALUES (?1, ?2) \
             ON CONFLICT (user_id) DO UPDATE SET locked = excluded.locked",
            params![user, time],
        )?;
        Ok(())
    }

    fn add_spent(&mut self, user: &str, costs: &BTreeMap<IndividualNumber, f64>) -> Result<()> {
        let mut add = self.prepare_cached(
            "INSERT INTO budget_spent (user_id, individual, spent) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, individual) DO UPDATE SET spent = spent + excluded.spent",
        )?;
        for (&individual, &cost) in costs {
            add.execute(params![user, individual, cost])?;
        }
        Ok(())
    }

    fn remember_answers(&mut self, user: &str, fingerprints: &[&str]) -> Result<()> {
        let mut remember = self.prepare_cached(
            "INSERT INTO budget_answers (user_id, fingerprint) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?;
        for &fingerprint in fingerprints {
            remember.execute(params![user, fingerprint])?;
        }
        Ok(())
    }

    fn unlock_user(&mut self, user: &str) -> Result<bool> {
        let changed = self.execute(
            "UPDATE budget_users SET locked = NULL WHERE user_id = ?1 AND locked IS NOT NULL",
            params![user],
        )?;
        Ok(changed > 0)
    }
}

pub(super) fn locked(conn: &Connection, user: &str) -> Result<bool> {
    let locked: Option<Option<String>> =
        conn.query_row("SELECT locked FROM budget_users WHERE user_id = ?1", params![user], |r| r.get(0)).optional()?;
    Ok(locked.flatten().is_some())
}
