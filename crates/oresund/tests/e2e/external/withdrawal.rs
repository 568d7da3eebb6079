//! A participant withdraws, against bcftools and Python `crypt4gh`: afterwards every count — the
//! node's, and the network's from servers that kept running — equals `bcftools view -s ^ID |
//! +fill-tags`; the new archived version decrypts (Python, with the node key alone) to exactly
//! the VCF's other columns; and a backup taken before the withdrawal cannot be decrypted with the
//! node's current secrets — not by `archive export`, not by Python. Removals of files and
//! datasets likewise. The same on PostgreSQL + S3.

use std::collections::BTreeMap;
use std::path::Path;

use crate::archive::{field, objects};
use crate::common::*;
use crate::external::archive::{python_decrypt, sha256_of};
use crate::external::bcftools_parity::{assert_same, bcftools_counts, counts_of, normalised_vcf};
use crate::network::{TOKEN, two_countries};

const REGION: (u64, u64) = (16_000_000, 16_220_000);

/// The first sample of a cohort whose genotype at `22:pos` carries ALT.
fn carrier(population: &str, pos: u64) -> String {
    let out = sh(&format!(
        "bcftools query -r 22:{pos} -i 'GT=\"alt\"' -f '[%SAMPLE\\n]' {}",
        cohort(&format!("{population}.vcf.gz")).display()
    ));
    out.lines().next().unwrap_or_else(|| panic!("no {population} carrier at 22:{pos}")).to_string()
}

/// variant → (AC, AN) pooled by the network over [`REGION`].
fn network_counts(portal: &str) -> BTreeMap<String, (u64, u64)> {
    let path = format!(
        "/network/g_variants?referenceName=22&start={}&end={}&requestedGranularity=record&limit=1000",
        REGION.0, REGION.1
    );
    let (status, answer) = http(portal, "GET", &path, Some(TOKEN), None);
    assert_eq!(status, 200, "{answer}");
    answer["info"]["pooled"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let id = v["variantInternalId"].as_str().unwrap().to_string();
            (id, (v["alleleCount"].as_u64().unwrap(), v["alleleNumber"].as_u64().unwrap()))
        })
        .collect()
}

/// variant → (AC, AN) of `bcftools merge` over each country's normalised VCF without `drop`, for
/// the variants someone carries (the network's results).
fn merged_without(tmp: &Path, drop: &[(&str, &str)]) -> BTreeMap<String, (u64, u64)> {
    for (population, id) in drop {
        let out = tmp.join(format!("{population}.bcf"));
        sh(&format!(
            "{} | bcftools view -s ^{id} -Ob -o {} && bcftools index -f {}",
            normalised_vcf(population),
            out.display(),
            out.display()
        ));
    }
    sh(&format!(
        "bcftools merge -r 22:{}-{} {dir}/DK.bcf {dir}/SE.bcf | bcftools +fill-tags -- -t AC,AN \
         | bcftools query -f '%CHROM-%POS-%REF-%ALT\\t%AC\\t%AN\\n'",
        REGION.0 + 1,
        REGION.1,
        dir = tmp.display()
    ))
    .lines()
    .map(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        (f[0].to_string(), (f[1].parse().unwrap(), f[2].parse().unwrap()))
    })
    .filter(|(_, (ac, _)): &(String, (u64, u64))| *ac > 0)
    .collect()
}

/// Waits (a running server checks the catalog generation every 250 ms) until `read` equals `want`.
fn eventually<T: PartialEq + std::fmt::Debug>(want: &T, read: impl Fn() -> T, what: &str) {
    let mut got = read();
    for _ in 0..40 {
        if &got == want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        got = read();
    }
    assert_eq!(&got, want, "{what}");
}

