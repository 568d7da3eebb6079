//! GA4GH Passport v1.2 verification: the passport JWT and every visa in it, each signed with
//! RS256 or ES256 by an issuer this node trusts, its keys fetched only from a `jku` the node
//! trusts *for that issuer* — checked before anything is fetched.
//!
//! A caller's tier follows from the visas: REGISTERED with a ResearcherStatus and an
//! AcceptedTermsAndPolicies visa whose values are the registered-access DOI (Dyke et al. 2018),
//! CONTROLLED for a dataset with a ControlledAccessGrants visa whose value is that dataset's URL,
//! asserted by an issuer allowed to grant that dataset (this node's own data access committee, or
//! an issuer configured for it).
//!
//! A visa that fails a check (signature, trust, time, `by`, an unknown or someone else's grant)
//! makes the whole passport invalid: a broker should not pass on broken visas, and a node should
//! not guess which part of a tampered token to believe. Three things are not failures, but are
//! kept out of the caller's rights and told to the caller: a visa of a type this node does not
//! know (Passport v1.2 §"Custom Visa Types"), a visa whose `conditions` do not hold
//! (§"Conditions": such a visa is not valid), and a grant of this node that its committee revoked
//! (the researcher keeps their other rights).
//!
//! A grant reaches only the people whose consent allows its research purpose: this node's grants
//! carry the purpose the committee approved (its records are the authority; the visa repeats it in
//! the [`PURPOSE_CLAIM`] claim); another issuer's grant may state it in the same claim, and one
//! that does not reaches only the people whose consent allows every purpose.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::caller::{Caller, IgnoredGrant, Reach};
use crate::conditions::conditions_met;
use crate::duo_match::ResearchPurpose;
use crate::jwk::Jwks;
use crate::jwt::{JwtError, UnverifiedJwt};
pub use crate::visa::{Visa, VisaType};

/// The registered-access policy (Dyke et al., EJHG 2018), as ResearcherStatus and
/// AcceptedTermsAndPolicies visa values.
pub const BONA_FIDE: &str = "https://doi.org/10.1038/s41431-018-0219-y";
/// The DOI of [`BONA_FIDE`] alone.
const BONA_FIDE_DOI: &str = "10.1038/s41431-018-0219-y";
/// The visa claim (beside `ga4gh_visa_v1`) stating the research purpose a ControlledAccessGrants
/// visa was granted for: `{"purpose": DUO id, "disease"?, "commercial", "methods"}`.
pub const PURPOSE_CLAIM: &str = "oresund_purpose";

/// Whether a visa value names the registered-access policy, in any usual spelling of its DOI:
/// `https://doi.org/…`, `http://dx.doi.org/…`, `doi:…` or the bare DOI (DOIs are case-insensitive).
pub fn is_bona_fide(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    let doi = ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"]
        .iter()
        .find_map(|prefix| value.strip_prefix(prefix))
        .unwrap_or(&value);
    doi.trim() == BONA_FIDE_DOI
}
/// Passport JWT `typ` (Passport v1.2 §"Passport Format").
pub const PASSPORT_TYP: &str = "vnd.ga4gh.passport+jwt";
/// Most visas in one passport.
pub const MAX_VISAS: usize = 200;
pub use crate::visa::CONTROLLED_ACCESS_GRANTS;

/// An issuer the node trusts, with the key-set URLs it may sign from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustedIssuer {
    pub iss: String,
    pub jku: Vec<String>,
    /// Dataset ids whose ControlledAccessGrants this issuer may assert (`*`: all). Empty for a
    /// broker or an identity provider, which vouch for researchers, not for access to our data.
    pub grants: Vec<String>,
}

/// What the node accepts.
#[derive(Debug, Clone, Default)]
pub struct PassportPolicy {
    pub trusted: Vec<TrustedIssuer>,
    /// Allowed clock difference for `exp`, `iat` and `nbf`, seconds.
    pub max_skew: u64,
    /// Dataset URL (a ControlledAccessGrants value) → dataset id, for URLs set by the operator.
    pub dataset_urls: BTreeMap<String, String>,
    /// The default dataset URL prefix (`{base_url}/datasets/`): a value that starts with it names
    /// the dataset id after it.
    pub dataset_prefix: Option<String>,
    /// This node's own issuer, whose visas are checked against its grant records.
    pub own_issuer: Option<String>,
    /// `AffiliationAndRole` values that make the holder a clinician here (`[mme] clinician_roles`).
    pub clinician_roles: Vec<String>,
    /// This node's own audience (its base URL). When set, a passport's `aud` must name it or one of
    /// [`PassportPolicy::audiences`]; `None` checks no audience (library use and tools only).
    pub own_audience: Option<String>,
    /// Other audiences accepted here: the network's identifier (`[access] audiences`).
    pub audiences: Vec<String>,
}

