//! The scale backend end to end with the real binary: a node whose catalog and variant index are
//! in PostgreSQL and whose archive is in S3 (SeaweedFS here) counts exactly like an embedded
//! node, survives `kill -9` with nothing visible, is cleaned by `archive gc`, is served by
//! several stateless `serve` processes at once, and exports archives Python's crypt4gh opens.
//!
//! The services come from `./test`; each test uses its own database and bucket.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

/// `archive list --format json`: (accession, header object, body object).
fn archive_list(node: &TestNode) -> Vec<(String, String, String)> {
    let text = ok(&["archive", "list", node.path(), "--format", "json"]);
    let list: Value = serde_json::from_str(&text).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let field = |name: &str| o[name].as_str().unwrap_or_else(|| panic!("{name} missing in {o}")).to_string();
            (field("accession"), field("header_object"), field("body_object"))
        })
        .collect()
}

/// The objects the catalog refers to, sorted.
fn referenced(node: &TestNode) -> Vec<String> {
    let mut paths: Vec<String> = archive_list(node).into_iter().flat_map(|(_, h, b)| [h, b]).collect();
    paths.sort();
    paths
}

#[test]
fn init_refuses_credentials_on_the_command_line() {
    let services = ScaleServices::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("node");
    let reference = cohort("reference.fa.gz");
    let init = |catalog: &str, archive: &str| {
        services
            .oresund()
            .args(["init", dir.to_str().unwrap(), "--node-id", "T", "--country", "DK", "--reference"])
            .arg(&reference)
            .args(["--catalog", catalog, "--archive", archive])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let with_password = services.catalog.replacen("oresund_test@", "oresund_test:hunter2@", 1);
    assert_ne!(with_password, services.catalog, "the test URL names its user");
    let out = init(&with_password, &services.archive);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("PGPASSWORD"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password was echoed: {stderr}");
    let keys_in_url = services.archive.replacen("s3://", "s3://AKIDEXAMPLE:s3cr3t@", 1);
    let out = init(&services.catalog, &keys_in_url);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("AWS_SECRET_ACCESS_KEY"), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "the key was echoed: {stderr}");
    assert!(!dir.exists(), "a refused init created the node directory");
    // Without the password in the environment the server refuses us, and nothing is left.
    let out = services
        .oresund()
        .env_remove("PGPASSWORD")
        .args(["init", dir.to_str().unwrap(), "--node-id", "T", "--country", "DK", "--reference"])
        .arg(&reference)
        .args(["--catalog", &services.catalog, "--archive", &services.archive])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "init without PGPASSWORD succeeded");
    assert!(!dir.join("oresund.toml").exists());
}

#[test]
fn a_scale_node_counts_exactly_like_an_embedded_one_and_a_file_twice_adds_nothing() {
    let services = ScaleServices::new();
    let scale = services.node("DK-NGC", "DK");
    let embedded = TestNode::new("DK-NGC", "DK");
    for node in [&scale, &embedded] {
        node.ingest("DK-1", "DK");
        node.ingest("SE-1", "SE");
    }
    let config = std::fs::read_to_string(scale.dir.join("oresund.toml")).unwrap();
    assert!(config.contains("[catalog]") && config.contains("s3://"), "{config}");
    assert!(!scale.dir.join("node.db").exists() && !scale.dir.join("archive").exists(), "nothing stored locally");
    for filters in [
        &[][..],
        &["--phenotype", "HP:0001250"][..],
        &["--sex", "male"][..],
        &["--dataset", "SE-1"][..],
        &["--phenotype", "HP:0000707", "--sex", "female", "--dataset", "DK-1"][..],
    ] {
        let (a, b) = (scale.dump(filters), embedded.dump(filters));
        assert!(a.len() > 10_000, "{filters:?}: only {} rows", a.len());
        assert!(a == b, "{filters:?}: PostgreSQL and embedded dumps differ");
    }
    let truth = ["query", "--variant", "22-17000017-C-A", "--phenotype", "HP:0001250"];
    let ask = |node: &TestNode| ok(&[&truth[..1], &[node.path()], &truth[1..]].concat());
    assert_eq!(ask(&scale), ask(&embedded));
    // The same file again: recognised by checksum, nothing added (catalog, generation or bucket).
    let before = (scale.dump(&[]), archive_list(&scale), services.bucket_keys());
    let again = scale.ingest("DK-1", "DK");
    assert!(again.contains("already in dataset DK-1 as DK-NGC-F000001"), "{again}");
    assert!(
        (scale.dump(&[]), archive_list(&scale), services.bucket_keys()) == before,
        "a repeated ingest changed the node"
    );
}

