//! What changing a matchmaking case does, for both backends: the row, the generation readers
//! reload on, and the audit entry, in one transaction.

use oresund_core::audit::AuditRecord;

use super::audit_chain::{self, AuditRows};
use crate::error::Result;
use crate::match_cases::StoredCase;

pub(crate) trait MatchRows {
    /// Inserts or replaces the case; true when it replaced one.
    fn upsert_case(&mut self, case: &StoredCase) -> Result<bool>;
    fn delete_case(&mut self, case_id: &str) -> Result<bool>;
    fn bump_generation(&mut self) -> Result<()>;
}

pub(crate) fn put<R: MatchRows + AuditRows>(rows: &mut R, case: &StoredCase, audit: &AuditRecord) -> Result<bool> {
    let replaced = rows.upsert_case(case)?;
    rows.bump_generation()?;
    audit_chain::append(rows, std::slice::from_ref(audit))?;
    Ok(replaced)
}

pub(crate) fn remove<R: MatchRows + AuditRows>(rows: &mut R, case_id: &str, audit: &AuditRecord) -> Result<bool> {
    let removed = rows.delete_case(case_id)?;
    if removed {
        rows.bump_generation()?;
        audit_chain::append(rows, std::slice::from_ref(audit))?;
    }
    Ok(removed)
}
