//! The node's records as the server and the CLI read and write them: its datasets, the
//! committee's requests and grants, the audit log and the re-identification budgets. Callers go
//! through the node, never its store, so a rule that must apply on the way (consent, withdrawal)
//! has one place to go, and the store's traits stay the node's own business.

use oresund_core::audit::{AuditEntry, AuditRecord};
use oresund_store::{AccessRequest, AuditQuery, BudgetCharge, BudgetOutcome, Dataset, Grant, Result, SchemaVersion};

use crate::audit_journal::{AuditJournal, journal_files, wait_for_owner};
use crate::node::Node;

impl Node {
    /// The audit journal, when this process has taken it (`oresund_node::audit_journal`).
    pub fn audit_journal(&self) -> Option<&AuditJournal> {
        self.audit_journal.get()
    }

    /// Takes this node's audit journal for a server, moving in what a stopped owner left. `None`
    /// when the store is PostgreSQL (its commits stay on the answer's path: several servers share
    /// it) or another process owns the journal. Records written to it reach the chain with
    /// [`AuditJournal::move_in`].
    pub fn take_audit_journal(&self) -> Result<Option<&AuditJournal>> {
        if let Some(journal) = self.audit_journal.get() {
            return Ok(Some(journal));
        }
        if !self.catalog_is_embedded() {
            return Ok(None);
        }
        match AuditJournal::take(self.layout.audit_journal(), self.store())? {
            Some(journal) => Ok(Some(self.audit_journal.get_or_init(|| journal))),
            None => Ok(None),
        }
    }

    /// Moves this process's audit journal into the chain (see [`AuditJournal::move_in`]); 0 when
    /// it has not taken the journal.
    pub fn move_audit_journal_in(&self) -> Result<usize> {
        self.audit_journal.get().map_or(Ok(0), |journal| journal.move_in(self.store()))
    }

    /// Makes every record written to a journal before this call part of the chain: this process's
    /// journal is moved in now; files of a process that died are moved in; another server's files
    /// present now are waited for (at most a few seconds, then an error).
    pub fn settle_audit_journal(&self) -> Result<()> {
        if self.audit_journal.get().is_some() {
            return self.move_audit_journal_in().map(drop);
        }
        if !self.catalog_is_embedded() {
            return Ok(());
        }
        let dir = self.layout.audit_journal();
        let waiting = journal_files(&dir)?;
        if waiting.is_empty() {
            return Ok(());
        }
        // Nobody owns it: take it for the moment (moving in what is left) and let it go.
        if AuditJournal::take(dir.clone(), self.store())?.is_some() {
            return Ok(());
        }
        wait_for_owner(&dir, &waiting)
    }

    /// What opening the node did to each part of its store's schema.
    pub fn schema_versions(&self) -> Vec<SchemaVersion> {
        self.store().schema_versions()
    }

    /// The datasets, in catalog order.
    pub fn datasets(&self) -> Result<Vec<Dataset>> {
        self.store().datasets()
    }

    /// Access requests in filing order: all, or one user's.
    pub fn access_requests(&self, user: Option<&str>) -> Result<Vec<AccessRequest>> {
        self.store().access_requests(user)
    }

    pub fn access_request(&self, id: u64) -> Result<Option<AccessRequest>> {
        self.store().access_request(id)
    }

    /// Grants in issuing order: all, or one user's.
    pub fn grants(&self, user: Option<&str>) -> Result<Vec<Grant>> {
        self.store().grants(user)
    }

    /// Appends records to the audit chain, in order, atomically.
    pub fn append_audit(&self, records: &[AuditRecord]) -> Result<()> {
        self.store().append_audit(records)
    }

    /// Audit entries in chain order, including every record journaled before the call.
    pub fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        self.settle_audit_journal()?;
        self.store().audit_entries(query)
    }

    /// Every audit entry between `since` and `until` (RFC 3339, inclusive), in chain order, read
    /// in pages so that memory stays bounded whatever the log's length.
    pub fn for_each_audit_entry(
        &self,
        since: Option<&str>,
        until: Option<&str>,
        mut visit: impl FnMut(AuditEntry),
    ) -> Result<()> {
        const PAGE: u64 = 20_000;
        self.settle_audit_journal()?;
        let mut query = AuditQuery {
            since: since.map(str::to_string),
            until: until.map(str::to_string),
            limit: Some(PAGE),
            ..AuditQuery::default()
        };
        loop {
            let page = self.store().audit_entries(&query)?;
            let (Some(last), full) = (page.last().map(|e| e.seq), page.len() as u64 == PAGE) else { return Ok(()) };
            page.into_iter().for_each(&mut visit);
            if !full {
                return Ok(());
            }
            query.after = Some(last);
        }
    }

    /// The chain's head: the last entry's sequence number and hash.
    pub fn audit_head(&self) -> Result<(u64, String)> {
        self.settle_audit_journal()?;
        self.store().audit_head()
    }

    /// Charges an answer to a user's budgets (see [`oresund_store::Budgets::charge_budget`]).
    pub fn charge_budget(&self, charge: &BudgetCharge) -> Result<BudgetOutcome> {
        self.store().charge_budget(charge)
    }

    /// Charges an answer to a shared budget (see [`oresund_store::Budgets::charge_shared_budget`]).
    pub fn charge_shared_budget(&self, charge: &BudgetCharge, min_payers: usize) -> Result<Vec<bool>> {
        self.store().charge_shared_budget(charge, min_payers)
    }

    pub fn budget_locked(&self, user: &str) -> Result<bool> {
        self.store().budget_locked(user)
    }

    /// Lifts a user's budget lock, recording `audit` with it; false when they were not locked.
    pub fn unlock_budget(&self, user: &str, audit: &AuditRecord) -> Result<bool> {
        self.store().unlock_budget(user, audit)
    }
}
