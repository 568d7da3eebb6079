//! What a node shares of its report with the network's portal (over the signed peer channel):
//! aggregates only, and every count of people — participants, researchers, their requests and
//! refusals — from 1 to threshold − 1 withheld as `"<T"`, by the node's own small-count rule.

use oresund_access::CountThreshold;
use serde::{Deserialize, Serialize};

use super::Report;

/// A count as shared: exact, or `"<T"` when it is from 1 to T − 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Shared {
    Exact(u64),
    Below(String),
}

impl Shared {
    pub fn of(count: u64, threshold: CountThreshold) -> Self {
        if count == 0 || count >= threshold.0 {
            Shared::Exact(count)
        } else {
            Shared::Below(format!("<{}", threshold.0))
        }
    }
}

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shared::Exact(n) => write!(f, "{n}"),
            Shared::Below(text) => f.write_str(text),
        }
    }
}

/// One node's aggregates for the steering group's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub node: String,
    pub country: String,
    pub generated: String,
    pub period: super::Period,
    pub individuals: Shared,
    pub datasets: u64,
    pub files: u64,
    pub archive_bytes: u64,
    pub currency: String,
    pub cost_per_genome_year: Option<f64>,
    pub answered: u64,
    pub refused: u64,
    pub cross_border_share: Option<f64>,
    pub registered_users: Shared,
    pub controlled_users: Shared,
    pub access_requests: Shared,
    pub approvals: Shared,
    pub rejections: Shared,
    pub revocations: Shared,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub delivered_bytes: u64,
    pub budget_refusals: Shared,
    pub small_count_suppressions: u64,
}

impl Summary {
    pub fn of(report: &Report, threshold: CountThreshold) -> Self {
        let shared = |n: u64| Shared::of(n, threshold);
        Summary {
            node: report.node.clone(),
            country: report.country.clone(),
            generated: report.generated.clone(),
            period: report.period.clone(),
            individuals: shared(report.holdings.individuals),
            datasets: report.holdings.datasets,
            files: report.holdings.files,
            archive_bytes: report.holdings.archive_bytes,
            currency: report.cost.currency.clone(),
            cost_per_genome_year: report.cost.per_genome_year,
            answered: report.usage.answered,
            refused: report.usage.refused,
            cross_border_share: report.usage.cross_border_share,
            registered_users: shared(report.usage.registered_users),
            controlled_users: shared(report.usage.controlled_users),
            access_requests: shared(report.access.requests),
            approvals: shared(report.access.approvals),
            rejections: shared(report.access.rejections),
            revocations: shared(report.access.revocations),
            // Times to decision of fewer requests than the threshold tell of individual requests.
            median_days: report.access.median_days.filter(|_| report.access.decision_days.len() as u64 >= threshold.0),
            p90_days: report.access.p90_days.filter(|_| report.access.decision_days.len() as u64 >= threshold.0),
            delivered_bytes: report.delivery.iter().map(|d| d.bytes).sum(),
            budget_refusals: shared(report.privacy.budget_refusals),
            small_count_suppressions: report.privacy.small_count_suppressions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_withheld() {
        let t = CountThreshold(5);
        assert_eq!(Shared::of(0, t), Shared::Exact(0));
        assert_eq!(Shared::of(4, t), Shared::Below("<5".into()));
        assert_eq!(Shared::of(5, t), Shared::Exact(5));
        assert_eq!(serde_json::to_string(&Shared::of(3, t)).unwrap(), "\"<5\"");
    }
}
