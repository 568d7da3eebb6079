//! What verifying a GA4GH passport costs, without HTTP: a broker-signed ES256 passport holding the
//! two registered-access visas and one grant of this node's committee, verified again and again
//! with keys in memory (what a request costs when its passport is not in the server's cache).
//!
//!     cargo run --release -p oresund-access --example passport_verification [ROUNDS]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use oresund_access::jwk::Jwks;
use oresund_access::passport::{
    BONA_FIDE, GrantFuture, GrantStatus, KeySource, KeysError, KeysFuture, PASSPORT_TYP, PassportPolicy, Revocations,
    TrustedIssuer, verify_passport,
};
use oresund_access::signing::NodeSigningKey;
use serde_json::json;

struct Keys(Vec<(String, Arc<Jwks>)>);

impl KeySource for Keys {
    fn keys<'a>(&'a self, jku: &'a str) -> KeysFuture<'a> {
        let found = self
            .0
            .iter()
            .find(|(j, _)| j == jku)
            .map(|(_, k)| k.clone())
            .ok_or_else(|| KeysError::Fetch("unknown".into()));
        Box::pin(async move { found })
    }
}

struct Active;

impl Revocations for Active {
    fn status<'a>(&'a self, _: &'a str, _: &'a str) -> GrantFuture<'a> {
        Box::pin(async { Ok(GrantStatus::Active(None)) })
    }
}

/// Runs a future whose sources answer at once.
fn now_or_never<F: Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("in-memory sources never wait"),
    }
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let (broker, node) = (NodeSigningKey::generate().expect("a key"), NodeSigningKey::generate().expect("a key"));
    let (broker_iss, node_iss) = ("https://broker.example", "https://node.example");
    let (broker_jku, node_jku) = ("https://broker.example/jwks", "https://node.example/.well-known/jwks.json");
    let now = 1_800_000_000;
    let visa = |key: &NodeSigningKey, iss: &str, jku: &str, kind: &str, value: &str| {
        let claims = json!({"iss": iss, "sub": "alice", "iat": now, "exp": now + 3600, "jti": "g1",
            "ga4gh_visa_v1": {"type": kind, "value": value, "source": "https://ku.dk", "by": "dac", "asserted": now}});
        key.sign(&claims, "JWT", jku)
    };
    let visas = [
        visa(&broker, broker_iss, broker_jku, "ResearcherStatus", BONA_FIDE),
        visa(&broker, broker_iss, broker_jku, "AcceptedTermsAndPolicies", BONA_FIDE),
        visa(&node, node_iss, node_jku, "ControlledAccessGrants", "https://node.example/datasets/DK-1"),
    ];
    let passport = broker.sign(
        &json!({"iss": broker_iss, "sub": "alice", "iat": now, "exp": now + 3600, "ga4gh_passport_v1": visas}),
        PASSPORT_TYP,
        broker_jku,
    );
    let keys = Keys(vec![
        (broker_jku.into(), Arc::new(Jwks { keys: vec![broker.public()] })),
        (node_jku.into(), Arc::new(Jwks { keys: vec![node.public()] })),
    ]);
    let policy = PassportPolicy {
        trusted: vec![
            TrustedIssuer { iss: broker_iss.into(), jku: vec![broker_jku.into()], grants: vec![] },
            TrustedIssuer { iss: node_iss.into(), jku: vec![node_jku.into()], grants: vec![] },
        ],
        max_skew: 60,
        dataset_urls: BTreeMap::new(),
        dataset_prefix: Some(format!("{node_iss}/datasets/")),
        own_issuer: Some(node_iss.into()),
        clinician_roles: Vec::new(),
        own_audience: None,
        audiences: Vec::new(),
    };
    let started = Instant::now();
    for _ in 0..rounds {
        let verified = now_or_never(verify_passport(&passport, &policy, &keys, &Active, now)).expect("valid");
        assert_eq!(verified.visas.len(), 3);
    }
    let per = started.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "passport of {} bytes with 3 visas (4 ES256 signatures): {:.0} µs per verification, {:.0} per second on one core",
        passport.len(),
        per * 1e6,
        1.0 / per
    );
}
