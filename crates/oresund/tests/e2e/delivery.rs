//! Delivery to approved researchers (htsget 1.3, DRS 1.5) through a running `oresund serve`:
//! tickets followed URL by URL hold exactly the region's records of the archived VCF — for a
//! file whose BGZF blocks follow lines and for one cut in fixed-size blocks — plain or as a
//! Crypt4GH stream for the researcher's key that passes the stored segments through; access,
//! tokens and the audit trail. (The same against bcftools, the Python htsget client, Python
//! crypt4gh, the DRS schemas and both storage backends: `external::delivery`.)

use std::io::{Read, Write};
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oresund_c4gh::KeyPair;
use oresund_c4gh::keys::write_public_key_pem;
use serde_json::{Value, json};

use crate::common::passports::audit_entries;
use crate::common::*;

/// The DK cohort as `DK-1` (as written by bcftools) and again as `DK-2`, re-compressed in
/// fixed-size BGZF blocks that cut records in two; a controlled and a registered token.
pub(crate) struct Fixture {
    pub node: TestNode,
    pub controlled: String,
    pub registered: String,
    /// Accessions of the two VCFs.
    pub aligned: String,
    pub unaligned: String,
}

pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let node = TestNode::copy_for_run(dk_template());
        let unaligned = node.dir.parent().unwrap().join("DK.fixed-blocks.vcf.gz");
        std::fs::write(&unaligned, fixed_blocks(&original_text())).unwrap();
        let individuals = cohort("DK.individuals.tsv");
        node.ingest_files("DK-2", &unaligned, &individuals);
        let controlled = token(
            &node.dir,
            &["--user", "dl@example.org", "--registered", "--controlled", "DK-1", "--controlled", "DK-2"],
        );
        let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
        let vcfs: Vec<String> = crate::archive::objects(&node)
            .iter()
            .filter(|o| o["kind"] == "vcf")
            .map(|o| o["accession"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(vcfs.len(), 2, "{vcfs:?}");
        Fixture { node, controlled, registered, aligned: vcfs[0].clone(), unaligned: vcfs[1].clone() }
    })
}

/// The demo DK VCF, decompressed.
pub(crate) fn original_text() -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(cohort("DK.vcf.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// `text` in BGZF blocks of htslib's size that ignore line ends (as `bgzip` 1.16 writes).
fn fixed_blocks(text: &str) -> Vec<u8> {
    let mut file = oresund_node::delivery::bgzf::compress(text.as_bytes());
    file.extend_from_slice(&oresund_node::delivery::bgzf::BGZF_EOF);
    file
}

/// The records of `text` that overlap `chrom:start-end` (1-based, inclusive), as bcftools
/// `view -H -r` selects them (POS..POS+len(REF)-1 overlaps).
pub(crate) fn records_in(text: &str, chrom: &str, start: u64, end: u64) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            let pos: u64 = f[1].parse().unwrap();
            f[0] == chrom && pos <= end && pos + f[3].len() as u64 > start
        })
        .map(str::to_string)
        .collect()
}

/// One HTTP exchange with binary bodies: status, headers (lower-case names), body.
pub(crate) fn exchange(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the server");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let mut body = response[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, body)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + size]);
        body = &body[eol + 2 + size + 2..];
    }
    out
}

pub(crate) fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![("Authorization", format!("Bearer {token}"))]
}

/// The researcher's key as htsget-rs sends it: base64 of the public key file.
pub(crate) fn key_header(key: &KeyPair) -> (&'static str, String) {
    ("Htsget-Context-Public-Key", STANDARD.encode(write_public_key_pem(&key.public)))
}

