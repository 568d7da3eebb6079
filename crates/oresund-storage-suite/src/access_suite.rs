//! The controlled-access cases (requests, grants, audit chain, budgets), generic over the backend
//! like the catalog cases in `suite.rs`.

use oresund_core::audit::{
    AuditAction, AuditEntry, AuditFormat, AuditRecord, ChainError, Decision, GENESIS, verify_chain, verify_with_head,
};
use oresund_store::prelude::*;
use oresund_store::{
    AuditQuery, BudgetCharge, BudgetOutcome, ChargeItem, MatchOutcome, NewAccessRequest, NewGrant, RequestStatus,
    StoreError,
};

use crate::backends::Backend;

fn record(actor: &str, action: &str, dataset: &str, time: &str) -> AuditRecord {
    AuditRecord {
        time: time.into(),
        actor: actor.into(),
        action: action.into(),
        resource: format!("/test/{action}"),
        datasets: vec![dataset.into()],
        granularity: None,
        decision: Decision::Allowed,
        detail: String::new(),
        subject: None,
    }
}

fn request(user: &str, dataset: &str) -> NewAccessRequest {
    NewAccessRequest {
        user: user.into(),
        subject: user.rsplit('#').next().unwrap_or(user).into(),
        dataset: dataset.into(),
        purpose: r#"{"purpose":"HMB"}"#.into(),
        automatic: MatchOutcome::NeedsReview,
        reasons: vec!["HMB: 3 individuals".into(), "DS: 1 individual".into()],
    }
}

fn grant(jti: &str, kid: &str, expires_at: i64) -> NewGrant {
    let note = Some("consent checked".to_string());
    NewGrant { jti: jti.into(), kid: kid.into(), visa: format!("visa.{jti}.sig"), issued_at: 100, expires_at, note }
}

fn chain_is_whole(store: &dyn NodeStore) -> Vec<oresund_core::audit::AuditEntry> {
    let entries = store.audit_entries(&AuditQuery::default()).unwrap();
    let (seq, hash) = store.audit_head().unwrap();
    verify_with_head(&entries, (seq, &hash)).expect("the chain verifies");
    entries
}

