//! How the data access committee decided: requests, approvals, rejections, revocations, and days
//! from request to decision, from its records (which keep their times), not from the audit log.

use oresund_core::duo::MatchOutcome;
use oresund_core::time::parse_rfc3339;
use oresund_store::{AccessRequest, Grant, RequestStatus};
use serde::{Deserialize, Serialize};

/// The committee's figures for requests filed in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Committee {
    pub requests: u64,
    pub approvals: u64,
    pub rejections: u64,
    pub pending: u64,
    /// Grants revoked in the period.
    pub revocations: u64,
    /// Days from filing to decision, over the decided requests (`None` when none was decided).
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    /// Each decided request's days to decision, for the chart.
    pub decision_days: Vec<f64>,
    /// What the automatic DUO match said: the requests it found approvable, and those it left to
    /// the members' review (needs review) or found in conflict (deny).
    pub duo_approvable: u64,
    pub duo_needs_review: u64,
    pub duo_deny: u64,
}

/// Whether an RFC 3339 time lies in `[since, until]` (string order is time order for our UTC times).
pub fn in_period(time: &str, since: Option<&str>, until: Option<&str>) -> bool {
    since.is_none_or(|s| time >= s) && until.is_none_or(|u| time <= u)
}

impl Committee {
    pub fn of(requests: &[AccessRequest], grants: &[Grant], since: Option<&str>, until: Option<&str>) -> Self {
        let mut c = Committee::default();
        for r in requests.iter().filter(|r| in_period(&r.created, since, until)) {
            c.requests += 1;
            match r.status {
                RequestStatus::Approved => c.approvals += 1,
                RequestStatus::Rejected => c.rejections += 1,
                RequestStatus::Pending => c.pending += 1,
            }
            match r.automatic {
                MatchOutcome::Approve => c.duo_approvable += 1,
                MatchOutcome::NeedsReview => c.duo_needs_review += 1,
                MatchOutcome::Deny => c.duo_deny += 1,
            }
            let days = r.decided.as_deref().and_then(|decided| {
                let (filed, decided) = (parse_rfc3339(&r.created).ok()?, parse_rfc3339(decided).ok()?);
                Some((decided - filed).max(0) as f64 / 86_400.0)
            });
            c.decision_days.extend(days);
        }
        c.revocations =
            grants.iter().filter_map(|g| g.revoked.as_deref()).filter(|t| in_period(t, since, until)).count() as u64;
        c.decision_days.sort_by(f64::total_cmp);
        c.median_days = quantile(&c.decision_days, 0.5);
        c.p90_days = quantile(&c.decision_days, 0.9);
        c
    }
}

/// The `q` quantile of sorted values, linearly interpolated (numpy's default, type 7).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = q * last as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    Some(sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0], 0.9), Some(3.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        // numpy.percentile([1, 2, 3, 4, 10], 90) = 7.6
        assert!((quantile(&[1.0, 2.0, 3.0, 4.0, 10.0], 0.9).unwrap() - 7.6).abs() < 1e-12);
        assert!(in_period("2026-11-02T00:00:00Z", Some("2026-11-01"), Some("2026-12-01")));
        assert!(!in_period("2026-10-31T23:59:59Z", Some("2026-11-01"), None));
    }
}
