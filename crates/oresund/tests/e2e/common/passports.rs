//! Passports for the end-to-end tests: keys and tokens minted by `oracles/passports.py` (Python
//! joserfc, independent of the node's JWS code), the issuers' key sets served over HTTP from the
//! test, and reading the node's audit log.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::ok;

pub const BONA_FIDE: &str = "https://doi.org/10.1038/s41431-018-0219-y";
pub const BROKER: &str = "https://broker.test";
pub const IDP: &str = "https://idp.test";
/// The audience the test nodes accept beside their own base URL (`[access] audiences`).
pub const NETWORK_AUDIENCE: &str = "urn:oresund:test-network";

/// Seconds since 1970.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Issuers' keys (`broker` RSA, `idp` EC, `evil` RSA, `evil-ec` EC, `rotating` RSA) made by the Python oracle,
/// their JWKS served at `http://ADDRESS/NAME/jwks.json`.
pub struct Issuers {
    pub dir: PathBuf,
    pub address: String,
    /// Paths the JWKS server was asked for.
    pub fetched: Arc<Mutex<Vec<String>>>,
}

fn python(args: &[&str], input: Option<&str>) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/passports.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(input.unwrap_or("").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "passports.py failed (pip install joserfc): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Issuers {
    pub fn new(dir: &Path) -> Issuers {
        std::fs::create_dir_all(dir).unwrap();
        python(&["keygen", dir.to_str().unwrap()], None);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let fetched = Arc::new(Mutex::new(Vec::new()));
        let (served, log) = (dir.to_path_buf(), fetched.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(path.clone());
                let name = path.trim_start_matches('/').trim_end_matches("/jwks.json");
                let body = std::fs::read(served.join(format!("{name}.jwks.json")));
                let mut stream = stream;
                let response = match body {
                    Ok(body) => {
                        let mut head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        head.extend(body);
                        head
                    }
                    Err(_) => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                };
                let _ = stream.write_all(&response);
            }
        });
        Issuers { dir: dir.to_path_buf(), address, fetched }
    }

    pub fn jku(&self, name: &str) -> String {
        format!("http://{}/{name}/jwks.json", self.address)
    }

    /// Mints tokens: each job `{key, alg, header, claims}` (see passports.py).
    pub fn mint(&self, jobs: &[Value]) -> Vec<String> {
        let out = python(&["mint", self.dir.to_str().unwrap()], Some(&Value::Array(jobs.to_vec()).to_string()));
        serde_json::from_str(&out).unwrap()
    }

    /// Replaces `name`'s key pair with a new one (a new `kid`), as an issuer rotating its keys.
    pub fn rotate(&self, name: &str) {
        python(&["rotate", self.dir.to_str().unwrap(), name], None);
    }

    pub fn mint_one(&self, job: Value) -> String {
        self.mint(&[job]).remove(0)
    }

    /// A visa job by `key` as issuer `iss` (signed from its own jku).
    pub fn visa(&self, key: &str, iss: &str, sub: &str, kind: &str, value: &str, extra: Value) -> Value {
        let mut visa =
            json!({"type": kind, "value": value, "source": "https://ku.dk", "asserted": now() - 60, "by": "so"});
        let mut claims = json!({"iss": iss, "sub": sub, "iat": now() - 60, "exp": now() + 3600});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            if k == "visa" {
                for (vk, vv) in v.as_object().cloned().unwrap_or_default() {
                    visa[vk] = vv;
                }
            } else {
                claims[k] = v;
            }
        }
        claims["ga4gh_visa_v1"] = visa;
        json!({"key": key, "alg": alg_of(key), "header": {"jku": self.jku(key), "typ": "JWT"}, "claims": claims})
    }

    /// The two registered-access visas (ResearcherStatus, AcceptedTermsAndPolicies) from the broker.
    pub fn registered_visas(&self, sub: &str) -> Vec<String> {
        self.mint(&[
            self.visa("broker", BROKER, sub, "ResearcherStatus", BONA_FIDE, json!({})),
            self.visa("broker", BROKER, sub, "AcceptedTermsAndPolicies", BONA_FIDE, json!({"visa": {"by": "self"}})),
        ])
    }

    /// A passport job from the broker holding `visas`, minted for the test network
    /// ([`NETWORK_AUDIENCE`]), with claims overridden by `extra`.
    pub fn passport_job(&self, sub: &str, visas: &[String], extra: Value) -> Value {
        let mut claims = json!({"iss": BROKER, "sub": sub, "iat": now() - 60, "exp": now() + 3600,
                                "aud": NETWORK_AUDIENCE, "ga4gh_passport_v1": visas});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            claims[k] = v;
        }
        json!({"key": "broker", "alg": "RS256", "header": {"jku": self.jku("broker"), "typ": "vnd.ga4gh.passport+jwt"}, "claims": claims})
    }

    pub fn passport(&self, sub: &str, visas: &[String]) -> String {
        self.mint_one(self.passport_job(sub, visas, json!({})))
    }

    /// A passport minted for one node only (`aud` = its base URL), as committee actions need.
    pub fn passport_for_node(&self, sub: &str, visas: &[String], base_url: &str) -> String {
        self.mint_one(self.passport_job(sub, visas, json!({"aud": base_url})))
    }
}

fn alg_of(key: &str) -> &'static str {
    if key == "idp" || key == "evil-ec" { "ES256" } else { "RS256" }
}

/// The node's audit entries (`oresund audit show --format json`).
pub fn audit_entries(node: &Path, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["audit", "show", node.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(filters);
    ok(&args).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Waits (up to 10 s: the writer appends every 100 ms) for an audit entry that `matches`.
pub fn wait_for_audit(node: &Path, filters: &[&str], matches: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = audit_entries(node, filters).into_iter().find(|e| matches(e)) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no audit entry matching within 10 s; log: {:#?}",
            audit_entries(node, filters)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
