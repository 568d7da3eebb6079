//! `[archive]` in `oresund.toml`: where the encrypted archive lives and where the node's Crypt4GH
//! key pair is kept.
//!
//! ```toml
//! [archive]
//! location = "archive"                 # a directory, relative to the node directory or absolute
//! secret_key = "secrets/archive.sec"   # may live elsewhere, e.g. on a separately mounted volume
//! public_key = "secrets/archive.pub"
//! ```
//!
//! The secret key is a Crypt4GH `c4gh-v1` private key file. `oresund init` protects it with
//! scrypt when `ORESUND_KEY_PASSPHRASE` is set, and otherwise writes it without a KDF, relying on
//! its mode (0600) in the 0700 `secrets/` directory. Every command that needs it reads the
//! passphrase from `ORESUND_KEY_PASSPHRASE`. Key rotation writes the next key beside the current
//! one (`<secret_key>.next`), so that directory must be writable by the node.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The `[archive]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// Directory of the object store holding headers and bodies (S3 comes with issue 7).
    pub location: String,
    /// The node's Crypt4GH private key file.
    pub secret_key: String,
    /// The node's Crypt4GH public key file (ingest encrypts to it without needing the passphrase).
    pub public_key: String,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            location: "archive".into(),
            secret_key: "secrets/archive.sec".into(),
            public_key: "secrets/archive.pub".into(),
        }
    }
}

impl ArchiveConfig {
    /// Rules the types cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.location.contains("://") {
            return Err(format!(
                "archive.location {:?}: only a local directory is supported by this version",
                self.location
            ));
        }
        for (name, value) in
            [("location", &self.location), ("secret_key", &self.secret_key), ("public_key", &self.public_key)]
        {
            if value.trim().is_empty() {
                return Err(format!("archive.{name} must not be empty"));
            }
        }
        if self.secret_key == self.public_key {
            return Err("archive.secret_key and archive.public_key must be different files".into());
        }
        Ok(())
    }

    /// The archive directory, resolved against the node directory.
    pub fn location(&self, node_dir: &Path) -> PathBuf {
        node_dir.join(&self.location)
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
        assert_eq!(config.location(Path::new("/n")), PathBuf::from("/n/archive"));
        assert!(config.validate().is_ok());
        let s3 = ArchiveConfig { location: "s3://bucket/x".into(), ..Default::default() };
        assert!(s3.validate().unwrap_err().contains("local directory"));
        let same = ArchiveConfig { public_key: "secrets/archive.sec".into(), ..Default::default() };
        assert!(same.validate().is_err());
    }
}