pub fn access_requests_are_decided_once_with_their_audit_entries<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    assert_eq!(store.audit_head().unwrap(), (0, GENESIS.to_string()));
    let t = "2026-11-25T12:00:00Z";
    let filed = store
        .add_access_request(&request("iss#alice", "DK-1"), &|r| {
            record(&r.user, "dac.request", &r.dataset, &format!("{t}#{}", r.id))
        })
        .unwrap();
    assert_eq!((filed.id, filed.status, filed.decided.as_deref()), (1, RequestStatus::Pending, None));
    assert_eq!(filed.reasons.len(), 2);
    assert!(!filed.created.is_empty());
    let second = store
        .add_access_request(&request("iss#bob", "SE-1"), &|r| record(&r.user, "dac.request", &r.dataset, t))
        .unwrap();
    assert_eq!(store.access_requests(None).unwrap().len(), 2);
    assert_eq!(store.access_requests(Some("iss#bob")).unwrap(), std::slice::from_ref(&second));
    assert_eq!(store.access_request(1).unwrap(), Some(filed.clone()));
    assert!(store.access_request(99).unwrap().is_none());

    let issued = store
        .approve_access_request(1, "dac@x", &grant("j1", "k1", 5000), &record("dac@x", "dac.approve", "DK-1", t))
        .unwrap();
    assert_eq!(
        (issued.user.as_str(), issued.subject.as_str(), issued.dataset.as_str()),
        ("iss#alice", "alice", "DK-1")
    );
    assert_eq!((issued.request, issued.revoked.as_deref()), (1, None));
    // A grant is read with the purpose of the request it approved, and the member's note is kept.
    assert_eq!(issued.purpose, r#"{"purpose":"HMB"}"#);
    assert_eq!(store.grant("j1").unwrap().map(|g| g.purpose), Some(issued.purpose.clone()));
    assert_eq!(store.grants(Some("iss#alice")).unwrap()[0].purpose, issued.purpose);
    assert_eq!(store.access_request(1).unwrap().and_then(|r| r.note).as_deref(), Some("consent checked"));
    let decided = store.access_request(1).unwrap().unwrap();
    assert_eq!(
        (decided.status, decided.decided.as_deref(), decided.decided_by.as_deref()),
        (RequestStatus::Approved, Some(t), Some("dac@x"))
    );
    let again =
        store.approve_access_request(1, "dac@x", &grant("j2", "k1", 5000), &record("dac@x", "dac.approve", "DK-1", t));
    assert!(matches!(again, Err(StoreError::Conflict(_))), "a request is decided once");
    assert!(matches!(
        store.reject_access_request(1, "dac@x", "no", &record("dac@x", "dac.reject", "DK-1", t)),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.reject_access_request(7, "dac@x", "no", &record("dac@x", "dac.reject", "DK-1", t)),
        Err(StoreError::Conflict(_))
    ));
    let rejected = store
        .reject_access_request(2, "dac@x", "purpose too broad", &record("dac@x", "dac.reject", "SE-1", t))
        .unwrap();
    assert_eq!((rejected.status, rejected.note.as_deref()), (RequestStatus::Rejected, Some("purpose too broad")));

    assert_eq!(store.grants(Some("iss#alice")).unwrap(), std::slice::from_ref(&issued));
    assert!(store.grants(Some("iss#bob")).unwrap().is_empty());
    assert_eq!(store.grant("j1").unwrap(), Some(issued.clone()));
    assert_eq!(store.latest_visa_expiry("k1").unwrap(), Some(5000));
    assert_eq!(store.latest_visa_expiry("k9").unwrap(), None);
    let revoked =
        store.revoke_grant("j1", "dac@x", "consent withdrawn", &record("dac@x", "dac.revoke", "DK-1", t)).unwrap();
    assert_eq!((revoked.revoked.as_deref(), revoked.revoke_reason.as_deref()), (Some(t), Some("consent withdrawn")));
    assert!(matches!(
        store.revoke_grant("j1", "dac@x", "again", &record("dac@x", "dac.revoke", "DK-1", t)),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.revoke_grant("nope", "dac@x", "x", &record("dac@x", "dac.revoke", "DK-1", t)),
        Err(StoreError::Conflict(_))
    ));

    // One audit entry per change, none for the refused ones, in order.
    let entries = chain_is_whole(store);
    let actions: Vec<&str> = entries.iter().map(|e| e.record.action.as_str()).collect();
    assert_eq!(actions, ["dac.request", "dac.request", "dac.approve", "dac.reject", "dac.revoke"]);
    assert_eq!(entries[0].record.time, format!("{t}#1"), "the entry sees the new request's id");
}

pub fn audit_appends_from_two_handles_keep_one_chain<B: Backend>() {
    let backend = B::fresh();
    let other = backend.reopen();
    std::thread::scope(|scope| {
        for (n, store) in [(0, backend.store() as &dyn NodeStore), (1, &other as &dyn NodeStore)] {
            scope.spawn(move || {
                for batch in 0..20 {
                    let records: Vec<AuditRecord> = (0..5)
                        .map(|i| {
                            let dataset = if i % 2 == 0 { "DK-1" } else { "SE-1" };
                            record(
                                &format!("user{n}"),
                                "query",
                                dataset,
                                &format!("2026-11-{:02}T00:00:00Z", 1 + batch),
                            )
                        })
                        .collect();
                    store.append_audit(&records).unwrap();
                }
            });
        }
    });
    let entries = chain_is_whole(backend.store());
    assert_eq!(entries.len(), 200);
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=200).collect::<Vec<_>>());
    let query = |user: Option<&str>, dataset: Option<&str>, since: Option<&str>, until: Option<&str>| {
        let q = AuditQuery {
            user: user.map(Into::into),
            dataset: dataset.map(Into::into),
            since: since.map(Into::into),
            until: until.map(Into::into),
            ..AuditQuery::default()
        };
        other.audit_entries(&q).unwrap().len()
    };
    assert_eq!(query(Some("user0"), None, None, None), 100);
    assert_eq!(query(Some("user1"), Some("SE-1"), None, None), 40);
    assert_eq!(query(None, None, Some("2026-11-19T00:00:00Z"), None), 20);
    assert_eq!(query(None, Some("DK-1"), Some("2026-11-02T00:00:00Z"), Some("2026-11-03T00:00:00Z")), 12);
    assert_eq!(query(Some("nobody"), None, None, None), 0);
    // Pages by sequence number, as reports read long logs.
    let page = AuditQuery { after: Some(150), limit: Some(20), ..AuditQuery::default() };
    let seqs: Vec<u64> = other.audit_entries(&page).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (151..=170).collect::<Vec<_>>());
    let last = AuditQuery { after: Some(190), limit: Some(20), ..AuditQuery::default() };
    assert_eq!(other.audit_entries(&last).unwrap().len(), 10);
}