#[test]
fn a_withdrawn_participant_is_in_no_answer_and_no_backup_of_their_old_versions_can_be_read() {
    require("bcftools", "apt-get install -y bcftools");
    require("crypt4gh", "pip install crypt4gh==1.8.6");
    let network = two_countries(5000);
    let (dk, se) = (&network.dk_node, &network.se_node);
    // People who carry the disease variant, so every answer about it changes.
    let dk_id = carrier("DK", 17_000_017);
    let se_id = carrier("SE", 16_000_317);
    let before = network_counts(&network.portal.address);

    // The "backup": everything but the key store, taken before the withdrawal.
    let backup = network.dir.path().join("dk-backup");
    sh(&format!("cp -a {} {} && rm -rf {}/secrets", dk.path(), backup.display(), backup.display()));
    let old_objects = objects(dk);

    let out = ok(&["withdraw", dk.path(), "--individual", &dk_id, "--reason", &format!("letter from {dk_id}")]);
    let pseudonym = out.split('\t').next().unwrap().to_string();
    assert_eq!(pseudonym.len(), 32, "{out}");
    assert_eq!(out.lines().filter(|l| l.ends_with("shredded")).count(), 3, "VCF, index, individuals: {out}");
    ok(&["withdraw", se.path(), "--individual", &se_id, "--reason", "consent withdrawn"]);

    // Counts: the node's own, per cohort, equal bcftools without the person, AN included.
    for (node, population, dataset, id) in [(dk, "DK", "DK-1", &dk_id), (se, "SE", "SE-1", &se_id)] {
        let theirs = bcftools_counts(&format!("{} | bcftools view -s ^{id}", normalised_vcf(population)));
        assert_same(&counts_of(node, &["--dataset", dataset]), &theirs, population);
    }
    // The servers kept running: the network's pooled counts follow without a restart.
    let after = merged_without(network.dir.path(), &[("DK", &dk_id), ("SE", &se_id)]);
    assert!(after.len() > 700 && after != before, "the region's counts changed");
    eventually(&after, || network_counts(&network.portal.address), "network counts after the withdrawal");

    // The new version: Python crypt4gh with the node key alone opens it, and its records are the
    // original's without the column (bcftools -I: our rewrite adds no AC/AN the file did not have).
    let new_objects = objects(dk);
    let new_vcf = new_objects.iter().find(|o| field(o, "kind") == "vcf").unwrap();
    assert_eq!(new_vcf["version"], 2);
    let archive = dk.dir.join("archive");
    let plain = python_decrypt(
        &archive.join(field(new_vcf, "header_object")),
        &archive.join(field(new_vcf, "body_object")),
        &dk.dir,
        field(new_vcf, "key_id"),
        network.dir.path(),
    )
    .unwrap();
    assert_eq!(sha256_of(&plain), field(new_vcf, "plaintext_sha256"));
    let rewritten = network.dir.path().join("rewritten.vcf.gz");
    std::fs::write(&rewritten, &plain).unwrap();
    let records = |args: &str| sh(&format!("bcftools view -H {args}"));
    let want = records(&format!("-I -s ^{dk_id} {}", cohort("DK.vcf.gz").display()));
    assert!(records(&rewritten.display().to_string()) == want, "the new version's records differ from bcftools'");
    let samples = sh(&format!("bcftools query -l {}", rewritten.display()));
    assert_eq!(samples.lines().count(), 499);
    assert!(!samples.lines().any(|s| s == dk_id));
    sh(&format!("bgzip -t {}", rewritten.display()));
    // Line-aligned BGZF now: a region of the new version can be exported (the ingested file could not).
    let (sk, pk) = (network.dir.path().join("r.sec"), network.dir.path().join("r.pub"));
    ok(&["c4gh", "keygen", "--nocrypt", "-f", "--sk", sk.to_str().unwrap(), "--pk", pk.to_str().unwrap()]);
    let part = network.dir.path().join("part.c4gh");
    ok(&[
        "archive",
        "export",
        dk.path(),
        "DK-NGC-F000001",
        "--recipient-key",
        pk.to_str().unwrap(),
        "--region",
        "22:17000000-17000100",
        "--output",
        part.to_str().unwrap(),
    ]);

    // Not one old version opens: not with the current node key and file keys (Python), not with
    // `archive export` on the backup given the current key store.
    let current_keys: Vec<String> = sh(&format!("ls {}", dk.dir.join("secrets/file-keys").display()))
        .lines()
        .map(|name| name.split('.').next().unwrap().to_string())
        .collect();
    for old in &old_objects {
        let stored = |name: &str| backup.join("archive").join(field(old, name));
        let (header, body) = (stored("header_object"), stored("body_object"));
        assert!(header.exists() && body.exists(), "the backup holds the old version");
        assert!(!current_keys.contains(&field(old, "key_id").to_string()), "the old file key is destroyed");
        // The node key itself never encrypted a data key.
        let direct = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "cat {} {} | crypt4gh decrypt --sk {}/secrets/archive.sec",
                header.display(),
                body.display(),
                dk.path()
            ))
            .output()
            .unwrap();
        assert!(
            !direct.status.success() && direct.stdout.is_empty(),
            "the node key opened {}",
            field(old, "accession")
        );
        for key in std::iter::once(field(old, "key_id").to_string()).chain(current_keys.iter().cloned()) {
            let tried = python_decrypt(&header, &body, &dk.dir, &key, network.dir.path());
            assert!(tried.is_err(), "{} opened with file key {key}", field(old, "accession"));
        }
    }
    sh(&format!("cp -a {}/secrets {}/secrets", dk.path(), backup.display()));
    let exported = run(&[
        "archive",
        "export",
        backup.to_str().unwrap(),
        "DK-NGC-F000001",
        "--recipient-key",
        pk.to_str().unwrap(),
        "--output",
        network.dir.path().join("old.c4gh").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&exported.stderr);
    assert!(!exported.status.success() && stderr.contains("shredded"), "{stderr}");

    // Verify reports the old versions as shredded, not as damage.
    let verified = run(&["archive", "verify", dk.path()]);
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert_eq!(report.lines().filter(|l| l.contains("unrecoverable: file key destroyed, objects deleted")).count(), 3);

    // Audit: one entry with the pseudonym and the reason (the local id in it scrubbed), the chain holds.
    ok(&["audit", "verify", dk.path()]);
    let log = ok(&["audit", "show", dk.path(), "--format", "json"]);
    assert!(!log.contains(&dk_id), "the local id reached the audit log");
    let withdrawals = |log: &str| log.matches("\"withdraw\"").count();
    assert_eq!(withdrawals(&log), 1);
    assert!(log.contains(&pseudonym) && log.contains(&format!("letter from {pseudonym}")), "{log}");
    // Again: nothing more happens. Unknown: said so, nothing changed.
    let again = ok(&["withdraw", dk.path(), "--pseudonym", &pseudonym, "--reason", "again"]);
    assert!(again.contains("already withdrawn"), "{again}");
    assert_eq!(withdrawals(&ok(&["audit", "show", dk.path(), "--format", "json"])), 1);
    let unknown = run(&["withdraw", dk.path(), "--individual", "999999-9999", "--reason", "x"]);
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("no individual"));
    assert_eq!(objects(dk), new_objects);
    // The report counts the withdrawal and its shredded versions.
    let report: serde_json::Value = serde_json::from_str(&ok(&["report", dk.path(), "--format", "json"])).unwrap();
    assert_eq!(report["withdrawals"]["withdrawals"], 1, "{}", report["withdrawals"]);
    assert_eq!(report["withdrawals"]["filesRewritten"], 1);
    assert_eq!(report["withdrawals"]["versionsShredded"], 3);
    // Subject access: the withdrawn person is no longer held; answers before the withdrawal count.
    let subject: serde_json::Value =
        serde_json::from_str(&ok(&["subject-report", dk.path(), "--pseudonym", &pseudonym])).unwrap();
    assert_eq!(subject["held"], false);
    assert_eq!(subject["withdrawals"].as_array().unwrap().len(), 1);
    assert!(subject["answers"]["total"].as_u64().unwrap() >= 1, "{subject}");
    // Another participant's report: their record, files and carried variants, as bcftools sees them.
    let other = sh(&format!("sed -n 3p {} | cut -f1", cohort("DK.individuals.tsv").display())).trim().to_string();
    let subject: serde_json::Value =
        serde_json::from_str(&ok(&["subject-report", dk.path(), "--individual", &other])).unwrap();
    assert_eq!(subject["held"], true);
    assert_eq!(subject["datasets"], serde_json::json!(["DK-1"]));
    let carried =
        sh(&format!("{} | bcftools view -s {other} | bcftools view -H -i 'GT=\"alt\"' | wc -l", normalised_vcf("DK")));
    assert_eq!(subject["files"][0]["variantsCarried"].as_u64(), Some(carried.trim().parse().unwrap()), "{subject}");
    let text = ok(&["subject-report", dk.path(), "--individual", &other, "--format", "text"]);
    assert!(text.contains("Datasets: DK-1") && !text.contains(&other), "{text}");
    assert!(!ok(&["audit", "show", dk.path()]).contains(&other), "a local id reached the audit log");
    // Their data is not taken in again (the cohort re-compressed: a new checksum, the same people).
    let again = network.dir.path().join("again.vcf.gz");
    sh(&format!("bcftools view -Oz -o {} {}", again.display(), cohort("DK.vcf.gz").display()));
    let refused = run(&[
        "ingest",
        dk.path(),
        "--dataset",
        "DK-2",
        "--individuals",
        cohort("DK.individuals.tsv").to_str().unwrap(),
        again.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("withdrew"), "{stderr}");
}

