//! Matchmaker Exchange between two national nodes, with real processes on loopback: clinicians
//! submit cases and ask for matches; the other country's node, a partner that is down, one that
//! answers garbage and one that records every byte it is sent are asked at once. The protocol's
//! errors (401, 403, 406, 415, 400, 422), national-only consent, the metrics API, the audit
//! trail, and that no submitter's patient id or label ever reaches a partner. (Similarity
//! against pyhpo and the MME JSON schema: `external::matchmaking`.)

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::passports::{audit_entries, wait_for_audit};
use crate::common::*;
use crate::network::silent_listener;

const MME: &str = "application/vnd.ga4gh.matchmaker.v1.0+json";
pub(crate) const DK_TO_SE: &str = "dk-asks-se-mme-token-0123456789abcdef";
const SE_TO_DK: &str = "se-asks-dk-mme-token-0123456789abcdef";
const TO_RECORDER: &str = "dk-asks-recorder-token-0123456789abcdef";
/// A submitter's own patient id and label: never stored, never sent.
const LOCAL_ID: &str = "0101901234";
const LABEL: &str = "Jens Jensen";

/// An MME POST with its own headers; status, response head and JSON body.
pub(crate) fn mme_post(address: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, Value) {
    mme_exchange(address, "POST", path, headers, body)
}

fn mme_exchange(address: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, Value) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), serde_json::from_str(body).unwrap_or(Value::Null))
}

fn clinician_post(server: &Server, path: &str, token: &str, body: &Value) -> (u16, String, Value) {
    let auth = format!("Bearer {token}");
    mme_post(
        &server.address,
        path,
        &[("Content-Type", MME), ("Accept", MME), ("Authorization", &auth)],
        &body.to_string(),
    )
}

pub(crate) fn partner_post(address: &str, token: &str, body: &Value) -> (u16, String, Value) {
    mme_post(
        address,
        "/mme/match",
        &[("Content-Type", MME), ("Accept", MME), ("X-Auth-Token", token)],
        &body.to_string(),
    )
}

pub(crate) fn patient(id: &str, contact: &str, features: &[&str], genes: &[&str]) -> Value {
    json!({
        "id": id,
        "contact": {"name": contact, "institution": "University Hospital", "href": format!("mailto:{}", contact.replace(' ', ".").to_lowercase() + "@example.org")},
        "features": features.iter().map(|f| json!({"id": f})).collect::<Vec<_>>(),
        "genomicFeatures": genes.iter().map(|g| json!({"gene": {"id": g}})).collect::<Vec<_>>(),
    })
}

/// Registers an MME partner through the CLI (tokens on standard input).
pub(crate) fn add_partner(node: &Path, id: &str, url: Option<&str>, send: Option<&str>, accept: Option<&str>) {
    let mut args = vec!["mme", "partner", node.to_str().unwrap(), "--id", id];
    if let Some(url) = url {
        args.extend(["--url", url, "--token-stdin"]);
    }
    if accept.is_some() {
        args.push("--accept-token-stdin");
    }
    let mut child = oresund().args(&args).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let input = [send, accept].iter().flatten().map(|t| format!("{t}\n")).collect::<String>();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A partner that records every request's bytes and answers with no results.
fn recorder() -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
            let mut buffer = [0u8; 65536];
            while let Ok(n) = stream.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                keep.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
            let body = r#"{"results": []}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {MME}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (address, seen)
}

