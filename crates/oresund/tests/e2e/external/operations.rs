//! Operations: `/metrics` checked by `promtool` and scraped by a real Prometheus, whose query API
//! returns the requests made; `oresund report` cross-checked against the audit log and catalog it
//! reads, its HTML page opened offline in headless Chromium (screenshot in
//! `ci-artifacts/report.png`); the servers' JSON logs scanned for every local id and pseudonym.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::passports::audit_entries;
use crate::common::*;
use crate::network::free_port;

const TRUTH: &str = "referenceName=22&start=17000016&referenceBases=C&alternateBases=A";

/// The value of one exposition line (`name{labels} value`).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Requests of every kind: `(path, token, status)`.
fn ask(server: &Server, registered: &str, controlled: &str) -> Vec<(String, Option<String>, u16)> {
    let asked = vec![
        (format!("/g_variants?{TRUTH}"), None, 200),
        (format!("/g_variants?{TRUTH}"), None, 200),
        (format!("/g_variants?{TRUTH}"), None, 200),
        (format!("/g_variants?{TRUTH}&requestedGranularity=count"), Some(registered.to_string()), 200),
        // Fewer than 5 carriers in DK: the count shown is raised to 5.
        (
            "/g_variants/22-17000017-C-A/individuals?requestedGranularity=count".into(),
            Some(registered.to_string()),
            200,
        ),
        ("/g_variants?referenceName=22&strat=5".into(), Some(registered.to_string()), 400),
        (format!("/g_variants?{TRUTH}"), Some("not-a-token".to_string()), 401),
        ("/datasets/DK-1/individuals?requestedGranularity=record&limit=1000".into(), Some(controlled.to_string()), 200),
    ];
    for (path, token, status) in &asked {
        assert_eq!(server.get(path, token.as_deref()).0, *status, "{path}");
    }
    asked
}

