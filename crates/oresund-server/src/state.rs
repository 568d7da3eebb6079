//! What every handler shares: the node, how callers are authenticated, the beacon's settings, the
//! audit log, the re-identification budget and the node's identity as a visa issuer.

use std::collections::BTreeMap;
use std::sync::Arc;

use oresund_access::{
    Authenticator, Caller, CountThreshold, DatasetPolicy, Granularity, Reach, TokenAuthenticator, TokenGrant,
};
use oresund_node::Node;
use oresund_node::access::OwnIssuer;
use oresund_node::config::NodeConfig;
use oresund_node::delivery::Deliveries;

use crate::audit_log::AuditLog;
use crate::budget_cache::Budget;
use crate::error::BeaconError;
use crate::jwks_cache::OwnKeys;

/// The shared state of a running node server.
#[derive(Clone)]
pub struct AppState {
    pub node: Arc<Node>,
    pub auth: Arc<dyn Authenticator>,
    pub beacon: Arc<BeaconSettings>,
    pub access: Arc<AccessSettings>,
    pub audit: AuditLog,
    pub budget: Arc<Budget>,
    /// The keys this node signs visas with, as published.
    pub own_keys: Arc<OwnKeys>,
    /// Delivery of archived files (htsget, DRS), when the node's archive key could be unlocked.
    pub delivery: DeliveryService,
    /// This process's metrics (`/metrics`), shared with the network of a node that has peers.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The delivery service, or why a node serves without it.
#[derive(Clone)]
pub enum DeliveryService {
    Ready {
        deliveries: Arc<Deliveries>,
        url_ttl_s: u64,
    },
    /// The reason, for the operator (the caller gets a 503).
    Unavailable(String),
}

/// The node as a visa issuer and its data access committee.
#[derive(Debug, Clone)]
pub struct AccessSettings {
    pub issuer: OwnIssuer,
    /// User ids of the committee's members.
    pub dac_members: Vec<String>,
}

/// The beacon's identity and per-dataset policies, from `[beacon]` in oresund.toml.
#[derive(Debug, Clone)]
pub struct BeaconSettings {
    /// Reverse-domain beacon id (`org.oresund.dk-ngc`).
    pub id: String,
    pub name: String,
    pub organization: String,
    pub country: String,
    pub assembly: String,
    pub base_url: String,
    pub threshold: CountThreshold,
    pub datasets: BTreeMap<String, DatasetInfo>,
}

/// How one dataset is presented and protected.
#[derive(Debug, Clone, Default)]
pub struct DatasetInfo {
    pub name: Option<String>,
    pub description: Option<String>,
    pub policy: DatasetPolicy,
}

impl BeaconSettings {
    pub fn from_config(config: &NodeConfig, base_url: String) -> Self {
        let id = format!("org.oresund.{}", config.node_id.to_ascii_lowercase());
        let datasets = config
            .beacon
            .datasets
            .iter()
            .map(|(id, d)| {
                (id.clone(), DatasetInfo { name: d.name.clone(), description: d.description.clone(), policy: d.policy })
            })
            .collect();
        Self {
            id,
            name: if config.beacon.name.is_empty() {
                format!("Øresund node {} ({})", config.node_id, config.country)
            } else {
                config.beacon.name.clone()
            },
            organization: if config.beacon.organization.is_empty() {
                config.node_id.clone()
            } else {
                config.beacon.organization.clone()
            },
            country: config.country.clone(),
            assembly: config.assembly.clone(),
            base_url,
            threshold: CountThreshold(config.beacon.threshold),
            datasets,
        }
    }

    /// The policy of a dataset (the defaults when the config does not name it).
    pub fn policy(&self, dataset: &str) -> DatasetPolicy {
        self.datasets.get(dataset).map(|d| d.policy).unwrap_or_default()
    }

    /// What `caller` gets of `dataset` when asking for `requested` (the most they may see when `None`).
    pub fn granted(&self, caller: &Caller, dataset: &str, requested: Option<Granularity>) -> Granularity {
        self.policy(dataset).granted(caller.tier(dataset), requested.unwrap_or(Granularity::Record))
    }
}

/// The operator tokens of the config as an authenticator.
pub fn token_authenticator(config: &NodeConfig) -> TokenAuthenticator {
    TokenAuthenticator::new(
        config
            .beacon
            .tokens
            .iter()
            .map(|t| TokenGrant {
                sha256: t.sha256.clone(),
                user: t.user.clone(),
                registered: t.registered,
                clinician: t.clinician,
                controlled: t
                    .controlled
                    .iter()
                    .map(|d| {
                        let reach = t.purpose.as_ref().map_or(Reach::Everyone, |p| Reach::purpose(p.canonical()));
                        (d.clone(), reach)
                    })
                    .collect(),
            })
            .collect(),
    )
}

/// Delivery for `node`: its archive keys unlocked with the passphrase from the environment (if
/// any). Without them the node still serves everything else, and says why delivery is off.
pub fn delivery_service(node: &Node, url_ttl_s: u64) -> DeliveryService {
    let passphrase = oresund_node::keys::passphrase_from_env();
    let started = node
        .load_keys(passphrase.as_deref().map(|p| &p[..]))
        .map_err(oresund_node::delivery::DeliveryError::from)
        .and_then(|keys| Deliveries::new(node, keys));
    match started {
        Ok(deliveries) => DeliveryService::Ready { deliveries: Arc::new(deliveries), url_ttl_s },
        Err(e) => {
            tracing::warn!(cause = %e, "htsget and DRS delivery is off: the archive key cannot be used");
            DeliveryService::Unavailable(e.to_string())
        }
    }
}

impl AppState {
    /// Runs `work` with the node on the blocking pool (see [`crate::blocking`] for why): the only way a handler
    /// reaches the synchronous node. A panic in `work` is a 500 (logged under the request id).
    pub async fn blocking<T, F>(&self, work: F) -> Result<T, BeaconError>
    where
        F: FnOnce(&AppState) -> T + Send + 'static,
        T: Send + 'static,
    {
        let app = self.clone();
        crate::blocking::run(move || work(&app)).await.map_err(BeaconError::internal)
    }

    /// Runs short `work` with the node on this thread instead (`answer::answered_in_place` says
    /// which): a panic in `work` is a 500 here too.
    pub fn in_place<T>(&self, work: impl FnOnce(&AppState) -> T) -> Result<T, BeaconError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self))).map_err(|panic| {
            let message =
                panic.downcast_ref::<&str>().map(|m| m.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
            BeaconError::internal(format!("the answer panicked: {}", message.unwrap_or_default()))
        })
    }
}
