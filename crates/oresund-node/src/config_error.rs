//! Why a node's configuration (`oresund.toml`, a peers file) cannot be used: one variant per rule
//! the types cannot express, each message naming the key and what to set.

use oresund_access::tier::PolicyError;

use crate::archive::location::LocationError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    // The node.
    #[error("node_id {0:?} must be 1-32 letters, digits, '-' or '_'")]
    NodeId(String),
    #[error("country {0:?} must be an ISO 3166-1 alpha-2 code such as DK or SE")]
    Country(String),
    #[error("assembly must name the reference assembly, for example GRCh38")]
    Assembly,

    // [beacon]
    #[error("beacon.threshold must be at least 1")]
    Threshold,
    #[error("beacon.datasets.{dataset}: {error}")]
    DatasetPolicy { dataset: String, error: PolicyError },
    #[error("beacon.tokens for {user:?}: sha256 must be 64 lower-case hex digits")]
    TokenDigest { user: String },
    #[error("beacon.tokens for {user:?}: purpose: {error}")]
    TokenPurpose { user: String, error: oresund_access::duo_match::PurposeError },

    // [mme]
    #[error("mme: {0}")]
    Mme(String),

    // [network]
    #[error("network.timeout_ms must be positive")]
    NetworkTimeout,
    #[error("network.head_interval_s must be positive")]
    HeadInterval,
    #[error("network peer {peer:?}: the shared secret must be at least 32 characters")]
    PeerSecret { peer: String },
    #[error("network peer {peer:?}: url {url:?} must start with http:// or https://")]
    PeerUrl { peer: String, url: String },
    // Queries carry callers' passports: across machines they travel over TLS only.
    #[error(
        "network peer {peer:?}: url {url:?} is plain http to another machine; use https:// \
         (plain http is accepted on loopback only)"
    )]
    PeerPlainHttp { peer: String, url: String },

    // [catalog]
    /// What the store's URL check says is wrong with `catalog.url`.
    #[error("catalog.url {0}")]
    CatalogUrl(oresund_store::postgres::CatalogUrlError),
    #[error("catalog.pool_size {0} must be between 1 and 1000")]
    PoolSize(usize),
    #[error("catalog.block_cache_mb {given} is larger than {max} (MiB)")]
    BlockCache { given: usize, max: usize },
    #[error("catalog.acquire_timeout_s must be positive")]
    AcquireTimeout,
    #[error("catalog.password_env must name an environment variable")]
    PasswordEnv,

    // [query]
    #[error("query.region_threads {given} is more than {max} (0 means one per core, 1 the calling thread only)")]
    RegionThreads { given: usize, max: usize },

    // [access]
    #[error("access.data_url_ttl_s is {0}: data URLs must live between 1 second and a day (86400)")]
    DataUrlTtl(u64),
    #[error("access.issuers: iss must not be empty")]
    IssuerIss,
    #[error("access.audiences: each audience must be a non-empty string without leading or trailing spaces")]
    Audience,
    #[error("access.issuers {iss:?}: jku must list at least one JWKS URL")]
    IssuerNoJku { iss: String },
    #[error("access.issuers {iss:?}: jku {jku:?} must be an http(s) URL")]
    IssuerJku { iss: String, jku: String },
    // Whoever can change a key set in transit can forge any passport of that issuer.
    #[error("access.issuers {iss:?}: jku {jku:?} must be https:// (plain http only on loopback)")]
    IssuerPlainHttp { iss: String, jku: String },
    #[error("access.clock_skew_s {0} is above 600 s: fix the clocks instead")]
    ClockSkew(u64),
    #[error("access.jwks_ttl_s and access.jwks_failure_ttl_s must be positive")]
    JwksTtl,
    #[error("access.visa_lifetime_days must be between 1 and 3650")]
    VisaLifetime,
    #[error("access.dataset_urls.{dataset}: {url:?} must be an http(s) URL")]
    DatasetUrl { dataset: String, url: String },
    #[error(
        "access.budget.public_min_carriers must be at least 2 (one carrier alone would be named by a \"yes\"), got {0}"
    )]
    PublicMinCarriers(usize),
    #[error("access.budget.nats and public_nats must be positive numbers, got {0}")]
    BudgetNats(f64),

    // [archive]
    #[error(transparent)]
    ArchiveLocation(#[from] LocationError),
    #[error("archive.connections must be at least 1")]
    ArchiveConnections,
    #[error("archive.{0} must not be empty")]
    ArchiveEmpty(&'static str),
    #[error("archive.secret_key and archive.public_key must be different files")]
    ArchiveSameKeyFile,
}
