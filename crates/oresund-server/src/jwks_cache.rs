//! Issuers' key sets for passport verification (`oresund_access::passport::KeySource`): fetched over
//! HTTP(S) only from `jku` URLs the configuration trusts (the passport code checks trust for the
//! token's issuer first; this cache refuses any other URL as well), kept for `jwks_ttl_s`, and a
//! failed fetch remembered for `jwks_failure_ttl_s` so a dead issuer does not cost a fetch per
//! request. This node's own key set is served from memory, re-read from its key files every few
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

enum Entry {
    Keys { keys: Arc<Jwks>, until: Instant, fetched: Instant },
    Failed { reason: KeysError, until: Instant },
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
        Ok(JwksCache { client, trusted, own_jku, own, ttl, failure_ttl, entries: RwLock::new(HashMap::new()) })
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
    /// Fetches `jku` and caches the outcome.
    async fn fetch_and_keep(&self, jku: &str) -> Result<Arc<Jwks>, KeysError> {
        let fetched = self.fetch(jku).await;
        let now = Instant::now();
        let entry = match &fetched {
            Ok(keys) => Entry::Keys { keys: keys.clone(), until: now + self.ttl, fetched: now },
            Err(reason) => Entry::Failed { reason: reason.clone(), until: now + self.failure_ttl },
        };
        self.keep(jku, entry);
        fetched
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
                Some(Entry::Keys { keys, fetched, .. }) => Some((keys.clone(), fetched.elapsed() < self.failure_ttl)),
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
                            },
                        );
                        Ok(fresh)
                    }
                    // The issuer is unreachable: keep the set that still verifies its other tokens.
                    Err(_) => {
                        if let Ok(mut entries) = self.entries.write()
                            && let Some(Entry::Keys { fetched, .. }) = entries.get_mut(jku)
                        {
                            *fetched = Instant::now();
                        }
                        Ok(keys)
                    }
                },
                None => self.keys(jku).await,
            }
        })
    }
}
