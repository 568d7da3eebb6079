//! `[mme]` in oresund.toml: the matchmaker's partners, ranking limits and who is a clinician.

use serde::{Deserialize, Serialize};

use crate::config_error::ConfigError;

/// The `[mme]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MmeConfig {
    /// Most results per node in one answer.
    pub limit: usize,
    /// Least score a result must have (0–1).
    pub threshold: f64,
    pub phenotype_weight: f64,
    pub genotype_weight: f64,
    /// How long a partner may take to answer, in milliseconds.
    pub timeout_ms: u64,
    /// `AffiliationAndRole` visa values that make a passport holder a clinician here
    /// (`clinician@rigshospitalet.dk`).
    pub clinician_roles: Vec<String>,
    /// Shown with every answer (MME `disclaimer`).
    pub disclaimer: Option<String>,
    /// `[[mme.partners]]`
    pub partners: Vec<MmePartner>,
}

impl Default for MmeConfig {
    fn default() -> Self {
        MmeConfig {
            limit: 5,
            threshold: 0.3,
            phenotype_weight: 1.0,
            genotype_weight: 1.0,
            timeout_ms: 5_000,
            clinician_roles: Vec::new(),
            disclaimer: None,
            partners: Vec::new(),
        }
    }
}

/// Another matchmaker: another country's node or any MME server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmePartner {
    /// Names the partner in answers and audit records.
    pub id: String,
    /// ISO 3166-1 alpha-2 country, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Its match endpoint (`https://mme.example.se/mme/match`); absent for a partner that only asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The `X-Auth-Token` sent to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Lower-case hex SHA-256 of the `X-Auth-Token` it must send us (`oresund mme partner-token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_sha256: Option<String>,
}

impl MmeConfig {
    pub fn is_default(&self) -> bool {
        self == &MmeConfig::default()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |message: String| Err(ConfigError::Mme(message));
        if !(0.0..=1.0).contains(&self.threshold) {
            return bad(format!("threshold {} is outside 0–1", self.threshold));
        }
        if self.limit == 0 || self.limit > 100 {
            return bad(format!("limit {} is not between 1 and 100", self.limit));
        }
        if !(self.phenotype_weight >= 0.0 && self.genotype_weight >= 0.0)
            || self.phenotype_weight + self.genotype_weight <= 0.0
        {
            return bad("phenotype_weight and genotype_weight must be ≥ 0 and not both 0".into());
        }
        for (i, p) in self.partners.iter().enumerate() {
            if p.id.trim().is_empty() {
                return bad(format!("partners[{i}] has an empty id"));
            }
            if self.partners[..i].iter().any(|q| q.id == p.id) {
                return bad(format!("partner {} is listed twice", p.id));
            }
            if p.url.is_some() != p.token.is_some() {
                return bad(format!("partner {}: url and token go together (we send the token to the url)", p.id));
            }
            if let Some(url) = &p.url
                && !(url.starts_with("https://") || crate::http_url::is_loopback_url(url))
            {
                return bad(format!("partner {}: {url} is neither https nor loopback", p.id));
            }
            if let Some(h) = &p.accept_sha256
                && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            {
                return bad(format!("partner {}: accept_sha256 is not 64 lower-case hex digits", p.id));
            }
        }
        Ok(())
    }
}
