//! The encrypted archive end to end: `archive verify` on damaged bodies, key rotation killed
//! half-way, ingest killed half-way. (What a reader gets from `archive export`, checked with
//! Python `crypt4gh`: `external::archive`.)

use std::process::{Output, Stdio};
use std::time::Duration;

use crate::common::*;
use serde_json::Value;

pub(crate) const PASSPHRASE: &str = "node key passphrase for tests";

/// Runs `oresund` with the node key passphrase in the environment.
pub(crate) fn with_key(args: &[&str]) -> Output {
    oresund()
        .args(args)
        .env("ORESUND_KEY_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::null())
        .output()
        .expect("the oresund binary runs")
}

pub(crate) fn ok_with_key(args: &[&str]) -> Vec<u8> {
    let out = with_key(args);
    assert!(out.status.success(), "oresund {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A node whose archive key is sealed with [`PASSPHRASE`], with DK ingested.
pub(crate) fn sealed_node() -> TestNode {
    let node = sealed_empty_node();
    node.ingest("DK-1", "DK");
    node
}

/// A node whose archive key is sealed with [`PASSPHRASE`], nothing ingested.
pub(crate) fn sealed_empty_node() -> TestNode {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("node");
    let reference = cohort("reference.fa.gz");
    ok_with_key(&[
        "init",
        dir.to_str().unwrap(),
        "--node-id",
        "TEST",
        "--country",
        "DK",
        "--reference",
        reference.to_str().unwrap(),
    ]);
    TestNode { tmp, dir }
}

/// `archive list --format json`.
pub(crate) fn objects(node: &TestNode) -> Vec<Value> {
    let text = ok(&["archive", "list", node.path(), "--format", "json"]);
    serde_json::from_str::<Value>(&text).unwrap().as_array().unwrap().clone()
}

pub(crate) fn field<'a>(object: &'a Value, name: &str) -> &'a str {
    object[name].as_str().unwrap_or_else(|| panic!("{name} missing in {object}"))
}

#[test]
fn verify_names_the_object_whose_body_lost_a_bit() {
    let node = sealed_node();
    node.ingest("SE-1", "SE");
    ok_with_key(&["archive", "verify", node.path()]);
    let list = objects(&node);
    let victim = list.iter().find(|o| field(o, "accession") == "TEST-F000002").unwrap();
    let body = node.dir.join("archive").join(field(victim, "body_object"));
    let mut bytes = std::fs::read(&body).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&body, bytes).unwrap();

    for (label, out) in [
        ("with the key", with_key(&["archive", "verify", node.path()])),
        ("bodies only", run(&["archive", "verify", node.path()])),
    ] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{label}: verify passed a damaged body");
        let named: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: TEST-")).collect();
        assert!(
            !named.is_empty() && named.iter().all(|l| l.starts_with("error: TEST-F000002 (vcf)")),
            "{label}: {stderr}"
        );
        assert!(stderr.contains("body SHA-256"), "{label}: {stderr}");
    }
    let stderr = String::from_utf8_lossy(&with_key(&["archive", "verify", node.path()]).stderr).into_owned();
    assert!(stderr.contains("failed authentication"), "decryption pinpoints the segment: {stderr}");
}

/// The id of the node's current key (16 hex digits of SHA-256 of the public key), read back from
/// the sealed file keys' names.
pub(crate) fn node_key_id(node: &TestNode) -> String {
    let names = sh(&format!("ls {}", node.dir.join("secrets/file-keys").display()));
    let first = names.lines().next().expect("a sealed file key");
    first.split('.').nth(1).expect("<file key>.<node key>.c4gh").to_string()
}

/// Body checksums by accession, and key ids.
pub(crate) fn bodies_and_keys(node: &TestNode) -> (Vec<(String, String)>, Vec<String>) {
    let list = objects(node);
    let bodies =
        list.iter().map(|o| (field(o, "accession").to_string(), field(o, "body_sha256").to_string())).collect();
    let keys = list.iter().map(|o| field(o, "key_id").to_string()).collect();
    (bodies, keys)
}