/// A journal file is appended once: applying it again (a crash between the commit and the file's
/// removal) or applying an older one adds nothing, and the mark is seen by another handle.
pub fn a_journal_file_is_appended_once_whoever_applies_it<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let other = backend.reopen();
    assert_eq!(store.audit_journal_applied().unwrap(), 0);
    let batch = |n: usize| -> Vec<AuditRecord> {
        (0..n).map(|i| record("journal", "query", "DK-1", &format!("2026-12-03T00:00:{i:02}Z"))).collect()
    };
    assert!(store.append_audit_journal(3, &batch(4)).unwrap());
    store.append_audit(&batch(1)).unwrap();
    assert!(!other.append_audit_journal(3, &batch(4)).unwrap(), "the same file again");
    assert!(!other.append_audit_journal(2, &batch(2)).unwrap(), "an older file");
    assert_eq!(other.audit_journal_applied().unwrap(), 3);
    assert!(other.append_audit_journal(4, &batch(2)).unwrap());
    assert_eq!(store.audit_journal_applied().unwrap(), 4);
    let entries = chain_is_whole(store);
    assert_eq!(entries.len(), 7, "4 + 1 + 2, nothing twice");
}

pub fn a_format_1_chain_continued_in_the_current_format_verifies_and_any_edit_breaks_it<B: Backend>() {
    let backend = B::fresh();
    let mut old: Vec<AuditEntry> = Vec::new();
    for n in 0..3 {
        let previous = old.last().map(|e| (e.hash.as_str(), e.seq));
        // The last one with an action this build does not know (a newer release's): it reads back verbatim.
        let action = if n == 2 { "archive.gc" } else { "query" };
        let mut r = record(&format!("user{n}"), action, "DK-1", &format!("2026-11-0{}T00:00:00Z", n + 1));
        r.granularity = Some("count".into());
        old.push(AuditEntry::next_in(AuditFormat::LegacyJson, previous, r));
    }
    backend.write_first_release_audit(&old);
    let store = backend.store();
    store
        .append_audit(&[
            record("user3", "query", "SE-1", "2026-11-04T00:00:00Z"),
            record("dac@x", "dac.approve", "DK-1", "2026-11-05T00:00:00Z"),
        ])
        .unwrap();
    let entries = chain_is_whole(store);
    assert_eq!(entries[..3], old[..], "old entries read back unchanged");
    assert_eq!(entries[2].record.action, AuditAction::Other("archive.gc".into()));
    let current = AuditFormat::CURRENT.code();
    assert_eq!(entries.iter().map(|e| e.format).collect::<Vec<_>>(), [1, 1, 1, current, current]);

    let edits: [fn(&mut AuditEntry); 10] = [
        |e| e.record.time.push('x'),
        |e| e.record.actor.push('x'),
        |e| e.record.action = AuditAction::Other(format!("{}x", e.record.action)),
        |e| e.record.resource.push('x'),
        |e| e.record.datasets.push("NO-1".into()),
        |e| e.record.granularity = if e.record.granularity.is_some() { None } else { Some("count".into()) },
        |e| e.record.decision = Decision::Denied,
        |e| e.record.detail.push('x'),
        |e| e.format = if e.format == 1 { AuditFormat::CURRENT.code() } else { 1 },
        |e| e.hash = GENESIS.into(),
    ];
    for index in [1, 3] {
        for (n, edit) in edits.iter().enumerate() {
            let mut edited = entries.clone();
            edit(&mut edited[index]);
            let seq = edited[index].seq;
            assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq }), "edit {n} of entry {seq}");
        }
    }
}

