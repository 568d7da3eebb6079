//! `oresund.toml`: what a node is (id, country, assembly) and how it runs. Written by `init`,
//! edited by the operator; unknown keys are an error so a typo is never silently ignored.

use std::collections::BTreeMap;
use std::path::Path;

use oresund_access::DatasetPolicy;
use serde::{Deserialize, Serialize};

use crate::config_error::ConfigError;
use crate::error::NodeError;
use crate::http_url::{is_loopback_url, parse_http_url};

pub const CONFIG_FILE: &str = "oresund.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Short node identifier, also the prefix of accessions (`DK-NGC` → `DK-NGC-F000001`).
    pub node_id: String,
    /// ISO 3166-1 alpha-2 country code (`DK`, `SE`).
    pub country: String,
    /// Reference assembly name (`GRCh38`); queries naming another assembly are refused.
    pub assembly: String,
    pub reference: ReferenceConfig,
    #[serde(default)]
    pub ontology: OntologyConfig,
    #[serde(default)]
    pub beacon: BeaconConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub archive: crate::archive::config::ArchiveConfig,
    /// `[catalog]`: the embedded store unless it names a PostgreSQL database.
    #[serde(default, skip_serializing_if = "crate::catalog::CatalogConfig::is_embedded")]
    pub catalog: crate::catalog::CatalogConfig,
    #[serde(default, skip_serializing_if = "NetworkConfig::is_empty")]
    pub network: NetworkConfig,
    /// `[access]`: passport issuers, the data access committee, the re-identification budget.
    #[serde(default, skip_serializing_if = "crate::access::AccessConfig::is_default")]
    pub access: crate::access::AccessConfig,
    /// `[economy]`: prices for the cost figures of `oresund report`.
    #[serde(default, skip_serializing_if = "crate::report::EconomyConfig::is_default")]
    pub economy: crate::report::EconomyConfig,
    /// `[mme]`: Matchmaker Exchange partners and ranking.
    #[serde(default, skip_serializing_if = "crate::matchmaking::config::MmeConfig::is_default")]
    pub mme: crate::matchmaking::config::MmeConfig,
    /// `[query]`: how counts use the machine.
    #[serde(default, skip_serializing_if = "QueryConfig::is_default")]
    pub query: QueryConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceConfig {
    /// File name the reference was imported from (for the record).
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OntologyConfig {
    /// HPO release copied into the node at `init`, relative to the node directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpo: Option<String>,
}

/// `[beacon]`: how the node presents itself over GA4GH Beacon v2 and what each dataset discloses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeaconConfig {
    /// Human-readable name of the beacon.
    pub name: String,
    pub organization: String,
    /// Counts from 1 to `threshold - 1` are never disclosed below the CONTROLLED tier.
    pub threshold: u64,
    /// Per dataset: what each tier may see (`public`, `registered`, `controlled`:
    /// none | boolean | count | record), plus a name and description.
    pub datasets: BTreeMap<String, DatasetSettings>,
    /// Operator-issued bearer tokens (stored as SHA-256): the path for operators and scripts,
    /// beside GA4GH Passports (`[access]`).
    pub tokens: Vec<TokenConfig>,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            organization: String::new(),
            threshold: 5,
            datasets: BTreeMap::new(),
            tokens: Vec::new(),
        }
    }
}

/// `[beacon.datasets.ID]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatasetSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(flatten)]
    pub policy: DatasetPolicy,
}

