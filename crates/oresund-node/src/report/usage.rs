//! Use, delivery and privacy figures from the audit log, one entry at a time (the log is read in
//! pages; what is kept grows with months, endpoints, countries and users, not with entries).

use std::collections::{BTreeMap, HashSet};

use oresund_access::budget::{LOCKING_REFUSAL, is_refusal};
use oresund_core::audit::{AuditAction, AuditEntry, Decision};
use oresund_core::query_note::QueryNote;
use serde::{Deserialize, Serialize};

use crate::config::NodeConfig;

/// Requests of one calendar month (UTC).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthUse {
    /// `2026-11`.
    pub month: String,
    /// Queries and association requests answered, and refused (credentials refused included).
    pub answered: u64,
    pub refused: u64,
    /// Answered, by the tier the caller was answered at (`unknown` for entries written before
    /// the tier was recorded).
    pub by_tier: BTreeMap<String, u64>,
    /// Answered, by route (`/individuals/{id}`: never an id).
    pub by_endpoint: BTreeMap<String, u64>,
}

/// Who used the node, and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub months: Vec<MonthUse>,
    pub answered: u64,
    pub refused: u64,
    /// Answered requests by the caller's country: the node's own for its operator tokens and its
    /// own visas, the configured `country` of other passport issuers, the peer's for network
    /// queries; `unknown` for anonymous callers and issuers without a country.
    pub by_country: BTreeMap<String, u64>,
    /// Share of answered requests whose caller's country is known and is not the node's.
    pub cross_border_share: Option<f64>,
    /// Distinct identified users answered at REGISTERED or above, and at CONTROLLED.
    pub registered_users: u64,
    pub controlled_users: u64,
    /// Time of the first and last entry read.
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Files and bytes served per dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetDelivery {
    pub dataset: String,
    /// Distinct archived files served, downloads, and bytes.
    pub files: u64,
    pub downloads: u64,
    pub bytes: u64,
    /// htsget tickets and DRS access URLs issued.
    pub tickets: u64,
    pub access_urls: u64,
}

/// Refusals and suppressions that protected participants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Privacy {
    /// Answers refused by the re-identification budget; of those, the refusals that locked a user.
    pub budget_refusals: u64,
    pub budget_locks: u64,
    /// Locks lifted by the operator.
    pub budget_unlocks: u64,
    /// Answers in which a count from 1 to threshold − 1 was raised to the threshold (or an
    /// association variant was not testable).
    pub small_count_suppressions: u64,
    /// Credentials refused.
    pub refused_credentials: u64,
}

/// Reads entries one by one.
pub struct UsageTally {
    country: String,
    own_issuers: Vec<String>,
    issuer_countries: Vec<(String, String)>,
    peer_countries: BTreeMap<String, String>,
    months: BTreeMap<String, MonthUse>,
    by_country: BTreeMap<String, u64>,
    registered: HashSet<String>,
    controlled: HashSet<String>,
    delivery: BTreeMap<String, (HashSet<String>, DatasetDelivery)>,
    privacy: Privacy,
    first: Option<String>,
    last: Option<String>,
}

/// The prefix of a network query's `via` (see the server's network module).
const PEER_VIA: &str = "network query from peer ";

impl UsageTally {
    /// `own_issuers`: the `iss` of this node's own visas (its base URLs).
    pub fn new(config: &NodeConfig, own_issuers: Vec<String>) -> Self {
        UsageTally {
            country: config.country.clone(),
            own_issuers,
            issuer_countries: config
                .access
                .issuers
                .iter()
                .filter_map(|i| Some((i.iss.clone(), i.country.clone()?.to_ascii_uppercase())))
                .collect(),
            peer_countries: config.network.peers.iter().map(|p| (p.id.clone(), p.country.clone())).collect(),
            months: BTreeMap::new(),
            by_country: BTreeMap::new(),
            registered: HashSet::new(),
            controlled: HashSet::new(),
            delivery: BTreeMap::new(),
            privacy: Privacy::default(),
            first: None,
            last: None,
        }
    }

    pub fn add(&mut self, entry: &AuditEntry) {
        let r = &entry.record;
        if self.first.is_none() {
            self.first = Some(r.time.clone());
        }
        self.last = Some(r.time.clone());
        match r.action {
            AuditAction::Query | AuditAction::Association => self.query(entry),
            AuditAction::Auth => {
                self.privacy.refused_credentials += 1;
                self.month(&r.time).refused += 1;
            }
            AuditAction::BudgetUnlock if r.decision == Decision::Allowed => self.privacy.budget_unlocks += 1,
            AuditAction::DataServed | AuditAction::HtsgetTicket | AuditAction::DrsAccess
                if r.decision == Decision::Allowed =>
            {
                self.delivered(entry)
            }
            _ => {}
        }
    }

    fn month(&mut self, time: &str) -> &mut MonthUse {
        let month = time.get(..7).unwrap_or("unknown").to_string();
        self.months.entry(month.clone()).or_insert_with(|| MonthUse { month, ..MonthUse::default() })
    }

