//! The node's HTTP API in process: requests go through the real router (`tower::ServiceExt::oneshot`,
//! no socket) to a real node — the repository's DK cohort ingested into an embedded SQLite store.
//! In-process tier: needs only the Rust toolchain. The same API is checked against the Beacon
//! schemas and beacon-verifier by the external tier (`crates/oresund/tests/e2e/external/beacon.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use oresund_node::Node;
use oresund_node::config::{NodeConfig, TokenConfig};
use oresund_node::init::{InitOptions, init};
use serde_json::{Value, json};
use tower::ServiceExt;

const REGISTERED: &str = "registered-token-0123456789abcdef0123456789abcdef";
const CONTROLLED: &str = "controlled-token-0123456789abcdef0123456789abcdef";
/// `truth.json` of the demo data: 22-17000017-C-A, AC=2 AN=1000 in DK (`bcftools +fill-tags`).
const TRUTH: &str = "referenceName=22&start=17000016&referenceBases=C&alternateBases=A";

fn demo_data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo-data").join(file)
}

/// A node directory with DK-1 (the DK cohort, default policy) and HIDDEN (the same people,
/// controlled callers only), a registered and a controlled token; made once per test binary.
/// Each test opens its own [`Node`] on it, as each `serve` process would.
async fn node_dir() -> &'static Path {
    static DIR: tokio::sync::OnceCell<(tempfile::TempDir, PathBuf)> = tokio::sync::OnceCell::const_new();
    // Ingest is synchronous and its archive drives a private runtime: made across the server's
    // blocking edge, it runs inside the test's runtime, even a current-thread one.
    let made = DIR.get_or_init(|| async { oresund_server::blocking::run(make_node).await.expect("the node fixture") });
    &made.await.1
}