/// S3 takes at most 10,000 parts, so an upload's parts grow as it goes on (6 MiB, then 12, …):
/// here from 5 MiB, doubling every two parts, an object of parts 5, 5, 10, 10 MiB and the rest
/// reads back whole; an upload dropped half way leaves nothing, not even an incomplete upload.
#[test]
fn an_s3_upload_in_growing_parts_reads_back_whole() {
    use oresund_node::archive::location::ArchiveLocation;
    use oresund_node::archive::s3::S3Credentials;
    use oresund_node::archive::store::{ObjectArchive, PartSizes};
    use std::io::{Read, Write};
    let services = ScaleServices::new();
    let ArchiveLocation::S3(location) = ArchiveLocation::parse(&services.archive, std::path::Path::new("/")).unwrap()
    else {
        panic!("{} is not an S3 location", services.archive)
    };
    let credentials =
        S3Credentials::from_env("ORESUND_TEST_S3_ACCESS_KEY_ID", "ORESUND_TEST_S3_SECRET_ACCESS_KEY").unwrap();
    let archive = ObjectArchive::open_s3(&location, &credentials, 2)
        .unwrap()
        .with_part_sizes(PartSizes { first: 5 << 20, per_size: 2 });
    let data: Vec<u8> = (0..(33u32 << 20) + 7).map(|i| (i % 251) as u8).collect();
    let mut writer = archive.writer("big.body").unwrap();
    for chunk in data.chunks(3_000_017) {
        writer.write_all(chunk).unwrap();
    }
    assert_eq!(services.incomplete_uploads().len(), 1, "a multipart upload under way");
    writer.finish().unwrap();
    assert_eq!(archive.size("big.body").unwrap(), Some(data.len() as u64));
    let mut back = Vec::new();
    archive.reader("big.body", None).unwrap().read_to_end(&mut back).unwrap();
    assert!(back == data, "{} bytes back of {}", back.len(), data.len());
    let mut dropped = archive.writer("dropped.body").unwrap();
    dropped.write_all(&data[..12 << 20]).unwrap();
    assert_eq!(services.incomplete_uploads().len(), 1, "the second upload under way");
    drop(dropped);
    assert!(services.incomplete_uploads().is_empty(), "the dropped upload was aborted");
    assert_eq!(services.bucket_keys(), ["big.body"]);
}

/// Many variants read together (the re-identification budget's read) through the PostgreSQL
/// store's region reads: uncached first, then through the block cache once lookups read a directory.
#[test]
fn variants_read_together_on_postgres_are_those_found_one_by_one() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    node.ingest("SE-1", "SE");
    crate::stored_variants::read_together_as_one_by_one(&node);
}

#[test]
fn a_killed_ingest_leaves_nothing_visible_and_gc_removes_its_orphans() {
    let services = ScaleServices::new();
    let node = services.node("TEST", "DK");
    node.ingest("DK-1", "DK");
    let before = node.dump(&[]);
    let listed = archive_list(&node);
    let (vcf, individuals) = (cohort("SE.vcf.gz"), cohort("SE.individuals.tsv"));
    let mut killed_mid_way = 0;
    // Kill at moments spread over the ingest: while archiving to S3, while indexing into
    // PostgreSQL (COPY batches), around the commit.
    for delay in (0..14).map(|i| 10 + i * 40) {
        let mut child = oresund()
            .args(["ingest", node.path(), "--dataset", "SE-1", "--individuals"])
            .arg(&individuals)
            .arg(&vcf)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        if finished || node.dump(&[]) != before {
            // Killed after the commit: then the whole file is there.
            assert!(node.dump(&["--dataset", "DK-1"]) == before, "DK changed");
            assert!(node.dump(&["--dataset", "SE-1"]).len() > 10_000, "a partial SE ingest is visible");
            assert_eq!(archive_list(&node).len(), 6, "a committed ingest lists all its objects");
            break;
        }
        assert_eq!(archive_list(&node), listed, "a killed ingest's objects are listed");
        killed_mid_way += 1;
    }
    assert!(killed_mid_way >= 3, "only {killed_mid_way} kills landed before the ingest finished");
    // A large upload killed half way leaves an incomplete multipart upload; gc aborts it too.
    services.abandon_upload("ff/00000000000000000000000000000000.body");
    assert_eq!(services.incomplete_uploads().len(), 1);
    let dry = ok(&["archive", "gc", node.path(), "--dry-run"]);
    assert!(services.bucket_keys().len() >= referenced(&node).len(), "a dry run removed something: {dry}");
    ok(&["archive", "gc", node.path()]);
    assert_eq!(services.bucket_keys(), referenced(&node), "after gc the bucket holds exactly the catalog's objects");
    assert!(services.incomplete_uploads().is_empty(), "gc left an incomplete upload");
    ok(&["archive", "verify", node.path()]);
    // The node is not wedged: the ingest completes now.
    node.ingest("SE-1", "SE");
    assert!(node.dump(&["--dataset", "SE-1"]).len() > 10_000);
}

