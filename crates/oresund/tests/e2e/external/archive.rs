//! The encrypted archive against Python `crypt4gh` 1.8.6 and bcftools: exports decrypt into the
//! ingested bytes, region exports hold exactly the region's records, and exports still decrypt
//! after key rotation. Nodes and helpers come from the in-process-tier module `crate::archive`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::archive::*;
use crate::common::*;

const CRYPT4GH_HINT: &str = "pip install crypt4gh==1.8.6";

/// A Python crypt4gh key pair without passphrase for a reader.
pub(crate) fn reader_keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    require("crypt4gh-keygen", CRYPT4GH_HINT);
    let (sk, pk) = (dir.join(format!("{name}.sec")), dir.join(format!("{name}.pub")));
    sh(&format!("crypt4gh-keygen -f --nocrypt --sk {} --pk {} >/dev/null 2>&1", sk.display(), pk.display()));
    (sk, pk)
}

/// Exports `accession` for `pk` and decrypts it with the Python tool and `sk`.
pub(crate) fn export_and_decrypt(
    node: &TestNode,
    accession: &str,
    pk: &Path,
    sk: &Path,
    region: Option<&str>,
) -> Vec<u8> {
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

/// Decrypts a stored object (header + body, from `archive` under `node_dir`) with Python
/// `crypt4gh` alone: its file key is unsealed with the node key (`secrets/archive.sec` of
/// `node_dir`), then the object with the file key. Errors are returned, not asserted.
pub(crate) fn python_decrypt(
    header: &Path,
    body: &Path,
    node_dir: &Path,
    key_id: &str,
    scratch: &Path,
) -> Result<Vec<u8>, String> {
    require("crypt4gh", CRYPT4GH_HINT);
    let sealed = sh(&format!("ls {}/secrets/file-keys/ | grep '^{key_id}\\.' || true", node_dir.display()));
    let sealed = sealed.lines().next().ok_or_else(|| format!("no sealed copy of file key {key_id}"))?;
    let file_key = scratch.join(format!("{key_id}.sec"));
    let script = format!(
        "set -e; C4GH_PASSPHRASE='{PASSPHRASE}' crypt4gh decrypt --sk {node}/secrets/archive.sec \
         < {node}/secrets/file-keys/{sealed} > {key}; cat {header} {body} | crypt4gh decrypt --sk {key}",
        node = node_dir.display(),
        key = file_key.display(),
        header = header.display(),
        body = body.display(),
    );
    let out = Command::new("bash").arg("-c").arg(script).output().expect("bash runs");
    if out.status.success() { Ok(out.stdout) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

/// [`python_decrypt`] of a listed object of `node`'s archive, asserted to succeed.
fn python_decrypt_stored(node: &TestNode, object: &serde_json::Value, node_dir: &Path, scratch: &Path) -> Vec<u8> {
    let archive = node.dir.join("archive");
    python_decrypt(
        &archive.join(field(object, "header_object")),
        &archive.join(field(object, "body_object")),
        node_dir,
        field(object, "key_id"),
        scratch,
    )
    .unwrap_or_else(|e| panic!("Python crypt4gh could not decrypt {}: {e}", field(object, "accession")))
}

pub(crate) fn sha256_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
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

    // The node's own key file is Python-compatible (c4gh-v1 with scrypt): Python opens the file
    // key sealed with it, and with that a stored header + body.
    let decrypted = python_decrypt_stored(&node, &list[2], &node.dir, node.tmp.path());
    assert_eq!(sha256_of(&decrypted), sha256_hex(&individuals));

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
    node.ingest_files("DK-2", &aligned, &individuals);
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
fn rotation_seals_the_file_keys_anew_and_exports_still_decrypt() {
    let node = sealed_node();
    node.ingest("SE-1", "SE");
    let (bodies, file_keys) = bodies_and_keys(&node);
    let stored = |pattern: &str| {
        sh(&format!("cd {} && find . -name '{pattern}' | sort | xargs sha256sum", node.dir.join("archive").display()))
    };
    let (bodies_before, headers_before) = (stored("*.body"), stored("*.header"));
    let old_node_key = node_key_id(&node);
    let stderr = String::from_utf8_lossy(&with_key(&["keys", "rotate", node.path()]).stderr).into_owned();
    assert!(stderr.contains("2 file keys sealed anew, 0 headers"), "{stderr}");
    // No archive object changes: the node key seals the file keys, which open the headers.
    assert_eq!(bodies_and_keys(&node), (bodies, file_keys.clone()));
    assert_eq!(stored("*.body"), bodies_before, "body objects are untouched");
    assert_eq!(stored("*.header"), headers_before, "header objects are untouched");
    let new_node_key = node_key_id(&node);
    assert_ne!(new_node_key, old_node_key);
    let sealed = sh(&format!("ls {}", node.dir.join("secrets/file-keys").display()));
    assert_eq!(sealed.lines().count(), 2, "only copies sealed to the new key remain: {sealed}");
    assert!(sealed.lines().all(|name| name.contains(&format!(".{new_node_key}."))), "{sealed}");
    assert!(!node.dir.join("secrets/archive.sec.next").exists());
    ok_with_key(&["archive", "verify", node.path()]);
    let (alice_sk, alice_pk) = reader_keys(node.tmp.path(), "alice");
    let vcf = export_and_decrypt(&node, "TEST-F000002", &alice_pk, &alice_sk, None);
    assert!(vcf == std::fs::read(cohort("SE.vcf.gz")).unwrap());
    // Only the new node key opens the file keys now (Python agrees).
    let list = objects(&node);
    let decrypted = python_decrypt_stored(&node, &list[0], &node.dir, node.tmp.path());
    assert_eq!(sha256_of(&decrypted), sha256_hex(&cohort("DK.vcf.gz")));
}
