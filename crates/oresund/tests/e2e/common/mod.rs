//! Helpers for the end-to-end tests: the real `oresund` binary, the repository's synthetic
//! cohorts (`demo-data/`) and the reference tools (bcftools, Python oracles) the tests compare
//! against.
#![allow(dead_code)]

pub mod passports;
pub mod release_fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository's `demo-data/`: the DK and SE cohorts, their reference and the HPO.
pub fn demo_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo-data")
}

/// A file of the synthetic cohorts in `demo-data/` (see its README).
pub fn cohort(file: &str) -> PathBuf {
    let path = demo_data().join(file);
    assert!(path.exists(), "{} is missing from the repository", path.display());
    path
}

pub fn hpo() -> PathBuf {
    cohort("hp.obo.gz")
}

/// The Beacon v2 JSON schemas committed under `tests/fixtures/beacon-v2` (see its README).
pub fn beacon_specs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/beacon-v2")
}

/// Panics with an install hint when a reference tool is missing: these tests must not pass silently.
pub fn require(tool: &str, hint: &str) {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is required by this test; install it with: {hint} (./test does)");
}

pub fn oresund() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oresund"))
}

/// Runs `oresund` with `args`, returning its output (any exit status).
pub fn run(args: &[&str]) -> Output {
    oresund().args(args).stdin(Stdio::null()).output().expect("the oresund binary runs")
}

/// Runs `oresund` and asserts success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "oresund {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a shell pipeline and returns stdout, asserting success.
pub fn sh(script: &str) -> String {
    let out = Command::new("bash").arg("-o").arg("pipefail").arg("-c").arg(script).output().expect("bash runs");
    assert!(out.status.success(), "`{script}` failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A node in a temporary directory, initialised on the demo-data reference and HPO.
pub struct TestNode {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

/// A directory for a fixture kept for the whole run (a `static` is never dropped): under cargo's
/// `target/tmp`, not the system's temporary directory, so runs do not pile up there.
fn run_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("e2e-fixture-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir")
}

impl TestNode {
    pub fn new(node_id: &str, country: &str) -> Self {
        Self::init_in(tempfile::tempdir().expect("temp dir"), node_id, country)
    }

    fn init_in(tmp: tempfile::TempDir, node_id: &str, country: &str) -> Self {
        let dir = tmp.path().join("node");
        ok(&[
            "init",
            dir.to_str().unwrap(),
            "--node-id",
            node_id,
            "--country",
            country,
            "--reference",
            cohort("reference.fa.gz").to_str().unwrap(),
            "--hpo",
            hpo().to_str().unwrap(),
        ]);
        TestNode { tmp, dir }
    }

    /// A copy of `template` in a new temporary directory, so that fixtures which differ only in
    /// their configuration or later steps start from one ingest instead of repeating it.
    pub fn copy_of(template: &TestNode) -> Self {
        Self::copy_in(tempfile::tempdir().expect("temp dir"), template)
    }

    /// [`TestNode::copy_of`] for a fixture kept in a `static` for the whole run.
    pub fn copy_for_run(template: &TestNode) -> Self {
        Self::copy_in(run_tempdir(), template)
    }

    fn copy_in(tmp: tempfile::TempDir, template: &TestNode) -> Self {
        let dir = tmp.path().join("node");
        sh(&format!("cp -a '{}' '{}'", template.path(), dir.display()));
        TestNode { tmp, dir }
    }

    pub fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// Ingests a demo-data population (`DK`, `SE`) into `dataset`; returns what it printed on stderr.
    pub fn ingest(&self, dataset: &str, population: &str) -> String {
        let vcf = cohort(&format!("{population}.vcf.gz"));
        self.ingest_files(dataset, &vcf, &cohort(&format!("{population}.individuals.tsv")))
    }

    /// Ingests `vcf` with `individuals` into `dataset`, asserting success; returns stderr.
    pub fn ingest_files(&self, dataset: &str, vcf: &Path, individuals: &Path) -> String {
        let out = run(&[
            "ingest",
            self.path(),
            "--dataset",
            dataset,
            "--individuals",
            individuals.to_str().unwrap(),
            vcf.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "ingest failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Every variant of the node as `query --format tsv` rows (no header), both contigs.
    pub fn dump(&self, extra: &[&str]) -> Vec<String> {
        let mut rows = Vec::new();
        for region in ["22:1-17999999", "X:1-3200000"] {
            let mut args = vec!["query", self.path(), "--region", region, "--format", "tsv"];
            args.extend_from_slice(extra);
            rows.extend(ok(&args).lines().skip(1).map(str::to_string));
        }
        rows
    }
}

/// The node's ontology file (`init` copies it under `ontology/`, beside its binary image).
pub fn ontology_file(node: &TestNode) -> PathBuf {
    let dir = node.dir.join("ontology");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("the ontology folder").flatten().map(|e| e.path()).collect();
    files.retain(|f| f.extension().is_none_or(|e| e != "image"));
    assert_eq!(files.len(), 1, "one ontology file in {}", dir.display());
    files.remove(0)
}

/// Node `DK-NGC` with the DK cohort ingested as `DK-1`, built once per test run: take a
/// [`TestNode::copy_of`] it.
pub fn dk_template() -> &'static TestNode {
    static TEMPLATE: std::sync::OnceLock<TestNode> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let node = TestNode::init_in(run_tempdir(), "DK-NGC", "DK");
        node.ingest("DK-1", "DK");
        node
    })
}

/// [`dk_template`] with the SE cohort also ingested, as `SE-1`, built once per test run.
pub fn dk_se_template() -> &'static TestNode {
    static TEMPLATE: std::sync::OnceLock<TestNode> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let node = TestNode::copy_for_run(dk_template());
        node.ingest("SE-1", "SE");
        node
    })
}

