//! Delivery against the field's clients and schemas: `bcftools view` reading htsget tickets
//! (htslib follows them), the PyPI `htsget` 0.2.6 client, Python `crypt4gh` 1.8.6 decrypting the
//! Crypt4GH tickets, the DRS 1.5 and htsget 1.3 JSON schemas (from the GA4GH OpenAPI documents,
//! `tests/fixtures/ga4gh-delivery/`), and the same tickets from a node on PostgreSQL + S3.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::*;
use crate::delivery::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ga4gh-delivery")
}

/// Validates `document` against `$defs/DEF` of a schema file in the fixtures (Python jsonschema).
fn schema_errors(schema: &str, def: &str, document: &Value) -> Option<String> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg(fixtures().join("validate.py"))
        .arg(fixtures().join(schema))
        .arg(def)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (pip install jsonschema)");
    child.stdin.take().unwrap().write_all(document.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (!out.status.success())
        .then(|| format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn assert_valid(schema: &str, def: &str, document: &Value) {
    if let Some(errors) = schema_errors(schema, def, document) {
        panic!("not a valid {def}: {errors}\n{document:#}");
    }
}

/// `bcftools view -H` of a file or URL, with `env` (htslib reads the bearer token from
/// HTS_AUTH_LOCATION).
fn bcftools_records(target: &str, region: Option<&str>, env: &[(&str, String)]) -> String {
    require("bcftools", "apt install bcftools");
    let mut command = Command::new("bcftools");
    command.args(["view", "-H"]);
    if let Some(region) = region {
        command.args(["-r", region]);
    }
    let out = command.arg(target).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).output().expect("bcftools runs");
    assert!(out.status.success(), "bcftools view {target}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// htslib's way to send a bearer token: a file named by HTS_AUTH_LOCATION (over plain http only
/// with the explicit opt-in).
fn htslib_auth(dir: &Path, token: &str) -> Vec<(&'static str, String)> {
    let file = dir.join("htsget-token");
    std::fs::write(&file, token).unwrap();
    vec![
        ("HTS_AUTH_LOCATION", file.display().to_string()),
        ("HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER", "I understand the risks".to_string()),
    ]
}

/// The DK VCF as archived, on disk, for bcftools to read with `-r` (it has a .tbi).
fn original() -> String {
    cohort("DK.vcf.gz").display().to_string()
}

/// (htsget query, bcftools region): the first record, across blocks, empty, a whole contig.
const REGIONS: [(&str, &str); 5] = [
    ("referenceName=22&start=16000316&end=16000317", "22:16000317-16000317"),
    ("referenceName=22&start=16050000&end=16400000", "22:16050001-16400000"),
    ("referenceName=22&start=0&end=1000", "22:1-1000"),
    ("referenceName=X", "X"),
    ("referenceName=22&start=17990000", "22:17990001-999999999"),
];

#[test]
fn bcftools_reads_tickets_into_exactly_the_records_of_view_r() {
    let f = fixture();
    let server = Server::start(&f.node.dir, &[]);
    let auth = htslib_auth(f.node.tmp.path(), &f.controlled);
    for accession in [&f.aligned, &f.unaligned] {
        for (query, region) in REGIONS {
            let url = format!("http://{}/variants/{accession}?{query}", server.address);
            let delivered = bcftools_records(&url, None, &auth);
            let want = bcftools_records(&original(), Some(region), &[]);
            assert_eq!(delivered, want, "{accession} {query}");
        }
        // class=header: bcftools reads a valid VCF with no records.
        let url = format!("http://{}/variants/{accession}?class=header", server.address);
        assert_eq!(bcftools_records(&url, None, &auth), "");
    }
    // The last record of the file, by bcftools' own account.
    let last = bcftools_records(&original(), Some("X"), &[]);
    let pos: u64 = last.lines().last().unwrap().split('\t').nth(1).unwrap().parse().unwrap();
    let url = format!("http://{}/variants/{}?referenceName=X&start={}&end={pos}", server.address, f.unaligned, pos - 1);
    assert_eq!(bcftools_records(&url, None, &auth), format!("{}\n", last.lines().last().unwrap()));
    // Without the token htslib fails to open it (401), and says so.
    let out = Command::new("bcftools")
        .args(["view", "-H", &format!("http://{}/variants/{}?referenceName=22", server.address, f.aligned)])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_python_htsget_client_fetches_regions() {
    require("htsget", "pip install htsget==0.2.6");
    let f = fixture();
    let server = Server::start(&f.node.dir, &[]);
    let dir = tempfile::tempdir().unwrap();
    for accession in [&f.aligned, &f.unaligned] {
        for (chrom, start, end, region) in
            [("22", 16_050_000, 16_400_000, "22:16050001-16400000"), ("X", 0, 10_000_000, "X:1-10000000")]
        {
            let out_file = dir.path().join(format!("{accession}-{chrom}.vcf.gz"));
            let out = Command::new("htsget")
                .arg(format!("http://{}/variants/{accession}", server.address))
                .args(["--reference-name", chrom, "--start", &start.to_string(), "--end", &end.to_string()])
                .args(["--format", "VCF", "--bearer-token", &f.controlled, "-O"])
                .arg(&out_file)
                .output()
                .expect("htsget runs");
            assert!(out.status.success(), "htsget: {}", String::from_utf8_lossy(&out.stderr));
            let delivered = bcftools_records(out_file.to_str().unwrap(), None, &[]);
            assert_eq!(delivered, bcftools_records(&original(), Some(region), &[]), "{accession} {region}");
        }
    }
}

#[test]
fn python_crypt4gh_decrypts_crypt4gh_tickets_into_the_plain_delivery() {
    require("crypt4gh", "pip install crypt4gh==1.8.6");
    let f = fixture();
    let server = Server::start(&f.node.dir, &[]);
    let dir = tempfile::tempdir().unwrap();
    let (sk, pk) = (dir.path().join("researcher.sec"), dir.path().join("researcher.pub"));
    sh(&format!("crypt4gh-keygen -f --nocrypt --sk {} --pk {} >/dev/null 2>&1", sk.display(), pk.display()));
    let key = ("Htsget-Context-Public-Key", base64_of(&std::fs::read(&pk).unwrap()));
    let (other_sk, other_pk) = (dir.path().join("other.sec"), dir.path().join("other.pub"));
    sh(&format!(
        "crypt4gh-keygen -f --nocrypt --sk {} --pk {} >/dev/null 2>&1",
        other_sk.display(),
        other_pk.display()
    ));
    for accession in [&f.aligned, &f.unaligned] {
        for (query, region) in REGIONS.iter().take(4) {
            let (_, plain) = ticket(&server, &format!("/variants/{accession}?{query}"), &bearer(&f.controlled), None);
            let plain = follow(&server, &plain);
            let mut headers = bearer(&f.controlled);
            headers.push(key.clone());
            let (status, t) =
                ticket(&server, &format!("/variants/{accession}?{query}&encryptionScheme=C4GH"), &headers, None);
            assert_eq!(status, 200, "{t}");
            let stream = dir.path().join("delivered.c4gh");
            std::fs::write(&stream, follow(&server, &t)).unwrap();
            let decrypted = dir.path().join("delivered.vcf.gz");
            sh(&format!(
                "crypt4gh decrypt --sk {} < {} > {} 2>/dev/null",
                sk.display(),
                stream.display(),
                decrypted.display()
            ));
            assert!(
                std::fs::read(&decrypted).unwrap() == plain,
                "{accession} {query}: Python decrypts the plain delivery"
            );
            let delivered = bcftools_records(decrypted.to_str().unwrap(), None, &[]);
            assert_eq!(delivered, bcftools_records(&original(), Some(region), &[]), "{accession} {query}");
            let wrong = Command::new("bash")
                .arg("-c")
                .arg(format!("crypt4gh decrypt --sk {} < {}", other_sk.display(), stream.display()))
                .output()
                .unwrap();
            assert!(!wrong.status.success() || wrong.stdout.is_empty(), "another key cannot decrypt it");
        }
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn responses_validate_against_the_drs_and_htsget_schemas() {
    let f = fixture();
    let server = Server::start(&f.node.dir, &[]);
    let (_, info) = server.get("/ga4gh/drs/v1/service-info", None);
    assert_valid("drs-1.5.schema.json", "DrsServiceInfo", &info);
    let object_path = format!("/ga4gh/drs/v1/objects/{}", f.aligned);
    let (status, object) = server.get(&object_path, Some(&f.controlled));
    assert_eq!(status, 200);
    assert_valid("drs-1.5.schema.json", "DrsObject", &object);
    // POST with the credential in the body's passports: verified like a bearer credential.
    let (status, posted) = server.post(&object_path, None, &json!({"passports": [f.controlled]}).to_string());
    assert_eq!((status, &posted), (200, &object));
    let (status, refused) = server.post(&object_path, None, &json!({"passports": ["not.a.passport"]}).to_string());
    assert_eq!(status, 401, "{refused}");
    assert_valid("drs-1.5.schema.json", "Error", &refused);
    let (_, access) = server.get(&format!("{object_path}/access/plain"), Some(&f.controlled));
    assert_valid("drs-1.5.schema.json", "AccessURL", &access);
    let (_, refused) = server.get(&format!("{object_path}/access/plain"), Some(&f.registered));
    assert_valid("drs-1.5.schema.json", "Error", &refused);
    assert!(schema_errors("drs-1.5.schema.json", "DrsObject", &json!({"id": "x"})).is_some(), "the check can fail");

    let (_, info) = server.get("/variants/service-info", None);
    assert_valid("htsget-1.3.schema.json", "htsgetServiceInfo", &info);
    let (_, t) = ticket(&server, &format!("/variants/{}?referenceName=22", f.aligned), &bearer(&f.controlled), None);
    assert_valid("htsget-1.3.schema.json", "htsgetTicket", &t);
    let (_, refused) = ticket(&server, &format!("/variants/{}", f.aligned), &[], None);
    assert_valid("htsget-1.3.schema.json", "Error", &refused);
}

#[test]
fn a_node_on_postgresql_and_s3_delivers_the_same_records_with_ranged_reads() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    let controlled = token(&node.dir, &["--user", "dl@example.org", "--registered", "--controlled", "DK-1"]);
    let server = Server::start(&node.dir, &[]);
    let accession = "DK-NGC-F000001";
    let auth = htslib_auth(node.tmp.path(), &controlled);
    for (query, region) in REGIONS {
        let url = format!("http://{}/variants/{accession}?{query}", server.address);
        assert_eq!(bcftools_records(&url, None, &auth), bcftools_records(&original(), Some(region), &[]), "{query}");
    }
    // The Crypt4GH ticket's data URLs are ranges of the stored S3 body, byte for byte.
    let researcher = oresund_c4gh::KeyPair::generate().unwrap();
    let mut headers = bearer(&controlled);
    headers.push(key_header(&researcher));
    let (status, t) =
        ticket(&server, &format!("/variants/{accession}?referenceName=22&encryptionScheme=C4GH"), &headers, None);
    assert_eq!(status, 200, "{t}");
    let mut decrypted = Vec::new();
    oresund_c4gh::decrypt(&follow(&server, &t)[..], &mut decrypted, &researcher.secret, 1).unwrap();
    assert_eq!(data_lines_of(&gunzip(&decrypted)), bcftools_records(&original(), Some("22"), &[]));
    let object = crate::archive::objects(&node).into_iter().find(|o| o["accession"] == accession).unwrap();
    let body_key = object["body_object"].as_str().unwrap();
    let body = s3_get(&services, body_key);
    for part in t["htsget"]["urls"].as_array().unwrap() {
        let url = part["url"].as_str().unwrap();
        if url.starts_with("http") {
            let path = url.strip_prefix(&format!("http://{}", server.address)).unwrap();
            let (_, _, bytes) = exchange(&server.address, "GET", path, &[], &[]);
            assert!(body.windows(bytes.len()).any(|w| w == &bytes[..]), "{url}: the stored body as it is");
        }
    }
}

fn data_lines_of(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect()
}

/// An object of the test bucket, fetched with curl's AWS signing.
fn s3_get(services: &ScaleServices, key: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sf", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user"])
        .arg(format!(
            "{}:{}",
            service_env("ORESUND_TEST_S3_ACCESS_KEY_ID"),
            service_env("ORESUND_TEST_S3_SECRET_ACCESS_KEY")
        ))
        .arg(format!("{}/{}/{key}", services.endpoint, services.bucket))
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "GET {key} from S3 failed");
    out.stdout
}