pub fn entries_about_a_researcher_are_found_by_their_subject<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let time = |n: u32| format!("2026-11-{n:02}T00:00:00Z");
    let about = |actor: &str, action: &str, subject: &str, n: u32| AuditRecord {
        subject: Some(subject.into()),
        ..record(actor, action, "DK-1", &time(n))
    };
    // Alice files a request and the committee approves it: the approval is the committee's act about her.
    store
        .add_access_request(&request("iss#alice", "DK-1"), &|r| record(&r.user, "dac.request", &r.dataset, &time(1)))
        .unwrap();
    store
        .approve_access_request(1, "dac@x", &grant("j1", "k1", 5000), &about("dac@x", "dac.approve", "iss#alice", 2))
        .unwrap();
    store
        .append_audit(&[
            record("iss#carol", "query", "SE-1", &time(3)),
            // A refused passport whose claimed identity is alice's.
            about("unauthenticated", "auth", "iss#alice", 4),
            about("dac@x", "dac.reject", "iss#carol", 5),
            // Actor and subject the same: listed once.
            about("iss#alice", "query", "iss#alice", 6),
        ])
        .unwrap();

    let entries = chain_is_whole(store);
    let subjects: Vec<Option<&str>> = entries.iter().map(|e| e.record.subject.as_deref()).collect();
    assert_eq!(subjects, [None, Some("iss#alice"), None, Some("iss#alice"), Some("iss#carol"), Some("iss#alice")]);
    assert!(entries.iter().all(|e| e.format == AuditFormat::CURRENT.code()));
    assert_eq!(backend.reopen().audit_entries(&AuditQuery::default()).unwrap(), entries, "read back whole");

    let seqs = |user: &str, dataset: Option<&str>, since: Option<u32>| {
        let q = AuditQuery {
            user: Some(user.into()),
            dataset: dataset.map(Into::into),
            since: since.map(time),
            ..AuditQuery::default()
        };
        store.audit_entries(&q).unwrap().iter().map(|e| e.seq).collect::<Vec<u64>>()
    };
    assert_eq!(seqs("iss#alice", None, None), [1, 2, 4, 6], "as actor or as subject");
    assert_eq!(seqs("iss#carol", None, None), [3, 5]);
    assert_eq!(seqs("dac@x", None, None), [2, 5], "still found by their actor");
    assert_eq!(seqs("unauthenticated", None, None), [4]);
    assert_eq!(seqs("iss#alice", None, Some(3)), [4, 6], "with the other filters");
    assert_eq!(seqs("iss#carol", Some("DK-1"), None), [5]);
    assert!(seqs("alice", None, None).is_empty(), "whole user ids only");

    // The subject is covered by the entry's hash.
    let mut edited = entries.clone();
    edited[1].record.subject = Some("iss#bob".into());
    assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq: 2 }));
    edited[1].record.subject = None;
    assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq: 2 }));
}

fn item(fingerprint: &str, charges: &[(u32, f64)]) -> ChargeItem {
    ChargeItem { fingerprint: fingerprint.into(), charges: charges.iter().map(|&(n, c)| (n.into(), c)).collect() }
}

fn charge(user: &str, items: Vec<ChargeItem>, absence: bool) -> BudgetCharge {
    BudgetCharge {
        user: user.into(),
        limit: 3.0,
        items,
        discloses_absence: absence,
        time: "2026-11-25T12:00:00Z".into(),
    }
}

pub fn budgets_charge_once_refuse_and_lock<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let outcome = |c: BudgetCharge| store.charge_budget(&c).unwrap();
    assert_eq!(outcome(charge("u", vec![item("a", &[(1, 1.0), (2, 0.5)])], false)), BudgetOutcome::Charged);
    assert_eq!(outcome(charge("u", vec![item("a", &[(1, 1.0), (2, 0.5)])], false)), BudgetOutcome::Repeat);
    assert_eq!(outcome(charge("u", vec![item("b", &[(1, 1.5)])], true)), BudgetOutcome::Charged);
    assert_eq!(
        outcome(charge("v", vec![item("a", &[(1, 2.9)])], false)),
        BudgetOutcome::Charged,
        "budgets are per user"
    );
    // Individual 1 has spent 2.5 of 3: half a nat more is the limit, more is refused, nothing is charged.
    let refused = outcome(charge("u", vec![item("c", &[(2, 0.1)]), item("d", &[(1, 0.6)])], false));
    assert!(matches!(refused, BudgetOutcome::Refused { individual, .. } if individual.get() == 1), "{refused:?}");
    assert!(store.budget_locked("u").unwrap() && !store.budget_locked("v").unwrap());
    // Locked: anything new is refused, repeats stay free, absence answers are refused too.
    assert_eq!(outcome(charge("u", vec![item("e", &[(3, 0.01)])], false)), BudgetOutcome::Locked);
    assert_eq!(outcome(charge("u", vec![item("a", &[(1, 1.0)])], false)), BudgetOutcome::Repeat);
    assert_eq!(outcome(charge("u", vec![], true)), BudgetOutcome::Locked);
    assert_eq!(outcome(charge("v", vec![], true)), BudgetOutcome::Repeat);
    let other = backend.reopen();
    assert!(other.budget_locked("u").unwrap(), "another process sees the lock");
    assert_eq!(other.charge_budget(&charge("u", vec![item("c", &[(2, 0.1)])], false)).unwrap(), BudgetOutcome::Locked);
    // The operator lifts the lock: spent budgets stay spent, the unlock is audited once.
    let audited = || store.audit_entries(&AuditQuery::default()).unwrap().len();
    let before = audited();
    assert!(store.unlock_budget("u", &record("operator", "budget-unlock", "", "2026-11-29T08:00:00Z")).unwrap());
    assert!(!store.unlock_budget("u", &record("operator", "budget-unlock", "", "2026-11-29T08:00:01Z")).unwrap());
    assert_eq!(audited(), before + 1);
    assert!(!other.budget_locked("u").unwrap());
    assert_eq!(outcome(charge("u", vec![item("f", &[(3, 0.01)])], false)), BudgetOutcome::Charged);
    let again = outcome(charge("u", vec![item("g", &[(1, 0.6)])], false));
    assert!(matches!(again, BudgetOutcome::Refused { individual, .. } if individual.get() == 1), "{again:?}");
}