#[test]
fn a_killed_rotation_leaves_every_object_readable() {
    let node = sealed_node();
    node.ingest("SE-1", "SE");
    let (bodies, _) = bodies_and_keys(&node);
    let public_key = || std::fs::read(node.dir.join("secrets/archive.pub")).unwrap();
    let mut interrupted = 0;
    for delay in (0..24).map(|i| 2 + i * 12) {
        let before = public_key();
        let mut child = oresund()
            .args(["keys", "rotate", node.path()])
            .env("ORESUND_KEY_PASSPHRASE", PASSPHRASE)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        let pending = node.dir.join("secrets/archive.sec.next").exists();
        if !finished && (pending || public_key() == before) {
            interrupted += 1;
        }
        // Whatever the moment, every header opens with a node key and every body is intact.
        let out = with_key(&["archive", "verify", node.path()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "after a kill at {delay} ms: {stderr}");
        assert!(stderr.contains("6 archived objects intact (6 decrypted"), "{stderr}");
        assert_eq!(bodies_and_keys(&node).0, bodies);
    }
    assert!(interrupted >= 2, "only {interrupted} kills landed during a rotation");
    // Running it again completes whatever was interrupted; gc removes what kills left behind.
    ok_with_key(&["keys", "rotate", node.path()]);
    assert!(!node.dir.join("secrets/archive.sec.next").exists());
    ok(&["archive", "gc", node.path()]);
    let headers = sh(&format!("find {} -name '*.header' | wc -l", node.dir.join("archive").display()));
    assert_eq!(headers.trim(), "6");
    // One file key per ingested file (each file can be shredded alone), sealed to the new node key.
    let (_, keys) = bodies_and_keys(&node);
    assert_eq!(keys.iter().collect::<std::collections::BTreeSet<_>>().len(), 2, "{keys:?}");
    let node_key = node_key_id(&node);
    for key in &keys {
        assert!(
            node.dir.join(format!("secrets/file-keys/{key}.{node_key}.c4gh")).exists(),
            "{key} sealed to {node_key}"
        );
    }
    // A reader still gets the original back (decrypted here with our own `c4gh`; with Python
    // crypt4gh in `external::archive`).
    let (sk, pk) = (node.tmp.path().join("alice.sec"), node.tmp.path().join("alice.pub"));
    ok(&["c4gh", "keygen", "--nocrypt", "-f", "--sk", sk.to_str().unwrap(), "--pk", pk.to_str().unwrap()]);
    let exported = node.tmp.path().join("individuals.c4gh");
    ok_with_key(
        &["archive", "export", node.path(), "TEST-F000002-M", "--recipient-key", pk.to_str().unwrap()]
            .into_iter()
            .chain(["--output", exported.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let decrypted = oresund()
        .args(["c4gh", "decrypt", "--sk", sk.to_str().unwrap()])
        .stdin(std::fs::File::open(&exported).unwrap())
        .output()
        .unwrap();
    assert!(decrypted.status.success(), "{}", String::from_utf8_lossy(&decrypted.stderr));
    assert!(decrypted.stdout == std::fs::read(cohort("SE.individuals.tsv")).unwrap());
}

#[test]
fn a_killed_ingest_leaves_only_unreferenced_objects_which_gc_removes() {
    let node = TestNode::copy_of(dk_template());
    let (vcf, individuals) = (cohort("SE.vcf.gz"), cohort("SE.individuals.tsv"));
    for delay in [5, 20, 40, 60, 90] {
        let mut child = oresund()
            .args(["ingest", node.path(), "--dataset", "SE-1", "--individuals"])
            .arg(&individuals)
            .arg(&vcf)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        let listed = objects(&node).len();
        if finished || listed != 3 {
            assert_eq!(listed, 6, "a committed ingest lists all its objects");
            break;
        }
        ok(&["archive", "verify", node.path()]);
    }
    ok(&["archive", "gc", node.path()]);
    let referenced: std::collections::BTreeSet<String> = objects(&node)
        .iter()
        .flat_map(|o| [field(o, "header_object").to_string(), field(o, "body_object").to_string()])
        .collect();
    let stored: std::collections::BTreeSet<String> =
        sh(&format!("cd {} && find . -type f | sed 's|^./||'", node.dir.join("archive").display()))
            .lines()
            .map(str::to_string)
            .collect();
    assert_eq!(stored, referenced, "after gc the archive holds exactly the catalog's objects");
    // A refused ingest leaves nothing behind at all.
    let bad = node.tmp.path().join("bad.tsv");
    std::fs::write(&bad, "local_id\tsex\n070248-4770\tfemale\n070248-4770\tmale\n").unwrap();
    let out =
        run(&["ingest", node.path(), "--dataset", "X", "--individuals", bad.to_str().unwrap(), vcf.to_str().unwrap()]);
    assert!(!out.status.success());
    let after: usize =
        sh(&format!("find {} -type f | wc -l", node.dir.join("archive").display())).trim().parse().unwrap();
    assert_eq!(after, stored.len());
}

/// Issue #17: bare file names write both keys in the current directory (the parent "" is synced
/// as "."), and a key that is not a key file — endless, or binary — is refused at once.
#[test]
fn keygen_takes_bare_file_names_and_key_files_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let out = oresund()
        .args(["c4gh", "keygen", "--nocrypt", "--sk", "alice.sec", "--pk", "alice.pub"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let public = std::fs::read_to_string(dir.path().join("alice.pub")).unwrap();
    assert!(public.starts_with("-----BEGIN CRYPT4GH PUBLIC KEY-----"), "{public}");
    let secret = std::fs::read_to_string(dir.path().join("alice.sec")).unwrap();
    assert!(secret.contains("PRIVATE KEY"), "the secret key is written too");
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["alice.pub", "alice.sec"], "no temporary file left");

    for (key, why) in [("/dev/urandom", "not a key file"), ("/dev/zero", "larger than 64 KiB")] {
        let started = std::time::Instant::now();
        let out = oresund().args(["c4gh", "encrypt", "--recipient_pk", key]).stdin(Stdio::null()).output().unwrap();
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(error.contains(key) && error.contains(why), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "refused at once");
    }
}