/// A ticket: status and JSON.
pub(crate) fn ticket(server: &Server, path: &str, headers: &[(&str, String)], post: Option<&Value>) -> (u16, Value) {
    let (method, body) = match post {
        Some(body) => ("POST", body.to_string().into_bytes()),
        None => ("GET", Vec::new()),
    };
    let (status, head, body) = exchange(&server.address, method, path, headers, &body);
    if status == 200 {
        assert!(head.contains("content-type: application/vnd.ga4gh.htsget.v1.3.0+json"), "{head}");
    }
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Fetches a ticket's URLs in order (without the caller's credentials) and concatenates them.
pub(crate) fn follow(server: &Server, ticket: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    for part in ticket["htsget"]["urls"].as_array().expect("ticket urls") {
        let url = part["url"].as_str().unwrap();
        if let Some(data) = url.strip_prefix("data:") {
            let (_, payload) = data.split_once(";base64,").expect("base64 data URI");
            out.extend(STANDARD.decode(payload).unwrap());
        } else {
            let path = url.strip_prefix(&format!("http://{}", server.address)).expect("a URL of this node");
            let headers: Vec<(&str, String)> = part["headers"]
                .as_object()
                .map(|h| h.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_string())).collect())
                .unwrap_or_default();
            let (status, head, body) = exchange(&server.address, "GET", path, &headers, &[]);
            assert_eq!(status, 200, "{url}: {head} {}", String::from_utf8_lossy(&body));
            out.extend(body);
        }
    }
    out
}

pub(crate) fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_string(&mut text).expect("a valid bgzipped file");
    text
}

fn data_lines(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect()
}

/// Regions as (htsget query, chrom, 1-based start, end): the file's first and last records,
/// across blocks, nothing, a whole contig.
fn regions(text: &str) -> Vec<(String, String, u64, u64)> {
    let data: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let pos = |line: &str| line.split('\t').nth(1).unwrap().parse::<u64>().unwrap();
    let last22 = data.iter().rev().find(|l| l.starts_with("22\t")).unwrap();
    let (first, last, last_x) = (pos(data[0]), pos(last22), pos(data[data.len() - 1]));
    let q = |chrom: &str, s: u64, e: u64| {
        (format!("referenceName={chrom}&start={}&end={e}", s - 1), chrom.to_string(), s, e)
    };
    vec![
        q("22", first, first),
        q("22", last, last),
        q("X", last_x, last_x),
        q("22", 16_050_001, 16_300_000),
        q("22", 1, 100),
        ("referenceName=X".into(), "X".into(), 1, u64::MAX),
    ]
}

#[test]
fn tickets_hold_exactly_the_regions_records_of_aligned_and_unaligned_files() {
    let f = fixture();
    let text = original_text();
    let server = Server::start(&f.node.dir, &[]);
    for accession in [&f.aligned, &f.unaligned] {
        for (query, chrom, start, end) in regions(&text) {
            let (status, t) = ticket(&server, &format!("/variants/{accession}?{query}"), &bearer(&f.controlled), None);
            assert_eq!(status, 200, "{query}: {t}");
            let delivered = gunzip(&follow(&server, &t));
            assert_eq!(data_lines(&delivered), records_in(&text, &chrom, start, end), "{accession} {query}");
            assert!(delivered.starts_with("##fileformat=VCFv4"), "{accession} {query}: the header comes first");
        }
        // POST with two regions: both, each record once, in file order.
        let body = json!({"format": "VCF", "regions": [
            {"referenceName": "X", "start": 2_000_000, "end": 2_100_000},
            {"referenceName": "22", "start": 16_100_000, "end": 16_200_000},
        ]});
        let (status, t) = ticket(&server, &format!("/variants/{accession}"), &bearer(&f.controlled), Some(&body));
        assert_eq!(status, 200, "{t}");
        let mut want = records_in(&text, "22", 16_100_001, 16_200_000);
        want.extend(records_in(&text, "X", 2_000_001, 2_100_000));
        assert!(want.len() > 100, "the regions hold records");
        assert_eq!(data_lines(&gunzip(&follow(&server, &t))), want);
    }
}

