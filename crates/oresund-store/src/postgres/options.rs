//! How to reach the PostgreSQL catalog: the URL (without a password), the password kept apart,
//! and the pool's bounds.

use std::str::FromStr;
use std::time::Duration;

use crate::error::{Result, StoreError};

/// Connection settings of a [`super::PostgresStore`].
#[derive(Clone)]
pub struct PostgresOptions {
    /// `postgres://user@host:port/dbname?...` (libpq URL syntax). A password inside it is used,
    /// but callers should pass it in `password` instead (see `oresund-node`'s `[catalog]`).
    pub url: String,
    /// The password, from the environment or a secrets file; never logged.
    pub password: Option<String>,
    /// Most connections this process opens for reads and ingests (the writer lock uses one more).
    pub pool_size: usize,
    /// How long a caller waits for a free pooled connection before failing.
    pub acquire_timeout: Duration,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// Most bytes of committed variant blocks this process keeps for single-variant lookups
    /// (0: none). The blocks' position tables are kept whatever the budget, so a lookup the cache
    /// cannot answer fetches its entries alone.
    pub block_cache_bytes: usize,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &redact_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("pool_size", &self.pool_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("block_cache_bytes", &self.block_cache_bytes)
            .finish()
    }
}

impl PostgresOptions {
    /// Settings for `url` with the default pool (8 connections, 30 s wait, 10 s to connect) and
    /// block cache (64 MiB).
    pub fn new(url: impl Into<String>, password: Option<String>) -> Self {
        PostgresOptions {
            url: url.into(),
            password,
            pool_size: 8,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            block_cache_bytes: 64 << 20,
        }
    }

    /// The client configuration, with the password applied.
    pub(crate) fn client_config(&self) -> Result<postgres::Config> {
        let mut config = postgres::Config::from_str(&self.url)
            .map_err(|source| StoreError::Connect { target: redact_url(&self.url), source })?;
        if let Some(password) = &self.password {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("oresund");
        }
        Ok(config)
    }

    /// The URL as it may appear in messages.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// `url` with any password (`user:secret@`, `password=` parameter) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority_end, _) = rest.char_indices().find(|&(_, c)| c == '/' || c == '?').unwrap_or((rest.len(), '/'));
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    if scheme.is_empty() { format!("{authority}{tail}") } else { format!("{scheme}://{authority}{tail}") }
}

/// Why a catalog URL is refused; it names the URL with any password masked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogUrlError {
    #[error("{0:?} must start with postgres:// or postgresql://")]
    Scheme(String),
    #[error("{url:?} is not a PostgreSQL URL: {reason}")]
    Malformed { url: String, reason: String },
}

/// Whether `url` is a PostgreSQL URL this client understands; the error never shows a password.
pub fn check_url(url: &str) -> std::result::Result<(), CatalogUrlError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(CatalogUrlError::Scheme(redact_url(url)));
    }
    postgres::Config::from_str(url)
        .map(|_| ())
        .map_err(|e| CatalogUrlError::Malformed { url: redact_url(url), reason: e.to_string() })
}

/// Whether a URL carries a password (in the user info or as a `password` parameter).
pub fn url_has_password(url: &str) -> bool {
    redact_url(url) != url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact_url("postgres://ore:s3cret@db:5432/node"), "postgres://ore:***@db:5432/node");
        assert_eq!(
            redact_url("postgres://db/node?user=a&password=x&sslmode=disable"),
            "postgres://db/node?user=a&password=***&sslmode=disable"
        );
        assert_eq!(redact_url("postgres://ore@db/node"), "postgres://ore@db/node");
        assert!(url_has_password("postgresql://a:b@h/d") && !url_has_password("postgresql://a@h/d?user=a"));
        let options = PostgresOptions::new("postgres://a:hunter2@h/d", Some("hunter2".into()));
        assert!(!format!("{options:?}").contains("hunter2"));
    }
}
