//! [`AccessStore`] for the embedded backend, on `access.db`.

use oresund_core::audit::{AuditEntry, AuditRecord};
use rusqlite::TransactionBehavior;

use super::{SqliteStore, audit, budget, dac};
use crate::access::*;
use crate::error::Result;

impl AccessStore for SqliteStore {
    fn add_access_request(
        &self,
        request: &NewAccessRequest,
        audit: &dyn Fn(&AccessRequest) -> AuditRecord,
    ) -> Result<AccessRequest> {
        dac::add(&mut *self.access.get()?, request, audit)
    }

    fn access_requests(&self, user: Option<&str>) -> Result<Vec<AccessRequest>> {
        dac::list(&*self.access.get()?, user)
    }

    fn access_request(&self, id: u64) -> Result<Option<AccessRequest>> {
        dac::get(&*self.access.get()?, id)
    }

    fn approve_access_request(&self, id: u64, by: &str, grant: &NewGrant, audit: &AuditRecord) -> Result<Grant> {
        dac::approve(&mut *self.access.get()?, id, by, grant, audit)
    }

    fn reject_access_request(&self, id: u64, by: &str, note: &str, audit: &AuditRecord) -> Result<AccessRequest> {
        dac::reject(&mut *self.access.get()?, id, by, note, audit)
    }

    fn revoke_grant(&self, jti: &str, by: &str, reason: &str, audit: &AuditRecord) -> Result<Grant> {
        dac::revoke(&mut *self.access.get()?, jti, by, reason, audit)
    }

    fn grants(&self, user: Option<&str>) -> Result<Vec<Grant>> {
        dac::grants(&*self.access.get()?, user)
    }

    fn grant(&self, jti: &str) -> Result<Option<Grant>> {
        dac::grant(&*self.access.get()?, jti)
    }

    fn latest_visa_expiry(&self, kid: &str) -> Result<Option<i64>> {
        dac::latest_expiry(&*self.access.get()?, kid)
    }

    fn append_audit(&self, records: &[AuditRecord]) -> Result<()> {
        let mut conn = self.access.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append_in(&tx, records)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        audit::entries(&*self.access.get()?, query)
    }

    fn audit_head(&self) -> Result<(u64, String)> {
        audit::head(&*self.access.get()?)
    }

    fn charge_budget(&self, charge: &BudgetCharge) -> Result<BudgetOutcome> {
        budget::charge(&mut *self.access.get()?, charge)
    }

    fn budget_locked(&self, user: &str) -> Result<bool> {
        budget::locked(&*self.access.get()?, user)
    }

    fn unlock_budget(&self, user: &str, audit: &AuditRecord) -> Result<bool> {
        budget::unlock(&mut *self.access.get()?, user, audit)
    }
}
