//! `[archive]` in `oresund.toml`: where the encrypted archive lives and where the node's Crypt4GH
//! key pair is kept.
//!
//! ```toml
//! [archive]
//! location = "archive"                 # a directory, relative to the node directory or absolute,
//!                                      # or s3://BUCKET[/PREFIX]?endpoint=URL (see `location.rs`)
//! secret_key = "secrets/archive.sec"   # may live elsewhere, e.g. on a separately mounted volume
//! public_key = "secrets/archive.pub"
//! # S3 only: the environment variables holding the keys (never the keys themselves), and the
//! # most HTTP connections kept open to the store.
//! access_key_id_env = "AWS_ACCESS_KEY_ID"
//! secret_access_key_env = "AWS_SECRET_ACCESS_KEY"
//! connections = 8
//! ```
//!
//! The secret key is a Crypt4GH `c4gh-v1` private key file. `oresund init` protects it with
//! scrypt when `ORESUND_KEY_PASSPHRASE` is set, and otherwise writes it without a KDF, relying on
//! its mode (0600) in the 0700 `secrets/` directory. Every command that needs it reads the
//! passphrase from `ORESUND_KEY_PASSPHRASE`. Key rotation writes the next key beside the current
//! one (`<secret_key>.next`), so that directory must be writable by the node.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::location::{ArchiveLocation, LocationError};
use crate::config_error::ConfigError;

const ACCESS_KEY_ID_ENV: &str = "AWS_ACCESS_KEY_ID";
const SECRET_ACCESS_KEY_ENV: &str = "AWS_SECRET_ACCESS_KEY";
const CONNECTIONS: usize = 8;

/// The `[archive]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// Directory or S3 bucket holding headers and bodies (see [`ArchiveLocation`]).
    pub location: String,
    /// The node's Crypt4GH private key file.
    pub secret_key: String,
    /// The node's Crypt4GH public key file (ingest encrypts to it without needing the passphrase).
    pub public_key: String,
    /// S3: environment variable holding the access key id.
    #[serde(skip_serializing_if = "is_default_access_key_id_env")]
    pub access_key_id_env: String,
    /// S3: environment variable holding the secret access key.
    #[serde(skip_serializing_if = "is_default_secret_access_key_env")]
    pub secret_access_key_env: String,
    /// S3: most idle HTTP connections kept per process.
    #[serde(skip_serializing_if = "is_default_connections")]
    pub connections: usize,
}

fn is_default_access_key_id_env(name: &str) -> bool {
    name == ACCESS_KEY_ID_ENV
}

fn is_default_secret_access_key_env(name: &str) -> bool {
    name == SECRET_ACCESS_KEY_ENV
}

fn is_default_connections(n: &usize) -> bool {
    *n == CONNECTIONS
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            location: "archive".into(),
            secret_key: "secrets/archive.sec".into(),
            public_key: "secrets/archive.pub".into(),
            access_key_id_env: ACCESS_KEY_ID_ENV.into(),
            secret_access_key_env: SECRET_ACCESS_KEY_ENV.into(),
            connections: CONNECTIONS,
        }
    }
}

impl ArchiveConfig {
    /// Rules the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ArchiveLocation::parse(&self.location, Path::new("."))?;
        if self.connections == 0 {
            return Err(ConfigError::ArchiveConnections);
        }
        for (name, value) in [
            ("location", &self.location),
            ("secret_key", &self.secret_key),
            ("public_key", &self.public_key),
            ("access_key_id_env", &self.access_key_id_env),
            ("secret_access_key_env", &self.secret_access_key_env),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::ArchiveEmpty(name));
            }
        }
        if self.secret_key == self.public_key {
            return Err(ConfigError::ArchiveSameKeyFile);
        }
        Ok(())
    }

    /// Where the objects live, a directory resolved against the node directory or a bucket.
    pub fn location(&self, node_dir: &Path) -> Result<ArchiveLocation, LocationError> {
        ArchiveLocation::parse(&self.location, node_dir)
    }

    /// The secret key file, resolved against the node directory.
    pub fn secret_key(&self, node_dir: &Path) -> PathBuf {
        node_dir.join(&self.secret_key)
    }

    /// The public key file, resolved against the node directory.
    pub fn public_key(&self, node_dir: &Path) -> PathBuf {
        node_dir.join(&self.public_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_paths_and_bad_values() {
        let config = ArchiveConfig { secret_key: "/keys/node.sec".into(), ..Default::default() };
        assert_eq!(config.secret_key(Path::new("/n")), PathBuf::from("/keys/node.sec"));
        assert_eq!(config.location(Path::new("/n")), Ok(ArchiveLocation::Local(PathBuf::from("/n/archive"))));
        assert!(config.validate().is_ok());
        let s3 = ArchiveConfig { location: "s3://bucket/x".into(), ..Default::default() };
        assert!(s3.validate().is_ok());
        let keys = ArchiveConfig { location: "s3://key:secret@bucket".into(), ..Default::default() };
        assert!(keys.validate().unwrap_err().to_string().contains("AWS_SECRET_ACCESS_KEY"));
        let same = ArchiveConfig { public_key: "secrets/archive.sec".into(), ..Default::default() };
        assert!(same.validate().is_err());
    }
}
