//! The node's visa signing keys: the current ES256 key (`secrets/signing.jwk`, 0600 in the 0700
//! secrets directory, never served) signs the ControlledAccessGrants visas its data access
//! committee issues; the public halves of earlier keys stay in the published JWKS
//! (`/.well-known/jwks.json`) until the last visa they signed has expired
//! (`secrets/signing-retired.json`).
//!
//! Rotation writes the old public key to the retired list first, then replaces the current key
//! atomically: interrupted at any point, every visa already issued still verifies.

use std::path::Path;

use oresund_access::signing::NodeSigningKey;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::NodeError;
use crate::fsutil;
use crate::layout::Layout;
use crate::node::Node;

/// An earlier key's public JWK and until when it is published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetiredKey {
    /// Unix seconds: the expiry of the last visa it signed.
    pub until: i64,
    pub jwk: Value,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RetiredFile {
    keys: Vec<RetiredKey>,
}

/// The current signing key and the retired public keys.
pub struct SigningKeys {
    pub current: NodeSigningKey,
    pub retired: Vec<RetiredKey>,
}

impl SigningKeys {
    /// The JWKS to publish at `now`: the current key and every retired key still needed.
    pub fn jwks(&self, now: i64) -> Value {
        let mut keys = vec![self.current.public_jwk()];
        for retired in self.retired.iter().filter(|r| r.until >= now) {
            if retired.jwk["kid"] != keys[0]["kid"] {
                keys.push(retired.jwk.clone());
            }
        }
        json!({ "keys": keys })
    }
}

fn malformed(path: &Path, message: impl Into<String>) -> NodeError {
    NodeError::Config { path: path.to_path_buf(), message: message.into() }
}

fn write_key(path: &Path, key: &NodeSigningKey) -> Result<(), NodeError> {
    fsutil::write_secret(path, key.to_private_jwk().to_string().as_bytes())
}

/// Creates the node's first signing key (at `init`); returns its key id.
pub fn create(layout: &Layout) -> Result<String, NodeError> {
    let key = NodeSigningKey::generate().map_err(|e| NodeError::SigningKey(e.to_string()))?;
    write_key(&layout.signing_key(), &key)?;
    Ok(key.kid)
}

fn read_retired(path: &Path) -> Result<Vec<RetiredKey>, NodeError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<RetiredFile>(&bytes)
            .map(|f| f.keys)
            .map_err(|e| malformed(path, format!("not a retired-keys file: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(NodeError::io(path, e)),
    }
}

/// The node's signing keys; `None` for a node made before visas were signed (`oresund keys
/// rotate --signing` creates the key).
pub fn load(layout: &Layout) -> Result<Option<SigningKeys>, NodeError> {
    let path = layout.signing_key();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(NodeError::io(&path, e)),
    };
    let jwk: Value = serde_json::from_slice(&bytes).map_err(|_| malformed(&path, "not a JSON Web Key"))?;
    let current = NodeSigningKey::from_private_jwk(&jwk).map_err(|e| malformed(&path, e.to_string()))?;
    Ok(Some(SigningKeys { current, retired: read_retired(&layout.retired_signing_keys())? }))
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRotation {
    /// The retired key and until when it stays published (`None`: the node had no key).
    pub old: Option<(String, i64)>,
    pub new: String,
}

impl Node {
    /// The node's signing keys (see [`load`]).
    pub fn signing_keys(&self) -> Result<Option<SigningKeys>, NodeError> {
        load(&self.layout)
    }

    /// Makes a new current signing key. The old public key stays published until the last visa
    /// it signed expires — at least one visa lifetime from now, so a visa being issued during the
    /// rotation is covered too.
    pub fn rotate_signing_key(&self, now: i64) -> Result<SigningRotation, NodeError> {
        let new = NodeSigningKey::generate().map_err(|e| NodeError::SigningKey(e.to_string()))?;
        let old = match load(&self.layout)? {
            None => None,
            Some(keys) => {
                let lifetime = self.config.access.visa_lifetime_days as i64 * 86_400;
                let last = self.store.latest_visa_expiry(&keys.current.kid)?.unwrap_or(0);
                let until = last.max(now + lifetime);
                let mut retired: Vec<RetiredKey> = keys.retired.into_iter().filter(|r| r.until >= now).collect();
                retired.push(RetiredKey { until, jwk: keys.current.public_jwk() });
                let text = serde_json::to_string_pretty(&RetiredFile { keys: retired })
                    .map_err(|e| NodeError::SigningKey(e.to_string()))?;
                fsutil::write_secret(&self.layout.retired_signing_keys(), text.as_bytes())?;
                Some((keys.current.kid.clone(), until))
            }
        };
        fsutil::create_private_dir(&self.layout.secrets())?;
        write_key(&self.layout.signing_key(), &new)?;
        Ok(SigningRotation { old, new: new.kid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_keeps_retired_keys_until_their_time() {
        let current = NodeSigningKey::generate().unwrap();
        let old = NodeSigningKey::generate().unwrap();
        let keys = SigningKeys { current, retired: vec![RetiredKey { until: 100, jwk: old.public_jwk() }] };
        assert_eq!(keys.jwks(100)["keys"].as_array().unwrap().len(), 2);
        assert_eq!(keys.jwks(101)["keys"].as_array().unwrap().len(), 1);
        assert!(keys.jwks(0)["keys"].as_array().unwrap().iter().all(|k| k.get("d").is_none()), "no private part");
    }

    #[test]
    fn created_keys_load_back_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        fsutil::create_private_dir(&layout.secrets()).unwrap();
        assert!(load(&layout).unwrap().is_none());
        let kid = create(&layout).unwrap();
        let mode = std::fs::metadata(layout.signing_key()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&layout).unwrap().unwrap().current.kid, kid);
    }
}
