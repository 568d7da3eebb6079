//! Which datasets a request may touch, and at what granularity: the caller's tier for each
//! dataset and the dataset's policy decide; the response uses the lowest granularity among the
//! datasets it includes (a caller wanting records from one dataset names it: `datasets=` or
//! `/datasets/{id}/…`).

use oresund_access::{Caller, Granularity, Reach, Tier};
use oresund_node::CohortFilter;

use crate::error::BeaconError;
use crate::request::BeaconRequest;
use crate::state::AppState;

/// One dataset in a request's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedDataset {
    pub id: String,
    pub granted: Granularity,
    /// The caller's tier here; counts are exact only at CONTROLLED.
    pub tier: Tier,
    /// At CONTROLLED, whose data the caller's grants reach (the people whose consent allows their
    /// purpose); `None` below, where answers are aggregates over everyone.
    pub reach: Option<Reach>,
}

impl ScopedDataset {
    pub fn exact_counts(&self) -> bool {
        self.tier == Tier::Controlled
    }
}

/// The datasets of a request and the granularity of its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub datasets: Vec<ScopedDataset>,
    pub granularity: Granularity,
}

impl Scope {
    pub fn ids(&self) -> Vec<String> {
        self.datasets.iter().map(|d| d.id.clone()).collect()
    }

    /// Whether every count in the response may be exact.
    pub fn all_exact(&self) -> bool {
        !self.datasets.is_empty() && self.datasets.iter().all(ScopedDataset::exact_counts)
    }

    pub fn dataset(&self, id: &str) -> Option<&ScopedDataset> {
        self.datasets.iter().find(|d| d.id == id)
    }

    /// `filter` over this scope: its datasets, and in each dataset held at CONTROLLED only the
    /// people the caller's grants reach.
    pub fn cohort_filter(&self, filter: CohortFilter) -> CohortFilter {
        // A reach of everyone restricts nothing: left out, so that it shares its cached filter.
        let restricting = |d: &&ScopedDataset| d.reach.as_ref().is_some_and(|r| *r != Reach::Everyone);
        let consent =
            self.datasets.iter().filter(restricting).filter_map(|d| Some((d.id.clone(), d.reach.clone()?))).collect();
        CohortFilter { datasets: self.ids(), consent, ..filter }
    }
}

/// Decides the scope. `named` is a dataset from the path (`/datasets/{id}/g_variants`).
pub fn scope(
    app: &AppState,
    caller: &Caller,
    request: &BeaconRequest,
    named: Option<&str>,
) -> Result<Scope, BeaconError> {
    let cohort = app.node.cohort().map_err(BeaconError::from)?;
    let mut wanted: Vec<String> = Vec::new();
    if let Some(list) = request.parameter("datasets") {
        wanted.extend(list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
    }
    if let Some(named) = named {
        wanted.push(named.to_string());
    }
    for id in &wanted {
        if !cohort.datasets.contains_key(id) {
            return Err(BeaconError::not_found(format!("no dataset {id:?} on this node; see /datasets")));
        }
    }
    let mut datasets = Vec::new();
    for id in cohort.datasets.keys() {
        if !wanted.is_empty() && !wanted.contains(id) {
            continue;
        }
        let granted = app.beacon.granted(caller, id, request.granularity.or(Some(Granularity::Boolean)));
        if granted == Granularity::None {
            if wanted.contains(id) {
                let needed = app.beacon.policy(id).security_level();
                let message = format!("dataset {id:?} needs {} access", needed.as_str());
                return Err(if caller.user.is_none() {
                    BeaconError::unauthorized(format!("{message}; send Authorization: Bearer <token>"))
                } else if caller.notes.is_empty() {
                    BeaconError::forbidden(message)
                } else {
                    // Why the credential gives less than the caller may think (a revoked grant...).
                    BeaconError::forbidden(format!("{message} ({})", caller.notes.join("; ")))
                });
            }
            continue;
        }
        let tier = caller.tier(id);
        let reach = caller.reach(id).filter(|_| tier == Tier::Controlled).cloned();
        datasets.push(ScopedDataset { id: id.clone(), granted, tier, reach });
    }
    let granularity = datasets.iter().map(|d| d.granted).min().unwrap_or(Granularity::Boolean);
    Ok(Scope { datasets, granularity })
}