fn make_node() -> (tempfile::TempDir, PathBuf) {
    // Under cargo's `target/tmp`: a `static` is never dropped, and runs must not pile up in /tmp.
    let tmp =
        tempfile::Builder::new().prefix("router-node-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let dir = tmp.path().join("node");
    let options = InitOptions {
        node_id: "DK-NGC".into(),
        country: "DK".into(),
        assembly: "GRCh38".into(),
        reference: demo_data("reference.fa.gz"),
        hpo: Some(demo_data("hp.obo.gz")),
    };
    init(&dir, &options, |_| {}).expect("init a node");
    let node = Node::open(&dir).expect("open the node");
    for dataset in ["DK-1", "HIDDEN"] {
        node.ingest(dataset, &demo_data("DK.vcf.gz"), &demo_data("DK.individuals.tsv"), |_| {})
            .expect("ingest the DK cohort");
    }
    drop(node);
    let mut config = NodeConfig::load(&dir).expect("config");
    for (token, user, controlled) in
        [(REGISTERED, "reg@example.org", vec![]), (CONTROLLED, "dac@example.org", vec!["DK-1".to_string()])]
    {
        let sha256 = oresund_access::authenticator::token_sha256(token);
        config.beacon.tokens.push(TokenConfig {
            sha256,
            user: user.into(),
            registered: true,
            clinician: false,
            controlled,
            purpose: None,
        });
    }
    config.save(&dir).expect("save config");
    let mut text = std::fs::read_to_string(dir.join("oresund.toml")).unwrap();
    // The budget is charged but too large to refuse: these tests read whole regions.
    text.push_str(
        "\n[beacon.datasets.HIDDEN]\npublic = \"none\"\nregistered = \"none\"\n\n[access.budget]\nnats = 1000000.0\n",
    );
    std::fs::write(dir.join("oresund.toml"), text).unwrap();
    (tmp, dir)
}

/// The router of a freshly opened node, with its audit writer (which needs the test's runtime).
struct Api {
    router: axum::Router,
    _audit: oresund_server::AuditWriter,
}

impl Api {
    async fn new() -> Api {
        Api::on(node_dir().await)
    }

    fn on(dir: &Path) -> Api {
        let node = Node::open(dir).expect("open the node");
        let (state, audit) = oresund_server::state_for(node, "http://beacon.test".into()).expect("server state");
        Api { router: oresund_server::router(state, None), _audit: audit }
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = self.call_with_headers(request).await;
        (status, body)
    }

    async fn call_with_headers(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let response = self.router.clone().oneshot(request).await.expect("the router answers");
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = axum::body::to_bytes(response.into_body(), 16 << 20).await.expect("a body");
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.call(request.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
        let mut request = Request::post(path).header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.call(request.body(Body::from(body.to_string())).unwrap()).await
    }
}

fn count_row(body: &Value) -> (Option<u64>, Option<u64>) {
    let row = &body["response"]["resultSets"][0]["info"]["variants"][0];
    (row["alleleCount"].as_u64(), row["alleleNumber"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_names_the_node_and_its_api() {
    let api = Api::new().await;
    let (status, info) = api.get("/info", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["meta"]["apiVersion"], oresund_server::API_VERSION);
    assert_eq!(info["response"]["id"], "org.oresund.dk-ngc", "{info}");
    assert_eq!(info["response"]["info"]["country"], "DK");
    assert_eq!(info["response"]["info"]["countThreshold"], 5);
    let (status, _) = api.get("/service-info", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_follow_the_callers_tier() {
    let api = Api::new().await;
    let path = format!("/g_variants?{TRUTH}&requestedGranularity=record&datasets=DK-1");

    let (status, anonymous) = api.get(&path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(anonymous["meta"]["returnedGranularity"], "boolean");
    assert_eq!(anonymous["responseSummary"], json!({"exists": true}));

    // AC 2 is below the threshold of 5: a registered caller sees 5, marked imprecise.
    let (_, registered) = api.get(&path, Some(REGISTERED)).await;
    assert_eq!(registered["meta"]["returnedGranularity"], "count");
    assert_eq!(count_row(&registered), (Some(5), Some(1000)));
    assert_eq!(registered["response"]["resultSets"][0]["info"]["variants"][0]["countPrecision"], "imprecise");

    // A grant for DK-1 sees the exact record.
    let (_, controlled) = api.get(&path, Some(CONTROLLED)).await;
    assert_eq!(controlled["meta"]["returnedGranularity"], "record");
    let record = &controlled["response"]["resultSets"][0]["results"][0];
    assert_eq!(record["variantInternalId"], "22-17000017-C-A");
    let frequency = &record["frequencyInPopulations"][0]["frequencies"][0];
    assert_eq!((frequency["alleleCount"].as_u64(), frequency["alleleNumber"].as_u64()), (Some(2), Some(1000)));
    assert_eq!(frequency["alleleCountHeterozygous"].as_u64(), Some(2));
    let (_, carriers) = api
        .get("/g_variants/22-17000017-C-A/individuals?requestedGranularity=record&datasets=DK-1", Some(CONTROLLED))
        .await;
    assert_eq!(carriers["responseSummary"]["numTotalResults"], 2);

    // A bad token is refused, never downgraded to anonymous.
    let (status, refused) = api.get(&path, Some("not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused["error"]["errorCode"], 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_closed_to_registered_callers_stays_closed() {
    let api = Api::new().await;
    let path = format!("/g_variants?{TRUTH}&requestedGranularity=count&datasets=HIDDEN");
    // Anonymous callers are told to authenticate; registered ones and grants for another
    // dataset are refused; none learns whether HIDDEN holds the variant.
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(REGISTERED), StatusCode::FORBIDDEN),
        (Some(CONTROLLED), StatusCode::FORBIDDEN),
    ] {
        let (got, body) = api.get(&path, token).await;
        assert_eq!(got, status, "{token:?}: {body}");
        assert_eq!(body["error"]["errorMessage"].as_str().map(|m| m.contains("needs CONTROLLED access")), Some(true));
        assert!(body.get("responseSummary").is_none() && body.get("response").is_none(), "{body}");
    }
    // Without naming it, HIDDEN is simply not among the answers.
    let (_, all) = api.get(&format!("/g_variants?{TRUTH}&requestedGranularity=count"), Some(CONTROLLED)).await;
    let ids: Vec<&str> =
        all["response"]["resultSets"].as_array().unwrap().iter().filter_map(|set| set["id"].as_str()).collect();
    assert_eq!(ids, ["DK-1"], "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_count_below_the_threshold_reaches_a_registered_caller() {
    let api = Api::new().await;
    let region = "/g_variants?referenceName=22&start=16000000&end=16400000&requestedGranularity=count&limit=1000";
    let (status, registered) = api.get(&format!("{region}&datasets=DK-1"), Some(REGISTERED)).await;
    assert_eq!(status, StatusCode::OK);
    let rows = registered["response"]["resultSets"][0]["info"]["variants"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() > 100, "the region holds many variants: {}", rows.len());
    for row in &rows {
        let ac = row["alleleCount"].as_u64().unwrap_or(0);
        assert!(ac == 0 || ac >= 5, "registered caller saw AC {ac}: {row}");
    }
    // The controlled caller sees the small counts the registered one may not: the test has teeth.
    let (_, controlled) = api.get(&format!("{region}&datasets=DK-1"), Some(CONTROLLED)).await;
    let text = controlled.to_string();
    assert!(text.contains("\"alleleCount\":1,") || text.contains("\"alleleCount\":2,"), "no small counts at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_post_agree() {
    let api = Api::new().await;
    let (_, get) =
        api.get(&format!("/g_variants?{TRUTH}&requestedGranularity=count&datasets=DK-1"), Some(REGISTERED)).await;
    let (status, post) = api
        .post(
            "/g_variants",
            Some(REGISTERED),
            r#"{"meta":{"apiVersion":"2.0"},"query":{"requestParameters":{"referenceName":"22","start":[17000016],
               "referenceBases":"C","alternateBases":"A","datasets":"DK-1"},"requestedGranularity":"count"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(get["response"], post["response"]);
    assert_eq!(count_row(&post), (Some(5), Some(1000)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_expand_descendants() {
    let api = Api::new().await;
    let count = |filters: &'static str| {
        let api = &api;
        async move {
            let body = format!(
                r#"{{"meta":{{"apiVersion":"2.0"}},"query":{{"filters":{filters},"requestedGranularity":"count","requestParameters":{{"datasets":"DK-1"}}}}}}"#
            );
            let (status, answer) = api.post("/individuals", Some(REGISTERED), &body).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            answer
        }
    };
    let with = count(r#"[{"id":"HP:0000707"}]"#).await["responseSummary"]["numTotalResults"].as_u64().unwrap();
    let without =
        count(r#"[{"id":"HP:0000707","includeDescendantTerms":false}]"#).await["responseSummary"]["numTotalResults"]
            .as_u64()
            .unwrap();
    assert!(with > without, "HP:0000707 with descendants covers the seizure patients ({with} vs {without})");
    let unknown = count(r#"[{"id":"HP:0000707"},{"id":"XYZ:123"}]"#).await;
    assert_eq!(unknown["responseSummary"]["exists"], false);
    assert!(unknown["info"]["warnings"][0].as_str().unwrap_or_default().contains("XYZ:123"), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_400_that_say_what_to_fix() {
    let api = Api::new().await;
    let many_filters =
        format!("/individuals?filters={}", (1..=33).map(|n| format!("HP:{n:07}")).collect::<Vec<_>>().join(","));
    let cases = [
        ("/g_variants?referenceName=22&strat=5", "unknown parameter \"strat\""),
        ("/g_variants?referenceName=22&start=5&referenceBases=C&alternateBases=A&assemblyId=GRCh37", "assemblyId"),
        ("/g_variants?referenceName=22&start=999999999&end=1000000000", "beyond the end"),
        ("/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=Q", "alternateBases"),
        (
            "/g_variants?referenceName=22&start=17000016&referenceBases=G&alternateBases=A",
            "does not match the reference",
        ),
        ("/g_variants?referenceName=99&start=1", "not a sequence"),
        ("/g_variants?referenceName=22&start=10&end=5", "greater than start"),
        ("/g_variants?requestedGranularity=everything", "requestedGranularity"),
        ("/g_variants?limit=100000", "limit"),
        ("/g_variants?geneId=BRCA2", "not supported"),
        ("/individuals?skip=-1", "skip"),
        ("/g_variants?filters=HP:0001250", "need a region"),
        ("/g_variants?referenceName=22&start=1000000&end=12000001", "ask in smaller pieces"),
        (&many_filters, "at most 32"),
    ];
    for (path, needle) in cases {
        let (status, body) = api.get(path, Some(REGISTERED)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let message = body["error"]["errorMessage"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{path}: {message}");
        assert_eq!(body["error"]["errorCode"], 400);
    }
    for body in
        ["{not json", "[]", r#"{"query":{"requestParameters":{"start":{"x":1}}}}"#, r#"{"query":{"filters":"HP:1"}}"#]
    {
        let (status, response) = api.post("/g_variants", None, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
    }
    let (status, body) = api.get("/no/such/thing", None).await;
    assert_eq!((status, body["error"]["errorCode"].as_u64()), (StatusCode::NOT_FOUND, Some(404)));
}

/// A copy of the fixture node whose variant blocks are overwritten with bytes that decode to
/// nothing: the node opens, and fails when a query reads its variants.
async fn damaged_node() -> (tempfile::TempDir, PathBuf) {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create a directory");
        for entry in std::fs::read_dir(from).expect("read the fixture") {
            let entry = entry.expect("a directory entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("a file type").is_dir() {
                copy_dir(&entry.path(), &target);
            } else if let Err(e) = std::fs::copy(entry.path(), &target) {
                // Other tests append to the fixture's audit log meanwhile: a journal may vanish.
                assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "copy a fixture file: {e}");
            }
        }
    }
    let tmp =
        tempfile::Builder::new().prefix("damaged-node-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let dir = tmp.path().join("node");
    copy_dir(node_dir().await, &dir);
    let database = oresund_node::layout::Layout::new(&dir).database();
    let db = rusqlite::Connection::open(&database).expect("open node.db");
    let damaged = db.execute("UPDATE blocks SET data = x'ffffffff'", []).expect("damage the blocks");
    assert!(damaged > 0, "the fixture has variant blocks");
    (tmp, dir)
}

/// Log lines written while a test runs, as the operator would read them on stderr.
#[derive(Clone, Default)]
struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("the log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// The log of this test process: one subscriber for all of it, installed by the first caller.
    /// (A per-thread subscriber lost lines now and then: tracing caches per call site whether
    /// anyone listens, and tests running in parallel set and drop theirs.) Tests find their
    /// own lines by request id.
    fn start() -> CapturedLog {
        static LOG: std::sync::OnceLock<CapturedLog> = std::sync::OnceLock::new();
        LOG.get_or_init(|| {
            let log = CapturedLog::default();
            let writer = log.clone();
            let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
            log
        })
        .clone()
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().expect("the log buffer")).lines().map(str::to_string).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_node_answers_500_with_a_request_id_and_logs_the_cause_under_it() {
    let (_tmp, dir) = damaged_node().await;
    let api = Api::on(&dir);
    let log = CapturedLog::start();
    let request = Request::get(format!("/g_variants?{TRUTH}&datasets=DK-1")).body(Body::empty()).unwrap();
    let (status, headers, body) = api.call_with_headers(request).await;

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"]["errorCode"], 500, "{body}");
    assert!(body["meta"]["beaconId"].is_string(), "a Beacon error document: {body}");
    let message = body["error"]["errorMessage"].as_str().unwrap_or_default();
    let id = message
        .split("request id ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no request id in {message:?}"));
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), Some(id));
    for internal in ["damaged", "database", "block", "node.db", "sqlite", "SQLite"] {
        assert!(!message.contains(internal), "{internal:?} reached the caller: {message}");
    }

    let lines = log.lines();
    let fault = lines
        .iter()
        .find(|l| l.contains("node fault") && l.contains(id))
        .unwrap_or_else(|| panic!("no fault logged under {id}: {lines:?}"));
    assert!(fault.contains("damaged"), "the cause is logged under the id: {fault}");
    let request_line = lines
        .iter()
        .find(|l| l.contains("endpoint=") && l.contains(id))
        .unwrap_or_else(|| panic!("no request line: {lines:?}"));
    assert!(request_line.contains("status=500"), "{request_line}");
    assert!(request_line.contains("endpoint=/g_variants"), "{request_line}");
    assert!(!request_line.contains("referenceName") && !request_line.contains("17000016"), "{request_line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_request_id_is_echoed_and_personal_ids_stay_out_of_the_log() {
    let api = Api::new().await;
    let log = CapturedLog::start();
    let request = Request::get("/individuals/DK-PERSON-17")
        .header("authorization", format!("Bearer {CONTROLLED}"))
        .header("x-request-id", "trace-42")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = api.call_with_headers(request).await;
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), Some("trace-42"));
    let forged = Request::get("/info").header("x-request-id", "a b;forged").body(Body::empty()).unwrap();
    let (_, headers, _) = api.call_with_headers(forged).await;
    let fresh = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(fresh.len(), 32, "a refused caller id is replaced: {fresh:?}");

    let lines = log.lines();
    let line = lines.iter().find(|l| l.contains("trace-42")).unwrap_or_else(|| panic!("no request line: {lines:?}"));
    assert!(line.contains("endpoint=/individuals/{id}"), "{line}");
    assert!(!lines.iter().any(|l| l.contains("DK-PERSON-17")), "a personal id was logged: {lines:?}");
}

/// The blocking edge is safe inside any runtime: a Beacon query and a committee listing answered
/// on a current-thread runtime (where `block_in_place` panicked).
#[tokio::test(flavor = "current_thread")]
async fn a_current_thread_runtime_answers_beacon_and_dac_requests() {
    let api = Api::new().await;
    let (status, registered) =
        api.get(&format!("/g_variants?{TRUTH}&requestedGranularity=count&datasets=DK-1"), Some(REGISTERED)).await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    assert_eq!(count_row(&registered), (Some(5), Some(1000)));
    let (status, requests) = api.get("/dac/requests", Some(REGISTERED)).await;
    assert_eq!(status, StatusCode::OK, "{requests}");
    assert!(requests["requests"].is_array(), "{requests}");
    // An id past what the store holds is a 400 (schemathesis found it reached the store as a 500).
    for id in ["9223372036854775808", "18446744073709551616", "-1"] {
        let (status, body) = api.get(&format!("/dac/requests/{id}"), Some(REGISTERED)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{id}: {body}");
    }
    let (status, terms) = api.get("/filtering_terms", None).await;
    assert_eq!(status, StatusCode::OK, "{terms}");
    // A refused credential is audited across the edge too.
    let (status, _) = api.get("/individuals", Some("not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A count of one variant on the embedded store is answered on the request's own thread, a region
/// count across the blocking edge (`answer::answered_in_place`): with the blocking pool's only
/// thread held, the first is answered and the second waits until the thread is let go. The node
/// is the test's own, so that its server owns the audit journal (a record is then one write on
/// the request's thread, not a commit on the pool).
#[test]
fn one_variant_is_counted_in_place_and_a_region_across_the_edge() {
    let (_tmp, dir) = make_node();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let api = Api::on(&dir);
        let (let_go, held) = std::sync::mpsc::channel::<()>();
        let pool = tokio::task::spawn_blocking(move || held.recv());
        let one = format!("/g_variants?{TRUTH}&requestedGranularity=count&datasets=DK-1");
        let (status, body) = tokio::time::timeout(Duration::from_secs(10), api.get(&one, Some(REGISTERED)))
            .await
            .expect("one variant is counted while the blocking pool is held");
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(count_row(&body), (Some(5), Some(1000)));
        let window =
            "/g_variants?referenceName=22&start=16999000&end=17001000&requestedGranularity=count&datasets=DK-1";
        let region = api.get(window, Some(REGISTERED));
        tokio::pin!(region);
        let early = tokio::time::timeout(Duration::from_millis(500), &mut region).await;
        assert!(early.is_err(), "a region was counted while the blocking pool was held: {early:?}");
        let_go.send(()).expect("the held thread listens");
        let (status, body) = region.await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let rows = body["response"]["resultSets"][0]["info"]["variants"].as_array().cloned().unwrap_or_default();
        let truth = rows.iter().find(|r| r["variantInternalId"] == "22-17000017-C-A");
        assert_eq!(truth.map(|r| (&r["alleleCount"], &r["alleleNumber"])), Some((&json!(5), &json!(1000))), "{body}");
        pool.await.expect("the held thread ends").expect("it was let go");
    });
}

/// Work answered in place that panics is a 500, as it is across the blocking edge.
#[tokio::test(flavor = "current_thread")]
async fn a_panic_in_place_is_a_500() {
    let node = Node::open(node_dir().await).expect("open the node");
    let (state, _audit) = oresund_server::state_for(node, "http://beacon.test".into()).expect("server state");
    let answered = state.in_place(|app| app.node.catalog_is_embedded());
    assert_eq!(answered.ok(), Some(true));
    let failed = state.in_place(|_| -> u8 { panic!("a bug") }).expect_err("a panic is an error");
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!failed.message.contains("a bug"), "the cause is logged, not shown: {}", failed.message);
}

/// The archive (which blocks on a runtime of its own) read through the server's blocking edge,
/// from inside a current-thread runtime.
#[tokio::test(flavor = "current_thread")]
async fn an_archived_object_is_read_through_the_blocking_edge() {
    let node = Node::open(node_dir().await).expect("open the node");
    let (state, _audit) = oresund_server::state_for(node, "http://beacon.test".into()).expect("server state");
    let (expected, header) = state
        .blocking(|app| {
            let objects = app.node.archive_objects().expect("the catalog lists the archived objects");
            let object = objects.first().expect("ingest archived the cohort's files").clone();
            let archive = app.node.archive().expect("open the archive");
            (object.body_size, (archive.get(&object.header_path), archive.size(&object.body_path)))
        })
        .await
        .expect("the edge runs the work");
    let (header, size) = header;
    assert!(!header.expect("read the object's header").is_empty());
    assert_eq!(size.expect("the body's size"), Some(expected));
}

/// Every entry endpoint is a route: those of entry types and relations this node holds no data
/// for answer a valid empty answer; anything else is a 404 with a Beacon error body.
#[tokio::test(flavor = "current_thread")]
async fn entry_routes_answer_empty_or_404() {
    let api = Api::new().await;
    for path in ["/biosamples", "/runs/R1", "/analyses/A1/g_variants", "/individuals/DK-1/g_variants"] {
        for (status, body) in [api.get(path, None).await, api.post(path, None, "{}").await] {
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            assert_eq!(body["responseSummary"], json!({"exists": false}), "{path}: {body}");
        }
    }
    let (_, runs) = api.get("/biosamples/B1/runs", None).await;
    assert_eq!(runs["meta"]["returnedSchemas"][0]["entityType"], "run", "{runs}");
    for path in ["/colours", "/g_variants/v1/colours", "/g_variants/v1/individuals/x"] {
        let (status, body) = api.get(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["errorCode"], 404, "{path}: {body}");
        assert!(body["meta"]["beaconId"].is_string(), "a Beacon error document: {body}");
        assert!(body["error"]["errorMessage"].as_str().is_some_and(|m| m.contains("/map")), "{path}: {body}");
    }
    let (status, datasets) = api.get("/datasets", Some(REGISTERED)).await;
    assert_eq!(status, StatusCode::OK, "{datasets}");
    let (status, slash) = api.get("/datasets/", Some(REGISTERED)).await;
    assert_eq!((status, &slash["response"]), (StatusCode::OK, &datasets["response"]), "a trailing slash: {slash}");
}
