//! The report's withdrawal figures, from the audit log's `withdraw`, `file.remove`,
//! `dataset.remove` and `subject.report` entries of the period (erasure/mod.rs writes them).

use oresund_core::audit::{AuditAction, AuditEntry, Decision};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Withdrawals {
    /// Participants withdrawn (from every dataset or from one).
    pub withdrawals: u64,
    /// Archived files rewritten without a withdrawn participant.
    pub files_rewritten: u64,
    pub files_removed: u64,
    pub datasets_removed: u64,
    /// Archived versions made unrecoverable (their file keys destroyed).
    pub versions_shredded: u64,
    /// Subject access reports made (GDPR article 15).
    pub subject_reports: u64,
}

impl Withdrawals {
    /// Adds one audit entry of the period.
    pub fn add(&mut self, entry: &AuditEntry) {
        let r = &entry.record;
        if r.decision != Decision::Allowed {
            return;
        }
        // The operator's reason comes last and is never parsed.
        let detail = r.detail.split_once("; reason: ").map_or(r.detail.as_str(), |(figures, _)| figures);
        match r.action {
            AuditAction::Withdraw => {
                // A rerun that only finished an interrupted withdrawal is not a second one.
                if detail.contains("completed an interrupted withdrawal") {
                    return;
                }
                self.withdrawals += 1;
                self.files_rewritten += listed(detail, "files rewritten: ");
                self.files_removed += listed(detail, "files removed: ");
            }
            // A rerun that only finished an interrupted removal is not a second one.
            _ if detail.starts_with("completed an interrupted removal") => return,
            AuditAction::FileRemove => self.files_removed += listed(detail, "files removed: "),
            AuditAction::DatasetRemove => {
                self.datasets_removed += 1;
                self.files_removed += listed(detail, "files removed: ");
            }
            AuditAction::SubjectReport => self.subject_reports += 1,
            _ => return,
        }
        self.versions_shredded += number(detail, "versions shredded: ");
    }
}

/// The part of `detail` after `label`, up to the next `; `.
fn part<'a>(detail: &'a str, label: &str) -> Option<&'a str> {
    detail.split("; ").find_map(|p| p.strip_prefix(label))
}

/// How many accessions a comma-separated list after `label` names.
fn listed(detail: &str, label: &str) -> u64 {
    part(detail, label).map_or(0, |list| list.split(", ").filter(|a| !a.is_empty()).count() as u64)
}

fn number(detail: &str, label: &str) -> u64 {
    part(detail, label).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use oresund_core::audit::{AuditEntry, AuditRecord};

    use super::*;

    fn entry(action: AuditAction, detail: &str) -> AuditEntry {
        AuditEntry {
            seq: 1,
            previous: String::new(),
            hash: String::new(),
            format: 3,
            record: AuditRecord {
                time: "2026-12-01T10:00:00Z".into(),
                actor: "operator".into(),
                action,
                resource: "x".into(),
                datasets: vec![],
                granularity: None,
                decision: Decision::Allowed,
                detail: detail.into(),
                subject: None,
            },
        }
    }

    #[test]
    fn figures_come_from_the_entries_details() {
        let mut w = Withdrawals::default();
        w.add(&entry(
            AuditAction::Withdraw,
            "from every dataset; files rewritten: N-F000001, N-F000002; files removed: ; versions shredded: 6; \
             reason: letter; versions shredded: 5",
        ));
        w.add(&entry(AuditAction::Withdraw, "from every dataset; completed an interrupted withdrawal; reason: again"));
        w.add(&entry(AuditAction::DatasetRemove, "files removed: N-F000003; versions shredded: 3; reason: pilot"));
        w.add(&entry(AuditAction::FileRemove, "files removed: N-F000004; versions shredded: 2; reason: wrong"));
        w.add(&entry(AuditAction::SubjectReport, "files: 2; answers counted: 7"));
        w.add(&entry(AuditAction::Query, "versions shredded: 99"));
        let want = Withdrawals {
            withdrawals: 1,
            files_rewritten: 2,
            files_removed: 2,
            datasets_removed: 1,
            versions_shredded: 11,
            subject_reports: 1,
        };
        assert_eq!(w, want);
    }
}
