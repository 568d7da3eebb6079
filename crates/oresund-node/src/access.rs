//! `[access]` in `oresund.toml`: the GA4GH Passport issuers this node trusts, its data access
//! committee, the visas it issues and the re-identification budget.
//!
//! ```toml
//! [access]
//! clock_skew_s = 60              # allowed clock difference for exp/iat/nbf (Passport v1.2)
//! jwks_ttl_s = 300               # how long a fetched JWKS is used before it is fetched again
//! jwks_failure_ttl_s = 10        # how long a failed fetch is remembered (no fetch storm)
//! visa_lifetime_days = 365       # exp of the ControlledAccessGrants visas the committee issues
//! dac_members = ["https://login.elixir-czech.org/oidc/#d2c9…"]   # user ids (iss#sub or token users)
//! audiences = ["urn:oresund:nordic"]  # aud values a passport may carry beside this node's base URL
//!
//! [access.dataset_urls]          # ControlledAccessGrants values; default {base_url}/datasets/{id}
//! DK-COHORT-1 = "https://beacon.ngc.dk/datasets/DK-COHORT-1"
//!
//! [[access.issuers]]             # a broker: its passports and registered-access visas count
//! iss = "https://login.elixir-czech.org/oidc/"
//! jku = ["https://login.elixir-czech.org/oidc/jwk"]
//! grants = []                    # dataset ids whose ControlledAccessGrants it may assert ("*": all)
//!
//! [access.budget]
//! enabled = true
//! nats = 2.0                     # per (registered user, individual)
//! public = false                 # true: public-tier answers share one budget per individual …
//! public_nats = 0.5              # … of this many nats
//! public_min_carriers = 8        # a public "yes" needs this many carriers able to pay
//! ```
//!
//! The node itself is always a trusted issuer (iss = its base URL, jku = base URL +
//! `/.well-known/jwks.json`), for its own committee's grants.

use std::collections::BTreeMap;

use oresund_access::budget::{DEFAULT_BUDGET, DEFAULT_PUBLIC_BUDGET, DEFAULT_PUBLIC_MIN_CARRIERS};
use serde::{Deserialize, Serialize};

use crate::config_error::ConfigError;
use crate::http_url::is_loopback_url;

/// The `[access]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    pub clock_skew_s: u64,
    pub jwks_ttl_s: u64,
    pub jwks_failure_ttl_s: u64,
    pub visa_lifetime_days: u64,
    /// User ids of the data access committee's members.
    pub dac_members: Vec<String>,
    /// `aud` values a passport may name to be accepted here, beside this node's base URL (which
    /// committee actions require): the network's identifier, which its portal's callers get
    /// passports for.
    pub audiences: Vec<String>,
    /// Dataset id → the URL its ControlledAccessGrants visas carry as `value`.
    pub dataset_urls: BTreeMap<String, String>,
    /// `[[access.issuers]]`
    pub issuers: Vec<IssuerConfig>,
    pub budget: BudgetConfig,
    /// How long the data URLs of an htsget ticket or DRS access URL stay valid, in seconds.
    pub data_url_ttl_s: u64,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            clock_skew_s: 60,
            jwks_ttl_s: 300,
            jwks_failure_ttl_s: 10,
            visa_lifetime_days: 365,
            dac_members: Vec::new(),
            audiences: Vec::new(),
            dataset_urls: BTreeMap::new(),
            issuers: Vec::new(),
            budget: BudgetConfig::default(),
            data_url_ttl_s: 600,
        }
    }
}

/// `[[access.issuers]]`: a passport broker or visa issuer, and the key sets it signs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// `iss` exactly as it appears in its tokens.
    pub iss: String,
    /// JWKS URLs this issuer's tokens may name as `jku`; no other URL is ever fetched for it.
    pub jku: Vec<String>,
    /// Datasets whose ControlledAccessGrants this issuer may assert (`*`: all). Empty for brokers.
    #[serde(default)]
    pub grants: Vec<String>,
    /// The country whose researchers this issuer vouches for (ISO 3166-1 alpha-2), so that
    /// `oresund report` can tell use across the border; unknown when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// `[access.budget]`: the re-identification budget of registered callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    pub enabled: bool,
    /// Budget per (user, individual), in nats.
    pub nats: f64,
    /// Public-tier answers (anonymous callers, and passports short of REGISTERED) share one
    /// budget per individual: whoever asks, a person's rare alleles disclose at most
    /// `public_nats` in all, and past it they are left out of public answers.
    pub public: bool,
    pub public_nats: f64,
    /// The fewest carriers a public-tier "yes" is about (each able to pay for it): below it one
    /// person's presence decides the answer too often, which is what the membership attack reads.
    pub public_min_carriers: usize,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            enabled: true,
            nats: DEFAULT_BUDGET,
            public: false,
            public_nats: DEFAULT_PUBLIC_BUDGET,
            public_min_carriers: DEFAULT_PUBLIC_MIN_CARRIERS,
        }
    }
}

