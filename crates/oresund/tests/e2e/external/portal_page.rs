//! The two-country demo and its web page, driven in headless Chromium: the page loads, runs a
//! query, and shows per-country and pooled numbers equal to the network API's. A screenshot is
//! saved to `ci-artifacts/portal.png` (the CI artifact the README names).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::common::*;
use serde_json::Value;

/// `oresund demo` on three consecutive free ports, stopped when dropped.
struct Demo {
    child: Child,
    _stdin: std::process::ChildStdin,
    port: u16,
    /// The researcher token the demo prints (CONTROLLED on both cohorts).
    token: String,
    /// The Danish demo clinician's token (matchmaking).
    clinician: String,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn start() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        for attempt in 0..20u16 {
            let port = 20_000 + (std::process::id() as u16 % 2000) * 10 + attempt * 3;
            let mut child = oresund()
                .args([
                    "demo",
                    "--dir",
                    dir.path().join("demo").to_str().unwrap(),
                    "--port",
                    &port.to_string(),
                    "--until-stdin-closes",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdin = child.stdin.take().unwrap();
            let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
            let started = lines.by_ref().map_while(Result::ok).any(|l| l.contains("portal (web page)"));
            let token = lines
                .by_ref()
                .map_while(Result::ok)
                .find_map(|l| l.split("researcher token: ").nth(1).map(str::to_string));
            let clinician = lines
                .by_ref()
                .map_while(Result::ok)
                .find_map(|l| l.split("DK clinician token: ").nth(1).map(str::to_string));
            if let (true, Some(token), Some(clinician)) = (started, token, clinician) {
                std::thread::spawn(move || for _ in lines {});
                return Demo { child, _stdin: stdin, port, token, clinician, _dir: dir };
            }
            let _ = child.wait();
        }
        panic!("the demo did not start on any port tried");
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshot_path() -> PathBuf {
    artifact("portal.png")
}

fn artifact(name: &str) -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ci-artifacts"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// How the page prints a count: `5†` when imprecise.
fn shown(count: &Value, precision: &Value) -> String {
    let n = count.as_u64().unwrap();
    if precision == "imprecise" { format!("{n}†") } else { n.to_string() }
}

#[test]
fn the_portal_page_shows_what_the_network_api_answers() {
    require("node", "apt-get install -y nodejs npm");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Chromium is required: apt-get install -y chromium (./test does)"
    );
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web");
    assert!(
        std::path::Path::new(web).join("node_modules/playwright-core").exists(),
        "playwright-core is required: npm ci --prefix {web} (./test does)"
    );
    let demo = Demo::start();
    let portal = format!("127.0.0.1:{}", demo.port);
    let screenshot = screenshot_path();
    let _ = std::fs::remove_file(&screenshot);
    let page = browse("portal.mjs", &[&format!("http://{portal}/"), "22-17000017-C-A", screenshot.to_str().unwrap()]);
    assert!(page["title"].as_str().unwrap().contains("Øresund"));
    assert_eq!(page["problems"], serde_json::json!([]), "no script errors");
    assert!(page["status"].as_str().unwrap().starts_with("2 of 2 nodes answered"), "{page}");
    assert_eq!(page["variant"], "22-17000017-C-A");

    // The same question to the API: the page must show exactly its per-country and pooled figures.
    let (status, answer) = http(
        &portal,
        "GET",
        "/network/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count&includeResultsetResponses=ALL&limit=1000",
        None,
        None,
    );
    assert_eq!(status, 200);
    let pooled = &answer["info"]["pooled"]["variants"][0];
    assert_eq!(page["shown"]["pooled"]["ac"], shown(&pooled["alleleCount"], &pooled["countPrecision"]));
    assert_eq!(page["shown"]["pooled"]["an"], pooled["alleleNumber"].as_u64().unwrap().to_string());
    for node in pooled["nodes"].as_object().unwrap().values() {
        let country = node["country"].as_str().unwrap();
        assert_eq!(page["shown"][country]["ac"], shown(&node["alleleCount"], &node["countPrecision"]), "{country}");
        assert_eq!(page["shown"][country]["an"], node["alleleNumber"].as_u64().unwrap().to_string(), "{country}");
    }
    // 1,000 alleles called in each country of 500 people; the Danish carrier count is below 5.
    assert_eq!(page["shown"]["DK"]["an"], "1000");
    assert!(page["shown"]["DK"]["ac"].as_str().unwrap().ends_with('†'));
    let size = std::fs::metadata(&screenshot).unwrap().len();
    assert!(size > 10_000, "a screenshot of the page was saved ({size} bytes)");
}

#[test]
fn the_association_page_plots_what_the_network_answers_and_the_disease_variant_stands_out() {
    require("node", "apt-get install -y nodejs npm");
    let demo = Demo::start();
    let portal = format!("127.0.0.1:{}", demo.port);
    let screenshot = screenshot_path().with_file_name("association.png");
    let _ = std::fs::remove_file(&screenshot);
    let page = browse(
        "association.mjs",
        &[
            &format!("http://{portal}/"),
            &demo.token,
            "HP:0001250",
            "22:16000000-17100000",
            screenshot.to_str().unwrap(),
        ],
    );
    assert_eq!(page["problems"], serde_json::json!([]), "no script errors: {page}");
    assert!(page["status"].as_str().unwrap().starts_with("2 of 2 nodes answered"), "{page}");
    // The plot: the disease variant (demo-data/truth.json) is the highest dot, far above the next.
    let highest = &page["highest"];
    assert_eq!(highest["variant"], DISEASE_VARIANT, "{page}");
    let (top, second, height) = (
        highest["cy"].as_f64().unwrap(),
        highest["secondCy"].as_f64().unwrap(),
        highest["plotHeight"].as_f64().unwrap(),
    );
    assert!(second - top > height / 4.0, "it stands out: {highest}");

    // The same question to the API: as many pooled dots as variants with a p, the same top row.
    let body = r#"{"cases": {"filters": [{"id": "HP:0001250"}]}, "controls": {"filters": []},
                   "referenceName": "22", "start": 15999999, "end": 17100000}"#;
    let (status, answer) = http(&portal, "POST", "/network/association", Some(&demo.token), Some(body));
    assert_eq!(status, 200, "{answer}");
    let results = answer["response"]["results"].as_array().unwrap();
    let with_p = results.iter().filter(|r| r["p"].is_number()).count();
    assert_eq!(page["pooledDots"].as_u64().unwrap() as usize, with_p);
    let disease = results.iter().find(|r| r["variantInternalId"] == DISEASE_VARIANT).unwrap();
    let row = &page["top"][0];
    assert_eq!(row["variant"], DISEASE_VARIANT);
    assert_eq!(row["p"], "3.48e-14");
    assert_eq!(row["or"], "40.1 [8.38, 192]");
    for (node, country) in [("DK-NGC", "DK"), ("GMS", "SE")] {
        let n = &disease["nodes"][node];
        let counts = format!("{}/{} · {}/{}", n["caseAlt"], n["caseRef"], n["controlAlt"], n["controlRef"]);
        assert_eq!(row["counts"][country], counts, "{country}");
    }
    let size = std::fs::metadata(&screenshot).unwrap().len();
    assert!(size > 10_000, "a screenshot of the page was saved ({size} bytes)");

    // Without the token the demo's anonymous tier (thresholded counts) hides the small tables:
    // the disease variant is not testable in either country and has no pooled p.
    let (status, answer) = http(&portal, "POST", "/network/association", None, Some(body));
    assert_eq!(status, 200, "{answer}");
    let disease = answer["response"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["variantInternalId"] == DISEASE_VARIANT)
        .unwrap();
    assert_eq!(disease["p"], Value::Null, "{disease}");
    assert_eq!(disease["countries"], serde_json::json!([]), "{disease}");
}

const DISEASE_VARIANT: &str = "22-17000017-C-A";

/// Runs a script of `tests/web` in Node (headless Chromium) and parses the JSON it prints.
fn browse(script: &str, args: &[&str]) -> Value {
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web");
    let out = Command::new("node").arg(format!("{web}/{script}")).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "the browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `tests/web/files.mjs` on a node's page with `token`.
fn files_page(address: &str, token: &str, screenshot: &std::path::Path) -> Value {
    browse("files.mjs", &[&format!("http://{address}/portal/"), token, screenshot.to_str().unwrap()])
}

#[test]
fn the_portal_page_lists_a_researchers_files_as_the_api_does() {
    require("node", "apt-get install -y nodejs npm");
    let f = crate::delivery::fixture();
    let server = Server::start(&f.node.dir, &[]);
    let (status, api) = server.get("/delivery/files", Some(&f.controlled));
    assert_eq!(status, 200, "{api}");
    let listed: Vec<&str> = api["files"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [f.aligned.as_str(), f.unaligned.as_str()]);
    let screenshot = screenshot_path().with_file_name("portal-files.png");
    let page = files_page(&server.address, &f.controlled, &screenshot);
    assert_eq!(page["problems"], serde_json::json!([]), "no script errors: {page}");
    assert_eq!(page["status"], "2 files you may receive.");
    let rows = page["rows"].as_array().unwrap();
    for (row, file) in rows.iter().zip(api["files"].as_array().unwrap()) {
        let cells: Vec<&str> = row["cells"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        let want = [&file["id"], &file["dataset"], &file["name"], &file["self_uri"], &file["htsget"]];
        assert_eq!(cells, want.map(|v| v.as_str().unwrap()), "{page}");
    }
    assert_eq!(rows.len(), 2);
    // A registered researcher without a grant sees none, and is told why.
    let page = files_page(&server.address, &f.registered, &screenshot);
    assert!(page["status"].as_str().unwrap().starts_with("Your token grants no dataset"), "{page}");
    assert_eq!(page["rows"], serde_json::json!([]));
    let (status, api) = server.get("/delivery/files", None);
    assert_eq!((status, api["status_code"].as_u64()), (401, Some(401)), "{api}");
}

#[test]
fn the_clinicians_page_finds_the_cross_border_case_the_api_finds() {
    require("node", "apt-get install -y nodejs npm");
    let demo = Demo::start();
    let dk = format!("127.0.0.1:{}", demo.port + 1);
    let screenshot = artifact("mme.png");
    let terms = ["seizu:HP:0001250", "infantile spa:HP:0012469"];
    let mut args =
        vec![format!("http://{dk}/"), demo.clinician.clone(), "KCNQ2".into(), screenshot.to_str().unwrap().into()];
    args.extend(terms.iter().map(|t| t.to_string()));
    let page = browse("mme.mjs", &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(page["problems"], serde_json::json!([]), "{page}");
    assert_eq!(page["chosen"], serde_json::json!(["HP:0001250", "HP:0012469"]), "{page}");
    assert_eq!(page["suggestions"]["seizu"][0], "HP:0001250", "Seizure first among the suggestions: {page}");
    // The same query through the API.
    let query = serde_json::json!({"patient": {"id": "portal-query", "contact": {"name": "x", "href": "mailto:x@example.org"},
        "features": [{"id": "HP:0001250"}, {"id": "HP:0012469"}], "genomicFeatures": [{"gene": {"id": "KCNQ2"}}]}});
    let auth = format!("Bearer {}", demo.clinician);
    let headers = [("Content-Type", "application/vnd.ga4gh.matchmaker.v1.0+json"), ("Authorization", auth.as_str())];
    let (status, _, api) = crate::matchmaking::mme_post(&dk, "/mme/match", &headers, &query.to_string());
    assert_eq!(status, 200, "{api}");
    let mut by_node: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for r in api["results"].as_array().unwrap() {
        let node = r["_node"].as_str().unwrap().to_string();
        by_node.entry(node).or_default().push((
            r["patient"]["id"].as_str().unwrap().to_string(),
            format!("{:.3}", r["score"]["patient"].as_f64().unwrap()),
        ));
    }
    let shown: std::collections::BTreeMap<String, Vec<(String, String)>> = page["results"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(node, rows)| {
            let rows = rows.as_array().unwrap().iter();
            (
                node.clone(),
                rows.map(|r| (r["case"].as_str().unwrap().into(), r["score"].as_str().unwrap().into())).collect(),
            )
        })
        .collect();
    assert_eq!(shown, by_node, "the page shows what the API answers");
    // Sweden's cross-border KCNQ2 case is found, its national-only one is not.
    let se = &page["results"]["GMS"];
    assert_eq!(se.as_array().map(Vec::len), Some(1), "{page}");
    assert!(se[0]["contact"].as_str().unwrap().contains("Dr Lars Svensson (demo)"), "{page}");
    assert!(se[0]["genes"].as_str().unwrap().contains("KCNQ2"), "{page}");
    assert!(se[0]["features"].as_str().unwrap().contains("HP:0012469"), "{page}");
    assert_eq!(page["nodes"].as_array().map(Vec::len), Some(2), "{page}");
}
