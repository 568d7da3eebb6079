//! Issue #17: oversized requests are refused at once with a Beacon error envelope, and a request
//! announcing a huge body does not hold its connection.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::common::*;

/// Sends raw request bytes and returns (status, body, seconds until the answer).
fn exchange(address: &str, head: &str, body: &[u8]) -> (u16, serde_json::Value, f64) {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before taking the whole body: a failed write is fine.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null), started.elapsed().as_secs_f64())
}

#[test]
fn oversized_requests_get_413_at_once_in_the_beacon_envelope() {
    let node = TestNode::copy_of(dk_template());
    let server = Server::start(&node.dir, &[]);
    let address = &server.address;
    let head = |length: u64| {
        format!(
            "POST /g_variants HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };
    // A terabyte announced, nothing sent: answered at once, not when the client gives up.
    let (status, body, seconds) = exchange(address, &head(1_000_000_000_000), b"");
    assert_eq!(status, 413, "{body}");
    assert!(seconds < 5.0, "answered in {seconds:.1} s");
    assert_eq!(body["error"]["errorCode"], 413, "{body}");
    assert!(body["error"]["errorMessage"].as_str().unwrap().contains("larger than 2 MiB"), "{body}");
    assert!(body["meta"]["beaconId"].is_string(), "the full envelope: {body}");
    // A body just over the limit, really sent.
    let big = vec![b' '; 2 * 1024 * 1024 + 1];
    let (status, body, _) = exchange(address, &head(big.len() as u64), &big);
    assert_eq!((status, &body["error"]["errorCode"]), (413, &serde_json::json!(413)), "{body}");
    // Within the limit, the same endpoint still answers.
    let query = r#"{"query": {"requestParameters": {"referenceName": "22", "start": [17000016], "referenceBases": "C", "alternateBases": "A"}}}"#;
    let (status, body, _) = exchange(address, &head(query.len() as u64), query.as_bytes());
    assert_eq!(status, 200, "{body}");
}
