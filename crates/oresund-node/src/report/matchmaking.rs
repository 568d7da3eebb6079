//! The report's matchmaking figures: the cases held now (from the store), and in the period the
//! matches clinicians asked for and partners asked of this node (from the audit log's `mme.*`
//! entries; test requests are left out).

use oresund_core::audit::{AuditAction, AuditEntry};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matchmaking {
    /// Cases held when the report was made.
    pub cases: u64,
    /// Of them, those whose patients consented to matching across the border.
    pub cross_border_cases: u64,
    pub submitters: u64,
    /// Match requests of this node's clinicians in the period, and the results they got (from
    /// every node asked).
    pub clinician_requests: u64,
    pub matches_found: u64,
    /// Match requests of partners in the period, and the results sent to them.
    pub partner_requests: u64,
    pub matches_sent: u64,
    /// Partners asked on clinicians' behalf, and of those the ones that did not answer.
    pub partners_asked: u64,
    pub partners_failed: u64,
}

impl Matchmaking {
    /// Adds one audit entry of the period.
    pub fn add(&mut self, entry: &AuditEntry) {
        let r = &entry.record;
        let detail = r.detail.as_str();
        let test = detail.split("; ").any(|part| part == "test");
        match r.action {
            AuditAction::MmeMatch if !test => {
                let results = results(detail);
                if r.actor.starts_with("mme-partner:") {
                    self.partner_requests += 1;
                    self.matches_sent += results;
                } else {
                    self.clinician_requests += 1;
                    self.matches_found += results;
                }
            }
            AuditAction::MmeAsk => {
                self.partners_asked += 1;
                self.partners_failed += u64::from(!detail.starts_with("ok"));
            }
            _ => {}
        }
    }
}

/// `results=N` in an `mme.*` entry's detail.
fn results(detail: &str) -> u64 {
    detail.split("; ").find_map(|part| part.strip_prefix("results=")?.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oresund_core::audit::{AuditFormat, AuditRecord, Decision};

    fn entry(actor: &str, action: AuditAction, detail: &str) -> AuditEntry {
        let record = AuditRecord {
            time: "2026-12-02T10:00:00Z".into(),
            actor: actor.into(),
            action,
            resource: "/mme/match".into(),
            datasets: Vec::new(),
            granularity: None,
            decision: Decision::Allowed,
            detail: detail.into(),
            subject: None,
        };
        AuditEntry::next_in(AuditFormat::CURRENT, None, record)
    }

    #[test]
    fn requests_and_results_are_told_apart_by_who_asked() {
        let mut m = Matchmaking::default();
        m.add(&entry("dr.hansen@rh.dk", AuditAction::MmeMatch, "results=3; DK-NGC ok, GMS ok"));
        m.add(&entry("dr.hansen@rh.dk", AuditAction::MmeAsk, "ok; results=2"));
        m.add(&entry("dr.hansen@rh.dk", AuditAction::MmeAsk, "timeout: no answer within 5000 ms"));
        m.add(&entry("mme-partner:GMS", AuditAction::MmeMatch, "results=4"));
        m.add(&entry("mme-partner:GMS", AuditAction::MmeMatch, "results=9; test"));
        m.add(&entry("dr.hansen@rh.dk", AuditAction::Query, "results=7"));
        let expected = Matchmaking {
            clinician_requests: 1,
            matches_found: 3,
            partner_requests: 1,
            matches_sent: 4,
            partners_asked: 2,
            partners_failed: 1,
            ..Matchmaking::default()
        };
        assert_eq!(m, expected);
    }
}
