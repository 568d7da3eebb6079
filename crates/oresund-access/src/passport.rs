//! GA4GH Passport v1.2 verification: the passport JWT and every visa in it, each signed with
//! RS256 or ES256 by an issuer this node trusts, its keys fetched only from a `jku` the node
//! trusts *for that issuer* — checked before anything is fetched.
//!
//! A caller's tier follows from the visas: REGISTERED with a ResearcherStatus and an
//! AcceptedTermsAndPolicies visa whose values are the registered-access DOI (Dyke et al. 2018),
//! CONTROLLED for a dataset with a ControlledAccessGrants visa whose value is that dataset's URL.
//! Any invalid visa makes the whole passport invalid: a broker should not pass on broken visas,
//! and a node should not guess which part of a tampered token to believe.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::caller::Caller;
use crate::conditions::conditions_met;
use crate::jwk::Jwks;
use crate::jwt::{JwtError, UnverifiedJwt};

/// The registered-access policy (Dyke et al., EJHG 2018), as ResearcherStatus and
/// AcceptedTermsAndPolicies visa values.
pub const BONA_FIDE: &str = "https://doi.org/10.1038/s41431-018-0219-y";
/// Passport JWT `typ` (Passport v1.2 §"Passport Format").
pub const PASSPORT_TYP: &str = "vnd.ga4gh.passport+jwt";
/// Most visas in one passport.
pub const MAX_VISAS: usize = 200;

/// An issuer the node trusts, with the key-set URLs it may sign from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    pub iss: String,
    pub jku: Vec<String>,
}

/// What the node accepts.
#[derive(Debug, Clone, Default)]
pub struct PassportPolicy {
    pub trusted: Vec<TrustedIssuer>,
    /// Allowed clock difference for `exp`, `iat` and `nbf`, seconds.
    pub max_skew: u64,
    /// Dataset URL (a ControlledAccessGrants value) → dataset id.
    pub dataset_urls: BTreeMap<String, String>,
    /// This node's own issuer, whose visas can be revoked here.
    pub own_issuer: Option<String>,
}

/// Fetches (and caches) the key set at a trusted `jku`.
pub trait KeySource: Send + Sync {
    fn keys<'a>(&'a self, jku: &'a str) -> Pin<Box<dyn Future<Output = Result<Arc<Jwks>, String>> + Send + 'a>>;
}

/// Grants revoked by this node's data access committee (by visa `jti`).
pub trait Revocations: Send + Sync {
    fn is_revoked(&self, jti: &str) -> bool;
}

/// Why a passport was refused; the message names the visa and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportError {
    #[error("{0}")]
    Token(#[from] JwtError),
    #[error("{what}: issuer {iss:?} is not trusted by this node")]
    UntrustedIssuer { what: String, iss: String },
    #[error("{what}: jku {jku:?} is not a trusted key set of issuer {iss:?}")]
    UntrustedJku { what: String, iss: String, jku: String },
    #[error("{what}: the key set could not be fetched: {reason}")]
    Keys { what: String, reason: String },
    #[error("{what}: {reason}")]
    Claims { what: String, reason: String },
    #[error("{what}: the signature does not verify with the issuer's keys")]
    Signature { what: String },
    #[error("the passport holds {0} visas; at most {MAX_VISAS} are accepted")]
    TooManyVisas(usize),
    #[error("{what}: this grant was revoked")]
    Revoked { what: String },
}

/// One verified visa (`ga4gh_visa_v1` plus who issued it).
#[derive(Debug, Clone, PartialEq)]
pub struct Visa {
    pub iss: String,
    pub sub: String,
    pub jti: Option<String>,
    pub kind: String,
    pub value: String,
    pub source: String,
    pub by: Option<String>,
    pub asserted: i64,
    pub exp: i64,
    pub conditions: Option<Value>,
}

/// A passport whose every signature and claim checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPassport {
    pub iss: String,
    pub sub: String,
    pub visas: Vec<Visa>,
}

fn claims_error(what: &str, reason: impl Into<String>) -> PassportError {
    PassportError::Claims { what: what.to_string(), reason: reason.into() }
}

/// Signature, issuer trust and time checks shared by passports and visas.
async fn verify_signed(
    jwt: &UnverifiedJwt,
    what: &str,
    policy: &PassportPolicy,
    keys: &dyn KeySource,
    now: i64,
) -> Result<(String, String), PassportError> {
    let iss = jwt.claim_str("iss").ok_or_else(|| claims_error(what, "iss is missing"))?.to_string();
    let sub = jwt.claim_str("sub").ok_or_else(|| claims_error(what, "sub is missing"))?.to_string();
    let jku = jwt.header_str("jku").ok_or_else(|| claims_error(what, "the header has no jku"))?;
    let issuer = policy
        .trusted
        .iter()
        .find(|t| t.iss == iss)
        .ok_or_else(|| PassportError::UntrustedIssuer { what: what.into(), iss: iss.clone() })?;
    // Trust is checked before any key is fetched: an attacker's jku is never contacted.
    if !issuer.jku.iter().any(|j| j == jku) {
        return Err(PassportError::UntrustedJku { what: what.into(), iss, jku: jku.into() });
    }
    let set = keys.keys(jku).await.map_err(|reason| PassportError::Keys { what: what.into(), reason })?;
    jwt.verify(set.candidates(jwt.header_str("kid"))).map_err(|_| PassportError::Signature { what: what.into() })?;
    let skew = policy.max_skew as i64;
    let exp = jwt.claims["exp"].as_i64().ok_or_else(|| claims_error(what, "exp is missing"))?;
    let iat = jwt.claims["iat"].as_i64().ok_or_else(|| claims_error(what, "iat is missing"))?;
    if exp + skew < now {
        return Err(claims_error(what, format!("expired {} s ago", now - exp)));
    }
    if iat - skew > now {
        return Err(claims_error(what, "issued in the future (iat)"));
    }
    if jwt.claims["nbf"].as_i64().is_some_and(|nbf| nbf - skew > now) {
        return Err(claims_error(what, "not yet valid (nbf)"));
    }
    Ok((iss, sub))
}