/// An audience compared as people write it: `https://node.dk/` names `https://node.dk`.
fn same_audience(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl PassportPolicy {
    /// Checks the passport's `aud` (RFC 7519 §4.1.3: a string or an array of strings; a recipient
    /// that is not named in it must reject the token). Returns whether it names this very node.
    /// Without the check a passport shown to one service (or forwarded by a portal) could be
    /// replayed to any other that trusts its broker.
    fn check_audience(&self, claims: &Value) -> Result<bool, PassportError> {
        let Some(own) = self.own_audience.as_deref() else { return Ok(false) };
        let named: Vec<&str> = match &claims["aud"] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            Value::Null => {
                return Err(claims_error(
                    "passport",
                    format!(
                        "aud is missing: this node accepts passports minted for it (aud {own:?}) or for its network ([access] audiences)"
                    ),
                ));
            }
            _ => return Err(claims_error("passport", "aud must be a string or a list of strings")),
        };
        let for_this_node = named.iter().any(|aud| same_audience(aud, own));
        if for_this_node || named.iter().any(|aud| self.audiences.iter().any(|accepted| same_audience(aud, accepted))) {
            return Ok(for_this_node);
        }
        Err(claims_error(
            "passport",
            format!("aud {named:?} names neither this node ({own:?}) nor an audience it accepts ([access] audiences)"),
        ))
    }

    /// The dataset a ControlledAccessGrants value names (values match as exact strings).
    pub fn dataset_of(&self, url: &str) -> Option<String> {
        if let Some(id) = self.dataset_urls.get(url) {
            return Some(id.clone());
        }
        let id = url.strip_prefix(self.dataset_prefix.as_deref()?)?;
        (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
    }

    /// Whether visas of `iss` may grant `dataset`.
    pub fn may_grant(&self, iss: &str, dataset: &str) -> bool {
        self.own_issuer.as_deref() == Some(iss)
            || self.trusted.iter().any(|t| t.iss == iss && t.grants.iter().any(|g| g == "*" || g == dataset))
    }
}

/// Why a key set is not available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    /// The issuer's key set could not be fetched or read (the failure is the issuer's).
    #[error("{0}")]
    Fetch(String),
    #[error("{0} is not a trusted key set")]
    Untrusted(String),
    /// This node's own key set could not be read: the node's fault, not the passport's.
    #[error("this node's own key set cannot be read: {0}")]
    Own(String),
}

/// The future a [`KeySource`] returns.
pub type KeysFuture<'a> = Pin<Box<dyn Future<Output = Result<Arc<Jwks>, KeysError>> + Send + 'a>>;

/// Fetches (and caches) the key set at a trusted `jku`.
pub trait KeySource: Send + Sync {
    fn keys<'a>(&'a self, jku: &'a str) -> KeysFuture<'a>;

    /// The key set fetched again if the cached one may be stale: asked when a token names a
    /// `kid` the cached set does not hold (the issuer has rotated its keys). Sources rate-limit it.
    fn refresh<'a>(&'a self, jku: &'a str) -> KeysFuture<'a> {
        self.keys(jku)
    }
}

/// What this node's records say about a visa it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantStatus {
    /// In force, for this research purpose (`None`: the record states none).
    Active(Option<ResearchPurpose>),
    Revoked,
    /// No grant has this `jti`.
    Unknown,
    /// The grant was issued to another identity (another `iss#sub`).
    OtherHolder,
}

/// Why the node could not look a grant up: its own fault, not the passport's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantLookupError {
    /// A service the lookup needs (the catalog) is unreachable or busy: worth trying again.
    #[error("the grant lookup failed: {0}")]
    Unavailable(String),
    #[error("the grant lookup failed: {0}")]
    Failed(String),
}

/// The future a [`Revocations`] returns.
pub type GrantFuture<'a> = Pin<Box<dyn Future<Output = Result<GrantStatus, GrantLookupError>> + Send + 'a>>;

/// The grants this node's data access committee issued, by visa `jti`: asked on every use, so a
/// revocation takes effect at once, before the visa expires.
pub trait Revocations: Send + Sync {
    /// The status of grant `jti` for the passport holder `holder` (`iss#sub`).
    fn status<'a>(&'a self, jti: &'a str, holder: &'a str) -> GrantFuture<'a>;
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
    #[error("{what}: the key set could not be fetched: {error}")]
    Keys { what: String, error: KeysError },
    #[error("{what}: {reason}")]
    Claims { what: String, reason: String },
    #[error("{what}: the signature does not verify with the issuer's keys")]
    Signature { what: String },
    #[error("the passport holds {0} visas; at most {MAX_VISAS} are accepted")]
    TooManyVisas(usize),
    #[error("{what}: this node has no record of issuing this visa")]
    UnknownGrant { what: String },
    #[error("{what}: this grant was issued to another identity than the passport's")]
    OtherHolder { what: String },
    /// The node could not check a grant (see [`GrantLookupError`]): not the caller's fault.
    #[error("{what}: the grant could not be checked: {error}")]
    GrantCheck { what: String, error: GrantLookupError },
}

/// A passport whose every signature and claim checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPassport {
    pub iss: String,
    pub sub: String,
    /// The passport's own `exp`.
    pub exp: i64,
    /// The visas that hold (their position in the passport, and the visa).
    pub visas: Vec<(usize, Visa)>,
    /// Visas verified but granting nothing: position and why.
    pub ignored: Vec<(usize, String)>,
    /// What this node's records say of its own visas here, as of the last check.
    pub own: OwnGrants,
    /// The passport's `aud` names this very node, not only its network.
    pub for_this_node: bool,
}

