//! A node whose PostgreSQL catalog stops answering while it serves: a query gets 503 (try again
//! later) with a generic message quoting a request id — never 400, and nothing of the cause.
//! The catalog is reached through a relay the test cuts, as if PostgreSQL had stopped (the real
//! server is shared with the other tests).

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

const QUERY: &str = "/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A";

/// A TCP relay to PostgreSQL that can be cut: open connections closed, new ones refused.
struct Relay {
    port: u16,
    stopped: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn to(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().expect("the relay's address").port();
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let stopped = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (stop, open) = (stopped.clone(), connections.clone());
        std::thread::spawn(move || {
            // The listener is dropped when this loop ends: new connections are refused.
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).expect("a blocking connection");
                        let Ok(server) = TcpStream::connect(&target) else { continue };
                        let clones = [client.try_clone(), server.try_clone()];
                        open.lock().expect("the relay's connections").extend(clones.into_iter().flatten());
                        relay(client.try_clone().expect("a clone"), server.try_clone().expect("a clone"));
                        relay(server, client);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
                    Err(_) => break,
                }
            }
        });
        Relay { port, stopped, connections }
    }

    fn cut(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().expect("the relay's connections").iter() {
            let _ = connection.shutdown(Shutdown::Both);
        }
        // Let the accept loop see the flag and drop its listener.
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn relay(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// `postgres://user@HOST:PORT/db?…` → (`HOST:PORT`, the URL with `replacement` there).
fn split_authority(url: &str, replacement: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, host) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    let user = if user.is_empty() { String::new() } else { format!("{user}@") };
    (host.to_string(), format!("{scheme}://{user}{replacement}/{path}"))
}

#[test]
fn a_node_whose_catalog_stopped_answers_503_with_a_request_id() {
    let services = ScaleServices::new();
    let node = services.node("DK-NGC", "DK");
    node.ingest("DK-1", "DK");
    let (target, _) = split_authority(&services.catalog, "");
    let relay = Relay::to(target.clone());
    let (_, relayed) = split_authority(&services.catalog, &format!("127.0.0.1:{}", relay.port));
    let config = node.dir.join("oresund.toml");
    let text = std::fs::read_to_string(&config).expect("oresund.toml");
    assert!(text.contains(&services.catalog), "the catalog URL is in the config: {text}");
    std::fs::write(&config, text.replace(&services.catalog, &relayed)).expect("write oresund.toml");

    let server = Server::start(&node.dir, &[]);
    let (status, body) = server.get(QUERY, None);
    assert_eq!(status, 200, "through the relay: {body}");

    relay.cut();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, body) = loop {
        let (status, body) = server.get(QUERY, None);
        assert!(status >= 500, "the catalog is down, not the caller's request: {status} {body}");
        if status == 503 || Instant::now() > deadline {
            break (status, body);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["errorCode"], 503, "{body}");
    let message = body["error"]["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("try again later") && message.contains("request id "), "{message}");
    for detail in ["PostgreSQL", "postgres", &target, "connect"] {
        assert!(!message.contains(detail), "{detail:?} reached the caller: {message}");
    }
}
