//! Federation with real processes on loopback: two national nodes and a portal. A node that is
//! down, slow or answers garbage gives a partial answer within the timeout; unknown or badly
//! signed peers get 401; and nothing individual-level is in the bytes a node returns to the
//! network. A region's network total and pages are those of the union of the nodes' own answers.
//! (Pooled counts against bcftools: `external::network`.)

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use oresund_server::network::signature::{Signed, unix_now};

pub(crate) const SECRET_DK: &str = "dk-portal-shared-secret-0123456789abcdef";
pub(crate) const SECRET_SE: &str = "se-portal-shared-secret-0123456789abcdef";
/// One researcher token, registered on both nodes with controlled access to both datasets.
pub(crate) const TOKEN: &str = "controlled-researcher-token-0123456789abcdef";

/// A node of one country, serving, with the portal as its only (incoming) peer.
pub(crate) fn national_node(node_id: &str, country: &str, dataset: &str, secret: &str) -> (TestNode, Server) {
    let node = TestNode::new(node_id, country);
    node.ingest(dataset, country);
    let mut child = oresund()
        .args([
            "token",
            "add",
            node.path(),
            "--user",
            "researcher@example.org",
            "--registered",
            "--controlled",
            dataset,
            "--token-stdin",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(TOKEN.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let mut config = std::fs::OpenOptions::new().append(true).open(node.dir.join("oresund.toml")).unwrap();
    writeln!(config, "\n[[network.peers]]\nid = \"PORTAL\"\ncountry = \"EU\"\nsecret = \"{secret}\"").unwrap();
    let server = Server::start(&node.dir, &[]);
    (node, server)
}

/// The two countries' nodes (DK-NGC with DK-1, GMS with SE-1), serving, and a portal asking both.
pub(crate) struct TwoCountries {
    pub(crate) dk_node: TestNode,
    pub(crate) dk: Server,
    pub(crate) se_node: TestNode,
    pub(crate) se: Server,
    pub(crate) portal: Portal,
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) fn two_countries(timeout_ms: u64) -> TwoCountries {
    let (dk_node, dk) = national_node("DK-NGC", "DK", "DK-1", SECRET_DK);
    let (se_node, se) = national_node("GMS", "SE", "SE-1", SECRET_SE);
    let dir = tempfile::tempdir().unwrap();
    let portal = Portal::start(
        dir.path(),
        &peers_file(
            timeout_ms,
            &[
                ("DK-NGC", "DK", format!("http://{}", dk.address), SECRET_DK),
                ("GMS", "SE", format!("http://{}", se.address), SECRET_SE),
            ],
        ),
    );
    TwoCountries { dk_node, dk, se_node, se, portal, dir }
}

/// `oresund portal` with the given peers file text, stopped when dropped.
pub(crate) struct Portal {
    child: Child,
    pub(crate) address: String,
}

impl Portal {
    pub(crate) fn start(dir: &Path, peers: &str) -> Portal {
        let file = dir.join("peers.toml");
        std::fs::write(&file, peers).unwrap();
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let child = oresund()
            .args(["portal", "--peers", file.to_str().unwrap(), "--listen", &address])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(&address).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Portal { child, address }
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn peers_file(timeout_ms: u64, peers: &[(&str, &str, String, &str)]) -> String {
    let mut text = format!("timeout_ms = {timeout_ms}\n");
    for (id, country, url, secret) in peers {
        text.push_str(&format!(
            "\n[[peers]]\nid = \"{id}\"\ncountry = \"{country}\"\nurl = \"{url}\"\nsecret = \"{secret}\"\n"
        ));
    }
    text
}

/// A listener that accepts connections and never answers.
pub(crate) fn silent_listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    (listener, address)
}

/// A listener that answers every request with `response`.
pub(crate) fn garbage_server(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    address
}

#[test]
fn a_node_down_slow_or_broken_gives_a_partial_answer_in_time() {
    let (_dk, dk) = national_node("DK-NGC", "DK", "DK-1", SECRET_DK);
    // A port nothing listens on, for good: a port that was merely free a moment ago may be taken
    // by another test's node meanwhile (it was: that node then answered 401 for "DOWN").
    let down = "127.0.0.1:1".to_string();
    let (_slow_listener, slow) = silent_listener();
    let garbage = garbage_server("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!");
    let tmp = tempfile::tempdir().unwrap();
    let timeout_ms = 1500;
    let portal = Portal::start(
        tmp.path(),
        &peers_file(
            timeout_ms,
            &[
                ("DK-NGC", "DK", format!("http://{}", dk.address), SECRET_DK),
                ("DOWN", "SE", format!("http://{down}"), SECRET_SE),
                ("SLOW", "NO", format!("http://{slow}"), SECRET_SE),
                ("BROKEN", "FI", format!("http://{garbage}"), SECRET_SE),
            ],
        ),
    );
    let started = Instant::now();
    let (status, answer) = http(
        &portal.address,
        "GET",
        "/network/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count",
        None,
        None,
    );
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert!(elapsed < Duration::from_millis(timeout_ms + 1000), "answered after {elapsed:?}");
    let status_of =
        |id: &str| answer["info"]["nodes"].as_array().unwrap().iter().find(|n| n["beaconId"] == id).cloned().unwrap();
    assert_eq!(status_of("DK-NGC")["status"], "ok");
    assert_eq!(answer["responseSummary"]["exists"], true, "DK's answer still counts");
    for (id, reason) in [("DOWN", "unreachable"), ("SLOW", "no answer within 1500 ms"), ("BROKEN", "not JSON")] {
        let node = status_of(id);
        assert_eq!(node["status"], "unavailable", "{node}");
        assert!(node["error"].as_str().unwrap().contains(reason), "{id}: {node}");
    }

    // No node answered at all: a gateway error naming each node's problem, not an empty answer.
    let lonely = tempfile::tempdir().unwrap();
    let portal =
        Portal::start(lonely.path(), &peers_file(timeout_ms, &[("DOWN", "SE", format!("http://{down}"), SECRET_SE)]));
    let (status, answer) =
        http(&portal.address, "GET", "/network/g_variants?referenceName=22&start=1&end=100", None, None);
    assert_eq!(status, 502, "{answer}");
    assert!(answer["error"]["errorMessage"].as_str().unwrap().contains("DOWN: unreachable"), "{answer}");
    // The only node refuses the portal's signature (a wrong secret): a set-up fault, 502.
    let refused = tempfile::tempdir().unwrap();
    let portal = Portal::start(
        refused.path(),
        &peers_file(timeout_ms, &[("DK-NGC", "DK", format!("http://{}", dk.address), SECRET_SE)]),
    );
    let (status, answer) =
        http(&portal.address, "GET", "/network/g_variants?referenceName=22&start=1&end=100", None, None);
    assert_eq!(status, 502, "{answer}");
    assert!(answer["error"]["errorMessage"].as_str().unwrap().contains("signature does not match"), "{answer}");
}

#[test]
fn only_configured_and_correctly_signed_peers_are_answered() {
    let (_dk, dk) = national_node("DK-NGC", "DK", "DK-1", SECRET_DK);
    let path = "/network/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count";
    let signed = |peer: &str, secret: &str, timestamp: u64| {
        let signature =
            Signed { peer, method: "GET", path_and_query: path, body: b"", authorization: "" }.sign(secret, timestamp);
        raw_get(
            &dk.address,
            path,
            &[
                ("X-Oresund-Peer", peer),
                ("X-Oresund-Timestamp", &timestamp.to_string()),
                ("X-Oresund-Signature", &signature),
            ],
        )
    };
    let now = unix_now();
    let (status, body) = signed("PORTAL", SECRET_DK, now);
    assert_eq!(status, 200, "{body}");
    for (peer, secret, timestamp, reason) in [
        ("INTRUDER", SECRET_DK, now, "not a configured peer"),
        ("PORTAL", "a wrong secret of more than 32 characters", now, "signature does not match"),
        ("PORTAL", SECRET_DK, now - 3600, "timestamp"),
    ] {
        let (status, body) = signed(peer, secret, timestamp);
        assert_eq!(status, 401, "{peer}: {body}");
        assert!(body.contains(reason), "{body}");
    }
    let (status, _) = raw_get(&dk.address, path, &[("X-Oresund-Peer", "PORTAL")]);
    assert_eq!(status, 401, "a peer id without a signature is refused");
}

#[test]
fn nothing_individual_level_crosses_the_border() {
    let (dk_node, dk) = national_node("DK-NGC", "DK", "DK-1", SECRET_DK);
    // Everything that would identify a person or reveal a genotype.
    let key = std::fs::read(dk_node.dir.join("secrets/pseudonym.key")).unwrap();
    let pseudonymiser = oresund_core::pseudonym::Pseudonymiser::new(&key).unwrap();
    let tsv = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let local_ids: Vec<String> = tsv.lines().skip(1).map(|l| l.split('\t').next().unwrap().to_string()).collect();
    let mut forbidden: Vec<String> = local_ids.iter().map(|id| pseudonymiser.pseudonym(id).to_string()).collect();
    forbidden.extend(local_ids);
    forbidden.extend(["0/1", "1/1", "0|1", "1|0", "1|1", "./.", "caseLevelData", "\"results\":[{"].map(String::from));
    let queries = [
        "/network/g_variants?referenceName=22&start=16000000&end=16200000&requestedGranularity=record&limit=1000",
        "/network/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=record",
        "/network/g_variants/22-17000017-C-A/individuals?requestedGranularity=record",
        "/network/individuals?filters=HP:0001250&requestedGranularity=record",
        "/network/individuals?requestedGranularity=record&limit=1000",
    ];
    for path in queries {
        // Exactly the bytes the node returns to a (correctly signed) network query, with the
        // token of a caller who could see records on the node itself.
        let authorization = format!("Bearer {TOKEN}");
        let timestamp = unix_now();
        let signature =
            Signed { peer: "PORTAL", method: "GET", path_and_query: path, body: b"", authorization: &authorization }
                .sign(SECRET_DK, timestamp);
        let (status, body) = raw_get(
            &dk.address,
            path,
            &[
                ("X-Oresund-Peer", "PORTAL"),
                ("X-Oresund-Timestamp", &timestamp.to_string()),
                ("X-Oresund-Signature", &signature),
                ("Authorization", &authorization),
            ],
        );
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains("\"returnedGranularity\":\"count\""), "{path}: capped at count: {body}");
        for needle in &forbidden {
            assert!(!body.contains(needle.as_str()), "{path}: the network answer contains {needle:?}");
        }
    }
}

/// variant → (AC, AN) over every page of one node's own `/g_variants` answer, summed over its
/// datasets (the node's rows include variants no one carries there: their AN pools too).
fn own_rows(node: &Server, region: &str) -> BTreeMap<String, (u64, u64)> {
    let mut rows: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for skip in (0..).step_by(1000) {
        let path = format!("/g_variants?{region}&requestedGranularity=count&skip={skip}&limit=1000");
        let (status, answer) = node.get(&path, Some(TOKEN));
        assert_eq!(status, 200, "{answer}");
        let mut full = false;
        for set in answer["response"]["resultSets"].as_array().unwrap() {
            let page = set["info"]["variants"].as_array().unwrap();
            full |= page.len() == 1000;
            for row in page {
                assert_eq!(row["countPrecision"], "exact", "a controlled caller gets exact counts: {row}");
                let sums = rows.entry(row["variantInternalId"].as_str().unwrap().to_string()).or_default();
                sums.0 += row["alleleCount"].as_u64().unwrap();
                sums.1 += row["alleleNumber"].as_u64().unwrap();
            }
        }
        if !full {
            return rows;
        }
    }
    unreachable!()
}

/// The position of a `CHROM-POS-REF-ALT` id.
fn position(id: &str) -> u64 {
    id.rsplit('-').nth(2).unwrap().parse().unwrap()
}

#[test]
fn a_region_is_counted_and_paged_over_the_union_of_the_nodes() {
    // Generous: every node is asked for all its rows of a 1 Mb region, on a busy test machine.
    let net = two_countries(60_000);
    // Some 4,000 variants at each node (issue #17: the network total was the page size, 10).
    let region = "referenceName=22&start=16000000&end=17000000";
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for node in [&net.dk, &net.se] {
        let own = own_rows(node, region);
        assert!(own.len() > 3_000, "the region holds thousands of variants: {}", own.len());
        for (id, (ac, an)) in own {
            let sums = expected.entry(id).or_default();
            sums.0 += ac;
            sums.1 += an;
        }
    }
    expected.retain(|_, (ac, _)| *ac > 0);
    let page = |skip: usize, limit: usize| {
        let path = format!("/network/g_variants?{region}&requestedGranularity=count&skip={skip}&limit={limit}");
        let (status, answer) = http(&net.portal.address, "GET", &path, Some(TOKEN), None);
        assert_eq!(status, 200, "{answer}");
        assert!(answer["info"]["nodes"].as_array().unwrap().iter().all(|n| n["status"] == "ok"), "{answer}");
        assert_eq!(answer["responseSummary"]["numTotalResults"].as_u64(), Some(expected.len() as u64), "{skip}");
        answer
    };
    // Before issue #17 was fixed, a network query cost about one page at each node (concurrently).
    let started = Instant::now();
    assert_eq!(net.dk.get(&format!("/g_variants?{region}&requestedGranularity=count"), Some(TOKEN)).0, 200);
    let one_node_page = started.elapsed();
    let started = Instant::now();
    let first = page(0, 10);
    eprintln!("1 Mb region: one node's page {one_node_page:?}; the network's exact page {:?}", started.elapsed());
    assert_eq!(first["responseSummary"]["countPrecision"], "exact");
    assert_eq!(first["info"]["pooled"]["variants"].as_array().unwrap().len(), 10);

    let mut walked: Vec<(String, (u64, u64))> = Vec::new();
    let limit = 1000;
    for skip in (0..).step_by(limit) {
        let answer = page(skip, limit);
        let rows = answer["info"]["pooled"]["variants"].as_array().unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= limit);
        walked.extend(rows.iter().map(|r| {
            let id = r["variantInternalId"].as_str().unwrap().to_string();
            (id, (r["alleleCount"].as_u64().unwrap(), r["alleleNumber"].as_u64().unwrap()))
        }));
    }
    // One order across pages: by position (numerically), never a variant twice.
    assert!(walked.windows(2).all(|w| position(&w[0].0) <= position(&w[1].0) && w[0].0 != w[1].0));
    assert_eq!(walked.len(), expected.len(), "each pooled variant exactly once");
    let walked: BTreeMap<String, (u64, u64)> = walked.into_iter().collect();
    let wrong: Vec<_> = expected.iter().filter(|(id, sums)| walked.get(*id) != Some(sums)).take(5).collect();
    assert!(wrong.is_empty(), "pooled AC/AN differ from the sums of the nodes' own answers: {wrong:?}");

    // The same page asked by POST: skip and limit from `query.pagination`.
    let body = r#"{"query":{"requestParameters":{"referenceName":"22","start":[16000000],"end":[17000000]},
                 "requestedGranularity":"count","pagination":{"skip":2500,"limit":7}}}"#;
    let (status, posted) = http(&net.portal.address, "POST", "/network/g_variants", Some(TOKEN), Some(body));
    assert_eq!(status, 200, "{posted}");
    let asked = page(2500, 7);
    assert_eq!(posted["responseSummary"], asked["responseSummary"]);
    assert_eq!(posted["info"]["pooled"], asked["info"]["pooled"]);
    assert_eq!(posted["info"]["pooled"]["variants"].as_array().unwrap().len(), 7);
}

