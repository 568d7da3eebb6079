//! The encrypted archive end to end: what ingest stores, what a reader gets from `archive
//! export` (checked with the Python `crypt4gh` 1.8.6 tool), `archive verify` on damaged bodies,
//! and key rotation, also when it is killed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

const PASSPHRASE: &str = "node key passphrase for tests";
const CRYPT4GH_HINT: &str = "pip install crypt4gh==1.8.6";

/// Runs `oresund` with the node key passphrase in the environment.
fn with_key(args: &[&str]) -> Output {
    oresund()
        .args(args)
        .env("ORESUND_KEY_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::null())
        .output()
        .expect("the oresund binary runs")
}

fn ok_with_key(args: &[&str]) -> Vec<u8> {
    let out = with_key(args);
    assert!(out.status.success(), "oresund {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A node whose archive key is sealed with [`PASSPHRASE`], with DK ingested.
fn sealed_node() -> TestNode {
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
    let node = TestNode { tmp, dir };
    node.ingest("DK-1", "DK");
    node
}

/// `archive list --format json`.
fn objects(node: &TestNode) -> Vec<Value> {
    let text = ok(&["archive", "list", node.path(), "--format", "json"]);
    serde_json::from_str::<Value>(&text).unwrap().as_array().unwrap().clone()
}

fn field<'a>(object: &'a Value, name: &str) -> &'a str {
    object[name].as_str().unwrap_or_else(|| panic!("{name} missing in {object}"))
}

/// A Python crypt4gh key pair without passphrase for a reader.
fn reader_keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    require("crypt4gh-keygen", CRYPT4GH_HINT);
    let (sk, pk) = (dir.join(format!("{name}.sec")), dir.join(format!("{name}.pub")));
    sh(&format!("crypt4gh-keygen -f --nocrypt --sk {} --pk {} >/dev/null 2>&1", sk.display(), pk.display()));
    (sk, pk)
}

/// Exports `accession` for `pk` and decrypts it with the Python tool and `sk`.
fn export_and_decrypt(node: &TestNode, accession: &str, pk: &Path, sk: &Path, region: Option<&str>) -> Vec<u8> {
    require("crypt4gh", CRYPT4GH_HINT);
    let exported = node.tmp.path().join(format!("{accession}.c4gh"));
    let mut args = vec!["archive", "export", node.path(), accession, "--recipient-key", pk.to_str().unwrap()];
    args.extend(["--output", exported.to_str().unwrap()]);
    if let Some(region) = region {
        args.extend(["--region", region]);
    }
    ok_with_key(&args);
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("crypt4gh decrypt --sk {} < {}", sk.display(), exported.display()))
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "crypt4gh decrypt failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn sha256_hex(path: &Path) -> String {
    sh(&format!("sha256sum {}", path.display())).split_whitespace().next().unwrap().to_string()
}

