//! `oresund report`: what a node holds, what keeping it costs, how it is used, how its committee
//! decides, what it delivered and how it protected participants — computed from the catalog, the
//! archive catalog, the committee's records and the audit log (streamed), never estimated.
//!
//! The JSON is the [`Report`] below (schema `oresund-report/3`, documented in the README); the
//! CSV and the self-contained HTML page are renderings of it ([`csv`], [`html`]). [`Summary`] is
//! what a node shares with its network's portal: aggregates only, small counts withheld.

pub mod committee;
pub mod csv;
pub mod holdings;
pub mod html;
pub mod matchmaking;
pub mod summary;
pub mod usage;
pub mod withdrawals;

use serde::{Deserialize, Serialize};

pub use committee::Committee;
pub use holdings::{Cost, EconomyConfig, Holdings};
pub use matchmaking::Matchmaking;
pub use summary::Summary;
pub use usage::{DatasetDelivery, MonthUse, Privacy, Usage, UsageTally, served_bytes};
pub use withdrawals::Withdrawals;

use crate::{Node, NodeError};

/// The schema name and version of [`Report`]'s JSON.
pub const SCHEMA: &str = "oresund-report/3";

/// The period a report covers (RFC 3339 UTC, inclusive; open when `None`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub since: Option<String>,
    pub until: Option<String>,
}

/// One node's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema: String,
    pub node: String,
    pub country: String,
    pub generated: String,
    pub period: Period,
    pub holdings: Holdings,
    pub cost: Cost,
    pub usage: Usage,
    pub access: Committee,
    /// Per dataset, files and bytes delivered (htsget, DRS, data URLs).
    pub delivery: Vec<DatasetDelivery>,
    /// Matchmaking: cases held, matches asked for and answered.
    pub matchmaking: Matchmaking,
    /// Withdrawals and removals of the period, and the versions they shredded.
    pub withdrawals: Withdrawals,
    pub privacy: Privacy,
    /// Audit entries read.
    pub audit_entries: u64,
}

impl Node {
    /// The report for `period`; `own_issuers` are the `iss` of this node's visas (its base URLs),
    /// so that its own researchers count as its country's.
    pub fn report(&self, period: &Period, own_issuers: Vec<String>) -> Result<Report, NodeError> {
        let (since, until) = (period.since.as_deref(), period.until.as_deref());
        let holdings = self.holdings()?;
        let mut tally = UsageTally::new(&self.config, own_issuers);
        let mut entries = 0u64;
        let mut matchmaking = Matchmaking::default();
        let mut withdrawals = Withdrawals::default();
        self.for_each_audit_entry(since, until, |entry| {
            entries += 1;
            tally.add(&entry);
            matchmaking.add(&entry);
            withdrawals.add(&entry);
        })?;
        let cases = self.store.match_cases()?;
        matchmaking.cases = cases.len() as u64;
        matchmaking.cross_border_cases = cases.iter().filter(|c| c.cross_border).count() as u64;
        let submitters: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.submitter.as_str()).collect();
        matchmaking.submitters = submitters.len() as u64;
        let (usage, delivery, privacy) = tally.finish();
        let access = Committee::of(&self.access_requests(None)?, &self.grants(None)?, since, until);
        let days = period_days(period, &usage);
        let cost = Cost::of(&holdings, &self.config.economy, usage.answered + usage.refused, days);
        Ok(Report {
            schema: SCHEMA.into(),
            node: self.config.node_id.clone(),
            country: self.config.country.clone(),
            generated: crate::clock::now_rfc3339(),
            period: period.clone(),
            holdings,
            cost,
            usage,
            access,
            delivery,
            matchmaking,
            withdrawals,
            privacy,
            audit_entries: entries,
        })
    }
}

/// Days the period spans: its bounds where given, else the first and last entry read (one day at least).
fn period_days(period: &Period, usage: &Usage) -> f64 {
    let time = |t: Option<&str>| t.and_then(|t| oresund_core::time::parse_rfc3339(t).ok());
    let start = time(period.since.as_deref()).or_else(|| time(usage.first.as_deref()));
    let end = time(period.until.as_deref()).or_else(|| time(usage.last.as_deref()));
    match (start, end) {
        (Some(start), Some(end)) => ((end - start) as f64 / 86_400.0).max(1.0),
        _ => 0.0,
    }
}