/// A running `oresund serve`, stopped when dropped.
pub struct Server {
    pub child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    /// `127.0.0.1:PORT`
    pub address: String,
}

impl Server {
    /// Starts `oresund serve NODE --listen 127.0.0.1:0` and waits for its address.
    pub fn start(node: &Path, extra: &[&str]) -> Server {
        Self::start_logged(node, extra).0
    }

    /// [`Server::start`], keeping every line the server logs (its stderr).
    pub fn start_logged(node: &Path, extra: &[&str]) -> (Server, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        Self::start_logged_at(node, "127.0.0.1:0", extra)
    }

    /// [`Server::start_logged`] on a given address (for nodes that must know each other's url
    /// before either starts).
    pub fn start_logged_at(
        node: &Path,
        listen: &str,
        extra: &[&str],
    ) -> (Server, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use std::io::BufRead;
        let mut child = oresund()
            .args(["serve", node.to_str().unwrap(), "--listen", listen, "--until-stdin-closes"])
            .args(extra)
            // The server stops when this pipe closes, so it cannot outlive the test process.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("oresund serve starts");
        let stdin = child.stdin.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = std::io::BufReader::new(stderr).lines();
        // Log lines may come first (a warning that records a killed server had journaled were moved in).
        let mut before = Vec::new();
        let address = loop {
            let line = lines.next().expect("serve prints its address").unwrap();
            let address = line.split("http://").nth(1).and_then(|rest| rest.split_whitespace().next());
            if let Some(address) = address {
                let address = address.to_string();
                before.push(line);
                break address;
            }
            assert!(before.len() < 20, "no address in {before:?}");
            before.push(line);
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        let kept = std::sync::Arc::new(std::sync::Mutex::new(before));
        let keep = kept.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                keep.lock().unwrap().push(line);
            }
        });
        (Server { child, stdin: Some(stdin), address }, kept)
    }

    /// Stops the server gracefully, as its supervisor would (standard input closes), and waits
    /// for it: it finishes its requests and appends its queued audit records first.
    pub fn stop(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for serve") {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "serve did not stop within 30 s");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        http(&self.address, "GET", path, token, None)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
        http(&self.address, "POST", path, token, Some(body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 exchange (`Connection: close`), returning status and JSON body
/// (`Value::Null` when the body is not JSON).
pub fn http(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let (status, text) = http_text(address, method, path, token, body);
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

pub fn http_text(address: &str, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the server");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if method == "POST" {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Creates a bearer token on a node (`oresund token add`) and returns it.
pub fn token(node: &Path, args: &[&str]) -> String {
    let mut all = vec!["token", "add", node.to_str().unwrap()];
    all.extend_from_slice(args);
    ok(&all).trim().to_string()
}

/// Validates a document against a Beacon v2 schema with `oracles/beacon/validate_beacon.py`
/// (Python jsonschema, offline, all `$ref`s to the committed schema copies). `target` is a schema path
/// or `--entity NAME`.
pub fn beacon_schema_errors(target: &[&str], document: &serde_json::Value) -> Option<String> {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/beacon/validate_beacon.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--spec-root")
        .arg(beacon_specs())
        .args(target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(document.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(0) => None,
        Some(1) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => panic!(
            "validate_beacon.py could not run (pip install jsonschema referencing): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The scale backend's services for a test: a fresh PostgreSQL database and a fresh S3 bucket on
/// the servers `./test` starts (found through `ORESUND_TEST_*`). Missing services fail the
/// test — they are never skipped. The database is dropped afterwards.
pub struct ScaleServices {
    /// `postgres://…/DB` without a password (it is in `PGPASSWORD`, which children inherit).
    pub catalog: String,
    /// `s3://BUCKET?endpoint=…`.
    pub archive: String,
    pub endpoint: String,
    pub bucket: String,
    admin: String,
    database: String,
}

/// An `ORESUND_TEST_*` variable, or a failure saying how to get the services.
pub fn service_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: this test needs PostgreSQL and S3; run ./test, which starts them")
    })
}

impl ScaleServices {
    pub fn new() -> ScaleServices {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin = service_env("ORESUND_TEST_POSTGRES_URL");
        let endpoint = service_env("ORESUND_TEST_S3_ENDPOINT");
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let unique = format!("{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let database = format!("oresund_e2e_{}", unique.replace('-', "_"));
        let bucket = format!("e2e-{unique}");
        s3_request("PUT", &format!("{endpoint}/{bucket}"));
        // Last, so that no database is left behind by a failure above.
        sh(&format!("psql -qX '{admin}' -c 'CREATE DATABASE {database}'"));
        let (base, query) = admin.split_once('?').map_or((admin.as_str(), ""), |(b, q)| (b, q));
        let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
        let catalog =
            if query.is_empty() { format!("{base}/{database}") } else { format!("{base}/{database}?{query}") };
        let archive = format!("s3://{bucket}?endpoint={endpoint}");
        ScaleServices { catalog, archive, endpoint, bucket, admin, database }
    }

    /// `oresund` with the S3 keys in the standard AWS variables (as an operator would run it).
    pub fn oresund(&self) -> Command {
        let mut command = oresund();
        command
            .env("AWS_ACCESS_KEY_ID", service_env("ORESUND_TEST_S3_ACCESS_KEY_ID"))
            .env("AWS_SECRET_ACCESS_KEY", service_env("ORESUND_TEST_S3_SECRET_ACCESS_KEY"));
        command
    }

    /// A node initialised on this database and bucket. Its `oresund.toml` then names the
    /// `ORESUND_TEST_S3_*` variables as the key variables (`[archive] access_key_id_env`), so every
    /// later command (and the shared helpers) find the keys without extra environment.
    pub fn node(&self, node_id: &str, country: &str) -> TestNode {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("node");
        let out = self
            .oresund()
            .args(["init", dir.to_str().unwrap(), "--node-id", node_id, "--country", country, "--reference"])
            .arg(cohort("reference.fa.gz"))
            .arg("--hpo")
            .arg(hpo())
            .args(["--catalog", &self.catalog, "--archive", &self.archive])
            .stdin(Stdio::null())
            .output()
            .expect("the oresund binary runs");
        assert!(out.status.success(), "scale init failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let config = dir.join("oresund.toml");
        let text = std::fs::read_to_string(&config).unwrap().replace(
            "[archive]\n",
            "[archive]\naccess_key_id_env = \"ORESUND_TEST_S3_ACCESS_KEY_ID\"\n\
             secret_access_key_env = \"ORESUND_TEST_S3_SECRET_ACCESS_KEY\"\n",
        );
        std::fs::write(&config, text).unwrap();
        TestNode { tmp, dir }
    }

    /// Every object key in the bucket (S3 ListObjectsV2, all pages).
    pub fn bucket_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token = String::new();
        loop {
            let mut url = format!("{}/{}?list-type=2", self.endpoint, self.bucket);
            if !token.is_empty() {
                url.push_str(&format!(
                    "&continuation-token={}",
                    token.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
                ));
            }
            let xml = s3_request("GET", &url);
            keys.extend(xml_values(&xml, "Key"));
            match xml_values(&xml, "NextContinuationToken").into_iter().next() {
                Some(next) if xml.contains("<IsTruncated>true</IsTruncated>") => token = next,
                _ => break,
            }
        }
        keys.sort();
        keys
    }

    /// Incomplete multipart uploads in the bucket, as (key, upload id).
    pub fn incomplete_uploads(&self) -> Vec<(String, String)> {
        let xml = s3_request("GET", &format!("{}/{}?uploads=", self.endpoint, self.bucket));
        xml_values(&xml, "Key").into_iter().zip(xml_values(&xml, "UploadId")).collect()
    }

    /// Starts a multipart upload of `key` and sends one part, leaving it incomplete (what a
    /// killed upload of a large body leaves).
    pub fn abandon_upload(&self, key: &str) {
        let xml = s3_request("POST", &format!("{}/{}/{key}?uploads=", self.endpoint, self.bucket));
        let id = xml_values(&xml, "UploadId").into_iter().next().expect("an upload id");
        let part = format!("{}/{}/{key}?partNumber=1&uploadId={id}", self.endpoint, self.bucket);
        s3_request_with_body("PUT", &part, &vec![7u8; 6 << 20]);
    }
}

impl Drop for ScaleServices {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-qX", &self.admin, "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database)])
            .output();
    }
}

/// A signed S3 request with curl (SigV4), returning the body; asserts success.
pub fn s3_request(method: &str, url: &str) -> String {
    s3_request_with_body(method, url, &[])
}

pub fn s3_request_with_body(method: &str, url: &str, body: &[u8]) -> String {
    let user = format!(
        "{}:{}",
        service_env("ORESUND_TEST_S3_ACCESS_KEY_ID"),
        service_env("ORESUND_TEST_S3_SECRET_ACCESS_KEY")
    );
    let mut curl = Command::new("curl");
    curl.args(["-sS", "--fail-with-body", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", &user]);
    // A body goes as an upload file: curl signs its hash (a --data body is signed differently).
    let body_file = tempfile::NamedTempFile::new().expect("temp file");
    if body.is_empty() {
        curl.args(["-X", method]);
    } else {
        std::fs::write(body_file.path(), body).unwrap();
        curl.arg("-T").arg(body_file.path());
    }
    let out = curl.arg(url).stdin(Stdio::null()).output().expect("curl runs");
    assert!(
        out.status.success(),
        "S3 {method} {url} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of every `<tag>…</tag>` in an S3 XML answer.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).filter_map(|rest| rest.split_once(&close).map(|(v, _)| v.replace("&amp;", "&"))).collect()
}