#[test]
fn delivered_headers_name_samples_by_pseudonyms_and_the_whole_file_is_the_original_records() {
    let f = fixture();
    let text = original_text();
    let server = Server::start(&f.node.dir, &[]);
    let (status, t) = ticket(&server, &format!("/variants/{}?class=header", f.unaligned), &bearer(&f.controlled), None);
    assert_eq!(status, 200, "{t}");
    let header = gunzip(&follow(&server, &t));
    assert!(t["htsget"]["urls"].as_array().unwrap().iter().all(|u| u["class"] == "header"), "{t}");
    assert!(data_lines(&header).is_empty(), "class=header has no records");
    let chrom_line = header.lines().last().unwrap();
    let original_line = text.lines().find(|l| l.starts_with("#CHROM")).unwrap();
    let local_ids: Vec<&str> = original_line.split('\t').skip(9).collect();
    assert_eq!(chrom_line.split('\t').count(), original_line.split('\t').count());
    for id in &local_ids {
        assert!(!header.contains(id), "local id {id} left the node");
    }
    // The pseudonyms are the ids the Beacon knows these people by.
    let first = chrom_line.split('\t').nth(9).unwrap();
    let (status, found) =
        server.get(&format!("/individuals/{first}?datasets=DK-2&requestedGranularity=record"), Some(&f.controlled));
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["response"]["resultSets"][0]["results"][0]["id"], first, "{found}");
    // The whole file: every record, and otherwise the original header.
    let (status, t) = ticket(&server, &format!("/variants/{}", f.aligned), &bearer(&f.controlled), None);
    assert_eq!(status, 200, "{t}");
    let whole = gunzip(&follow(&server, &t));
    assert_eq!(data_lines(&whole), data_lines(&text));
    let meta = |t: &str| t.lines().filter(|l| l.starts_with("##")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(meta(&whole), meta(&text));
}

#[test]
fn crypt4gh_tickets_decrypt_to_the_plain_delivery_and_pass_the_stored_body_through() {
    let f = fixture();
    let server = Server::start(&f.node.dir, &[]);
    let researcher = KeyPair::generate().unwrap();
    let objects = crate::archive::objects(&f.node);
    let stored_body = |accession: &str| {
        let object = objects.iter().find(|o| o["accession"] == accession).unwrap();
        std::fs::read(f.node.dir.join("archive").join(object["body_object"].as_str().unwrap())).unwrap()
    };
    for accession in [&f.aligned, &f.unaligned] {
        let body = stored_body(accession);
        for query in ["referenceName=22&start=16100000&end=16400000", "class=header", "referenceName=X"] {
            let (_, plain) = ticket(&server, &format!("/variants/{accession}?{query}"), &bearer(&f.controlled), None);
            let plain = follow(&server, &plain);
            let mut headers = bearer(&f.controlled);
            headers.push(key_header(&researcher));
            let path = format!("/variants/{accession}?{query}&encryptionScheme=c4gh");
            let (status, t) = ticket(&server, &path, &headers, None);
            assert_eq!(status, 200, "{t}");
            let stream = follow(&server, &t);
            let mut decrypted = Vec::new();
            oresund_c4gh::decrypt(&stream[..], &mut decrypted, &researcher.secret, 1).unwrap();
            assert!(decrypted == plain, "{accession} {query}: the Crypt4GH stream holds the plain delivery");
            let stranger = KeyPair::generate().unwrap();
            assert!(oresund_c4gh::decrypt(&stream[..], &mut Vec::new(), &stranger.secret, 1).is_err());
            // Every data URL of the ticket serves bytes of the stored body, unchanged.
            for part in t["htsget"]["urls"].as_array().unwrap() {
                let url = part["url"].as_str().unwrap();
                if url.starts_with("http") {
                    let path = url.strip_prefix(&format!("http://{}", server.address)).unwrap();
                    let (_, _, bytes) = exchange(&server.address, "GET", path, &[], &[]);
                    let at = body.windows(bytes.len().min(64)).position(|w| w == &bytes[..w.len()]);
                    let at = at.unwrap_or_else(|| panic!("{url}: bytes not from the stored body"));
                    assert!(body[at..at + bytes.len()] == bytes[..], "{url}: the stored body as it is");
                }
            }
        }
    }
    // No key, or a bad one: refused, saying what to send.
    let path = format!("/variants/{}?encryptionScheme=C4GH", f.aligned);
    let (status, t) = ticket(&server, &path, &bearer(&f.controlled), None);
    assert_eq!((status, t["htsget"]["error"].as_str()), (400, Some("InvalidInput")), "{t}");
    let mut headers = bearer(&f.controlled);
    headers.push(("Htsget-Context-Public-Key", "bm90IGEga2V5".into()));
    assert_eq!(ticket(&server, &path, &headers, None).0, 400);
}

