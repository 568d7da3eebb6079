//! What a node holds, from its catalog and archive, and what keeping it costs.

use serde::{Deserialize, Serialize};

use crate::{Node, NodeError};

/// The catalog's and the archive's figures, as of now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holdings {
    pub datasets: u64,
    /// Individuals in the catalog (with their metadata; each counted once whatever their datasets).
    pub individuals: u64,
    /// VCF files ingested, and their bytes.
    pub files: u64,
    pub file_bytes: u64,
    /// Variants stored, summed over files (a variant in two files counts twice).
    pub variant_records: u64,
    /// Archived objects and the bytes of their encrypted bodies.
    pub archive_objects: u64,
    pub archive_bytes: u64,
}

/// `[economy]` in oresund.toml: the prices the cost figures use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EconomyConfig {
    /// ISO 4217 currency of the prices (`EUR`, `DKK`, `SEK`).
    pub currency: String,
    /// Storage price per TB (10¹² bytes) and month.
    pub storage_per_tb_month: f64,
    /// Price per 1,000 answered requests (compute and egress, as the centre books it).
    pub per_1000_requests: f64,
}

impl Default for EconomyConfig {
    /// Public list prices of object storage in the EU in 2026, as a starting point (about 20 EUR per
    /// TB-month, 0.40 EUR per 1,000 requests); every centre sets its own.
    fn default() -> Self {
        EconomyConfig { currency: "EUR".into(), storage_per_tb_month: 20.0, per_1000_requests: 0.4 }
    }
}

impl EconomyConfig {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// What the holdings cost, with the prices used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub currency: String,
    pub storage_per_tb_month: f64,
    pub per_1000_requests: f64,
    /// Storage of the archive for one month.
    pub storage_per_month: f64,
    /// Requests in the period (answered and refused: both were served), and what they cost.
    pub requests: u64,
    pub requests_cost: f64,
    /// Days the period spans (from its first to its last audited request when not given).
    pub period_days: f64,
    /// A year of storage plus a year of requests at the period's rate, per individual held;
    /// `None` without individuals.
    pub per_genome_year: Option<f64>,
}

impl Cost {
    pub fn of(holdings: &Holdings, prices: &EconomyConfig, requests: u64, period_days: f64) -> Self {
        let storage_per_month = holdings.archive_bytes as f64 / 1e12 * prices.storage_per_tb_month;
        let requests_cost = requests as f64 / 1000.0 * prices.per_1000_requests;
        let requests_per_year = if period_days > 0.0 { requests_cost / period_days * 365.0 } else { 0.0 };
        let per_genome_year = (holdings.individuals > 0)
            .then(|| (storage_per_month * 12.0 + requests_per_year) / holdings.individuals as f64);
        Cost {
            currency: prices.currency.clone(),
            storage_per_tb_month: prices.storage_per_tb_month,
            per_1000_requests: prices.per_1000_requests,
            storage_per_month,
            requests,
            requests_cost,
            period_days,
            per_genome_year,
        }
    }
}

impl Node {
    /// What the node holds now (the catalog's cached cohort index, and one read of the archive catalog).
    pub fn holdings(&self) -> Result<Holdings, NodeError> {
        let cohort = self.cohort()?;
        let objects = self.archive_objects()?;
        Ok(Holdings {
            datasets: cohort.datasets.len() as u64,
            individuals: self.people(&cohort)?.people.len() as u64,
            files: cohort.files.len() as u64,
            file_bytes: cohort.files.iter().map(|f| f.size).sum(),
            variant_records: cohort.files.iter().map(|f| f.stats.variants).sum(),
            archive_objects: objects.len() as u64,
            archive_bytes: objects.iter().map(|o| o.body_size).sum(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_per_genome_year_adds_storage_and_requests() {
        let holdings = Holdings { individuals: 1000, archive_bytes: 2_000_000_000_000, ..Holdings::default() };
        let prices = EconomyConfig { currency: "EUR".into(), storage_per_tb_month: 20.0, per_1000_requests: 0.5 };
        let cost = Cost::of(&holdings, &prices, 10_000, 36.5);
        assert_eq!(cost.storage_per_month, 40.0);
        assert_eq!(cost.requests_cost, 5.0);
        // (40 × 12 + 5 / 36.5 × 365) / 1000 = (480 + 50) / 1000.
        assert!((cost.per_genome_year.unwrap() - 0.53).abs() < 1e-12);
        assert_eq!(Cost::of(&Holdings::default(), &prices, 0, 0.0).per_genome_year, None);
    }
}