/// `[[beacon.tokens]]`: one caller's credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Lower-case hex SHA-256 of the token (`oresund token add` writes it; the token itself is shown once).
    pub sha256: String,
    /// Who holds it (appears in audit records).
    pub user: String,
    /// Registered (bona fide) researcher: count answers.
    #[serde(default)]
    pub registered: bool,
    /// A clinician: may submit matchmaking cases and ask for matches (`/mme`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clinician: bool,
    /// Datasets this caller may see at the CONTROLLED tier.
    #[serde(default)]
    pub controlled: Vec<String>,
    /// The research purpose the controlled access is for (`{purpose = "HMB"}`, `{purpose = "DS",
    /// disease = "MONDO:0005027"}`): the token then reaches only the people whose consent allows
    /// it, like a committee grant. Without one the token reaches everyone: the node's own staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<oresund_access::duo_match::ResearchPurpose>,
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on (`oresund serve --listen` overrides it).
    pub listen: String,
    /// Public base URL of this node, used in dataset URLs and self links (default: http://LISTEN).
    pub base_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { listen: "127.0.0.1:7001".into(), base_url: None }
    }
}

/// `[query]`: how counts use the machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryConfig {
    /// Threads a region count of 100 kb or more uses: 0 (the default) one per core, 1 the calling
    /// thread only (a server busy with concurrent requests gains nothing from more).
    pub region_threads: usize,
}

/// Most `query.region_threads` accepted: more is a typo, not a plan.
pub const MAX_REGION_THREADS: usize = 256;

impl QueryConfig {
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.region_threads > MAX_REGION_THREADS {
            return Err(ConfigError::RegionThreads { given: self.region_threads, max: MAX_REGION_THREADS });
        }
        Ok(())
    }
}

/// `threads`, or for 0 the cores this process may use: asked once per process, when first needed
/// (about 50-100 µs, the cgroup files read; a one-variant `query` never needs it).
pub(crate) fn threads_or_cores(threads: usize) -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    match threads {
        0 => *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        n => n,
    }
}

/// `[network]` (or a `--peers` file of the same shape): the national nodes this one federates with.
/// Every peer shares an HMAC secret with this node; a network query from anyone else is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// This node's id towards its peers (default: `node_id`).
    pub id: Option<String>,
    /// How long to wait for a peer before answering without it.
    pub timeout_ms: u64,
    /// Seconds between two sendings of this node's signed audit chain head to every peer with a
    /// url (also sent once at start); peers keep the last one, for `audit verify --against-peer`.
    pub head_interval_s: u64,
    pub peers: Vec<PeerConfig>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self { id: None, timeout_ms: 5000, head_interval_s: 300, peers: Vec::new() }
    }
}

impl NetworkConfig {
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty() && self.id.is_none() && self.timeout_ms == 5000 && self.head_interval_s == 300
    }

    /// Reads a peers file (`[network]` keys at top level) and checks it.
    pub fn load(path: &Path) -> Result<Self, NodeError> {
        let text = std::fs::read_to_string(path).map_err(|source| NodeError::io(path, source))?;
        let config: NetworkConfig = toml::from_str(&text)
            .map_err(|e| NodeError::Config { path: path.to_path_buf(), message: e.to_string() })?;
        config.validate().map_err(|error| NodeError::BadConfig { path: path.to_path_buf(), error })?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout_ms == 0 {
            return Err(ConfigError::NetworkTimeout);
        }
        if self.head_interval_s == 0 {
            return Err(ConfigError::HeadInterval);
        }
        for peer in &self.peers {
            if peer.secret.len() < 32 {
                return Err(ConfigError::PeerSecret { peer: peer.id.clone() });
            }
            if let Some(url) = peer.url.as_ref().filter(|u| parse_http_url(u).is_none()) {
                return Err(ConfigError::PeerUrl { peer: peer.id.clone(), url: url.clone() });
            }
            if let Some(url) = peer.url.as_ref().filter(|u| u.starts_with("http://") && !is_loopback_url(u)) {
                return Err(ConfigError::PeerPlainHttp { peer: peer.id.clone(), url: url.clone() });
            }
        }
        Ok(())
    }
}