#[test]
fn only_controlled_callers_get_tickets_and_data_urls_open_one_object_and_range() {
    let f = fixture();
    let server = Server::start(&f.node.dir, &[]);
    let path = format!("/variants/{}?referenceName=22&start=16000000&end=16100000", f.aligned);
    let refused = |headers: &[(&str, String)], path: &str| ticket(&server, path, headers, None);
    let (status, t) = refused(&[], &path);
    assert_eq!((status, t["htsget"]["error"].as_str()), (401, Some("InvalidAuthentication")), "{t}");
    let (status, t) = refused(&bearer(&f.registered), &path);
    assert_eq!((status, t["htsget"]["error"].as_str()), (403, Some("PermissionDenied")), "{t}");
    let (status, t) = refused(&bearer("not-a-token"), &path);
    assert_eq!(status, 401, "{t}");
    // Unknown objects, the individuals file (it holds local ids), unknown contigs.
    for missing in ["DK-NGC-F999999", &format!("{}-M", f.aligned), &format!("{}-I", f.aligned)] {
        let (status, t) = refused(&bearer(&f.controlled), &format!("/variants/{missing}"));
        assert_eq!((status, t["htsget"]["error"].as_str()), (404, Some("NotFound")), "{missing}: {t}");
    }
    let (status, t) = refused(&bearer(&f.controlled), &format!("/variants/{}?referenceName=chr22", f.aligned));
    assert_eq!(status, 404, "{t}");
    assert!(t["htsget"]["message"].as_str().unwrap().contains("22, X"), "names the file's contigs: {t}");
    for (query, error) in [("format=BCF", "UnsupportedFormat"), ("referenceName=22&start=10&end=5", "InvalidRange")] {
        let (status, t) = refused(&bearer(&f.controlled), &format!("/variants/{}?{query}", f.aligned));
        assert_eq!((status, t["htsget"]["error"].as_str()), (400, Some(error)), "{query}: {t}");
    }

    let (_, t) = ticket(&server, &path, &bearer(&f.controlled), None);
    let data_url = t["htsget"]["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["url"].as_str().unwrap().to_string())
        .find(|u| u.starts_with("http"))
        .expect("a data URL");
    let data_path = data_url.strip_prefix(&format!("http://{}", server.address)).unwrap().to_string();
    assert_eq!(exchange(&server.address, "GET", &data_path, &[], &[]).0, 200);
    // The token opens this object only, and cannot be edited.
    let other = data_path.replace(f.aligned.as_str(), f.unaligned.as_str());
    assert_eq!(exchange(&server.address, "GET", &other, &[], &[]).0, 401, "another object");
    let (prefix, token) = data_path.split_once("token=").unwrap();
    let (claims, signature) = token.split_once('.').unwrap();
    let mut claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    claims["e"] = json!(1u64 << 40);
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let (status, _, body) = exchange(&server.address, "GET", &format!("{prefix}token={forged}.{signature}"), &[], &[]);
    assert_eq!(status, 401, "a wider range: {}", String::from_utf8_lossy(&body));
    assert_eq!(exchange(&server.address, "GET", prefix, &[], &[]).0, 401, "no token");
    drop(server);

    // Tokens expire (here after a second).
    let short = TestNode::copy_of(&f.node);
    let config = short.dir.join("oresund.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[access]\ndata_url_ttl_s = 1\n");
    std::fs::write(&config, text).unwrap();
    let server = Server::start(&short.dir, &[]);
    let (_, t) = ticket(&server, &path, &bearer(&f.controlled), None);
    let url = t["htsget"]["urls"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|u| u["url"].as_str().filter(|u| u.starts_with("http")))
        .unwrap()
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    let (status, _, body) =
        exchange(&server.address, "GET", url.strip_prefix(&format!("http://{}", server.address)).unwrap(), &[], &[]);
    assert_eq!(status, 401);
    assert!(String::from_utf8_lossy(&body).contains("expired"), "{}", String::from_utf8_lossy(&body));
}

#[test]
fn drs_objects_describe_what_their_access_urls_deliver() {
    let f = fixture();
    let server = Server::start(&f.node.dir, &[]);
    let (status, info) = server.get("/ga4gh/drs/v1/service-info", None);
    assert_eq!(status, 200);
    assert_eq!(info["type"], json!({"group": "org.ga4gh", "artifact": "drs", "version": "1.5.0"}));
    let object_path = format!("/ga4gh/drs/v1/objects/{}", f.unaligned);
    let (status, object) = server.get(&object_path, Some(&f.controlled));
    assert_eq!(status, 200, "{object}");
    assert_eq!(object["id"], f.unaligned.as_str());
    assert_eq!(object["self_uri"], format!("drs://{}/{}", server.address, f.unaligned));
    let methods: Vec<&str> =
        object["access_methods"].as_array().unwrap().iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(methods, ["htsget", "https", "https"]);
    // POST with passports in the body authenticates the same way; none is anonymous (401).
    let (status, refused) = server.post(&object_path, None, r#"{"passports": []}"#);
    assert_eq!((status, refused["status_code"].as_u64()), (401, Some(401)), "{refused}");
    assert!(refused["msg"].as_str().unwrap().contains("CONTROLLED"), "{refused}");
    let (status, refused) = server.get(&object_path, Some(&f.registered));
    assert_eq!((status, &refused["status_code"]), (403, &json!(403)), "{refused}");

    // The plain download is the file the object describes: its size and SHA-256.
    let (status, access) = server.get(&format!("{object_path}/access/plain"), Some(&f.controlled));
    assert_eq!(status, 200, "{access}");
    let url = access["url"].as_str().unwrap();
    let (status, head, file) =
        exchange(&server.address, "GET", url.strip_prefix(&format!("http://{}", server.address)).unwrap(), &[], &[]);
    assert_eq!(status, 200);
    assert!(head.contains(&format!("content-length: {}", file.len())), "{head}");
    assert_eq!(object["size"], file.len());
    let sha = oresund_core::hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&file));
    assert_eq!(object["checksums"][0], json!({"checksum": sha, "type": "sha-256"}));
    assert_eq!(data_lines(&gunzip(&file)), data_lines(&original_text()));

    // The Crypt4GH download decrypts to it, for the researcher's key only.
    let researcher = KeyPair::generate().unwrap();
    let mut headers = bearer(&f.controlled);
    headers.push(key_header(&researcher));
    let (status, _, access) =
        exchange(&server.address, "GET", &format!("{object_path}/access/crypt4gh"), &headers, &[]);
    assert_eq!(status, 200);
    let access: Value = serde_json::from_slice(&access).unwrap();
    let url = access["url"].as_str().unwrap();
    let (status, _, stream) =
        exchange(&server.address, "GET", url.strip_prefix(&format!("http://{}", server.address)).unwrap(), &[], &[]);
    assert_eq!(status, 200);
    let mut decrypted = Vec::new();
    oresund_c4gh::decrypt(&stream[..], &mut decrypted, &researcher.secret, 1).unwrap();
    assert!(decrypted == file);
    let (status, refused) = server.get(&format!("{object_path}/access/crypt4gh"), Some(&f.controlled));
    assert_eq!(status, 400, "no key: {refused}");
    assert_eq!(server.get(&format!("{object_path}/access/s3"), Some(&f.controlled)).0, 404);
}

