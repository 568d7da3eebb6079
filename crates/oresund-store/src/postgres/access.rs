//! [`AccessRequests`], [`AuditLog`] and [`Budgets`] for PostgreSQL: every change runs the shared rules ([`crate::rules`]) in one
//! transaction on a pooled connection.

use oresund_core::audit::{AuditEntry, AuditRecord};

use super::{PostgresStore, audit, budget, dac};
use crate::access::*;
use crate::audit_log::*;
use crate::budgets::*;
use crate::error::Result;
use crate::rules;

impl AccessRequests for PostgresStore {
    fn add_access_request(
        &self,
        request: &NewAccessRequest,
        audit: &dyn Fn(&AccessRequest) -> AuditRecord,
    ) -> Result<AccessRequest> {
        self.pool.get()?.write(|tx| rules::dac::add(tx, request, audit))
    }

    fn access_requests(&self, user: Option<&str>) -> Result<Vec<AccessRequest>> {
        dac::list(&mut *self.pool.get()?, user)
    }

    fn access_request(&self, id: u64) -> Result<Option<AccessRequest>> {
        dac::get(&mut *self.pool.get()?, id)
    }

    fn approve_access_request(&self, id: u64, by: &str, grant: &NewGrant, audit: &AuditRecord) -> Result<Grant> {
        self.pool.get()?.write(|tx| rules::dac::approve(tx, id, by, grant, audit))
    }

    fn reject_access_request(&self, id: u64, by: &str, note: &str, audit: &AuditRecord) -> Result<AccessRequest> {
        self.pool.get()?.write(|tx| rules::dac::reject(tx, id, by, note, audit))
    }

    fn revoke_grant(&self, jti: &str, by: &str, reason: &str, audit: &AuditRecord) -> Result<Grant> {
        self.pool.get()?.write(|tx| rules::dac::revoke(tx, jti, by, reason, audit))
    }

    fn grants(&self, user: Option<&str>) -> Result<Vec<Grant>> {
        dac::grants(&mut *self.pool.get()?, user)
    }

    fn grant(&self, jti: &str) -> Result<Option<Grant>> {
        dac::grant(&mut *self.pool.get()?, jti)
    }

    fn latest_visa_expiry(&self, kid: &str) -> Result<Option<i64>> {
        dac::latest_expiry(&mut *self.pool.get()?, kid)
    }
}

impl AuditLog for PostgresStore {
    fn append_audit(&self, records: &[AuditRecord]) -> Result<()> {
        self.pool.get()?.write(|tx| rules::audit_chain::append(tx, records))
    }

    fn append_audit_journal(&self, journal: u64, records: &[AuditRecord]) -> Result<bool> {
        self.pool.get()?.write(|tx| rules::audit_chain::append_journal(tx, journal, records))
    }

    fn audit_journal_applied(&self) -> Result<u64> {
        audit::journal_applied(&mut *self.pool.get()?)
    }

    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        audit::entries(&mut *self.pool.get()?, query)
    }

    fn audit_head(&self) -> Result<(u64, String)> {
        audit::head(&mut *self.pool.get()?)
    }
}

impl Budgets for PostgresStore {
    fn charge_budget(&self, charge: &BudgetCharge) -> Result<BudgetOutcome> {
        self.pool.get()?.write(|tx| rules::budget::charge(tx, charge))
    }

    fn charge_shared_budget(&self, charge: &BudgetCharge, min_payers: usize) -> Result<Vec<bool>> {
        self.pool.get()?.write(|tx| rules::budget::charge_shared(tx, charge, min_payers))
    }

    fn budget_locked(&self, user: &str) -> Result<bool> {
        budget::locked(&mut *self.pool.get()?, user)
    }

    fn unlock_budget(&self, user: &str, audit: &AuditRecord) -> Result<bool> {
        self.pool.get()?.write(|tx| rules::budget::unlock(tx, user, audit))
    }
}