/// What this node's grant records say about its visas in one passport.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnGrants {
    /// Visa position → the research purpose its grant was approved for.
    pub purposes: BTreeMap<usize, Option<ResearchPurpose>>,
    /// Positions of visas whose grant was revoked: they grant nothing, and the caller is told.
    pub revoked: Vec<usize>,
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
    let mut set = keys.keys(jku).await.map_err(|error| PassportError::Keys { what: what.into(), error })?;
    if jwt.header_str("kid").is_some() && set.candidates(jwt.header_str("kid")).next().is_none() {
        set = keys.refresh(jku).await.map_err(|error| PassportError::Keys { what: what.into(), error })?;
    }
    jwt.verify(set.candidates(jwt.header_str("kid"))).map_err(|_| PassportError::Signature { what: what.into() })?;
    let skew = policy.max_skew as i64;
    let exp = jwt.claims["exp"].as_i64().ok_or_else(|| claims_error(what, "exp is missing"))?;
    let iat = jwt.claims["iat"].as_i64().ok_or_else(|| claims_error(what, "iat is missing"))?;
    // Saturating: the numbers are the token's, and may be anything an issuer signed.
    if exp.saturating_add(skew) < now {
        return Err(claims_error(what, format!("expired {} s ago", now.saturating_sub(exp))));
    }
    if iat.saturating_sub(skew) > now {
        return Err(claims_error(what, "issued in the future (iat)"));
    }
    if jwt.claims["nbf"].as_i64().is_some_and(|nbf| nbf.saturating_sub(skew) > now) {
        return Err(claims_error(what, "not yet valid (nbf)"));
    }
    Ok((iss, sub))
}

/// Reads and checks one visa.
async fn verify_visa(
    token: &Value,
    what: &str,
    sub: &str,
    policy: &PassportPolicy,
    keys: &dyn KeySource,
    now: i64,
) -> Result<Visa, PassportError> {
    let token = token.as_str().ok_or_else(|| claims_error(what, "not a JWT string"))?;
    let jwt = UnverifiedJwt::parse(token).map_err(|e| claims_error(what, e.to_string()))?;
    let (visa_iss, visa_sub) = verify_signed(&jwt, what, policy, keys, now).await?;
    if visa_sub != sub {
        return Err(claims_error(what, "its sub differs from the passport's"));
    }
    let object = &jwt.claims["ga4gh_visa_v1"];
    let field = |name: &str| object[name].as_str().map(str::to_string);
    let visa = Visa {
        iss: visa_iss,
        sub: visa_sub,
        jti: jwt.claim_str("jti").map(str::to_string),
        kind: VisaType::parse(
            object["type"].as_str().ok_or_else(|| claims_error(what, "ga4gh_visa_v1.type is missing"))?,
        ),
        value: field("value").ok_or_else(|| claims_error(what, "ga4gh_visa_v1.value is missing"))?,
        source: field("source").ok_or_else(|| claims_error(what, "ga4gh_visa_v1.source is missing"))?,
        by: field("by"),
        asserted: object["asserted"].as_i64().ok_or_else(|| claims_error(what, "ga4gh_visa_v1.asserted is missing"))?,
        exp: jwt.claims["exp"].as_i64().unwrap_or_default(),
        conditions: object.get("conditions").filter(|c| !c.is_null()).cloned(),
        purpose: match jwt.claims.get(PURPOSE_CLAIM).filter(|p| !p.is_null()) {
            None => None,
            Some(stated) => {
                let purpose: ResearchPurpose = serde_json::from_value(stated.clone())
                    .map_err(|e| claims_error(what, format!("{PURPOSE_CLAIM}: {e}")))?;
                purpose.validate().map_err(|e| claims_error(what, format!("{PURPOSE_CLAIM}: {e}")))?;
                Some(purpose.canonical())
            }
        },
    };
    // Passport v1.2 §ControlledAccessGrants: `by` is required.
    if visa.kind == VisaType::ControlledAccessGrants && visa.by.is_none() {
        return Err(claims_error(what, "a ControlledAccessGrants visa needs `by`"));
    }
    if visa.asserted > now + policy.max_skew as i64 {
        return Err(claims_error(what, "asserted in the future"));
    }
    // This node's visas are revocable by jti, so one without a jti cannot be ours to honour.
    if policy.own_issuer.as_deref() == Some(visa.iss.as_str()) && visa.jti.is_none() {
        return Err(claims_error(what, "a visa of this node without jti"));
    }
    Ok(visa)
}

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
    let for_this_node = policy.check_audience(&passport.claims)?;
    let encoded = passport.claims["ga4gh_passport_v1"]
        .as_array()
        .ok_or_else(|| claims_error("passport", "ga4gh_passport_v1 (a list of visas) is missing"))?;
    if encoded.len() > MAX_VISAS {
        return Err(PassportError::TooManyVisas(encoded.len()));
    }
    let mut visas = Vec::with_capacity(encoded.len());
    let mut ignored = Vec::new();
    for (i, token) in encoded.iter().enumerate() {
        let visa = verify_visa(token, &format!("visa {i}"), &sub, policy, keys, now).await?;
        if visa.kind.is_standard() {
            visas.push((i, visa));
        } else {
            ignored.push((i, format!("custom visa type {:?} grants nothing here", visa.kind.as_str())));
        }
    }
    ignored.extend(drop_unmet_conditions(&mut visas));
    ignored.sort();
    let exp = passport.claims["exp"].as_i64().unwrap_or_default();
    let mut verified = VerifiedPassport { iss, sub, exp, visas, ignored, own: OwnGrants::default(), for_this_node };
    verified.own = check_own_grants(&verified, policy, revocations).await?;
    Ok(verified)
}

/// Drops the visas whose `conditions` do not hold, with why. A visa whose conditions fail is not
/// valid, and cannot satisfy another's conditions either: drop until the rest all hold.
fn drop_unmet_conditions(visas: &mut Vec<(usize, Visa)>) -> Vec<(usize, String)> {
    let mut dropped = Vec::new();
    loop {
        let all: Vec<Visa> = visas.iter().map(|(_, v)| v.clone()).collect();
        let failing = visas.iter().position(|(_, v)| v.conditions.as_ref().is_some_and(|c| !conditions_met(c, &all)));
        match failing {
            Some(index) => {
                let (i, _) = visas.remove(index);
                dropped.push((i, "its conditions are not met by the other visas".into()));
            }
            None => return dropped,
        }
    }
}

