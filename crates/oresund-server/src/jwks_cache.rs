//! Issuers' key sets for passport verification (`oresund_access::passport::KeySource`): fetched over
//! HTTP(S) only from `jku` URLs the configuration trusts (the passport code checks trust for the
//! token's issuer first; this cache refuses any other URL as well), kept for `jwks_ttl_s`, and a
//! failed fetch remembered for `jwks_failure_ttl_s` so a dead issuer does not cost a fetch per
//! request. One fetch per key set at a time: requests arriving while it runs wait for its outcome
//! (single flight). A key set past its TTL whose issuer cannot be reached is kept, for up to
//! [`MAX_STALE`], rather than replaced by the failure: an issuer outage does not log everyone out.
//! This node's own key set is served from memory, re-read from its key files every few
//! seconds so a `keys rotate --signing` reaches a running server.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use oresund_access::jwk::Jwks;
use oresund_access::passport::{KeySource, KeysError, KeysFuture};
use oresund_node::{Node, NodeError};
use serde_json::Value;

use crate::setup_error::SetupError;

/// Largest key set accepted (a JWKS with a few keys is a few kB).
const MAX_JWKS_BYTES: usize = 1 << 20;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often this node's own key files are re-read.
const OWN_REFRESH: Duration = Duration::from_secs(5);
/// How often they are re-read at most when tokens name a key not in memory.
const OWN_RECHECK: Duration = Duration::from_millis(200);
/// Longest a key set is used past its TTL while its issuer cannot be reached.
pub const MAX_STALE: Duration = Duration::from_secs(24 * 3600);

enum Entry {
    /// `fetched`: when the issuer last answered; `checked`: when it was last asked.
    Keys {
        keys: Arc<Jwks>,
        until: Instant,
        fetched: Instant,
        checked: Instant,
    },
    Failed {
        reason: KeysError,
        until: Instant,
    },
}

/// This node's published keys: the JWKS document and its parsed form.
pub struct OwnKeys {
    node: Arc<Node>,
    cached: RwLock<Option<(Value, Arc<Jwks>, Instant)>>,
}

impl OwnKeys {
    pub fn new(node: Arc<Node>) -> Self {
        OwnKeys { node, cached: RwLock::new(None) }
    }

    /// The JWKS (document, parsed), re-read from the key files when older than a few seconds.
    pub fn current(&self) -> Result<(Value, Arc<Jwks>), NodeError> {
        self.read_if_older(OWN_REFRESH)
    }

    /// The JWKS re-read unless read within the last `age` (a token names a kid not in the cached
    /// set: a `keys rotate --signing` may have just happened).
    fn read_if_older(&self, age: Duration) -> Result<(Value, Arc<Jwks>), NodeError> {
        if let Ok(guard) = self.cached.read()
            && let Some((document, keys, read)) = guard.as_ref()
            && read.elapsed() < age
        {
            return Ok((document.clone(), keys.clone()));
        }
        let document = match self.node.signing_keys()? {
            Some(keys) => keys.jwks(oresund_node::clock::unix_now()),
            None => serde_json::json!({"keys": []}),
        };
        // The node wrote this document itself: a key set it cannot parse is a damaged key file.
        let keys =
            Arc::new(Jwks::parse(document.to_string().as_bytes()).map_err(|e| NodeError::SigningKey(e.to_string()))?);
        if let Ok(mut guard) = self.cached.write() {
            *guard = Some((document.clone(), keys.clone(), Instant::now()));
        }
        Ok((document, keys))
    }
}