#[test]
fn every_ticket_lookup_and_byte_served_is_in_the_audit_log() {
    let f = fixture();
    let node = TestNode::copy_of(&f.node);
    // The copy holds the other tests' entries so far: only what follows counts.
    let before = audit_entries(&node.dir, &[]).len();
    let server = Server::start(&node.dir, &[]);
    let path = format!("/variants/{}?referenceName=22&start=16000000&end=16200000", f.aligned);
    let (_, t) = ticket(&server, &path, &bearer(&f.controlled), None);
    let delivered = follow(&server, &t);
    assert_eq!(ticket(&server, &path, &bearer(&f.registered), None).0, 403);
    server.get(&format!("/ga4gh/drs/v1/objects/{}", f.aligned), Some(&f.controlled));
    assert_eq!(server.stop().code(), Some(0));
    let entries: Vec<Value> =
        audit_entries(&node.dir, &[]).into_iter().skip(before).map(|e| e["record"].clone()).collect();
    let of = |action: &str| entries.iter().filter(|e| e["action"] == action).cloned().collect::<Vec<_>>();
    let tickets = of("htsget.ticket");
    assert_eq!(tickets.len(), 2, "{tickets:#?}");
    assert_eq!(
        (tickets[0]["actor"].as_str(), tickets[0]["decision"].as_str()),
        (Some("dl@example.org"), Some("allowed"))
    );
    assert!(tickets[0]["resource"].as_str().unwrap().contains("22:16000001-16200000"), "{}", tickets[0]);
    assert_eq!(tickets[0]["datasets"], json!(["DK-1"]));
    assert_eq!(
        (tickets[1]["actor"].as_str(), tickets[1]["decision"].as_str()),
        (Some("reg@example.org"), Some("denied"))
    );
    // The data URLs' bytes, summed, are what was delivered minus the inline parts.
    let served: u64 = of("data.served")
        .iter()
        .map(|e| e["detail"].as_str().unwrap().split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    let inline: u64 = t["htsget"]["urls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| {
            u["url"].as_str().unwrap().split_once(";base64,").map(|(_, b)| STANDARD.decode(b).unwrap().len() as u64)
        })
        .sum();
    assert_eq!(served + inline, delivered.len() as u64);
    assert!(of("data.served").iter().all(|e| e["actor"] == "dl@example.org" && e["datasets"] == json!(["DK-1"])));
    assert_eq!(of("drs.object").len(), 1);
    let out = run(&["audit", "verify", node.path()]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).contains("audit log intact"), "{out:?}");
}

