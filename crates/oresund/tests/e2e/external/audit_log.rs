//! The audit log of a real node: every request decision is recorded (also the ones queued when
//! the server stops), `oresund audit verify` names the first edited, removed or reordered entry
//! when the database is tampered with directly, `audit show` filters, and two `serve` processes
//! over one PostgreSQL keep a single chain.

use crate::common::passports::audit_entries;
use crate::common::*;
use serde_json::{Value, json};

const TRUTH: &str = "referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count";

/// Runs SQL on the node's `access.db` with Python's sqlite3 (the operator's own tools).
fn tamper(db: &std::path::Path, sql: &str) {
    let script = format!(
        "import sqlite3; c = sqlite3.connect({:?}); c.executescript({sql:?}); c.commit()",
        db.to_str().unwrap()
    );
    sh(&format!("python3 -c '{}'", script.replace('\'', "'\\''")));
}

fn verify(node: &TestNode) -> (bool, String) {
    let out = run(&["audit", "verify", node.path()]);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn every_decision_is_recorded_and_tampering_is_found_at_the_first_bad_entry() {
    let node = TestNode::copy_of(dk_se_template());
    let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    let server = Server::start(&node.dir, &[]);
    let asked = [
        (format!("/g_variants?{TRUTH}"), None, 200),
        (format!("/g_variants?{TRUTH}&datasets=SE-1"), Some(registered.as_str()), 200),
        ("/individuals?filters=HP:0001250&requestedGranularity=count".to_string(), Some(registered.as_str()), 200),
        ("/g_variants?referenceName=22&strat=5".to_string(), Some(registered.as_str()), 400),
        (format!("/g_variants?{TRUTH}"), Some("not-a-token"), 401),
        ("/datasets".to_string(), None, 200),
    ];
    for (path, token, status) in &asked {
        assert_eq!(server.get(path, *token).0, *status, "{path}");
    }
    // Stopped at once: the records still queued are appended before the process ends.
    assert!(server.stop().success());
    let entries = audit_entries(&node.dir, &[]);
    assert_eq!(entries.len(), asked.len(), "{entries:#?}");
    let record = |i: usize| &entries[i]["record"];
    assert_eq!((record(0)["actor"].as_str(), record(0)["granularity"].as_str()), (Some("anonymous"), Some("boolean")));
    assert_eq!(
        (record(1)["actor"].as_str(), record(1)["datasets"][0].as_str()),
        (Some("reg@example.org"), Some("SE-1"))
    );
    assert_eq!(record(1)["granularity"], "count");
    assert_eq!(
        (record(3)["decision"].as_str(), record(3)["detail"].as_str().map(|d| d.contains("strat"))),
        (Some("denied"), Some(true))
    );
    assert_eq!((record(4)["actor"].as_str(), record(4)["action"].as_str()), (Some("unauthenticated"), Some("auth")));
    assert!(!record(4)["detail"].as_str().unwrap().contains("not-a-token"), "a credential reached the log");

    // Filters.
    assert_eq!(audit_entries(&node.dir, &["--user", "reg@example.org"]).len(), 3);
    assert_eq!(audit_entries(&node.dir, &["--dataset", "SE-1", "--user", "reg@example.org"]).len(), 2);
    assert_eq!(audit_entries(&node.dir, &["--since", "2099-01-01"]).len(), 0);
    assert_eq!(audit_entries(&node.dir, &["--until", "2099-01-01T00:00:00Z"]).len(), asked.len());
    assert!(!run(&["audit", "show", node.path(), "--since", "yesterday"]).status.success());

    let (intact, said) = verify(&node);
    assert!(intact, "{said}");
    assert!(said.contains(&format!("{} entries", asked.len())), "{said}");
    let db = node.dir.join("access.db");
    let pristine = node.tmp.path().join("access.db.orig");
    std::fs::copy(&db, &pristine).unwrap();
    let cases = [
        (
            "UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 3",
            "entry 3: its hash does not match its content (edited)",
        ),
        (
            "UPDATE audit_log SET actor = 'someone@else' WHERE seq = 1",
            "entry 1: its hash does not match its content (edited)",
        ),
        ("DELETE FROM audit_log WHERE seq = 2", "entry 3: it does not follow entry 1 (removed or reordered entries)"),
        (
            "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (2, 3); \
             UPDATE audit_log SET time = (SELECT time FROM t WHERE seq = 3), actor = (SELECT actor FROM t WHERE seq = 3), \
             action = (SELECT action FROM t WHERE seq = 3), resource = (SELECT resource FROM t WHERE seq = 3), \
             datasets = (SELECT datasets FROM t WHERE seq = 3), granularity = (SELECT granularity FROM t WHERE seq = 3), \
             decision = (SELECT decision FROM t WHERE seq = 3), detail = (SELECT detail FROM t WHERE seq = 3), \
             previous = (SELECT previous FROM t WHERE seq = 3), hash = (SELECT hash FROM t WHERE seq = 3) WHERE seq = 2; \
             UPDATE audit_log SET time = (SELECT time FROM t WHERE seq = 2), actor = (SELECT actor FROM t WHERE seq = 2), \
             action = (SELECT action FROM t WHERE seq = 2), resource = (SELECT resource FROM t WHERE seq = 2), \
             datasets = (SELECT datasets FROM t WHERE seq = 2), granularity = (SELECT granularity FROM t WHERE seq = 2), \
             decision = (SELECT decision FROM t WHERE seq = 2), detail = (SELECT detail FROM t WHERE seq = 2), \
             previous = (SELECT previous FROM t WHERE seq = 2), hash = (SELECT hash FROM t WHERE seq = 2) WHERE seq = 3;",
            "entry 2: it does not follow entry 1 (removed or reordered entries)",
        ),
        ("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)", "the last entries were removed"),
    ];
    for (sql, expected) in cases {
        tamper(&db, sql);
        let (intact, said) = verify(&node);
        assert!(!intact, "{sql}: tampering went unnoticed");
        assert!(said.contains(expected), "{sql}: {said}");
        std::fs::copy(&pristine, &db).unwrap();
    }
    assert!(verify(&node).0, "restored");

    // Local ids typed into requests reach the log only as pseudonyms.
    let tsv = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let local_ids: Vec<&str> = tsv.lines().skip(1).map(|l| l.split('\t').next().unwrap()).collect();
    let key = std::fs::read(node.dir.join("secrets/pseudonym.key")).unwrap();
    let pseudonym = oresund_core::pseudonym::Pseudonymiser::new(&key).unwrap().pseudonym(local_ids[0]).to_string();
    let server = Server::start(&node.dir, &[]);
    let typed = local_ids[0];
    for path in [
        format!("/individuals/{typed}"),
        format!("/individuals?filters={typed}&requestedGranularity=count"),
        format!("/g_variants?filters={typed}"),
        format!("/g_variants?{typed}=1"),
        format!("/individuals?datasets={typed}"),
        format!("/datasets/{typed}/g_variants"),
    ] {
        let status = server.get(&path, Some(registered.as_str())).0;
        assert!(status < 500, "{path}: {status}");
    }
    // … and into access requests: as the dataset, and as the disease of the purpose.
    let requests = [
        (json!({"dataset": typed, "purpose": {"purpose": "HMB"}}), 404),
        (json!({"dataset": "DK-1", "purpose": {"purpose": "DS", "disease": typed}}), 400),
    ];
    for (body, expected) in requests {
        let (status, answer) = server.post("/dac/requests", Some(registered.as_str()), &body.to_string());
        assert_eq!(status, expected, "{answer}");
    }
    assert!(server.stop().success());
    let refused = audit_entries(&node.dir, &["--user", "reg@example.org"]);
    let filed: Vec<&Value> = refused.iter().filter(|e| e["record"]["action"] == "dac.request").collect();
    assert_eq!(filed.len(), 2, "both refusals are recorded: {refused:#?}");
    assert!(filed.iter().all(|e| e["record"]["datasets"] != json!([typed])), "{filed:#?}");
    let shown = ok(&["audit", "show", node.path()]);
    assert!(shown.matches(pseudonym.as_str()).count() >= 5, "the typed ids are recorded as pseudonyms:\n{shown}");
    let mut written = Vec::new();
    for entry in std::fs::read_dir(&node.dir).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("access.db") {
            written.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    let written = String::from_utf8_lossy(&written);
    let leaked: Vec<&&str> = local_ids.iter().filter(|id| written.contains(**id)).collect();
    assert!(leaked.is_empty(), "local ids in the audit database: {leaked:?}");
}

#[test]
fn two_servers_over_one_postgres_keep_one_chain() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    let copy = node.tmp.path().join("copy");
    sh(&format!("cp -r {} {}", node.dir.display(), copy.display()));
    let servers = [Server::start(&node.dir, &[]), Server::start(&copy, &[])];
    let per_thread = 40;
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (server, registered) = (&servers[t % 2], registered.as_str());
            scope.spawn(move || {
                for i in 0..per_thread {
                    let token = if i % 2 == 0 { Some(registered) } else { None };
                    assert_eq!(server.get(&format!("/g_variants?{TRUTH}"), token).0, 200);
                }
            });
        }
    });
    for server in servers {
        assert!(server.stop().success());
    }
    let (intact, said) = verify(&node);
    assert!(intact, "{said}");
    assert!(said.contains(&format!("{} entries", 4 * per_thread)), "{said}");
}

/// Issue #17 on PostgreSQL: answers followed by `kill -9` leave one committed record each, and
/// `SIGTERM` drains the requests in flight (the embedded run is `audit_durability`).
#[test]
fn no_answer_leaves_before_its_record_is_committed_on_postgres() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    crate::audit_durability::every_answer_is_recorded_before_it_leaves(&node);
    crate::audit_durability::sigterm_drains_requests_in_flight(&node);
}
