//! The node made by Øresund 0.1.0 (`tests/fixtures/release-0.1.0`, see its README): copied into a
//! temporary directory, its reference bases restored from `demo-data/`, and checked after the
//! upgrade against what 0.1.0 itself said about it (`expected.json`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{Server, TestNode, cohort, sh, token};

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1.0")
}

/// A copy of the fixture's `kind` (`embedded` or `postgres`) node directory.
pub fn copy_node(kind: &str) -> TestNode {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("node");
    sh(&format!("cp -r '{}' '{}'", fixture_dir().join(kind).join("node").display(), dir.display()));
    // Git keeps no file modes; the node wants its secrets private.
    sh(&format!("chmod 600 '{}'/secrets/* '{}'/oresund.toml", dir.display(), dir.display()));
    restore_reference(&dir);
    TestNode { tmp, dir }
}

/// Writes the reference bases (21 MB, left out of the fixture) as 0.1.0 imported them: each contig's
/// sequence of `demo-data/reference.fa.gz`, one file a contig; checked against the checksums 0.1.0's
/// files had.
fn restore_reference(node: &Path) {
    use sha2::{Digest, Sha256};
    use std::io::BufRead;
    let fasta = std::fs::File::open(cohort("reference.fa.gz")).unwrap();
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(fasta));
    let mut contigs: Vec<Vec<u8>> = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if line.starts_with('>') {
            contigs.push(Vec::new());
        } else if let Some(sequence) = contigs.last_mut() {
            sequence.extend_from_slice(line.trim_end().as_bytes());
        }
    }
    let sums: Value =
        serde_json::from_slice(&std::fs::read(fixture_dir().join("reference.sha256.json")).unwrap()).unwrap();
    for (index, sequence) in contigs.iter().enumerate() {
        let name = format!("{index:05}.seq");
        let digest = oresund_core::hex::encode(&Sha256::digest(sequence));
        assert_eq!(sums[&name].as_str(), Some(digest.as_str()), "{name} rebuilt differently from 0.1.0's");
        std::fs::write(node.join("reference").join(name), sequence).unwrap();
    }
}

/// What 0.1.0 answered on the fixture (`expected.json` of `kind`).
pub fn expected(kind: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixture_dir().join(kind).join("expected.json")).unwrap()).unwrap()
}