const VISA_TYPES: [&str; 5] = [
    "AffiliationAndRole",
    "AcceptedTermsAndPolicies",
    "ResearcherStatus",
    "ControlledAccessGrants",
    "LinkedIdentities",
];

/// Verifies a passport JWT and all its visas at time `now` (unix seconds).
pub async fn verify_passport(
    token: &str,
    policy: &PassportPolicy,
    keys: &dyn KeySource,
    revocations: &dyn Revocations,
    now: i64,
) -> Result<VerifiedPassport, PassportError> {
    let passport = UnverifiedJwt::parse(token)?;
    if passport.header_str("typ") != Some(PASSPORT_TYP) {
        return Err(claims_error("passport", format!("typ must be {PASSPORT_TYP}")));
    }
    let (iss, sub) = verify_signed(&passport, "passport", policy, keys, now).await?;
    let encoded = passport.claims["ga4gh_passport_v1"]
        .as_array()
        .ok_or_else(|| claims_error("passport", "ga4gh_passport_v1 (a list of visas) is missing"))?;
    if encoded.len() > MAX_VISAS {
        return Err(PassportError::TooManyVisas(encoded.len()));
    }
    let mut visas = Vec::with_capacity(encoded.len());
    for (i, token) in encoded.iter().enumerate() {
        let what = format!("visa {i}");
        let token = token.as_str().ok_or_else(|| claims_error(&what, "not a JWT string"))?;
        let jwt = UnverifiedJwt::parse(token).map_err(|e| claims_error(&what, e.to_string()))?;
        let (visa_iss, visa_sub) = verify_signed(&jwt, &what, policy, keys, now).await?;
        if visa_sub != sub {
            return Err(claims_error(&what, "its sub differs from the passport's"));
        }
        let object = &jwt.claims["ga4gh_visa_v1"];
        let field = |name: &str| object[name].as_str().map(str::to_string);
        let kind = field("type").ok_or_else(|| claims_error(&what, "ga4gh_visa_v1.type is missing"))?;
        if !VISA_TYPES.contains(&kind.as_str()) {
            return Err(claims_error(&what, format!("unknown visa type {kind:?}")));
        }
        let visa = Visa {
            iss: visa_iss,
            sub: visa_sub,
            jti: jwt.claim_str("jti").map(str::to_string),
            value: field("value").ok_or_else(|| claims_error(&what, "ga4gh_visa_v1.value is missing"))?,
            source: field("source").ok_or_else(|| claims_error(&what, "ga4gh_visa_v1.source is missing"))?,
            by: field("by"),
            asserted: object["asserted"]
                .as_i64()
                .ok_or_else(|| claims_error(&what, "ga4gh_visa_v1.asserted is missing"))?,
            exp: jwt.claims["exp"].as_i64().unwrap_or_default(),
            conditions: object.get("conditions").filter(|c| !c.is_null()).cloned(),
            kind,
        };
        // Passport v1.2 §ControlledAccessGrants: `by` is required.
        if visa.kind == "ControlledAccessGrants" && visa.by.is_none() {
            return Err(claims_error(&what, "a ControlledAccessGrants visa needs `by`"));
        }
        if visa.asserted > now + policy.max_skew as i64 {
            return Err(claims_error(&what, "asserted in the future"));
        }
        let own = policy.own_issuer.as_deref() == Some(visa.iss.as_str());
        if own && visa.jti.as_deref().is_some_and(|jti| revocations.is_revoked(jti)) {
            return Err(PassportError::Revoked { what });
        }
        visas.push(visa);
    }
    for (i, visa) in visas.iter().enumerate() {
        if visa.conditions.as_ref().is_some_and(|c| !conditions_met(c, &visas)) {
            return Err(claims_error(&format!("visa {i}"), "its conditions are not met by the other visas"));
        }
    }
    Ok(VerifiedPassport { iss, sub, visas })
}

impl VerifiedPassport {
    /// The caller these visas make.
    pub fn caller(&self, policy: &PassportPolicy) -> Caller {
        let has = |kind: &str| self.visas.iter().any(|v| v.kind == kind && v.value == BONA_FIDE);
        let controlled: BTreeSet<String> = self
            .visas
            .iter()
            .filter(|v| v.kind == "ControlledAccessGrants")
            .filter_map(|v| policy.dataset_urls.get(&v.value).cloned())
            .collect();
        Caller {
            user: Some(format!("{}#{}", self.iss, self.sub)),
            registered: has("ResearcherStatus") && has("AcceptedTermsAndPolicies"),
            controlled,
        }
    }
}