/// Beacon requests whose answers two servers of one node must agree on.
const REQUESTS: &[&str] = &[
    "/info",
    "/datasets",
    "/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count",
    "/g_variants?referenceName=22&start=16000000&end=16100000&requestedGranularity=count&filters=HP:0000707",
    "/individuals?filters=HP:0001250&requestedGranularity=count",
];

fn answers(server: &Server, token: &str) -> Vec<Value> {
    REQUESTS
        .iter()
        .map(|path| {
            let (status, body) = server.get(path, Some(token));
            assert_eq!(status, 200, "{path}: {body}");
            // Each server links to its own address (behind a load balancer both would have its
            // public URL, `--base-url`); everything else must be the same.
            serde_json::from_str(&body.to_string().replace(&server.address, "SERVER")).unwrap()
        })
        .collect()
}

#[test]
fn two_servers_over_one_postgres_and_s3_answer_alike_and_see_an_ingest_without_restart() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    let token = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    // The second server has its own copy of the node directory (config, reference, secrets):
    // servers are stateless, everything shared lives in PostgreSQL and S3.
    let copy = node.tmp.path().join("copy");
    sh(&format!("cp -r {} {}", node.dir.display(), copy.display()));
    let (one, two) = (Server::start(&node.dir, &[]), Server::start(&copy, &[]));
    let first = answers(&one, &token);
    assert_eq!(first, answers(&two, &token), "two servers of one node disagree");
    let count = |server: &Server| {
        let (_, body) = server.get(REQUESTS[4], Some(&token));
        body["responseSummary"]["numTotalResults"].as_u64().unwrap_or(0)
    };
    let before = count(&two);
    assert!(before > 0);
    // Ingest through the CLI of the first node directory; the second server sees it on its own.
    node.ingest("SE-1", "SE");
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&two) == before {
        assert!(Instant::now() < deadline, "the second server did not see the ingest within 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(count(&two) > before);
    let after = answers(&one, &token);
    assert_ne!(after, first);
    assert_eq!(after, answers(&two, &token), "after the ingest the servers disagree");
    // A server stops cleanly (its connections are closed outside its async runtime).
    let mut graceful = oresund()
        .args(["serve", node.path(), "--listen", "127.0.0.1:0", "--until-stdin-closes"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut started = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(graceful.stderr.as_mut().unwrap()), &mut started).unwrap();
    assert!(started.contains("serving"), "{started}");
    drop(graceful.stdin.take());
    let status = graceful.wait().unwrap();
    assert!(status.success(), "serve did not stop cleanly: {status}");
}

#[test]
fn archive_export_and_verify_work_on_s3() {
    require("crypt4gh", "pip install crypt4gh==1.8.6");
    let services = ScaleServices::new();
    let node = services.node("TEST", "DK");
    node.ingest("DK-1", "DK");
    let verified = run(&["archive", "verify", node.path()]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert!(String::from_utf8_lossy(&verified.stderr).contains("3 archived objects intact"));
    let (sk, pk) = (node.tmp.path().join("reader.sec"), node.tmp.path().join("reader.pub"));
    sh(&format!("crypt4gh-keygen -f --nocrypt --sk {} --pk {} >/dev/null 2>&1", sk.display(), pk.display()));
    for (accession, original) in
        [("TEST-F000001", cohort("DK.vcf.gz")), ("TEST-F000001-M", cohort("DK.individuals.tsv"))]
    {
        let exported = node.tmp.path().join(format!("{accession}.c4gh"));
        ok(&[
            "archive",
            "export",
            node.path(),
            accession,
            "--recipient-key",
            pk.to_str().unwrap(),
            "--output",
            exported.to_str().unwrap(),
        ]);
        let decrypted = sh(&format!("crypt4gh decrypt --sk {} < {} | sha256sum", sk.display(), exported.display()));
        let want = sh(&format!("sha256sum < {}", original.display()));
        assert_eq!(decrypted.split_whitespace().next(), want.split_whitespace().next(), "{accession}");
    }
}
