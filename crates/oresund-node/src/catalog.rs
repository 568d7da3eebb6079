//! `[catalog]` in `oresund.toml`: where the node's catalog and variant index live.
//!
//! ```toml
//! # Without a url (the default): the embedded SQLite database NODE_DIR/node.db.
//! [catalog]
//! url = "postgres://oresund@db.example.org:5432/oresund_dk"   # libpq URL, without the password
//! password_env = "PGPASSWORD"   # environment variable holding the password (libpq's own)
//! pool_size = 8                 # connections per process (each `serve`, each CLI command)
//! acquire_timeout_s = 30        # wait for a free pooled connection before failing
//! block_cache_mb = 64           # committed variant blocks kept per process (0: none; either store)
//! ```
//!
//! The password never comes from the command line (it would stay in shell history and `ps`):
//! `oresund init --catalog` refuses a URL that holds one. It comes from `password_env`, or, as
//! libpq reads it, from `PGPASSWORD`; a password in the `url` of this file (mode 0600, like the
//! secrets directory) is accepted too.

use std::time::Duration;

use oresund_store::NodeStore;
use oresund_store::postgres::{PostgresOptions, PostgresStore, redact_url, url_has_password};
use serde::{Deserialize, Serialize};

use crate::config_error::ConfigError;
use crate::error::NodeError;

/// Largest `block_cache_mb` accepted (1 TiB): larger is a typo, not a plan.
pub const MAX_BLOCK_CACHE_MB: usize = 1 << 20;

/// The environment variable libpq reads the password from.
pub const LIBPQ_PASSWORD_ENV: &str = "PGPASSWORD";

/// The `[catalog]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// `postgres://…` for PostgreSQL; `None` for the embedded store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Environment variable holding the PostgreSQL password.
    pub password_env: String,
    /// Most PostgreSQL connections one process opens (plus one for the writer lock during ingest).
    pub pool_size: usize,
    /// Seconds to wait for a free pooled connection.
    pub acquire_timeout_s: u64,
    /// MiB of committed variant blocks one process keeps, so that single-variant lookups on warm
    /// data need no round trip to PostgreSQL, nor any SQL in the embedded store (0 turns the cache
    /// off).
    pub block_cache_mb: usize,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            url: None,
            password_env: LIBPQ_PASSWORD_ENV.into(),
            pool_size: 8,
            acquire_timeout_s: 30,
            block_cache_mb: 64,
        }
    }
}

impl CatalogConfig {
    /// The embedded default (the section is then left out of `oresund.toml`).
    pub fn is_embedded(&self) -> bool {
        self == &CatalogConfig::default()
    }

    /// Rules the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.url {
            check_url(url)?;
        }
        if self.pool_size == 0 || self.pool_size > 1000 {
            return Err(ConfigError::PoolSize(self.pool_size));
        }
        if self.block_cache_mb > MAX_BLOCK_CACHE_MB {
            return Err(ConfigError::BlockCache { given: self.block_cache_mb, max: MAX_BLOCK_CACHE_MB });
        }
        if self.acquire_timeout_s == 0 {
            return Err(ConfigError::AcquireTimeout);
        }
        if self.password_env.trim().is_empty() {
            return Err(ConfigError::PasswordEnv);
        }
        Ok(())
    }

    /// The PostgreSQL settings, with the password from the environment; `None` when embedded.
    pub fn postgres_options(&self) -> Option<PostgresOptions> {
        let url = self.url.as_ref()?;
        let password = std::env::var(&self.password_env)
            .ok()
            .or_else(|| std::env::var(LIBPQ_PASSWORD_ENV).ok())
            .filter(|p| !p.is_empty());
        let mut options = PostgresOptions::new(url.clone(), password);
        options.pool_size = self.pool_size;
        options.acquire_timeout = Duration::from_secs(self.acquire_timeout_s);
        options.block_cache_bytes = self.block_cache_bytes();
        Some(options)
    }

    /// `block_cache_mb` in bytes (validated: at most [`MAX_BLOCK_CACHE_MB`]).
    pub fn block_cache_bytes(&self) -> usize {
        self.block_cache_mb.saturating_mul(1 << 20)
    }

    /// Opens the PostgreSQL catalog (applying migrations); `None` when embedded.
    pub fn open_postgres(&self) -> Result<Option<Box<dyn NodeStore>>, NodeError> {
        self.open_postgres_store().map(|store| store.map(|s| Box::new(s) as Box<dyn NodeStore>))
    }

    pub(crate) fn open_postgres_store(&self) -> Result<Option<PostgresStore>, NodeError> {
        match self.postgres_options() {
            Some(options) => Ok(Some(PostgresStore::open(&options)?)),
            None => Ok(None),
        }
    }
}

fn check_url(url: &str) -> Result<(), ConfigError> {
    oresund_store::postgres::check_url(url).map_err(ConfigError::CatalogUrl)
}

/// Checks a `--catalog` URL given on the command line: PostgreSQL, and no password in it.
pub fn check_command_line_url(url: &str) -> Result<(), NodeError> {
    if url_has_password(url) {
        return Err(NodeError::CommandLineUrl(format!(
            "--catalog {}: do not put the password on the command line (it stays in shell history and \
             process lists); leave it out of the URL and set {LIBPQ_PASSWORD_ENV} (or the variable named by \
             [catalog] password_env in oresund.toml)",
            redact_url(url)
        )));
    }
    check_url(url).map_err(|e| NodeError::CommandLineUrl(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_refused_on_the_command_line() {
        assert!(CatalogConfig::default().is_embedded());
        let config = CatalogConfig { url: Some("postgres://ore@db:5432/dk".into()), ..Default::default() };
        assert!(config.validate().is_ok() && !config.is_embedded());
        let mysql = CatalogConfig { url: Some("mysql://db/dk".into()), ..Default::default() };
        assert!(mysql.validate().unwrap_err().to_string().contains("postgres://"));
        let err = check_command_line_url("postgres://ore:hunter2@db/dk").unwrap_err().to_string();
        assert!(err.contains("PGPASSWORD") && !err.contains("hunter2"), "{err}");
        let err = check_command_line_url("postgres://db/dk?user=ore&password=hunter2").unwrap_err().to_string();
        assert!(err.contains("PGPASSWORD") && !err.contains("hunter2"), "{err}");
        assert!(check_command_line_url("postgres://ore@127.0.0.1:5432/dk?connect_timeout=5").is_ok());
    }

    #[test]
    fn the_block_cache_is_sized_in_mib_and_may_be_off() {
        let url = Some("postgres://ore@db:5432/dk".to_string());
        let parsed: CatalogConfig = toml::from_str("url = \"postgres://ore@db:5432/dk\"\nblock_cache_mb = 0").unwrap();
        assert_eq!(parsed.postgres_options().unwrap().block_cache_bytes, 0);
        let default = CatalogConfig { url: url.clone(), ..Default::default() };
        assert_eq!(default.postgres_options().unwrap().block_cache_bytes, 64 << 20);
        let huge = CatalogConfig { url, block_cache_mb: MAX_BLOCK_CACHE_MB + 1, ..Default::default() };
        assert!(huge.validate().unwrap_err().to_string().contains("block_cache_mb"));
    }
}