#[test]
fn a_grant_whose_purpose_some_samples_did_not_consent_to_gets_no_file() {
    let f = fixture();
    let node = TestNode::copy_of(&f.node);
    // HMB research: the DS(epilepsy)-only participants' consent excludes it. Epilepsy research:
    // every participant's consent allows it.
    let hmb = token(&node.dir, &["--user", "hmb@example.org", "--controlled", "DK-1", "--purpose", "HMB"]);
    let epilepsy = token(
        &node.dir,
        &["--user", "ds@example.org", "--controlled", "DK-1", "--purpose", "DS", "--disease", "MONDO:0005027"],
    );
    let server = Server::start(&node.dir, &[]);
    let path = format!("/variants/{}?referenceName=22&start=16000000&end=16100000", f.aligned);
    let (status, t) = ticket(&server, &path, &bearer(&hmb), None);
    assert_eq!((status, t["htsget"]["error"].as_str()), (403, Some("PermissionDenied")), "{t}");
    let message = t["htsget"]["message"].as_str().unwrap();
    assert!(message.contains("holds people whose consent does not allow the purpose"), "{message}");
    assert!(!message.contains("100"), "how many are left out is not said: {message}");
    let (status, t) = ticket(&server, &path, &bearer(&epilepsy), None);
    assert_eq!(status, 200, "{t}");
    // The file list says which files are withheld and why.
    let listing = |token: &str| {
        let (status, _, body) = exchange(&server.address, "GET", "/delivery/files", &bearer(token), &[]);
        assert_eq!(status, 200);
        serde_json::from_slice::<Value>(&body).unwrap()
    };
    let hmb_files = listing(&hmb);
    assert_eq!(hmb_files["files"], json!([]), "{hmb_files}");
    assert_eq!(hmb_files["withheld"][0]["id"], f.aligned.as_str(), "{hmb_files}");
    let ds_files = listing(&epilepsy);
    assert_eq!(ds_files["files"].as_array().map(Vec::len), Some(1), "{ds_files}");
    assert!(ds_files.get("withheld").is_none(), "{ds_files}");
    crate::common::passports::wait_for_audit(&node.dir, &["--user", "hmb@example.org", "--dataset", "DK-1"], |e| {
        e["record"]["decision"] == "denied"
            && e["record"]["detail"].as_str().unwrap_or("").contains("consent does not allow")
    });
}