    fn query(&mut self, entry: &AuditEntry) {
        let r = &entry.record;
        let note = QueryNote::parse(&r.detail);
        if note.raised {
            self.privacy.small_count_suppressions += 1;
        }
        if r.decision == Decision::Denied {
            if is_refusal(&r.detail) {
                self.privacy.budget_refusals += 1;
                if r.detail.contains(LOCKING_REFUSAL) {
                    self.privacy.budget_locks += 1;
                }
            }
            self.month(&r.time).refused += 1;
            return;
        }
        let tier = note.tier.unwrap_or("unknown").to_string();
        let endpoint = route(&r.resource);
        let country = self.country_of(&r.actor, &r.detail);
        let month = self.month(&r.time);
        month.answered += 1;
        *month.by_tier.entry(tier.clone()).or_insert(0) += 1;
        *month.by_endpoint.entry(endpoint).or_insert(0) += 1;
        *self.by_country.entry(country).or_insert(0) += 1;
        if !matches!(r.actor.as_str(), "anonymous" | "unauthenticated" | "operator") {
            match tier.as_str() {
                "controlled" => {
                    self.controlled.insert(r.actor.clone());
                    self.registered.insert(r.actor.clone());
                }
                "registered" => {
                    self.registered.insert(r.actor.clone());
                }
                _ => {}
            }
        }
    }

    /// The caller's country: the peer's for a network query, else the issuer's of the actor.
    fn country_of(&self, actor: &str, detail: &str) -> String {
        let via = detail.split("; ").find_map(|part| part.strip_prefix(PEER_VIA));
        if let Some(peer) = via {
            return self.peer_countries.get(peer).cloned().unwrap_or_else(|| "unknown".into());
        }
        match actor.split_once('#') {
            None if actor == "anonymous" => "unknown".into(),
            // Operator tokens are the node's own users.
            None => self.country.clone(),
            Some((iss, _)) if self.own_issuers.iter().any(|own| own == iss) => self.country.clone(),
            Some((iss, _)) => self
                .issuer_countries
                .iter()
                .find(|(known, _)| known == iss)
                .map_or_else(|| "unknown".into(), |(_, c)| c.clone()),
        }
    }

    fn delivered(&mut self, entry: &AuditEntry) {
        let r = &entry.record;
        for dataset in &r.datasets {
            let (files, d) = self.delivery.entry(dataset.clone()).or_insert_with(|| {
                (HashSet::new(), DatasetDelivery { dataset: dataset.clone(), ..Default::default() })
            });
            match r.action {
                AuditAction::DataServed => {
                    d.downloads += 1;
                    d.bytes += served_bytes(&r.detail).unwrap_or(0);
                    // `/ga4gh/data/ACCESSION bytes=…`: the accession names the archived file.
                    let path = r.resource.split(' ').next().unwrap_or_default();
                    if files.insert(path.rsplit('/').next().unwrap_or_default().to_string()) {
                        d.files += 1;
                    }
                }
                AuditAction::HtsgetTicket => d.tickets += 1,
                _ => d.access_urls += 1,
            }
        }
    }

    pub fn finish(self) -> (Usage, Vec<DatasetDelivery>, Privacy) {
        let answered = self.months.values().map(|m| m.answered).sum();
        let refused = self.months.values().map(|m| m.refused).sum();
        let known: u64 = self.by_country.iter().filter(|(c, _)| *c != "unknown").map(|(_, n)| n).sum();
        let abroad: u64 =
            self.by_country.iter().filter(|(c, _)| *c != "unknown" && **c != self.country).map(|(_, n)| n).sum();
        let usage = Usage {
            months: self.months.into_values().collect(),
            answered,
            refused,
            by_country: self.by_country,
            cross_border_share: (known > 0).then(|| abroad as f64 / known as f64),
            registered_users: self.registered.len() as u64,
            controlled_users: self.controlled.len() as u64,
            first: self.first,
            last: self.last,
        };
        (usage, self.delivery.into_values().map(|(_, d)| d).collect(), self.privacy)
    }
}

/// `N bytes served (…)`: the detail of a `data.served` entry.
pub fn served_bytes(detail: &str) -> Option<u64> {
    let (number, rest) = detail.split_once(' ')?;
    if rest.starts_with("bytes served") { number.parse().ok() } else { None }
}

/// The route of a recorded resource (`/individuals/SE-p3x… filters=…` → `/individuals/{id}`):
/// the first path segment and the related entry type kept, an id never.
pub fn route(resource: &str) -> String {
    let path = resource.split(' ').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let shape: Vec<&str> = segments.iter().enumerate().map(|(i, s)| if i == 1 { "{id}" } else { s }).take(3).collect();
    format!("/{}", shape.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_never_keep_an_id() {
        assert_eq!(route("/g_variants referenceName=22&start=1"), "/g_variants");
        assert_eq!(route("/individuals/SE-ab12 filters=HP:1"), "/individuals/{id}");
        assert_eq!(route("/datasets/DK-1/g_variants"), "/datasets/{id}/g_variants");
        assert_eq!(route("/association"), "/association");
        assert_eq!(served_bytes("12 bytes served (crypt4gh)"), Some(12));
        assert_eq!(served_bytes("12 bytes"), None);
    }
}