fn output(command: &mut Command) -> String {
    let out = command.output().expect("the oresund binary runs");
    assert!(out.status.success(), "{command:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
}

/// Checks that the upgraded node answers as 0.1.0 did (counts, archive, committee records,
/// audit chain), then that it keeps working: a new audited committee action extends the old chain.
/// `oresund` makes the commands (with whatever environment the backend needs).
pub fn check_upgraded(node: &Path, expected: &Value, oresund: impl Fn() -> Command) {
    let path = node.to_str().unwrap();
    let run = |args: &[&str]| output(oresund().args(args));
    // `migrate` says what opening the node changes (the audit log's format column, at least),
    // then that nothing is left to do.
    let migrated = run(&["migrate", path]);
    assert!(migrated.contains(" → ") && migrated.contains("(migrated)"), "{migrated}");
    assert!(run(&["migrate", path]).contains("nothing to migrate"));
    for (variant, counts) in expected["query"].as_object().unwrap() {
        let answer: Value = serde_json::from_str(&run(&["query", path, "--variant", variant, "-q"])).unwrap();
        assert_eq!(&answer, counts, "{variant} after the upgrade");
    }
    assert_eq!(run(&["archive", "verify", path]).trim(), expected["archive_verify"].as_str().unwrap());
    assert_eq!(run(&["audit", "verify", path]).trim(), expected["audit_verify"].as_str().unwrap());
    let dac = run(&["dac", "list", path, "--member", "Upgrade Tester"]);
    assert_eq!(dac.trim(), expected["dac_list"].as_str().unwrap());
    // The committee's read is recorded too, one entry per researcher shown.
    let entries: usize = expected["audit_verify"].as_str().unwrap().split_whitespace().nth(3).unwrap().parse().unwrap();
    let after_read = run(&["audit", "show", path]).lines().count();
    assert!(after_read > entries, "the read of requests and grants is audited");

    // Revoke the grant 0.1.0 left active: the chain grows from the old head and still verifies.
    let active = dac
        .lines()
        .find(|l| l.ends_with("\t-") && l.split('\t').count() == 5)
        .and_then(|l| l.split('\t').next())
        .expect("0.1.0 left one active grant")
        .to_string();
    run(&["dac", "revoke", path, &active, "--member", "Upgrade Tester", "--reason", "upgrade test"]);
    let verified = run(&["audit", "verify", path]);
    assert!(verified.contains(&format!("audit log intact: {} entries", after_read + 1)), "{verified}");
    let dac = run(&["dac", "list", path, "--member", "Upgrade Tester"]);
    assert!(!dac.lines().any(|l| l.ends_with("\t-") && l.split('\t').count() == 5), "{dac}");
    // Its archive predates file keys (headers encrypted to the node key itself): one rotation
    // moves each file's headers to a file key of its own, so its versions can be shredded.
    let rotated = run(&["keys", "rotate", path]);
    assert!(rotated.contains("0 file keys sealed anew, 3 headers of older objects moved to file keys"), "{rotated}");
    assert_eq!(run(&["archive", "verify", path]).trim(), expected["archive_verify"].as_str().unwrap());
    assert_eq!(run(&["keys", "rotate", path]).matches("1 file keys sealed anew, 0 headers").count(), 1);
}

/// Lookups by VRS id go through `vrs_keys`, which the upgrade made from 0.1.0's variant tables
/// (embedded schema step 5, PostgreSQL step 10): every variant a region query lists in 22:16.0–17.1
/// Mb (it reads the blocks alone) gets, asked by its VRS id, the answer it gets asked by itself.
pub fn every_variant_is_found_by_its_vrs_id(node: &Path) {
    // 0.1.0's node gave registered users 0.5 nats; these few hundred counts would spend it.
    let config = node.join("oresund.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace("\nnats = 0.5\n", "\nnats = 1000000.0\n");
    assert!(text.contains("nats = 1000000.0"));
    std::fs::write(&config, text).unwrap();
    let token = token(node, &["--user", "upgrade", "--registered"]);
    let server = Server::start(node, &[]);
    let mut listed = Vec::new();
    for start in (16_000_000..17_100_000).step_by(100_000) {
        let path = format!(
            "/g_variants?referenceName=22&start={start}&end={}&requestedGranularity=count&limit=1000",
            start + 100_000
        );
        let (status, answer) = server.get(&path, Some(&token));
        assert_eq!(status, 200, "{answer}");
        for row in answer["response"]["resultSets"][0]["info"]["variants"].as_array().into_iter().flatten() {
            listed.push((row["variantInternalId"].clone(), row["vrsId"].as_str().unwrap().to_string()));
        }
    }
    assert!(listed.len() > 250, "only {} variants listed", listed.len());
    // By VRS id, the same answer as by the variant itself (a small count is hidden either way).
    let mut shown = 0;
    for (internal_id, vrs_id) in &listed {
        let by = |id: &str| server.get(&format!("/g_variants/{id}?requestedGranularity=count"), Some(&token));
        let (by_vrs_id, by_variant) = (by(vrs_id), by(internal_id.as_str().unwrap()));
        assert_eq!(by_vrs_id, by_variant, "{vrs_id} against {internal_id}");
        let found = &by_vrs_id.1["response"]["resultSets"][0]["info"]["variants"][0];
        if found["vrsId"] == vrs_id.as_str() {
            shown += 1;
        }
    }
    assert!(shown > 100, "only {shown} of {} variants shown", listed.len());
    let (_, answer) = server.get("/g_variants/ga4gh:VA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Some(&token));
    assert_eq!(answer["responseSummary"]["exists"], false, "{answer}");
}