/// Asks this node's grant records about each of its visas in the passport: unknown or someone
/// else's grants refuse the passport; revoked ones are set aside. Run on every use of a passport,
/// cached or not, so a revocation applies at once.
pub async fn check_own_grants(
    passport: &VerifiedPassport,
    policy: &PassportPolicy,
    revocations: &dyn Revocations,
) -> Result<OwnGrants, PassportError> {
    let mut out = OwnGrants::default();
    let Some(own) = policy.own_issuer.as_deref() else { return Ok(out) };
    let holder = passport.holder();
    for (i, visa) in passport.visas.iter().filter(|(_, v)| v.iss == own) {
        let what = format!("visa {i}");
        let jti = visa.jti.as_deref().ok_or_else(|| claims_error(&what, "a visa of this node without jti"))?;
        match revocations.status(jti, &holder).await {
            Ok(GrantStatus::Active(purpose)) => {
                out.purposes.insert(*i, purpose);
            }
            Ok(GrantStatus::Revoked) => out.revoked.push(*i),
            Ok(GrantStatus::Unknown) => return Err(PassportError::UnknownGrant { what }),
            Ok(GrantStatus::OtherHolder) => return Err(PassportError::OtherHolder { what }),
            Err(error) => return Err(PassportError::GrantCheck { what, error }),
        }
    }
    Ok(out)
}

impl VerifiedPassport {
    /// The holder's identity on this node: `iss#sub` of the passport.
    pub fn holder(&self) -> String {
        format!("{}#{}", self.iss, self.sub)
    }

    /// Until when the passport and every visa in it are valid.
    pub fn valid_until(&self) -> i64 {
        self.visas.iter().map(|(_, v)| v.exp).fold(self.exp, i64::min)
    }

    /// The caller these visas make, under the grant records in [`VerifiedPassport::own`]. Whatever
    /// keeps a visa from counting is told in [`Caller::notes`].
    pub fn caller(&self, policy: &PassportPolicy) -> Caller {
        let mut ignored = self.ignored.clone();
        let mut ignored_grants = Vec::new();
        // A revoked grant is not valid: it grants nothing and satisfies no other visa's conditions.
        let mut live: Vec<(usize, Visa)> = Vec::with_capacity(self.visas.len());
        for (i, visa) in &self.visas {
            if !self.own.revoked.contains(i) {
                live.push((*i, visa.clone()));
                continue;
            }
            let why = "the data access committee revoked this grant".to_string();
            let dataset = policy.dataset_of(&visa.value);
            ignored_grants.push(IgnoredGrant { jti: visa.jti.clone().unwrap_or_default(), dataset, why: why.clone() });
            ignored.push((*i, why));
        }
        if !self.own.revoked.is_empty() {
            ignored.extend(drop_unmet_conditions(&mut live));
        }
        ignored.sort();
        let mut notes: Vec<String> =
            ignored.iter().map(|(i, why)| format!("visa {i} of the passport is ignored: {why}")).collect();
        let bona_fide = |kind: VisaType| live.iter().any(|(_, v)| v.kind == kind && is_bona_fide(&v.value));
        // Registered access (Dyke et al. 2018): a researcher's status is vouched for by a signing
        // official or a system, never by the researcher ("self").
        let vouched = live.iter().any(|(_, v)| {
            v.kind == VisaType::ResearcherStatus
                && is_bona_fide(&v.value)
                && matches!(v.by.as_deref(), Some("so" | "system"))
        });
        let terms = bona_fide(VisaType::AcceptedTermsAndPolicies);
        if !(vouched && terms) {
            notes.push(why_not_registered(&live, vouched, terms));
        }
        let mut controlled: BTreeMap<String, Reach> = BTreeMap::new();
        for (i, visa) in live.iter().filter(|(_, v)| v.kind == VisaType::ControlledAccessGrants) {
            let Some(dataset) = policy.dataset_of(&visa.value) else {
                notes.push(format!("visa {i} grants {:?}, which is not a dataset of this node", visa.value));
                continue;
            };
            if !policy.may_grant(&visa.iss, &dataset) {
                notes.push(format!("visa {i}: issuer {:?} may not grant dataset {dataset} on this node", visa.iss));
                continue;
            }
            // This node's own visas: its records say the purpose, never the visa's claim.
            let stated = match policy.own_issuer.as_deref() == Some(visa.iss.as_str()) {
                true => self.own.purposes.get(i).cloned().flatten(),
                false => visa.purpose.clone(),
            };
            let reach = match stated {
                Some(purpose) => Reach::purpose(purpose),
                None => {
                    notes.push(format!(
                        "visa {i} states no research purpose ({PURPOSE_CLAIM}): it reaches only the people of \
                         {dataset} whose consent allows every purpose"
                    ));
                    Reach::Unstated
                }
            };
            let merged = match controlled.remove(&dataset) {
                Some(held) => held.union(reach),
                None => reach,
            };
            controlled.insert(dataset, merged);
        }
        // A clinician's role is vouched for by a signing official or a system, like a researcher's status.
        let clinician = live.iter().any(|(_, v)| {
            v.kind == VisaType::AffiliationAndRole
                && policy.clinician_roles.contains(&v.value)
                && matches!(v.by.as_deref(), Some("so" | "system"))
        });
        Caller {
            user: Some(self.holder()),
            subject: Some(self.sub.clone()),
            registered: vouched && terms,
            clinician,
            controlled,
            notes,
            ignored_grants,
            for_this_node: self.for_this_node,
        }
    }
}

