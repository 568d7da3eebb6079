//! Issue #17: no answer leaves before its audit record is committed. Answered requests (200, 401
//! and 403 mixed, several at once) followed by `kill -9` leave exactly one record each; `SIGTERM`
//! lets the requests in flight finish and records them all. The same checks run on PostgreSQL
//! (`external::audit_log`).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::common::passports::audit_entries;
use crate::common::*;

const QUERY: &str = "/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A";
/// A region query that takes a while (every variant of 2 Mb counted).
const SLOW_QUERY: &str = "/g_variants?referenceName=22&start=16000000&end=17999999&limit=100";

/// 60 requests from four threads at once, then `kill -9` right after the last answer: the log
/// holds one record per answer, decided as answered, and its chain verifies.
pub fn every_answer_is_recorded_before_it_leaves(node: &TestNode) {
    let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    let before = audit_entries(&node.dir, &[]).len();
    let server = Server::start(&node.dir, &[]);
    let statuses = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let (server, registered, statuses) = (&server, &registered, statuses.clone());
            scope.spawn(move || {
                for i in 0..15 {
                    let (status, _) = match (thread + i) % 3 {
                        0 => server.get(QUERY, None),
                        1 => server.get(QUERY, Some("not-a-token")),
                        _ => server.get("/individuals/someone", Some(registered)),
                    };
                    statuses.lock().unwrap().push(status);
                }
            });
        }
    });
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let statuses = statuses.lock().unwrap().clone();
    let count = |s: u16| statuses.iter().filter(|&&x| x == s).count();
    assert_eq!((count(200), count(401), count(403)), (20, 20, 20), "{statuses:?}");

    // On the embedded store the records are in the journal the killed server left; keep a copy to
    // play a crash between moving a file into the chain and removing it.
    let journal = node.dir.join("audit-journal");
    let left: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(&journal)
        .map(|entries| entries.flatten().map(|e| (e.path(), std::fs::read(e.path()).unwrap())).collect())
        .unwrap_or_default();
    let entries = audit_entries(&node.dir, &[]);
    let new = &entries[before..];
    assert_eq!(new.len(), 60, "one record per answered request, none lost to kill -9");
    for (path, bytes) in &left {
        std::fs::write(path, bytes).unwrap();
    }
    assert_eq!(audit_entries(&node.dir, &[]).len(), entries.len(), "a journal file moved in again adds nothing");
    let kinds = |action: &str, decision: &str| {
        new.iter().filter(|e| e["record"]["action"] == action && e["record"]["decision"] == decision).count()
    };
    assert_eq!(kinds("query", "allowed"), 20, "{new:#?}");
    assert_eq!(kinds("auth", "denied"), 20, "{new:#?}");
    assert_eq!(kinds("query", "denied"), 20, "{new:#?}");
    let verified = run(&["audit", "verify", node.path()]);
    assert!(verified.status.success(), "the chain verifies: {}", String::from_utf8_lossy(&verified.stderr));
}

/// A GET that reports a refused or cut connection as `None` instead of failing.
fn try_get(address: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).ok()?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    String::from_utf8_lossy(&response).split_whitespace().nth(1)?.parse().ok()
}

/// `SIGTERM` while six clients keep sending slow requests: every request the server took gets its
/// answer (some after the signal), each answer its record, and the server exits cleanly.
pub fn sigterm_drains_requests_in_flight(node: &TestNode) {
    let before = audit_entries(&node.dir, &[]).len();
    let server = Server::start(&node.dir, &[]);
    let answers = Arc::new(Mutex::new(Vec::new()));
    let signalled = Arc::new(Mutex::new(None::<Instant>));
    std::thread::scope(|scope| {
        for _ in 0..6 {
            let (address, answers, signalled) = (&server.address, answers.clone(), signalled.clone());
            scope.spawn(move || {
                // Until the server stops taking connections.
                while let Some(status) = try_get(address, SLOW_QUERY) {
                    let late = signalled.lock().unwrap().is_some();
                    answers.lock().unwrap().push((status, late));
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        *signalled.lock().unwrap() = Some(Instant::now());
        sh(&format!("kill -TERM {}", server.child.id()));
    });
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status:?}");
    let answers = answers.lock().unwrap().clone();
    assert!(answers.iter().all(|(s, _)| *s == 200), "every request taken is answered: {answers:?}");
    assert!(answers.iter().any(|(_, late)| *late), "requests in flight at the signal were answered: {answers:?}");
    let new = audit_entries(&node.dir, &[]).len() - before;
    assert_eq!(new, answers.len(), "one record per answer");
}

#[test]
fn no_answer_leaves_before_its_record_is_committed() {
    let node = TestNode::copy_of(dk_template());
    every_answer_is_recorded_before_it_leaves(&node);
    sigterm_drains_requests_in_flight(&node);
}