impl AccessConfig {
    pub fn is_default(&self) -> bool {
        self == &AccessConfig::default()
    }

    /// Rules the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = |u: &str| u.starts_with("https://") || u.starts_with("http://");
        if !(1..=86_400).contains(&self.data_url_ttl_s) {
            return Err(ConfigError::DataUrlTtl(self.data_url_ttl_s));
        }
        if self.audiences.iter().any(|a| a.trim().is_empty() || a.trim() != a) {
            return Err(ConfigError::Audience);
        }
        for issuer in &self.issuers {
            let iss = || issuer.iss.clone();
            if issuer.iss.trim().is_empty() {
                return Err(ConfigError::IssuerIss);
            }
            if issuer.jku.is_empty() {
                return Err(ConfigError::IssuerNoJku { iss: iss() });
            }
            if let Some(bad) = issuer.jku.iter().find(|j| !url(j)) {
                return Err(ConfigError::IssuerJku { iss: iss(), jku: bad.clone() });
            }
            if let Some(bad) = issuer.jku.iter().find(|j| j.starts_with("http://") && !is_loopback_url(j)) {
                return Err(ConfigError::IssuerPlainHttp { iss: iss(), jku: bad.clone() });
            }
        }
        if self.clock_skew_s > 600 {
            return Err(ConfigError::ClockSkew(self.clock_skew_s));
        }
        if self.jwks_ttl_s == 0 || self.jwks_failure_ttl_s == 0 {
            return Err(ConfigError::JwksTtl);
        }
        if !(1..=3650).contains(&self.visa_lifetime_days) {
            return Err(ConfigError::VisaLifetime);
        }
        if let Some((id, bad)) = self.dataset_urls.iter().find(|(_, u)| !url(u)) {
            return Err(ConfigError::DatasetUrl { dataset: id.clone(), url: bad.clone() });
        }
        for nats in [self.budget.nats, self.budget.public_nats] {
            if !(nats.is_finite() && nats > 0.0) {
                return Err(ConfigError::BudgetNats(nats));
            }
        }
        if self.budget.public_min_carriers < 2 {
            return Err(ConfigError::PublicMinCarriers(self.budget.public_min_carriers));
        }
        Ok(())
    }

    /// The URL a dataset's grants carry: configured, or `{base_url}/datasets/{id}`.
    pub fn dataset_url(&self, base_url: &str, dataset: &str) -> String {
        self.dataset_urls
            .get(dataset)
            .cloned()
            .unwrap_or_else(|| format!("{}/datasets/{dataset}", base_url.trim_end_matches('/')))
    }
}

/// This node as a visa issuer: `iss` is its base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnIssuer {
    pub iss: String,
}

impl OwnIssuer {
    pub fn new(base_url: &str) -> Self {
        OwnIssuer { iss: base_url.trim_end_matches('/').to_string() }
    }

    /// Where the node publishes its JWKS.
    pub fn jku(&self) -> String {
        format!("{}/.well-known/jwks.json", self.iss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let config = AccessConfig::default();
        assert!(config.validate().is_ok() && config.is_default());
        assert_eq!(config.dataset_url("https://n.dk/", "DK-1"), "https://n.dk/datasets/DK-1");
        let issuer =
            IssuerConfig { iss: "https://b".into(), jku: vec!["ftp://b/jwks".into()], grants: vec![], country: None };
        let bad = AccessConfig { issuers: vec![issuer], ..AccessConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("http(s)"));
        let plain = IssuerConfig {
            iss: "https://b".into(),
            jku: vec!["http://b.example/jwks".into()],
            grants: vec![],
            country: None,
        };
        let bad = AccessConfig { issuers: vec![plain], ..AccessConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("must be https://"));
        let bad = AccessConfig {
            budget: BudgetConfig { public_nats: f64::NAN, ..BudgetConfig::default() },
            ..AccessConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = AccessConfig {
            budget: BudgetConfig { public_min_carriers: 1, ..BudgetConfig::default() },
            ..AccessConfig::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("public_min_carriers must be at least 2"));
        for audience in ["", " urn:oresund:nordic"] {
            let bad = AccessConfig { audiences: vec![audience.into()], ..AccessConfig::default() };
            assert!(bad.validate().unwrap_err().to_string().starts_with("access.audiences"), "{audience:?}");
        }
        assert!(
            AccessConfig { audiences: vec!["urn:oresund:nordic".into()], ..AccessConfig::default() }.validate().is_ok()
        );
        assert_eq!(OwnIssuer::new("http://127.0.0.1:7001/").jku(), "http://127.0.0.1:7001/.well-known/jwks.json");
    }
}