#[test]
fn exports_decrypt_with_python_into_the_ingested_files() {
    let node = sealed_node();
    let list = objects(&node);
    let accessions: Vec<&str> = list.iter().map(|o| field(o, "accession")).collect();
    assert_eq!(accessions, ["TEST-F000001", "TEST-F000001-I", "TEST-F000001-M"]);
    let kinds: Vec<&str> = list.iter().map(|o| field(o, "kind")).collect();
    assert_eq!(kinds, ["vcf", "block-index", "individuals"]);
    let (vcf, individuals) = (cohort("DK.vcf.gz"), cohort("DK.individuals.tsv"));
    assert_eq!(field(&list[0], "plaintext_sha256"), sha256_hex(&vcf));
    assert_eq!(field(&list[2], "plaintext_sha256"), sha256_hex(&individuals));
    // The TSV listing names every checksum too.
    let tsv = ok(&["archive", "list", node.path()]);
    assert!(tsv.starts_with("accession\tkind\tname\tplaintext_size\tplaintext_sha256\tbody_size\tbody_sha256"));
    assert!(tsv.contains(&sha256_hex(&vcf)) && tsv.contains(field(&list[0], "body_sha256")));

    let (alice_sk, alice_pk) = reader_keys(node.tmp.path(), "alice");
    assert!(export_and_decrypt(&node, "TEST-F000001", &alice_pk, &alice_sk, None) == std::fs::read(&vcf).unwrap());
    assert!(
        export_and_decrypt(&node, "TEST-F000001-M", &alice_pk, &alice_sk, None) == std::fs::read(&individuals).unwrap()
    );

    // The node's own key file is Python-compatible (c4gh-v1 with scrypt): Python decrypts a
    // stored header + body with it.
    let stored = node.tmp.path().join("stored.c4gh");
    let archive = node.dir.join("archive");
    sh(&format!(
        "cat {} {} > {}",
        archive.join(field(&list[2], "header_object")).display(),
        archive.join(field(&list[2], "body_object")).display(),
        stored.display()
    ));
    let decrypted = sh(&format!(
        "C4GH_PASSPHRASE='{PASSPHRASE}' crypt4gh decrypt --sk {} < {} | sha256sum",
        node.dir.join("secrets/archive.sec").display(),
        stored.display()
    ));
    assert!(decrypted.starts_with(&sha256_hex(&individuals)));

    // Without the passphrase, commands that need the key say so.
    let out = run(&["archive", "export", node.path(), "TEST-F000001", "--recipient-key", alice_pk.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("ORESUND_KEY_PASSPHRASE"), "{stderr}");
    let out =
        oresund().args(["archive", "verify", node.path()]).env("ORESUND_KEY_PASSPHRASE", "wrong").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("does not unlock"), "{stderr}");
    let out = run(&["archive", "export", node.path(), "TEST-F000009", "--recipient-key", alice_pk.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no archive object TEST-F000009"));
}

#[test]
fn region_export_hands_over_only_the_regions_blocks() {
    require("bcftools", "apt-get install bcftools");
    let node = sealed_node();
    let (alice_sk, alice_pk) = reader_keys(node.tmp.path(), "alice");
    // The shared cohort was bgzipped in fixed-size blocks that split lines: refused, with why.
    let out = with_key(&[
        "archive",
        "export",
        node.path(),
        "TEST-F000001",
        "--recipient-key",
        alice_pk.to_str().unwrap(),
        "--region",
        "22:16000000-16050000",
        "--output",
        node.tmp.path().join("refused.c4gh").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("not aligned to lines"), "{stderr}");
    assert!(!node.tmp.path().join("refused.c4gh").exists(), "no partial output is left");

    // bcftools writes line-aligned blocks.
    let aligned = node.tmp.path().join("DK.aligned.vcf.gz");
    sh(&format!("bcftools view -Oz -o {} {}", aligned.display(), cohort("DK.vcf.gz").display()));
    let individuals = cohort("DK.individuals.tsv");
    ok(&[
        "ingest",
        node.path(),
        "--dataset",
        "DK-2",
        "--individuals",
        individuals.to_str().unwrap(),
        aligned.to_str().unwrap(),
    ]);
    let region = "22:16000000-16050000";
    let part = export_and_decrypt(&node, "TEST-F000002", &alice_pk, &alice_sk, Some(region));
    let part_path = node.tmp.path().join("part.vcf.gz");
    std::fs::write(&part_path, &part).unwrap();
    let whole = std::fs::metadata(&aligned).unwrap().len();
    assert!((part.len() as u64) < whole / 10, "{} of {whole} bytes exported", part.len());
    // A valid bgzipped VCF: the same header, every record of the region, only whole records.
    let header = |p: &Path| sh(&format!("bcftools view -h --no-version {}", p.display()));
    assert!(header(&part_path) == header(&aligned), "the VCF header differs");
    let records = |p: &Path, extra: &str| sh(&format!("bcftools view -H {extra} {} | cut -f1-5", p.display()));
    let want = records(&aligned, &format!("-t {region}"));
    assert!(want.lines().count() > 50, "the region holds records");
    assert_eq!(records(&part_path, &format!("-t {region}")), want);
    let got = records(&part_path, "");
    assert!(got.lines().count() < want.lines().count() + 20, "only a few neighbours come along");
    sh(&format!("bgzip -t {}", part_path.display()));

    // The individuals file and a plain-gzip VCF cannot be cut by region.
    let out = with_key(&[
        "archive",
        "export",
        node.path(),
        "TEST-F000002-M",
        "--recipient-key",
        alice_pk.to_str().unwrap(),
        "--region",
        region,
        "--output",
        node.tmp.path().join("m.c4gh").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("only a VCF can be exported by region"));
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

/// Body checksums by accession, and key ids.
fn bodies_and_keys(node: &TestNode) -> (Vec<(String, String)>, Vec<String>) {
    let list = objects(node);
    let bodies =
        list.iter().map(|o| (field(o, "accession").to_string(), field(o, "body_sha256").to_string())).collect();
    let keys = list.iter().map(|o| field(o, "key_id").to_string()).collect();
    (bodies, keys)
}

#[test]
fn rotation_rewrites_headers_only_and_exports_still_decrypt() {
    let node = sealed_node();
    node.ingest("SE-1", "SE");
    let (bodies, old_keys) = bodies_and_keys(&node);
    let body_files =
        sh(&format!("cd {} && find . -name '*.body' | sort | xargs sha256sum", node.dir.join("archive").display()));
    let stderr = String::from_utf8_lossy(&with_key(&["keys", "rotate", node.path()]).stderr).into_owned();
    assert!(stderr.contains("6 headers re-encrypted"), "{stderr}");
    let (after, new_keys) = bodies_and_keys(&node);
    assert_eq!(after, bodies, "body checksums are unchanged");
    let body_files_after =
        sh(&format!("cd {} && find . -name '*.body' | sort | xargs sha256sum", node.dir.join("archive").display()));
    assert_eq!(body_files_after, body_files, "body objects are untouched");
    assert!(new_keys.iter().all(|k| k == &new_keys[0] && !old_keys.contains(k)));
    let headers = sh(&format!("find {} -name '*.header' | wc -l", node.dir.join("archive").display()));
    assert_eq!(headers.trim(), "6", "old headers are gone");
    assert!(!node.dir.join("secrets/archive.sec.next").exists());
    ok_with_key(&["archive", "verify", node.path()]);
    let (alice_sk, alice_pk) = reader_keys(node.tmp.path(), "alice");
    let vcf = export_and_decrypt(&node, "TEST-F000002", &alice_pk, &alice_sk, None);
    assert!(vcf == std::fs::read(cohort("SE.vcf.gz")).unwrap());
    // The old key is gone: only the new one opens the headers (Python agrees).
    let list = objects(&node);
    let stored = node.tmp.path().join("stored.c4gh");
    let archive = node.dir.join("archive");
    sh(&format!(
        "cat {} {} > {}",
        archive.join(field(&list[0], "header_object")).display(),
        archive.join(field(&list[0], "body_object")).display(),
        stored.display()
    ));
    let sum = sh(&format!(
        "C4GH_PASSPHRASE='{PASSPHRASE}' crypt4gh decrypt --sk {} < {} | sha256sum",
        node.dir.join("secrets/archive.sec").display(),
        stored.display()
    ));
    assert!(sum.starts_with(&sha256_hex(&cohort("DK.vcf.gz"))));
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
    let (_, keys) = bodies_and_keys(&node);
    assert!(keys.iter().all(|k| k == &keys[0]));
    let (alice_sk, alice_pk) = reader_keys(node.tmp.path(), "alice");
    let individuals = export_and_decrypt(&node, "TEST-F000002-M", &alice_pk, &alice_sk, None);
    assert!(individuals == std::fs::read(cohort("SE.individuals.tsv")).unwrap());
}

#[test]
fn a_killed_ingest_leaves_only_unreferenced_objects_which_gc_removes() {
    let node = TestNode::new("TEST", "DK");
    node.ingest("DK-1", "DK");
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