#[test]
fn removed_files_and_datasets_leave_every_count_and_their_accessions_are_gone() {
    require("bcftools", "apt-get install -y bcftools");
    let node = TestNode::copy_of(dk_se_template());
    let gone = run(&["dataset", "remove", node.path(), "SE-1", "--reason", ""]);
    assert!(!gone.status.success(), "a reason is required");
    ok(&["dataset", "remove", node.path(), "SE-1", "--reason", "pilot ended"]);
    // Pooled counts are DK's alone, as bcftools counts them.
    assert_same(&counts_of(&node, &[]), &bcftools_counts(&normalised_vcf("DK")), "after removing SE-1");
    let unknown = run(&["query", node.path(), "--variant", "22-17000017-C-A", "--dataset", "SE-1"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown dataset"), "SE-1 is gone");
    let (sk, pk) = (node.tmp.path().join("r.sec"), node.tmp.path().join("r.pub"));
    ok(&["c4gh", "keygen", "--nocrypt", "-f", "--sk", sk.to_str().unwrap(), "--pk", pk.to_str().unwrap()]);
    let export = run(&["archive", "export", node.path(), "DK-NGC-F000002", "--recipient-key", pk.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&export.stderr).contains("no archive object DK-NGC-F000002"));
    ok(&["file", "remove", node.path(), "DK-NGC-F000001", "--reason", "wrongly ingested"]);
    assert!(counts_of(&node, &[]).is_empty(), "no file left");
    let again = ok(&["file", "remove", node.path(), "DK-NGC-F000001", "--reason", "again"]);
    assert!(again.contains("already removed"), "{again}");
    let never = run(&["file", "remove", node.path(), "DK-NGC-F000009", "--reason", "typo"]);
    assert!(String::from_utf8_lossy(&never.stderr).contains("no ingested file DK-NGC-F000009"));
    // Ingested anew, the same file gets a new accession (numbers are never given again).
    let out = node.ingest("DK-1", "DK");
    assert!(out.contains("DK-NGC-F000003"), "{out}");
    ok(&["audit", "verify", node.path()]);
    let log = ok(&["audit", "show", node.path(), "--format", "json"]);
    assert!(log.contains("\"dataset.remove\"") && log.contains("\"file.remove\""));
    let verified = ok(&["archive", "verify", node.path()]);
    assert_eq!(verified.lines().filter(|l| l.contains("unrecoverable")).count(), 6, "{verified}");
}

#[test]
fn on_postgresql_and_s3_a_withdrawal_counts_like_bcftools_and_leaves_no_old_object() {
    require("bcftools", "apt-get install -y bcftools");
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    let id = carrier("DK", 17_000_017);
    let old_keys = services.bucket_keys();
    assert_eq!(old_keys.len(), 6, "{old_keys:?}");
    let out = services
        .oresund()
        .args(["withdraw", node.path(), "--individual", &id, "--reason", "consent withdrawn"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = bcftools_counts(&format!("{} | bcftools view -s ^{id}", normalised_vcf("DK")));
    assert_same(&counts_of(&node, &["--dataset", "DK-1"]), &theirs, "PostgreSQL after the withdrawal");
    let new_keys = services.bucket_keys();
    assert_eq!(new_keys.len(), 6, "the new version's objects only: {new_keys:?}");
    assert!(new_keys.iter().all(|k| !old_keys.contains(k)), "an old object is left in the bucket");
    let verified = services.oresund().args(["archive", "verify", node.path()]).output().unwrap();
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert_eq!(report.lines().filter(|l| l.contains("unrecoverable: file key destroyed, objects deleted")).count(), 3);
}
