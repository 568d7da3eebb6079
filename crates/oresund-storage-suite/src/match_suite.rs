//! The matchmaking cases' store ([`oresund_store::MatchCases`]), generic over the backend.

use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_store::prelude::*;
use oresund_store::{AuditQuery, MatchCounters, StoredCase};

use crate::backends::Backend;

fn audit(action: &str, case_id: &str) -> AuditRecord {
    AuditRecord {
        time: "2026-12-02T10:00:00Z".into(),
        actor: "dr.a@rh.dk".into(),
        action: AuditAction::from(action),
        resource: format!("/mme/patients/{case_id}"),
        datasets: Vec::new(),
        granularity: None,
        decision: Decision::Allowed,
        detail: String::new(),
        subject: None,
    }
}

fn case(id: &str, cross_border: bool, patient: &str) -> StoredCase {
    StoredCase {
        case_id: id.into(),
        submitter: "dr.a@rh.dk".into(),
        cross_border,
        patient: patient.into(),
        updated: "2026-12-02T10:00:00Z".into(),
    }
}

pub fn match_cases_are_replaced_by_id_removed_once_and_audited<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let other = backend.reopen();
    let g0 = store.match_cases_generation().unwrap();
    assert!(!store.put_match_case(&case("c2", true, r#"{"id":"c2"}"#), &audit("mme.case", "c2")).unwrap());
    assert!(!store.put_match_case(&case("c1", false, r#"{"id":"c1"}"#), &audit("mme.case", "c1")).unwrap());
    assert!(store.put_match_case(&case("c1", true, r#"{"id":"c1","v":2}"#), &audit("mme.case", "c1")).unwrap());
    let g1 = other.match_cases_generation().unwrap();
    assert_eq!(g1, g0 + 3, "another handle sees every change");
    let cases = other.match_cases().unwrap();
    assert_eq!(cases, vec![case("c1", true, r#"{"id":"c1","v":2}"#), case("c2", true, r#"{"id":"c2"}"#)]);
    assert!(store.remove_match_case("c2", &audit("mme.remove", "c2")).unwrap());
    assert!(!store.remove_match_case("c2", &audit("mme.remove", "c2")).unwrap(), "removed once");
    assert_eq!(store.match_cases_generation().unwrap(), g1 + 1, "a removal of nothing changes nothing");
    assert_eq!(store.match_cases().unwrap().len(), 1);
    let actions: Vec<String> =
        store.audit_entries(&AuditQuery::default()).unwrap().iter().map(|e| e.record.action.to_string()).collect();
    assert_eq!(actions, ["mme.case", "mme.case", "mme.case", "mme.remove"]);

    assert_eq!(store.match_counters().unwrap(), MatchCounters::default());
    store.count_match_request(3).unwrap();
    other.count_match_request(0).unwrap();
    assert_eq!(store.match_counters().unwrap(), MatchCounters { requests_received: 2, potential_matches_sent: 3 });
}