/// Trusted issuers' key sets, fetched and cached.
pub struct JwksCache {
    client: reqwest::Client,
    trusted: HashSet<String>,
    own_jku: String,
    own: Arc<OwnKeys>,
    ttl: Duration,
    failure_ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
    /// One lock per key-set URL, held while it is fetched.
    in_flight: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl JwksCache {
    pub fn new(
        trusted: HashSet<String>,
        own_jku: String,
        own: Arc<OwnKeys>,
        ttl: Duration,
        failure_ttl: Duration,
    ) -> Result<Self, SetupError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            // A key set answered by a redirect would be fetched from an untrusted URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(SetupError::HttpClient)?;
        Ok(JwksCache {
            client,
            trusted,
            own_jku,
            own,
            ttl,
            failure_ttl,
            entries: RwLock::new(HashMap::new()),
            in_flight: std::sync::Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, jku: &str) -> Option<Result<Arc<Jwks>, KeysError>> {
        let entries = self.entries.read().ok()?;
        match entries.get(jku)? {
            Entry::Keys { keys, until, .. } if *until > Instant::now() => Some(Ok(keys.clone())),
            Entry::Failed { reason, until } if *until > Instant::now() => Some(Err(reason.clone())),
            _ => None,
        }
    }

    async fn fetch(&self, jku: &str) -> Result<Arc<Jwks>, KeysError> {
        let failed = KeysError::Fetch;
        let mut response = self.client.get(jku).send().await.map_err(|e| {
            failed(if e.is_timeout() {
                format!("no answer within {} s", FETCH_TIMEOUT.as_secs())
            } else {
                format!("{e}")
            })
        })?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(failed(format!("the key set is larger than {MAX_JWKS_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Arc::new(Jwks::parse(&body).map_err(|e| failed(e.to_string()))?))
    }
}

impl JwksCache {
    /// Fetches `jku` and caches the outcome; callers arriving meanwhile wait and take that outcome.
    async fn fetch_and_keep(&self, jku: &str) -> Result<Arc<Jwks>, KeysError> {
        let lock = match self.in_flight.lock() {
            Ok(mut locks) => locks.entry(jku.to_string()).or_default().clone(),
            Err(_) => Arc::new(tokio::sync::Mutex::new(())),
        };
        let _flight = lock.lock().await;
        if let Some(found) = self.cached(jku) {
            return found;
        }
        let fetched = self.fetch(jku).await;
        let now = Instant::now();
        let entry = match &fetched {
            Ok(keys) => Entry::Keys { keys: keys.clone(), until: now + self.ttl, fetched: now, checked: now },
            Err(reason) => match self.stale(jku) {
                // The issuer is unreachable: the expired set still verifies its tokens for a while.
                Some((keys, fetched_at)) => {
                    tracing::warn!(jku, cause = %reason, "issuer key set expired and not refreshed; using the last one");
                    let until = now + self.failure_ttl;
                    let entry = Entry::Keys { keys: keys.clone(), until, fetched: fetched_at, checked: now };
                    self.keep(jku, entry);
                    return Ok(keys);
                }
                None => Entry::Failed { reason: reason.clone(), until: now + self.failure_ttl },
            },
        };
        self.keep(jku, entry);
        fetched
    }

    /// An expired key set fetched less than `ttl` + [`MAX_STALE`] ago, with when it was fetched.
    fn stale(&self, jku: &str) -> Option<(Arc<Jwks>, Instant)> {
        match self.entries.read().ok()?.get(jku)? {
            Entry::Keys { keys, fetched, .. } if fetched.elapsed() < self.ttl + MAX_STALE => {
                Some((keys.clone(), *fetched))
            }
            _ => None,
        }
    }

    fn keep(&self, jku: &str, entry: Entry) {
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(jku.to_string(), entry);
        }
    }

    /// Refuses key sets outside the configuration, and serves this node's own from memory (read
    /// again from its files when older than `own_age`).
    fn local(&self, jku: &str, own_age: Duration) -> Option<Result<Arc<Jwks>, KeysError>> {
        if jku == self.own_jku {
            return Some(
                self.own.read_if_older(own_age).map(|(_, keys)| keys).map_err(|e| KeysError::Own(e.to_string())),
            );
        }
        if !self.trusted.contains(jku) {
            return Some(Err(KeysError::Untrusted(jku.to_string())));
        }
        None
    }
}

impl KeySource for JwksCache {
    fn keys<'a>(&'a self, jku: &'a str) -> KeysFuture<'a> {
        Box::pin(async move {
            if let Some(local) = self.local(jku, OWN_REFRESH) {
                return local;
            }
            if let Some(found) = self.cached(jku) {
                return found;
            }
            self.fetch_and_keep(jku).await
        })
    }

    /// Fetches again when the cached set is older than the failure TTL: an issuer's rotation is
    /// picked up within seconds, and tokens naming unknown `kid`s cannot make a fetch storm.
    fn refresh<'a>(&'a self, jku: &'a str) -> KeysFuture<'a> {
        Box::pin(async move {
            if let Some(local) = self.local(jku, OWN_RECHECK) {
                return local;
            }
            let recent = self.entries.read().ok().and_then(|entries| match entries.get(jku) {
                Some(Entry::Keys { keys, checked, .. }) => Some((keys.clone(), checked.elapsed() < self.failure_ttl)),
                _ => None,
            });
            match recent {
                // Asked again within the failure TTL: the cached set stands.
                Some((keys, true)) => Ok(keys),
                Some((keys, false)) => match self.fetch(jku).await {
                    Ok(fresh) => {
                        self.keep(
                            jku,
                            Entry::Keys {
                                keys: fresh.clone(),
                                until: Instant::now() + self.ttl,
                                fetched: Instant::now(),
                                checked: Instant::now(),
                            },
                        );
                        Ok(fresh)
                    }
                    // The issuer is unreachable: keep the set that still verifies its other tokens.
                    Err(_) => {
                        if let Ok(mut entries) = self.entries.write()
                            && let Some(Entry::Keys { checked, .. }) = entries.get_mut(jku)
                        {
                            *checked = Instant::now();
                        }
                        Ok(keys)
                    }
                },
                None => self.keys(jku).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// An issuer serving one key set slowly (so concurrent requests overlap), counting fetches.
    async fn issuer(hits: Arc<AtomicUsize>) -> (String, tokio::task::JoinHandle<()>) {
        let key = oresund_access::signing::NodeSigningKey::generate().unwrap();
        let document = serde_json::json!({"keys": [key.public_jwk()]}).to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let (document, hits) = (document.clone(), hits.clone());
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    document
                }
            }),
        );
        (url, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
    }

    fn cache(jku: &str, ttl: Duration) -> (tempfile::TempDir, JwksCache) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("node");
        let options = oresund_node::init::InitOptions {
            node_id: "DK-NGC".into(),
            country: "DK".into(),
            assembly: "GRCh38".into(),
            reference: concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo-data/reference.fa.gz").into(),
            hpo: None,
        };
        oresund_node::init::init(&dir, &options, |_| {}).unwrap();
        let own = Arc::new(OwnKeys::new(Arc::new(Node::open(&dir).unwrap())));
        let trusted = HashSet::from([jku.to_string()]);
        let cache = JwksCache::new(trusted, "http://own/jwks".into(), own, ttl, Duration::from_millis(50)).unwrap();
        (tmp, cache)
    }

    /// Issue #17: twenty requests needing the same key set at once make one fetch, and an expired
    /// set whose issuer has gone is kept instead of failing every passport it signed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_fetch_at_a_time_and_an_outage_keeps_the_last_key_set() {
        let hits = Arc::new(AtomicUsize::new(0));
        let (jku, server) = issuer(hits.clone()).await;
        let (_tmp, cache) = cache(&jku, Duration::from_millis(300));
        let asked = futures::future::join_all((0..20).map(|_| cache.keys(&jku))).await;
        assert!(asked.iter().all(Result::is_ok), "{:?}", asked.iter().find(|r| r.is_err()));
        assert_eq!(hits.load(Ordering::SeqCst), 1, "one fetch for twenty concurrent requests");
        let first = asked[0].as_ref().unwrap().clone();

        server.abort();
        let _ = server.await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let during_outage = cache.keys(&jku).await.expect("the expired set is kept while the issuer is down");
        assert!(Arc::ptr_eq(&during_outage, &first));
        assert!(cache.refresh(&jku).await.is_ok(), "a refresh during the outage keeps it too");
    }
}