/// `[[network.peers]]`: one national node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The peer's id (its `node_id`), sent in and checked against `X-Oresund-Peer`.
    pub id: String,
    /// ISO 3166-1 alpha-2 country of the peer.
    pub country: String,
    /// Base URL to send network queries to; absent for peers that only ask this node.
    #[serde(default)]
    pub url: Option<String>,
    /// Shared HMAC-SHA256 secret with this peer (keep the file mode 0600).
    pub secret: String,
}

impl NodeConfig {
    pub fn load(dir: &Path) -> Result<Self, NodeError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| NodeError::io(&path, source))?;
        let config: NodeConfig =
            toml::from_str(&text).map_err(|e| NodeError::Config { path: path.clone(), message: e.to_string() })?;
        config.validate().map_err(|error| NodeError::BadConfig { path, error })?;
        Ok(config)
    }

    pub fn save(&self, dir: &Path) -> Result<(), NodeError> {
        let path = dir.join(CONFIG_FILE);
        let text = toml::to_string_pretty(self)
            .map_err(|e| NodeError::Config { path: path.clone(), message: e.to_string() })?;
        // Mode 0600: the file holds peer secrets and token digests.
        crate::fsutil::write_secret(&path, text.as_bytes())
    }

    /// Rules the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let id_ok = !self.node_id.is_empty()
            && self.node_id.len() <= 32
            && self.node_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(ConfigError::NodeId(self.node_id.clone()));
        }
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError::Country(self.country.clone()));
        }
        if self.assembly.trim().is_empty() {
            return Err(ConfigError::Assembly);
        }
        self.archive.validate()?;
        self.catalog.validate()?;
        self.network.validate()?;
        self.access.validate()?;
        self.mme.validate()?;
        self.query.validate()?;
        if self.beacon.threshold == 0 {
            return Err(ConfigError::Threshold);
        }
        for (id, dataset) in &self.beacon.datasets {
            dataset.policy.validate().map_err(|error| ConfigError::DatasetPolicy { dataset: id.clone(), error })?;
        }
        for token in &self.beacon.tokens {
            let hex = token.sha256.len() == 64
                && token.sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
            if !hex {
                return Err(ConfigError::TokenDigest { user: token.user.clone() });
            }
            if let Some(purpose) = &token.purpose {
                purpose.validate().map_err(|error| ConfigError::TokenPurpose { user: token.user.clone(), error })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let good = "node_id = \"DK-NGC\"\ncountry = \"DK\"\nassembly = \"GRCh38\"\n[reference]\nsource = \"ref.fa\"\n";
        std::fs::write(dir.path().join(CONFIG_FILE), good).unwrap();
        assert_eq!(NodeConfig::load(dir.path()).unwrap().node_id, "DK-NGC");
        std::fs::write(dir.path().join(CONFIG_FILE), format!("{good}colour = 1\n")).unwrap();
        let err = NodeConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown field") && err.contains("oresund.toml"), "{err}");
        std::fs::write(dir.path().join(CONFIG_FILE), good.replace("\"DK\"", "\"Denmark\"")).unwrap();
        assert!(NodeConfig::load(dir.path()).unwrap_err().to_string().contains("ISO 3166-1"));
        std::fs::write(dir.path().join(CONFIG_FILE), format!("{good}[query]\nregion_threads = 1\n")).unwrap();
        assert_eq!(NodeConfig::load(dir.path()).unwrap().query.region_threads, 1);
        std::fs::write(dir.path().join(CONFIG_FILE), format!("{good}[query]\nregion_threads = 1000\n")).unwrap();
        let err = NodeConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("query.region_threads 1000"), "{err}");
    }

    #[test]
    fn plain_http_peers_only_on_loopback() {
        for url in ["http://127.0.0.1:7001", "http://localhost:8080/", "http://[::1]:7001", "https://gms.se"] {
            assert!(is_loopback_url(url) || url.starts_with("https"), "{url}");
        }
        for url in
            ["http://gms.se:7001", "http://10.0.0.5", "http://127.0.0.1.evil.test/", "http://localhost:80@evil.com/"]
        {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
