//! `Authorization: Bearer` for GA4GH Passports (AAI / Passport v1.2): a bearer that is a compact
//! JWS (`header.payload.signature`) is a passport JWT, verified with every visa in it by
//! `oresund_access::passport::verify_passport`. This node accepts the passport JWT itself — there is
//! no token exchange at a broker. Any other bearer is one of the operator's tokens
//! (`oresund token add`), kept as the path for operators and scripts.
//!
//! A verified passport is remembered (by SHA-256 of the token) until it or a visa in it expires,
//! at most for the JWKS time-to-live, so a client that sends the same passport with every query is
//! not verified again each time; the node's own grants in it are still checked on every use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use oresund_access::authenticator::{AuthError, AuthFuture, Authenticator};
use oresund_access::passport::{
    KeySource, PassportPolicy, Revocations, VerifiedPassport, check_own_grants, verify_passport,
};
use oresund_access::{Caller, TokenAuthenticator};
use oresund_node::clock::unix_now;
use sha2::{Digest, Sha256};

/// Verified passports kept; the cache is emptied when full.
const CACHE_ENTRIES: usize = 4096;

/// Passports first, operator tokens for everything else.
pub struct PassportAuthenticator {
    pub policy: PassportPolicy,
    pub keys: Arc<dyn KeySource>,
    pub grants: Arc<dyn Revocations>,
    pub tokens: TokenAuthenticator,
    /// Longest time a verified passport is reused without verifying it again, seconds.
    pub cache_ttl: i64,
    cache: Mutex<HashMap<[u8; 32], (VerifiedPassport, i64)>>,
}

/// Whether a bearer is a compact JWS rather than an operator token (hex, no dots).
pub fn is_jws(bearer: &str) -> bool {
    bearer.bytes().filter(|b| *b == b'.').count() == 2
}

/// The claims of a compact JWS, unverified: only for filing a refusal.
pub fn unverified_claims(jws: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = jws.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The identity a refused passport claims (`iss#sub`, unverified, shortened), for the audit log.
pub fn claimed_identity(bearer: &str) -> Option<String> {
    let claims = unverified_claims(bearer)?;
    let claimed = format!("{}#{}", claims["iss"].as_str()?, claims["sub"].as_str()?);
    Some(claimed.chars().take(200).collect())
}

impl PassportAuthenticator {
    pub fn new(
        policy: PassportPolicy,
        keys: Arc<dyn KeySource>,
        grants: Arc<dyn Revocations>,
        tokens: TokenAuthenticator,
        cache_ttl: i64,
    ) -> Self {
        PassportAuthenticator { policy, keys, grants, tokens, cache_ttl, cache: Mutex::new(HashMap::new()) }
    }

    async fn passport(&self, token: &str) -> Result<Caller, AuthError> {
        let now = unix_now();
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self.cache.lock().ok().and_then(|c| c.get(&digest).filter(|(_, until)| *until >= now).cloned());
        if let Some((mut passport, _)) = cached {
            passport.own = check_own_grants(&passport, &self.policy, self.grants.as_ref()).await?;
            return Ok(passport.caller(&self.policy));
        }
        let passport = verify_passport(token, &self.policy, self.keys.as_ref(), self.grants.as_ref(), now).await?;
        let until = passport.valid_until().min(now + self.cache_ttl);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(digest, (passport.clone(), until));
        }
        Ok(passport.caller(&self.policy))
    }
}

impl Authenticator for PassportAuthenticator {
    fn authenticate<'a>(&'a self, bearer: Option<&'a str>) -> AuthFuture<'a> {
        Box::pin(async move {
            match bearer {
                Some(token) if is_jws(token) => self.passport(token).await,
                other => self.tokens.check(other),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passports_are_told_from_operator_tokens() {
        assert!(is_jws("a.b.c"));
        assert!(!is_jws("0123456789abcdef0123456789abcdef"));
        assert!(!is_jws("a.b.c.d"));
        use base64::Engine;
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let token = format!("{}.{}.sig", b64("{}"), b64(r#"{"iss":"https://b","sub":"alice"}"#));
        assert_eq!(claimed_identity(&token).as_deref(), Some("https://b#alice"));
        let long = format!("{}.{}.sig", b64("{}"), b64(&format!(r#"{{"iss":"{}","sub":"x"}}"#, "i".repeat(500))));
        assert_eq!(claimed_identity(&long).map(|c| c.chars().count()), Some(200));
        assert_eq!(claimed_identity("x.!!.y"), None);
    }
}