#[test]
fn clinicians_find_a_cross_border_match_and_nothing_else_crosses() {
    // Sweden: a node whose clinician keeps a cross-border case and a national-only one.
    let se_node = TestNode::new("GMS", "SE");
    let se_clinician = token(&se_node.dir, &["--user", "dr.svensson@ki.se", "--clinician"]);
    add_partner(&se_node.dir, "DK-NGC", None, None, Some(DK_TO_SE));
    let se = Server::start(&se_node.dir, &[]);
    let kcnq2_case = patient("SE-77", "Dr Svensson", &["HP:0001250", "HP:0001263", "HP:0002376"], &["ENSG00000075043"]);
    let (status, head, body) =
        clinician_post(&se, "/mme/patients", &se_clinician, &json!({"patient": kcnq2_case, "crossBorder": true}));
    assert_eq!(status, 200, "{body}");
    assert!(head.contains(&format!("content-type: {MME}")), "{head}");
    let se_case = body["id"].as_str().unwrap().to_string();
    assert!(se_case.starts_with("GMS-MME-") && !se_case.contains("SE-77"));
    let national = patient("SE-78", "Dr Svensson", &["HP:0001250", "HP:0001263", "HP:0002376"], &["KCNQ2"]);
    let (status, _, body) = clinician_post(&se, "/mme/patients", &se_clinician, &json!({"patient": national}));
    assert_eq!((status, body["crossBorder"].as_bool()), (200, Some(false)), "{body}");

    // Denmark: its clinician's node asks Sweden, a recorder, a partner that never answers and one
    // that answers garbage, within 1.5 s.
    let dk_node = TestNode::new("DK-NGC", "DK");
    let dk_clinician = token(&dk_node.dir, &["--user", "dr.hansen@rh.dk", "--clinician"]);
    let researcher = token(&dk_node.dir, &["--user", "researcher@ku.dk", "--registered"]);
    let (recorder_address, recorded) = recorder();
    let (_silent, silent) = silent_listener();
    let garbage =
        crate::network::garbage_server("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!");
    let mut config = std::fs::OpenOptions::new().append(true).open(dk_node.dir.join("oresund.toml")).unwrap();
    writeln!(config, "\n[mme]\ntimeout_ms = 1500\ndisclaimer = \"For clinical research use.\"").unwrap();
    drop(config);
    add_partner(&dk_node.dir, "GMS", Some(&format!("http://{}/mme/match", se.address)), Some(DK_TO_SE), Some(SE_TO_DK));
    add_partner(
        &dk_node.dir,
        "RECORDER",
        Some(&format!("http://{recorder_address}/mme/match")),
        Some(TO_RECORDER),
        None,
    );
    add_partner(&dk_node.dir, "DOWN", Some(&format!("http://{silent}/mme/match")), Some(TO_RECORDER), None);
    add_partner(&dk_node.dir, "GARBAGE", Some(&format!("http://{garbage}/mme/match")), Some(TO_RECORDER), None);
    let dk = Server::start(&dk_node.dir, &[]);
    let mut query = patient(LOCAL_ID, "Dr Hansen", &["HP:0001250", "HP:0001263"], &["KCNQ2"]);
    query["label"] = json!(LABEL);
    query["genomicFeatures"][0]["variant"] = json!({"assembly": "GRCh38", "referenceName": "22", "start": 17000016, "referenceBases": "C", "alternateBases": "A"});
    let (status, _, body) =
        clinician_post(&dk, "/mme/patients", &dk_clinician, &json!({"patient": query, "crossBorder": true}));
    assert_eq!(status, 200, "{body}");

    let started = Instant::now();
    let (status, head, answer) = clinician_post(&dk, "/mme/match", &dk_clinician, &json!({"patient": query}));
    let took = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert!(head.contains(&format!("content-type: {MME}")), "{head}");
    assert!(took < Duration::from_millis(4000), "partial answer within the timeout, took {took:?}");
    assert_eq!(answer["disclaimer"], "For clinical research use.");
    let statuses: Vec<(String, String)> = answer["_nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["node"].as_str().unwrap().to_string(), n["status"].as_str().unwrap().to_string()))
        .collect();
    let expected = [("DK-NGC", "ok"), ("GMS", "ok"), ("RECORDER", "ok"), ("DOWN", "timeout"), ("GARBAGE", "error")];
    assert_eq!(statuses, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    // The only match is Sweden's cross-border case (its own case is never matched to itself; the
    // national-only one stays in Sweden), through KCNQ2 named by its Ensembl id.
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{answer:#}");
    assert_eq!(results[0]["_node"], "GMS");
    assert_eq!(results[0]["patient"]["id"], se_case.as_str());
    assert_eq!(results[0]["patient"]["contact"]["name"], "Dr Svensson");
    let score = results[0]["score"]["patient"].as_f64().unwrap();
    assert!(score > 0.5 && score <= 1.0, "{score}");

    // What the recorder received: the query under Denmark's case id, with the token configured
    // for it; never the submitter's id or label.
    let bytes = String::from_utf8_lossy(&recorded.lock().unwrap()).into_owned();
    assert!(bytes.contains(&format!("x-auth-token: {TO_RECORDER}")), "{bytes}");
    assert!(bytes.contains("DK-NGC-MME-") && bytes.contains("HP:0001250"), "{bytes}");
    assert!(!bytes.contains(LOCAL_ID) && !bytes.contains(LABEL), "{bytes}");
    // A case kept for national matching is never sent to a partner, not even as a query.
    let recorded_before = recorded.lock().unwrap().len();
    let national_case = patient("DK-NAT-1", "Dr Hansen", &["HP:0001250"], &["SCN1A"]);
    let (status, _, _) = clinician_post(&dk, "/mme/patients", &dk_clinician, &json!({"patient": national_case}));
    assert_eq!(status, 200);
    let (status, _, answer) = clinician_post(&dk, "/mme/match", &dk_clinician, &json!({"patient": national_case}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["_nodes"].as_array().map(Vec::len), Some(1), "only this node: {answer}");
    assert!(answer["_warnings"].to_string().contains("national matching only"), "{answer}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(recorded.lock().unwrap().len(), recorded_before, "nothing reached the recorder");
    let (_, _, listed) =
        mme_exchange(&dk.address, "GET", "/mme/patients", &[("Authorization", &format!("Bearer {dk_clinician}"))], "");
    assert!(!listed.to_string().contains(LOCAL_ID) && !listed.to_string().contains(LABEL), "{listed}");

    // Sweden answered Denmark once (counted) and audited it under the partner.
    wait_for_audit(&se_node.dir, &["--user", "mme-partner:DK-NGC"], |e| e["record"]["action"] == "mme.match");
    // The counters are written off the answer's path: they may lag it a little.
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let (status, _, metrics) = mme_exchange(&se.address, "GET", "/mme/metrics", &[("X-Auth-Token", DK_TO_SE)], "");
        assert_eq!(status, 200, "{metrics}");
        if metrics["metrics"]["numberOfRequestsReceived"].as_u64() == Some(1) || Instant::now() > deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let m = &metrics["metrics"];
    assert_eq!((m["numberOfCases"].as_u64(), m["numberOfRequestsReceived"].as_u64()), (Some(2), Some(1)), "{metrics}");
    assert_eq!((m["numberOfPotentialMatchesSent"].as_u64(), m["numberOfSubmitters"].as_u64()), (Some(1), Some(1)));
    assert_eq!(
        (m["numberOfUniqueGenes"].as_u64(), m["numberOfUniqueFeatures"].as_u64()),
        (Some(1), Some(3)),
        "KCNQ2 by two names is one gene"
    );

    // A test request is answered but not counted.
    let (status, _, _) = partner_post(&se.address, DK_TO_SE, &json!({"patient": query, "test": true}));
    assert_eq!(status, 200);
    let (_, _, metrics) = mme_exchange(&se.address, "GET", "/mme/metrics", &[("X-Auth-Token", DK_TO_SE)], "");
    assert_eq!(metrics["metrics"]["numberOfRequestsReceived"].as_u64(), Some(1));

    // Denmark's audit trail: the case, the match, and one ask per partner.
    wait_for_audit(&dk_node.dir, &["--user", "dr.hansen@rh.dk"], |e| e["record"]["action"] == "mme.list");
    let actions: Vec<String> = audit_entries(&dk_node.dir, &["--user", "dr.hansen@rh.dk"])
        .iter()
        .map(|e| e["record"]["action"].as_str().unwrap().to_string())
        .collect();
    for action in ["mme.case", "mme.match", "mme.ask", "mme.list"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| *a == "mme.ask").count(), 4);
    let log = serde_json::to_string(&audit_entries(&dk_node.dir, &[])).unwrap();
    assert!(!log.contains(LOCAL_ID) && !log.contains(LABEL), "the audit log holds no patient id");

    // Each node's report counts what its audit log and its cases say.
    let report = |node: &Path| -> Value {
        serde_json::from_str(&ok(&["report", node.to_str().unwrap(), "--format", "json"])).unwrap()
    };
    let figures =
        |r: &Value, names: &[&str]| names.iter().map(|n| r["matchmaking"][n].as_u64().unwrap()).collect::<Vec<_>>();
    let dk_report = report(&dk_node.dir);
    let names = [
        "cases",
        "crossBorderCases",
        "submitters",
        "clinicianRequests",
        "matchesFound",
        "partnersAsked",
        "partnersFailed",
    ];
    // Two requests: Sweden's case for the first, Denmark's own cross-border case for the national one.
    assert_eq!(figures(&dk_report, &names), [2, 1, 1, 2, 2, 4, 2], "{:#}", dk_report["matchmaking"]);
    let se_report = report(&se_node.dir);
    let names = ["cases", "crossBorderCases", "partnerRequests", "matchesSent"];
    assert_eq!(
        figures(&se_report, &names),
        [2, 1, 1, 1],
        "the test request is not counted: {:#}",
        se_report["matchmaking"]
    );

    // The researcher's token is not a clinician's; removing is for the submitter only.
    let (status, _, body) = clinician_post(&dk, "/mme/match", &researcher, &json!({"patient": query}));
    assert_eq!(status, 403, "{body}");
    let other = token(&se_node.dir, &["--user", "dr.other@ki.se", "--clinician"]);
    drop(se);
    let se = Server::start(&se_node.dir, &[]); // new tokens are read at start
    let remove = |token: &str, id: &str| {
        mme_exchange(
            &se.address,
            "DELETE",
            &format!("/mme/patients/{id}"),
            &[("Authorization", &format!("Bearer {token}"))],
            "",
        )
    };
    assert_eq!(remove(&other, &se_case).0, 404, "another clinician's case is not theirs");
    let (status, _, body) = remove(&se_clinician, "SE-77");
    assert_eq!((status, body["removed"].as_str()), (200, Some(se_case.as_str())), "by the submitter's own id");
    assert_eq!(remove(&se_clinician, &se_case).0, 404, "removed once");
    let (_, _, answer) = partner_post(&se.address, DK_TO_SE, &json!({"patient": query}));
    assert_eq!(answer["results"], json!([]), "gone from every answer");
}

#[test]
fn protocol_errors_follow_the_mme_api() {
    let node = TestNode::new("GMS", "SE");
    add_partner(&node.dir, "DK-NGC", None, None, Some(DK_TO_SE));
    let server = Server::start(&node.dir, &[]);
    let query = json!({"patient": patient("Q1", "Dr A", &["HP:0001250"], &[])}).to_string();
    let post = |headers: &[(&str, &str)], body: &str| mme_post(&server.address, "/mme/match", headers, body);
    let ok_headers = [("Content-Type", MME), ("Accept", MME), ("X-Auth-Token", DK_TO_SE)];

    let (status, _, body) = post(&ok_headers, &query);
    assert_eq!((status, body["results"].clone()), (200, json!([])), "no cases: an empty list");
    let (status, _, body) = post(&[("Content-Type", MME)], &query);
    assert_eq!(status, 401, "{body}");
    assert!(body["message"].is_string());
    let (status, _, _) =
        post(&[("Content-Type", MME), ("X-Auth-Token", "a-guess-that-is-long-enough-to-try-0000")], &query);
    assert_eq!(status, 401);
    let (status, _, body) = post(&[("Content-Type", "text/plain"), ("X-Auth-Token", DK_TO_SE)], &query);
    assert_eq!(status, 415, "{body}");
    let v2 = "application/vnd.ga4gh.matchmaker.v2.0+json";
    let (status, head, body) = post(&[("Content-Type", MME), ("Accept", v2), ("X-Auth-Token", DK_TO_SE)], &query);
    assert_eq!(status, 406, "{body}");
    assert_eq!(body["supportedVersions"], json!(["1.0", "1.1"]));
    assert!(head.contains(&format!("content-type: {MME}")));
    let (status, _, _) = post(&ok_headers, "{\"patient\": ");
    assert_eq!(status, 400);
    let (status, _, body) = post(&ok_headers, "{\"query\": {}}");
    assert_eq!(status, 422, "{body}");
    let bad = json!({"patient": patient("Q1", "Dr A", &["seizures"], &[])}).to_string();
    let (status, _, body) = post(&ok_headers, &bad);
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("patient.features[0].id"), "{body}");
    let empty = json!({"patient": patient("Q1", "Dr A", &[], &[])}).to_string();
    assert_eq!(post(&ok_headers, &empty).0, 422, "a patient needs features or genomicFeatures");
    // Partners ask; they keep no cases here.
    let (status, _, _) = mme_post(&server.address, "/mme/patients", &ok_headers, &query);
    assert_eq!(status, 403);
    let refused = wait_for_audit(&node.dir, &["--user", "mme-partner:?"], |e| e["record"]["action"] == "auth");
    assert_eq!(refused["record"]["decision"], "denied", "an unknown token is audited");
}