pub fn concurrent_charges_never_overspend<B: Backend>() {
    let backend = B::fresh();
    let other = backend.reopen();
    // Two processes race to charge individual 7 in steps of 0.4 nats: at most 7 steps fit in 3.
    let charged = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for (n, store) in [(0, backend.store() as &dyn NodeStore), (1, &other as &dyn NodeStore)] {
            let charged = &charged;
            scope.spawn(move || {
                for i in 0..10 {
                    let c = charge("racer", vec![item(&format!("{n}-{i}"), &[(7, 0.4)])], false);
                    if store.charge_budget(&c).unwrap() == BudgetOutcome::Charged {
                        charged.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(charged.into_inner(), 7, "exactly the budget was spent, once");
}

pub fn a_shared_budget_leaves_out_who_cannot_pay_and_locks_nobody<B: Backend>() {
    let backend = B::fresh();
    let store = backend.store();
    let shared = |items: Vec<ChargeItem>| store.charge_shared_budget(&charge("public", items, false), 1).unwrap();
    // Limit 3: individual 1 pays 2.0 for `a`; `b` would take them to 4.0, so only 2 pays for it.
    assert_eq!(shared(vec![item("a", &[(1, 2.0)])]), [true]);
    assert_eq!(shared(vec![item("b", &[(1, 2.0), (2, 2.0)])]), [true], "2 paid: disclosed");
    // `c` is carried by 1 and 2 alone, neither can pay: withheld, and nobody is locked.
    assert_eq!(shared(vec![item("c", &[(1, 1.5), (2, 1.5)]), item("d", &[(3, 0.5)])]), [false, true]);
    assert!(!store.budget_locked("public").unwrap());
    // Repeats of what was disclosed are disclosed again, free; what was withheld stays withheld.
    assert_eq!(shared(vec![item("a", &[(1, 2.0)]), item("c", &[(1, 1.5), (2, 1.5)])]), [true, false]);
    // Within one answer a carrier pays item after item while they can.
    assert_eq!(
        shared(vec![item("e", &[(4, 2.0)]), item("f", &[(4, 2.0)]), item("g", &[(4, 1.0)])]),
        [true, false, true]
    );
    // The shared budget is its own: another user's budget of the same people is untouched.
    assert_eq!(store.charge_budget(&charge("u", vec![item("a", &[(1, 3.0)])], false)).unwrap(), BudgetOutcome::Charged);
    // Another process sees what was spent: 1 has 1.0 left.
    let other = backend.reopen();
    let shared_other = |items: Vec<ChargeItem>| other.charge_shared_budget(&charge("public", items, false), 1).unwrap();
    assert_eq!(shared_other(vec![item("h", &[(1, 1.5)]), item("i", &[(1, 1.0)])]), [false, true]);
    // With two payers needed, one who can pay is not enough, and is not charged for nothing.
    let two = |items: Vec<ChargeItem>| store.charge_shared_budget(&charge("public", items, false), 2).unwrap();
    assert_eq!(two(vec![item("j", &[(1, 0.5), (5, 0.5)])]), [false], "1 has spent all 3.0; 5 alone could pay");
    assert_eq!(two(vec![item("k", &[(5, 3.0), (6, 3.0)])]), [true], "5 did not pay for j");
}
