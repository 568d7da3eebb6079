//! Audit chain heads kept by peers (issue #17), with real processes on loopback: DK-NGC sends
//! its signed head to GMS, and `audit verify --against-peer GMS` then finds what DK-NGC's own
//! database cannot show: its last entries removed (the head moved back with them), or its last
//! entry rewritten and rehashed. Either way the chain alone still verifies.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use oresund_core::audit::AuditEntry;

use crate::common::*;
use crate::network::free_port;

const SECRET: &str = "dk-gms-shared-secret-0123456789abcdef";
const TRUTH: &str = "referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count";

/// `node` peers with `peer` at `url`, sending its head every second.
fn peer_with(node: &TestNode, peer: &str, country: &str, url: &str) {
    let mut config = std::fs::OpenOptions::new().append(true).open(node.dir.join("oresund.toml")).unwrap();
    writeln!(
        config,
        "\n[network]\nhead_interval_s = 1\n\n[[network.peers]]\nid = \"{peer}\"\ncountry = \"{country}\"\n\
         url = \"{url}\"\nsecret = \"{SECRET}\""
    )
    .unwrap();
}

/// `audit verify NODE [--against-peer GMS]`: success and what it said.
fn verify(node: &Path, against_peer: bool) -> (bool, String) {
    let mut args = vec!["audit", "verify", node.to_str().unwrap()];
    if against_peer {
        args.extend(["--against-peer", "GMS"]);
    }
    let out = run(&args);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn entries(node: &Path) -> Vec<AuditEntry> {
    let out = ok(&["audit", "show", node.to_str().unwrap(), "--format", "json"]);
    out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Runs SQL on the node's `access.db`, as someone with access to its files could.
fn tamper(node: &Path, sql: &str, params: &[&dyn rusqlite::ToSql]) {
    let conn = rusqlite::Connection::open(node.join("access.db")).unwrap();
    conn.execute(sql, params).unwrap();
}

/// Moves the chain head to the entry `seq` (or the genesis), as a careful intruder would.
fn set_head(node: &Path, seq: u64, hash: &str) {
    tamper(node, "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", &[&seq, &hash]);
}

#[test]
fn a_truncated_or_rewritten_chain_is_found_against_the_head_a_peer_kept() {
    let dk = TestNode::copy_of(dk_template());
    let gms = TestNode::new("GMS", "SE");
    let (dk_listen, gms_listen) = (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
    peer_with(&dk, "GMS", "SE", &format!("http://{gms_listen}"));
    peer_with(&gms, "DK-NGC", "DK", &format!("http://{dk_listen}"));
    let (gms_server, gms_log) = Server::start_logged_at(&gms.dir, &gms_listen, &[]);
    let (dk_server, _) = Server::start_logged_at(&dk.dir, &dk_listen, &[]);
    for _ in 0..3 {
        assert_eq!(dk_server.get(&format!("/g_variants?{TRUTH}"), None).0, 200);
    }
    // Stopped: its queued audit records are appended, and it sends no more heads.
    let deadline = Instant::now() + Duration::from_secs(20);
    let seq = loop {
        let seq = entries(&dk.dir).last().map_or(0, |e| e.seq);
        let (passed, said) = verify(&dk.dir, true);
        if seq >= 3 && passed && said.contains(&format!("(seq {seq})")) {
            break seq;
        }
        assert!(Instant::now() < deadline, "GMS never kept DK-NGC's head at seq {seq}: {said}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(dk_server.stop().success());
    let (passed, said) = verify(&dk.dir, true);
    assert!(passed, "{said}");
    assert!(said.contains("audit log matches the head peer GMS received at"), "{said}");
    let rewrite = TestNode::copy_of(&dk);

    // Truncated: the last two entries gone, the head moved back with them.
    let kept = entries(&dk.dir);
    let last_kept = &kept[kept.len() - 3];
    tamper(&dk.dir, "DELETE FROM audit_log WHERE seq > ?1", &[&last_kept.seq]);
    set_head(&dk.dir, last_kept.seq, &last_kept.hash);
    let (passed, said) = verify(&dk.dir, false);
    assert!(passed, "a truncated chain is still a valid chain: {said}");
    let (passed, said) = verify(&dk.dir, true);
    assert!(!passed, "{said}");
    assert!(
        said.contains("the chain is shorter than the head peer GMS received at")
            && said.contains(&format!("(seq {seq}): entries were removed")),
        "{said}"
    );

    // Started again, the truncated node sends a head behind the kept one: GMS refuses it and
    // keeps the evidence.
    let (dk_server, _) = Server::start_logged_at(&dk.dir, &dk_listen, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !gms_log.lock().unwrap().iter().any(|l| l.contains("contradicts the one kept")) {
        assert!(Instant::now() < deadline, "GMS took the backward head: {:#?}", gms_log.lock().unwrap());
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(dk_server);
    assert!(!verify(&dk.dir, true).0, "the kept head did not move back");

    // Rewritten: the last entry's actor changed and the entry rehashed, the head with it.
    let chain = entries(&rewrite.dir);
    let last = chain.last().unwrap();
    let previous = chain.iter().rev().nth(1).map(|e| (e.hash.as_str(), e.seq));
    let mut record = last.record.clone();
    record.actor = "someone-else".into();
    let forged = AuditEntry::next(previous, record);
    assert_eq!(forged.seq, last.seq);
    tamper(
        &rewrite.dir,
        "UPDATE audit_log SET actor = ?1, hash = ?2 WHERE seq = ?3",
        &[&"someone-else", &forged.hash, &forged.seq],
    );
    set_head(&rewrite.dir, forged.seq, &forged.hash);
    let (passed, said) = verify(&rewrite.dir, false);
    assert!(passed, "a rewritten and rehashed chain is still a valid chain: {said}");
    let (passed, said) = verify(&rewrite.dir, true);
    assert!(!passed, "{said}");
    assert!(
        said.contains(&format!("entry {seq} differs from the head peer GMS received at"))
            && said.contains("the chain was rewritten"),
        "{said}"
    );
    drop(gms_server);
}