/// Why `visas` fall short of REGISTERED access.
fn why_not_registered(visas: &[(usize, Visa)], vouched: bool, terms: bool) -> String {
    let mut missing = Vec::new();
    if !vouched {
        let status: Vec<&Visa> =
            visas.iter().map(|(_, v)| v).filter(|v| v.kind == VisaType::ResearcherStatus).collect();
        missing.push(match status.iter().find(|v| is_bona_fide(&v.value)) {
            _ if status.is_empty() => "no ResearcherStatus visa".to_string(),
            Some(v) => format!(
                "the ResearcherStatus visa is asserted by {:?}, and registered access needs one by a signing \
                 official (\"so\") or a system (\"system\")",
                v.by.as_deref().unwrap_or("nobody")
            ),
            None => format!("no ResearcherStatus visa has the registered-access value {BONA_FIDE}"),
        });
    }
    if !terms {
        missing.push(format!("no AcceptedTermsAndPolicies visa for the registered-access terms ({BONA_FIDE})"));
    }
    format!("not a registered researcher on this node: {}", missing.join("; "))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;
    use crate::signing::NodeSigningKey;
    use crate::tier::Tier;

    const NOW: i64 = 1_800_000_000;
    const BROKER: &str = "https://broker.example";
    const BROKER_JKU: &str = "https://broker.example/jwks";
    const NODE: &str = "https://node.example";
    const NODE_JKU: &str = "https://node.example/.well-known/jwks.json";
    const NETWORK: &str = "urn:oresund:nordic";

    struct Keys {
        sets: HashMap<String, Arc<Jwks>>,
        fetched: Mutex<Vec<String>>,
    }

    impl KeySource for Keys {
        fn keys<'a>(&'a self, jku: &'a str) -> KeysFuture<'a> {
            self.fetched.lock().unwrap().push(jku.to_string());
            let found = self.sets.get(jku).cloned().ok_or_else(|| KeysError::Fetch("HTTP 404".into()));
            Box::pin(async move { found })
        }
    }

    struct Grants(HashMap<String, (GrantStatus, String)>);

    impl Revocations for Grants {
        fn status<'a>(&'a self, jti: &'a str, holder: &'a str) -> GrantFuture<'a> {
            let status = match self.0.get(jti) {
                None => GrantStatus::Unknown,
                Some((_, owner)) if owner != holder => GrantStatus::OtherHolder,
                Some((status, _)) => status.clone(),
            };
            Box::pin(async move { Ok(status) })
        }
    }

    struct World {
        broker: NodeSigningKey,
        node: NodeSigningKey,
        keys: Keys,
        policy: PassportPolicy,
        grants: Grants,
    }

    fn world() -> World {
        let broker = NodeSigningKey::generate().unwrap();
        let node = NodeSigningKey::generate().unwrap();
        let set = |k: &NodeSigningKey| Arc::new(Jwks { keys: vec![k.public()] });
        let keys = Keys {
            sets: HashMap::from([(BROKER_JKU.to_string(), set(&broker)), (NODE_JKU.to_string(), set(&node))]),
            fetched: Mutex::new(Vec::new()),
        };
        let policy = PassportPolicy {
            trusted: vec![
                TrustedIssuer { iss: BROKER.into(), jku: vec![BROKER_JKU.into()], grants: vec![] },
                TrustedIssuer { iss: NODE.into(), jku: vec![NODE_JKU.into()], grants: vec![] },
            ],
            max_skew: 60,
            dataset_urls: BTreeMap::new(),
            dataset_prefix: Some(format!("{NODE}/datasets/")),
            own_issuer: Some(NODE.into()),
            clinician_roles: vec!["clinician@rh.dk".into()],
            own_audience: Some(NODE.into()),
            audiences: vec![NETWORK.into()],
        };
        let hmb = ResearchPurpose { purpose: "DUO:0000006".into(), disease: None, commercial: false, methods: false };
        let active = GrantStatus::Active(Some(hmb));
        let grants = Grants(HashMap::from([("g1".to_string(), (active, format!("{BROKER}#alice")))]));
        World { broker, node, keys, policy, grants }
    }

    fn visa(key: &NodeSigningKey, iss: &str, jku: &str, kind: &str, value: &str, extra: Value) -> String {
        let mut claims = json!({"iss": iss, "sub": "alice", "iat": NOW - 10, "exp": NOW + 3600,
            "ga4gh_visa_v1": {"type": kind, "value": value, "source": "https://ku.dk", "asserted": NOW - 100}});
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if k == "visa" {
                    for (vk, vv) in v.as_object().unwrap() {
                        claims["ga4gh_visa_v1"][vk] = vv.clone();
                    }
                } else {
                    claims.insert(k.clone(), v.clone());
                }
            }
        }
        key.sign(&claims, "JWT", jku)
    }

    fn registered(w: &World) -> Vec<String> {
        vec![
            visa(&w.broker, BROKER, BROKER_JKU, "ResearcherStatus", BONA_FIDE, json!({"visa": {"by": "so"}})),
            visa(&w.broker, BROKER, BROKER_JKU, "AcceptedTermsAndPolicies", BONA_FIDE, json!({"visa": {"by": "self"}})),
        ]
    }

    fn grant(w: &World, jti: &str, dataset: &str) -> String {
        let url = format!("{NODE}/datasets/{dataset}");
        visa(&w.node, NODE, NODE_JKU, CONTROLLED_ACCESS_GRANTS, &url, json!({"jti": jti, "visa": {"by": "dac"}}))
    }

    fn passport(w: &World, visas: &[String], extra: Value) -> String {
        let mut claims = json!({"iss": BROKER, "sub": "alice", "iat": NOW - 10, "exp": NOW + 3600, "aud": NETWORK,
                                "ga4gh_passport_v1": visas});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        w.broker.sign(&claims, PASSPORT_TYP, BROKER_JKU)
    }

    fn verify(w: &World, token: &str) -> Result<VerifiedPassport, PassportError> {
        futures_lite(verify_passport(token, &w.policy, &w.keys, &w.grants, NOW))
    }

    /// Runs a future that never waits (the test key source and grants answer at once).
    fn futures_lite<F: Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the test future waited"),
        }
    }

    #[test]
    fn a_passport_must_name_this_node_or_its_network() {
        let w = world();
        let with_aud = |aud: Value| verify(&w, &passport(&w, &registered(&w), json!({"aud": aud})));
        let network = with_aud(json!(NETWORK)).unwrap();
        assert!(!network.for_this_node && !network.caller(&w.policy).for_this_node);
        assert!(network.caller(&w.policy).registered);
        let own = with_aud(json!(["https://other.example", format!("{NODE}/")])).unwrap();
        assert!(own.for_this_node && own.caller(&w.policy).for_this_node, "a trailing slash names the node too");
        for (aud, reason) in [
            (json!("https://other-node.example"), "names neither this node"),
            (json!(["https://a.example", "urn:oresund:other"]), "names neither this node"),
            (json!(null), "aud is missing"),
            (json!(7), "aud must be a string or a list of strings"),
        ] {
            let error = with_aud(aud.clone()).unwrap_err().to_string();
            assert!(error.starts_with("passport: ") && error.contains(reason), "{aud}: {error}");
        }
        let unchecked = PassportPolicy { own_audience: None, ..w.policy.clone() };
        let token = passport(&w, &registered(&w), json!({"aud": "https://elsewhere.example"}));
        assert!(futures_lite(verify_passport(&token, &unchecked, &w.keys, &w.grants, NOW)).is_ok());
    }

    #[test]
    fn a_configured_clinician_role_vouched_for_makes_a_clinician() {
        let w = world();
        let role = |value: &str, by: &str| {
            visa(&w.broker, BROKER, BROKER_JKU, "AffiliationAndRole", value, json!({"visa": {"by": by}}))
        };
        let caller = |visas: &[String]| verify(&w, &passport(&w, visas, json!({}))).unwrap().caller(&w.policy);
        assert!(caller(&[role("clinician@rh.dk", "so")]).clinician);
        assert!(!caller(&[role("clinician@rh.dk", "self")]).clinician, "not self-asserted");
        assert!(!caller(&[role("faculty@rh.dk", "so")]).clinician, "only the configured roles");
        assert!(!caller(&registered(&w)).clinician);
    }

    #[test]
    fn registered_and_controlled_tiers_follow_the_visas() {
        let w = world();
        let mut visas = registered(&w);
        visas.push(grant(&w, "g1", "DK-1"));
        let verified = verify(&w, &passport(&w, &visas, json!({}))).unwrap();
        let caller = verified.caller(&w.policy);
        assert_eq!(caller.user.as_deref(), Some("https://broker.example#alice"));
        assert_eq!((caller.tier("DK-1"), caller.tier("SE-1")), (Tier::Controlled, Tier::Registered));
        assert_eq!(verified.valid_until(), NOW + 3600);
        let only_terms = verify(&w, &passport(&w, &visas[1..2], json!({}))).unwrap();
        assert_eq!(only_terms.caller(&w.policy).tier("DK-1"), Tier::Public, "both bona fide visas are needed");
        let self_asserted = vec![
            visa(&w.broker, BROKER, BROKER_JKU, "ResearcherStatus", BONA_FIDE, json!({"visa": {"by": "self"}})),
            visas[1].clone(),
        ];
        let claimed = verify(&w, &passport(&w, &self_asserted, json!({}))).unwrap().caller(&w.policy);
        assert_eq!(claimed.tier("SE-1"), Tier::Public, "a researcher cannot vouch for themselves");
        assert!(claimed.notes.iter().any(|n| n.contains("asserted by \"self\"")), "{:?}", claimed.notes);
        assert!(caller.notes.is_empty(), "{:?}", caller.notes);
        let far = verify(&w, &passport(&w, &visas, json!({"exp": i64::MAX, "iat": i64::MIN})));
        assert!(far.is_ok(), "extreme times are compared without overflow: {far:?}");
    }

    #[test]
    fn trust_is_checked_before_any_key_is_fetched() {
        let w = world();
        let evil = NodeSigningKey::generate().unwrap();
        let untrusted_jku = evil.sign(
            &json!({"iss": BROKER, "sub": "alice", "iat": NOW, "exp": NOW + 60, "ga4gh_passport_v1": []}),
            PASSPORT_TYP,
            "https://evil.example/jwks",
        );
        assert!(matches!(verify(&w, &untrusted_jku), Err(PassportError::UntrustedJku { .. })));
        // The node's jku is trusted, but not for the broker.
        let other_issuers_jku = w.node.sign(
            &json!({"iss": BROKER, "sub": "alice", "iat": NOW, "exp": NOW + 60, "ga4gh_passport_v1": []}),
            PASSPORT_TYP,
            NODE_JKU,
        );
        assert!(matches!(verify(&w, &other_issuers_jku), Err(PassportError::UntrustedJku { .. })));
        let stranger = evil.sign(
            &json!({"iss": "https://evil.example", "sub": "alice", "iat": NOW, "exp": NOW + 60}),
            PASSPORT_TYP,
            "https://evil.example/jwks",
        );
        assert!(matches!(verify(&w, &stranger), Err(PassportError::UntrustedIssuer { .. })));
        assert!(w.keys.fetched.lock().unwrap().is_empty(), "an untrusted jku was fetched");
        // Signed with a key the trusted jku does not hold.
        let wrong_key = evil.sign(
            &json!({"iss": BROKER, "sub": "alice", "iat": NOW, "exp": NOW + 60, "ga4gh_passport_v1": []}),
            PASSPORT_TYP,
            BROKER_JKU,
        );
        assert!(matches!(verify(&w, &wrong_key), Err(PassportError::Signature { .. })));
    }

    #[test]
    fn times_are_checked_with_bounded_skew() {
        let w = world();
        let at = |extra: Value| verify(&w, &passport(&w, &registered(&w), extra));
        assert!(at(json!({"exp": NOW - 30})).is_ok(), "within the skew");
        assert!(at(json!({"exp": NOW - 61})).unwrap_err().to_string().contains("expired"));
        assert!(at(json!({"iat": NOW + 61})).unwrap_err().to_string().contains("iat"));
        assert!(at(json!({"nbf": NOW + 600})).unwrap_err().to_string().contains("nbf"));
        let expired_visa =
            visa(&w.broker, BROKER, BROKER_JKU, "ResearcherStatus", BONA_FIDE, json!({"exp": NOW - 999}));
        let err = verify(&w, &passport(&w, &[expired_visa], json!({}))).unwrap_err();
        assert!(err.to_string().starts_with("visa 0: expired"), "{err}");
    }

    #[test]
    fn visa_rules_refuse_the_passport() {
        let w = world();
        let stolen = w.broker.sign(
            &json!({"iss": BROKER, "sub": "mallory", "iat": NOW, "exp": NOW + 60,
                "ga4gh_visa_v1": {"type": "ResearcherStatus", "value": BONA_FIDE, "source": "x", "asserted": NOW}}),
            "JWT",
            BROKER_JKU,
        );
        assert!(verify(&w, &passport(&w, &[stolen], json!({}))).unwrap_err().to_string().contains("sub differs"));
        let no_by = visa(&w.node, NODE, NODE_JKU, CONTROLLED_ACCESS_GRANTS, "u", json!({"jti": "g1"}));
        assert!(verify(&w, &passport(&w, &[no_by], json!({}))).unwrap_err().to_string().contains("needs `by`"));
        let too_many: Vec<String> = (0..=MAX_VISAS).map(|_| "a.b.c".to_string()).collect();
        assert_eq!(verify(&w, &passport(&w, &too_many, json!({}))), Err(PassportError::TooManyVisas(201)));
    }

    #[test]
    fn own_grants_are_checked_on_every_use() {
        let mut w = world();
        let mut visas = registered(&w);
        visas.push(grant(&w, "g1", "DK-1"));
        let token = passport(&w, &visas, json!({}));
        let caller = verify(&w, &token).unwrap().caller(&w.policy);
        let purpose = w.grants.0["g1"].0.clone();
        let GrantStatus::Active(Some(hmb)) = purpose else { panic!("{purpose:?}") };
        assert_eq!(caller.reach("DK-1"), Some(&Reach::purpose(hmb.clone())), "the recorded purpose bounds the grant");
        // A purpose claim on this node's visa that differs from its record is not believed.
        let url = format!("{NODE}/datasets/DK-1");
        let claimed = json!({"jti": "g1", "visa": {"by": "dac"}, "oresund_purpose": {"purpose": "GRU"}});
        let other = visa(&w.node, NODE, NODE_JKU, CONTROLLED_ACCESS_GRANTS, &url, claimed);
        let token_claimed = passport(&w, &[registered(&w), vec![other]].concat(), json!({}));
        let caller_claimed = verify(&w, &token_claimed).unwrap().caller(&w.policy);
        assert_eq!(caller_claimed.reach("DK-1"), Some(&Reach::purpose(hmb)));
        // A revoked grant is set aside: the researcher keeps their registered access and is told.
        w.grants.0.insert("g1".into(), (GrantStatus::Revoked, format!("{BROKER}#alice")));
        let caller = verify(&w, &token).unwrap().caller(&w.policy);
        assert_eq!((caller.tier("DK-1"), caller.registered), (Tier::Registered, true));
        assert_eq!(caller.ignored_grants.len(), 1);
        assert_eq!(caller.ignored_grants[0].dataset.as_deref(), Some("DK-1"));
        assert!(caller.notes.iter().any(|n| n.contains("visa 2") && n.contains("revoked")), "{:?}", caller.notes);
        // A visa whose conditions need the revoked grant falls with it.
        w.policy.trusted[0].grants = vec!["DK-2".into()];
        let needs_g1 = json!({"visa": {"by": "dac", "conditions": [[{"type": "ControlledAccessGrants",
            "value": format!("const:{NODE}/datasets/DK-1")}]]}});
        let dk2 = format!("{NODE}/datasets/DK-2");
        visas.push(visa(&w.broker, BROKER, BROKER_JKU, CONTROLLED_ACCESS_GRANTS, &dk2, needs_g1));
        let token = passport(&w, &visas, json!({}));
        let caller = verify(&w, &token).unwrap().caller(&w.policy);
        assert_eq!((caller.tier("DK-1"), caller.tier("DK-2")), (Tier::Registered, Tier::Registered));
        w.grants.0.insert("g1".into(), (GrantStatus::Active(None), format!("{BROKER}#alice")));
        let caller = verify(&w, &token).unwrap().caller(&w.policy);
        assert_eq!((caller.tier("DK-1"), caller.tier("DK-2")), (Tier::Controlled, Tier::Controlled));
        assert_eq!(caller.reach("DK-1"), Some(&Reach::Unstated), "a record without a purpose reaches the fewest");
        w.grants.0.insert("g1".into(), (GrantStatus::Active(None), format!("{BROKER}#bob")));
        assert!(matches!(verify(&w, &token), Err(PassportError::OtherHolder { .. })));
        let forged = passport(&w, &[grant(&w, "g9", "DK-1")], json!({}));
        assert!(matches!(verify(&w, &forged), Err(PassportError::UnknownGrant { .. })));
    }

    #[test]
    fn the_bona_fide_doi_is_accepted_in_its_usual_spellings() {
        for value in [
            BONA_FIDE,
            "http://dx.doi.org/10.1038/s41431-018-0219-y",
            "doi:10.1038/S41431-018-0219-Y",
            " 10.1038/s41431-018-0219-y",
        ] {
            assert!(is_bona_fide(value), "{value}");
        }
        assert!(
            !is_bona_fide("https://doi.org/10.1038/s41431-018-0219")
                && !is_bona_fide("https://example.org/10.1038/s41431-018-0219-y")
        );
        let w = world();
        let spelled = vec![
            visa(
                &w.broker,
                BROKER,
                BROKER_JKU,
                "ResearcherStatus",
                "doi:10.1038/s41431-018-0219-y",
                json!({"visa": {"by": "so"}}),
            ),
            visa(&w.broker, BROKER, BROKER_JKU, "AcceptedTermsAndPolicies", "10.1038/s41431-018-0219-y", json!({})),
        ];
        assert!(verify(&w, &passport(&w, &spelled, json!({}))).unwrap().caller(&w.policy).registered);
    }

    #[test]
    fn another_issuers_grant_reaches_whom_its_stated_purpose_allows() {
        let mut w = world();
        w.policy.trusted[0].grants = vec!["DK-1".into()];
        let url = format!("{NODE}/datasets/DK-1");
        let stated = json!({"visa": {"by": "dac"}, "oresund_purpose": {"purpose": "HMB"}});
        let with_purpose = visa(&w.broker, BROKER, BROKER_JKU, CONTROLLED_ACCESS_GRANTS, &url, stated);
        let caller = verify(&w, &passport(&w, &[with_purpose], json!({}))).unwrap().caller(&w.policy);
        let hmb = ResearchPurpose { purpose: "DUO:0000006".into(), disease: None, commercial: false, methods: false };
        assert_eq!(caller.reach("DK-1"), Some(&Reach::purpose(hmb)));
        let silent =
            visa(&w.broker, BROKER, BROKER_JKU, CONTROLLED_ACCESS_GRANTS, &url, json!({"visa": {"by": "dac"}}));
        let caller = verify(&w, &passport(&w, &[silent], json!({}))).unwrap().caller(&w.policy);
        assert_eq!(caller.reach("DK-1"), Some(&Reach::Unstated));
        let bad = json!({"visa": {"by": "dac"}, "oresund_purpose": {"purpose": "fun"}});
        let malformed = visa(&w.broker, BROKER, BROKER_JKU, CONTROLLED_ACCESS_GRANTS, &url, bad);
        let err = verify(&w, &passport(&w, &[malformed], json!({}))).unwrap_err();
        assert!(err.to_string().contains("oresund_purpose"), "{err}");
    }

    #[test]
    fn only_allowed_issuers_grant_datasets() {
        let mut w = world();
        let url = format!("{NODE}/datasets/DK-1");
        let brokered =
            visa(&w.broker, BROKER, BROKER_JKU, CONTROLLED_ACCESS_GRANTS, &url, json!({"visa": {"by": "dac"}}));
        let token = passport(&w, &[brokered], json!({}));
        assert_eq!(verify(&w, &token).unwrap().caller(&w.policy).tier("DK-1"), Tier::Public);
        w.policy.trusted[0].grants = vec!["DK-1".into()];
        assert_eq!(verify(&w, &token).unwrap().caller(&w.policy).tier("DK-1"), Tier::Controlled);
        w.policy.dataset_urls.insert("https://elsewhere/ds".into(), "SE-1".into());
        assert_eq!(w.policy.dataset_of("https://elsewhere/ds").as_deref(), Some("SE-1"));
        assert_eq!(w.policy.dataset_of(&format!("{NODE}/datasets/a/b")), None);
    }

    #[test]
    fn unmet_conditions_and_custom_types_grant_nothing_but_do_not_refuse() {
        let w = world();
        let needs_ku = json!({"jti": "g1", "visa": {"by": "dac",
            "conditions": [[{"type": "AffiliationAndRole", "value": "pattern:*@ku.dk"}]]}});
        let conditional =
            visa(&w.node, NODE, NODE_JKU, CONTROLLED_ACCESS_GRANTS, &format!("{NODE}/datasets/DK-1"), needs_ku);
        let custom = visa(&w.broker, BROKER, BROKER_JKU, "ElixirBonaFide", "yes", json!({}));
        let mut visas = registered(&w);
        visas.extend([conditional, custom]);
        let verified = verify(&w, &passport(&w, &visas, json!({}))).unwrap();
        assert_eq!(verified.ignored.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(verified.caller(&w.policy).tier("DK-1"), Tier::Registered);
        let affiliation =
            visa(&w.broker, BROKER, BROKER_JKU, "AffiliationAndRole", "faculty@ku.dk", json!({"visa": {"by": "so"}}));
        visas.push(affiliation);
        let verified = verify(&w, &passport(&w, &visas, json!({}))).unwrap();
        assert_eq!(verified.caller(&w.policy).tier("DK-1"), Tier::Controlled);
    }
}