/// A GET with extra headers; returns status and body text.
pub(crate) fn raw_get(address: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn the_steering_group_page_shows_each_countrys_aggregates_with_small_counts_withheld() {
    let net = two_countries(5000);
    // One identified researcher on the Danish node: a count of one user is withheld as "<5".
    let path = "/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A";
    assert_eq!(net.dk.get(path, Some(TOKEN)).0, 200);
    assert_eq!(net.dk.get(path, None).0, 200);
    // The audit writer appends within ~100 ms; the summary reads the log.
    std::thread::sleep(Duration::from_millis(400));
    let (status, body) = http(&net.portal.address, "GET", "/network/report", None, None);
    assert_eq!(status, 200, "{body}");
    let nodes = body["nodes"].as_array().unwrap();
    let node = |id: &str| nodes.iter().find(|n| n["node"] == id).unwrap_or_else(|| panic!("{id} in {body}"));
    let (dk, se) = (&node("DK-NGC")["summary"], &node("GMS")["summary"]);
    assert_eq!((dk["individuals"].as_u64(), se["individuals"].as_u64()), (Some(500), Some(500)), "{body}");
    assert_eq!((dk["country"].as_str(), se["country"].as_str()), (Some("DK"), Some("SE")));
    assert_eq!(dk["answered"].as_u64(), Some(2), "{body}");
    assert_eq!(dk["registeredUsers"], "<5", "{body}");
    assert_eq!(se["registeredUsers"].as_u64(), Some(0));
    // The page for a browser, and a period that is checked.
    let (status, page) = http_text(&net.portal.address, "GET", "/network/report?format=html", None, None);
    assert_eq!(status, 200);
    assert!(page.contains("DK-NGC") && page.contains("GMS") && page.contains("&lt;5"), "{page}");
    assert_eq!(http(&net.portal.address, "GET", "/network/report?since=soon", None, None).0, 400);
    // A node answers its summary to a signed peer only: unsigned, a node aggregates (here, itself).
    let (status, forged) = raw_get(
        &net.dk.address,
        "/network/report",
        &[
            ("X-Oresund-Peer", "PORTAL"),
            ("X-Oresund-Timestamp", &unix_now().to_string()),
            ("X-Oresund-Signature", "00"),
        ],
    );
    assert_eq!(status, 401, "{forged}");
    // With one node down, the page says so and still shows the other.
    drop(net.se);
    let (_, body) = http(&net.portal.address, "GET", "/network/report", None, None);
    let se = body["nodes"].as_array().unwrap().iter().find(|n| n["node"] == "GMS").unwrap().clone();
    assert_eq!(se["status"], "unavailable", "{body}");
}