#[test]
fn metrics_pass_promtool_and_a_real_prometheus_scrapes_them() {
    require("promtool", "apt-get install -y prometheus");
    let node = TestNode::copy_of(dk_se_template());
    let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    let controlled = token(&node.dir, &["--user", "ctl@example.org", "--controlled", "DK-1"]);
    let server = Server::start(&node.dir, &[]);
    ask(&server, &registered, &controlled);
    let (status, text) = http_text(&server.address, "GET", "/metrics", None, None);
    assert_eq!(status, 200);
    let file = node.tmp.path().join("metrics.txt");
    std::fs::write(&file, &text).unwrap();
    let lint = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&lint.stdout), String::from_utf8_lossy(&lint.stderr));
    assert!(lint.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n{text}");

    let series = |labels: &str| sample(&text, &format!("oresund_http_requests_total{{{labels}}}"));
    assert_eq!(series(r#"endpoint="/g_variants",tier="public",decision="allowed",status="200""#), Some(3.0), "{text}");
    assert_eq!(series(r#"endpoint="/g_variants",tier="registered",decision="allowed",status="200""#), Some(1.0));
    assert_eq!(series(r#"endpoint="/g_variants",tier="registered",decision="denied",status="400""#), Some(1.0));
    assert_eq!(series(r#"endpoint="/g_variants",tier="none",decision="denied",status="401""#), Some(1.0));
    assert_eq!(
        series(r#"endpoint="/datasets/{id}/individuals",tier="controlled",decision="allowed",status="200""#),
        Some(1.0)
    );
    // Fewer than 5 people carry the variant in DK: the registered count of its carriers was raised.
    assert_eq!(sample(&text, "oresund_small_count_suppressions_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "oresund_datasets"), Some(2.0));
    assert_eq!(sample(&text, "oresund_individuals"), Some(1000.0));
    assert_eq!(sample(&text, "oresund_http_request_duration_seconds_count{endpoint=\"/g_variants\"}"), Some(6.0));
    for id in local_ids() {
        assert!(!text.contains(&id), "a local id in the metrics");
    }

    // A real Prometheus scrapes the node on loopback; its query API returns the same series.
    let dir = node.tmp.path().join("prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    let scrape = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: oresund\n    static_configs:\n      - targets: ['{}']\n",
        server.address
    );
    std::fs::write(&config, scrape).unwrap();
    let port = free_port();
    let mut prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let address = format!("127.0.0.1:{port}");
    let query = "/api/v1/query?query=oresund_http_requests_total%7Bendpoint%3D%22%2Fg_variants%22%2Ctier%3D%22public%22%2Cstatus%3D%22200%22%7D";
    let deadline = Instant::now() + Duration::from_secs(60);
    let value = loop {
        let answer = std::net::TcpStream::connect(&address).ok().map(|_| http(&address, "GET", query, None, None));
        if let Some((200, body)) = answer
            && let Some(v) = body["data"]["result"][0]["value"][1].as_str()
        {
            break v.to_string();
        }
        assert!(Instant::now() < deadline, "Prometheus did not scrape the node within 60 s");
        std::thread::sleep(Duration::from_millis(500));
    };
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    assert_eq!(value, "3", "Prometheus's value of the series");

    // With --metrics-listen the metrics move off the API's port.
    drop(server);
    let port = free_port();
    let server = Server::start(&node.dir, &["--metrics-listen", &format!("127.0.0.1:{port}")]);
    assert_eq!(http_text(&server.address, "GET", "/metrics", None, None).0, 404);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the metrics listener did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, text) = http_text(&format!("127.0.0.1:{port}"), "GET", "/metrics", None, None);
    assert_eq!(status, 200);
    assert!(text.contains("oresund_individuals 1000"), "{text}");
}

/// Every local id of the two cohorts (the individuals files' first column).
fn local_ids() -> Vec<String> {
    ["DK", "SE"]
        .iter()
        .flat_map(|c| {
            let text = std::fs::read_to_string(cohort(&format!("{c}.individuals.tsv"))).unwrap();
            text.lines().skip(1).map(|l| l.split('\t').next().unwrap().to_string()).collect::<Vec<_>>()
        })
        .collect()
}

/// What [`serve_and_ask`] leaves: the server's log, how many requests it logged, the pseudonyms it served.
struct Served {
    logged: String,
    asked: usize,
    pseudonyms: Vec<String>,
}

/// Serves `node` (JSON logs), makes [`ask`]'s requests and one more record query, and stops it.
fn serve_and_ask(node: &TestNode) -> Served {
    let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    let controlled = token(&node.dir, &["--user", "ctl@example.org", "--controlled", "DK-1"]);
    let (server, lines) = Server::start_logged(&node.dir, &["--log-format", "json"]);
    let asked = ask(&server, &registered, &controlled).len() + 1;
    let (_, records) =
        server.get("/datasets/DK-1/individuals?requestedGranularity=record&limit=1000", Some(&controlled));
    let pseudonyms: Vec<String> = records["response"]["resultSets"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(pseudonyms.len(), 500);
    assert!(server.stop().success());
    let logged = lines.lock().unwrap().join("\n");
    Served { logged, asked, pseudonyms }
}

#[test]
fn the_report_counts_what_the_audit_log_and_the_catalog_hold() {
    require("node", "apt-get install -y nodejs npm");
    let node = TestNode::copy_of(dk_se_template());
    let Served { logged, asked, pseudonyms } = serve_and_ask(&node);

    // The logs: JSON lines with request ids, and no local id or pseudonym in any of them.
    std::fs::write(node.tmp.path().join("serve.log"), &logged).unwrap();
    let requests: Vec<Value> = logged
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .filter(|v| v["message"] == "request")
        .collect();
    assert_eq!(requests.len(), asked, "{logged}");
    assert!(requests.iter().all(|r| r["request_id"].as_str().is_some_and(|id| id.len() == 32)), "{logged}");
    for id in local_ids().iter().chain(&pseudonyms) {
        assert!(!logged.contains(id.as_str()), "{id} in the server's log");
    }

    let report = checked_report(&node);
    // Nothing before the period.
    let empty: Value = serde_json::from_str(&ok(&["report", node.path(), "--until", "2001-01-01"])).unwrap();
    assert_eq!((empty["usage"]["answered"].as_u64(), empty["auditEntries"].as_u64()), (Some(0), Some(0)));
    assert!(!run(&["report", node.path(), "--since", "someday"]).status.success());

    // CSV: the same figures.
    let csv = ok(&["report", node.path(), "--format", "csv"]);
    assert!(csv.lines().any(|l| l == "usage,answered,,7"), "{csv}");
    assert!(csv.lines().any(|l| l == "holdings,individuals,,1000"), "{csv}");

    // The HTML page, offline in headless Chromium: the figures equal the JSON's.
    let page_file = node.tmp.path().join("report.html");
    ok(&["report", node.path(), "-o", page_file.to_str().unwrap()]);
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ci-artifacts"));
    std::fs::create_dir_all(&dir).unwrap();
    let screenshot = dir.join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web");
    let out = Command::new("node")
        .arg(format!("{web}/report.mjs"))
        .args([&format!("file://{}", page_file.display()), screenshot.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["problems"], serde_json::json!([]), "{page}");
    assert_eq!(page["requests"], serde_json::json!([]), "the page asked the network: {page}");
    // No committee decision in this log: the decision chart is a sentence instead.
    let mut charts: Vec<&str> = page["charts"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    charts.sort();
    assert_eq!(charts, ["chart-cost", "chart-use"], "{page}");
    for (metric, pointer) in [
        ("holdings.individuals", "/holdings/individuals"),
        ("holdings.datasets", "/holdings/datasets"),
        ("usage.answered", "/usage/answered"),
        ("usage.refused", "/usage/refused"),
        ("usage.registeredUsers", "/usage/registeredUsers"),
        ("privacy.smallCountSuppressions", "/privacy/smallCountSuppressions"),
        ("privacy.refusedCredentials", "/privacy/refusedCredentials"),
    ] {
        assert_eq!(page["metrics"][metric], report.pointer(pointer).unwrap().to_string(), "{metric}");
    }
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000, "a screenshot was saved");
}

#[test]
fn the_report_reads_the_same_figures_from_postgresql() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    node.ingest("SE-1", "SE");
    serve_and_ask(&node);
    checked_report(&node);
}

/// `oresund report` of a node that answered [`serve_and_ask`], cross-checked with the audit log
/// it reads and the catalog: the same figures on both backends.
fn checked_report(node: &TestNode) -> Value {
    let report: Value = serde_json::from_str(&ok(&["report", node.path(), "--format", "json"])).unwrap();
    assert_eq!(report["schema"], "oresund-report/3");
    // Cross-checked with the audit log it reads.
    let entries = audit_entries(&node.dir, &[]);
    let queries = |decision: &str| {
        entries.iter().filter(|e| e["record"]["action"] == "query" && e["record"]["decision"] == decision).count()
            as u64
    };
    let refused_credentials = entries.iter().filter(|e| e["record"]["action"] == "auth").count() as u64;
    assert_eq!(report["auditEntries"].as_u64(), Some(entries.len() as u64));
    assert_eq!(report["usage"]["answered"].as_u64(), Some(queries("allowed")));
    assert_eq!(report["usage"]["refused"].as_u64(), Some(queries("denied") + refused_credentials));
    assert_eq!(report["usage"]["answered"].as_u64(), Some(7), "{report}");
    assert_eq!(report["privacy"]["refusedCredentials"].as_u64(), Some(1));
    assert_eq!(report["privacy"]["smallCountSuppressions"].as_u64(), Some(1));
    let month = &report["usage"]["months"][0];
    let tiers: BTreeMap<String, u64> = serde_json::from_value(month["byTier"].clone()).unwrap();
    assert_eq!(tiers, BTreeMap::from([("controlled".into(), 2), ("public".into(), 3), ("registered".into(), 2)]));
    assert_eq!(month["byEndpoint"]["/datasets/{id}/individuals"].as_u64(), Some(2));
    assert_eq!(report["usage"]["registeredUsers"].as_u64(), Some(2));
    assert_eq!(report["usage"]["controlledUsers"].as_u64(), Some(1));
    // Operator tokens are the node's own country's users; anonymous callers are unknown.
    assert_eq!(report["usage"]["byCountry"]["DK"].as_u64(), Some(4));
    assert_eq!(report["usage"]["byCountry"]["unknown"].as_u64(), Some(3));
    assert_eq!(report["usage"]["crossBorderShare"].as_f64(), Some(0.0));
    // Cross-checked with the catalog: two cohorts of 500, their files as the archive lists them.
    assert_eq!(report["holdings"]["individuals"].as_u64(), Some(1000));
    assert_eq!(report["holdings"]["datasets"].as_u64(), Some(2));
    // …and the archive as `archive list` shows it (VCF, individuals file and block index of each).
    let archive = ok(&["archive", "list", node.path()]);
    let bodies: Vec<u64> = archive.lines().skip(1).map(|l| l.split('\t').nth(5).unwrap().parse().unwrap()).collect();
    assert_eq!(report["holdings"]["archiveObjects"].as_u64(), Some(bodies.len() as u64), "{archive}");
    assert_eq!(report["holdings"]["archiveBytes"].as_u64(), Some(bodies.iter().sum()), "{archive}");
    assert_eq!(bodies.len(), 6, "{archive}");
    let vcf_bytes: u64 =
        ["DK", "SE"].iter().map(|c| std::fs::metadata(cohort(&format!("{c}.vcf.gz"))).unwrap().len()).sum();
    assert_eq!(report["holdings"]["fileBytes"].as_u64(), Some(vcf_bytes));
    // No case and no match request here (the matchmaking test checks these figures when there are).
    assert_eq!(report["matchmaking"]["cases"].as_u64(), Some(0));
    assert_eq!(report["matchmaking"]["clinicianRequests"].as_u64(), Some(0));
    // No withdrawal here (the withdrawal test checks these figures when there are).
    assert_eq!(report["withdrawals"]["withdrawals"].as_u64(), Some(0));
    assert_eq!(report["withdrawals"]["versionsShredded"].as_u64(), Some(0));
    report
}
