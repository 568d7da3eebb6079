//! The node's Crypt4GH key pair: the archive's headers are encrypted to it.
//!
//! * Ingest encrypts to the **public** key file only, so it never needs the passphrase.
//! * Verify (plaintext checks), export and key rotation need the **secret** key; its passphrase
//!   comes from `ORESUND_KEY_PASSPHRASE` (prompting, if any, is the CLI's business).
//! * Key files are Python-`crypt4gh`-compatible PEM (`c4gh-v1`): with a passphrase the secret key
//!   is sealed with scrypt + ChaCha20-Poly1305, without one it is stored in clear and protected by
//!   its 0600 mode in the 0700 `secrets/` directory.
//! * A key is known by its id, the first 16 hex digits of SHA-256 of the public key; the catalog
//!   records, per object, which key its header is encrypted to.
//! * During a rotation the next key waits beside the current one as `<file>.next`; a [`KeyRing`]
//!   holds both, so every header stays readable whatever moment a rotation was interrupted at.

use std::path::{Path, PathBuf};

use oresund_c4gh::keys::{read_public_key_pem, read_secret_key_pem, write_public_key_pem, write_secret_key_pem};
use oresund_c4gh::{PublicKey, SecretKey};
use zeroize::Zeroizing;

use crate::archive::config::ArchiveConfig;
use crate::archive::error::ArchiveError;
use crate::archive::file_keys::FileKeys;
use crate::fsutil;

pub use crate::passphrase::{PASSPHRASE_ENV, passphrase_from_env};

/// Suffix of the key files of a rotation in progress.
const PENDING_SUFFIX: &str = ".next";

pub use crate::key_id::key_id;

/// Where a key pair is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    pub secret: PathBuf,
    pub public: PathBuf,
}

impl KeyFiles {
    /// The node's key files as configured in `[archive]`.
    pub fn of(node_dir: &Path, config: &ArchiveConfig) -> Self {
        KeyFiles { secret: config.secret_key(node_dir), public: config.public_key(node_dir) }
    }

    /// Where the next key waits during a rotation.
    pub fn pending(&self) -> Self {
        let next = |p: &Path| {
            let mut name = p.as_os_str().to_owned();
            name.push(PENDING_SUFFIX);
            PathBuf::from(name)
        };
        KeyFiles { secret: next(&self.secret), public: next(&self.public) }
    }

    /// The store of file keys beside the secret key (`archive/file_keys.rs`).
    pub fn file_keys(&self) -> FileKeys {
        let dir = self.secret.parent().unwrap_or(Path::new("."));
        FileKeys::new(dir.join("file-keys"))
    }

    pub fn secret_exists(&self) -> bool {
        self.secret.exists()
    }

    /// Reads the public key (no passphrase needed).
    pub fn read_public(&self) -> Result<PublicKey, ArchiveError> {
        let text = std::fs::read_to_string(&self.public).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => ArchiveError::KeyMissing(self.public.clone()),
            _ => ArchiveError::Io { path: self.public.clone(), error },
        })?;
        read_public_key_pem(&text).map_err(|source| ArchiveError::KeyFile { path: self.public.clone(), source })
    }

    /// Reads and unlocks the secret key.
    pub fn read_secret(&self, passphrase: Option<&[u8]>) -> Result<SecretKey, ArchiveError> {
        let text = Zeroizing::new(std::fs::read_to_string(&self.secret).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => ArchiveError::KeyMissing(self.secret.clone()),
            _ => ArchiveError::Io { path: self.secret.clone(), error },
        })?);
        read_secret_key_pem(&text, passphrase).map_err(|source| match source {
            oresund_c4gh::Error::PassphraseRequired => ArchiveError::PassphraseRequired(self.secret.clone()),
            oresund_c4gh::Error::WrongPassphrase => ArchiveError::WrongPassphrase(self.secret.clone()),
            source => ArchiveError::KeyFile { path: self.secret.clone(), source },
        })
    }

    /// Writes both files atomically (secret first, mode 0600), sealing the secret key with
    /// `passphrase` (scrypt) when one is given.
    pub fn write(&self, secret: &SecretKey, passphrase: Option<&[u8]>) -> Result<(), ArchiveError> {
        let pem = write_secret_key_pem(secret, passphrase, None)
            .map_err(|source| ArchiveError::KeyFile { path: self.secret.clone(), source })?;
        write_file(&self.secret, pem.as_bytes(), true)?;
        write_file(&self.public, write_public_key_pem(&secret.public_key()).as_bytes(), false)
    }

    /// Moves these files onto `target`'s names, public key first: ingest encrypts to the public
    /// file, so it must never name a key whose secret half is gone.
    pub fn promote_to(&self, target: &KeyFiles) -> Result<(), ArchiveError> {
        for (from, to) in [(&self.public, &target.public), (&self.secret, &target.secret)] {
            if from.exists() {
                std::fs::rename(from, to).map_err(|error| ArchiveError::Io { path: to.clone(), error })?;
                sync_parent(to)?;
            }
        }
        Ok(())
    }

    /// Removes both files (a missing file is fine).
    pub fn remove(&self) -> Result<(), ArchiveError> {
        for path in [&self.secret, &self.public] {
            match std::fs::remove_file(path) {
                Ok(()) => sync_parent(path)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(ArchiveError::Io { path: path.clone(), error }),
            }
        }
        Ok(())
    }
}

fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), ArchiveError> {
    let written = if secret { fsutil::write_secret(path, bytes) } else { fsutil::write_atomic(path, bytes) };
    written.map_err(|e| match e {
        crate::NodeError::Io { path, error } => ArchiveError::Io { path, error },
        other => ArchiveError::Invalid(other.to_string()),
    })
}

fn sync_parent(path: &Path) -> Result<(), ArchiveError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|error| ArchiveError::Io { path: dir.into(), error })
}

/// Creates the node's key pair (at `init`), sealed with `passphrase` if given. Returns its id.
pub fn create_node_key(files: &KeyFiles, passphrase: Option<&[u8]>) -> Result<String, ArchiveError> {
    let secret =
        SecretKey::generate().map_err(|source| ArchiveError::KeyFile { path: files.secret.clone(), source })?;
    if let Some(dir) = files.secret.parent() {
        std::fs::create_dir_all(dir).map_err(|error| ArchiveError::Io { path: dir.into(), error })?;
    }
    files.write(&secret, passphrase)?;
    Ok(key_id(&secret.public_key()))
}

/// The node's secret keys: the current one and, during a rotation, the next one; through them, the
/// file keys they seal.
pub struct KeyRing {
    keys: Vec<(String, SecretKey)>,
    file_keys: FileKeys,
}

impl KeyRing {
    /// Loads the current key and the pending one, if a rotation left one. Both are unlocked with
    /// the same passphrase.
    pub fn load(files: &KeyFiles, passphrase: Option<&[u8]>) -> Result<Self, ArchiveError> {
        let mut keys = Vec::with_capacity(2);
        let pending = files.pending();
        for (candidate, required) in [(files, true), (&pending, false)] {
            if !required && !candidate.secret_exists() {
                continue;
            }
            let secret = candidate.read_secret(passphrase)?;
            keys.push((key_id(&secret.public_key()), secret));
        }
        Ok(KeyRing { keys, file_keys: files.file_keys() })
    }

    /// The secret key with this id.
    pub fn get(&self, key_id: &str) -> Option<&SecretKey> {
        self.keys.iter().find(|(id, _)| id == key_id).map(|(_, k)| k)
    }

    /// The secret key an object's header is encrypted to: its file key, unsealed with a node key,
    /// or (for objects archived before file keys) a node key itself.
    pub fn for_object(&self, accession: &str, key_id: &str) -> Result<SecretKey, ArchiveError> {
        if let Some(node_key) = self.get(key_id) {
            return Ok(node_key.clone());
        }
        let node_keys = self.keys.iter().map(|(id, key)| (id.as_str(), key));
        self.file_keys
            .open(key_id, node_keys)?
            .ok_or_else(|| ArchiveError::UnknownKey { accession: accession.to_string(), key_id: key_id.to_string() })
    }

    /// The store of the file keys this ring opens.
    pub fn file_keys(&self) -> &FileKeys {
        &self.file_keys
    }

    /// Whether `key_id` is one of the ring's node keys (not a file key).
    pub fn is_node_key(&self, key_id: &str) -> bool {
        self.get(key_id).is_some()
    }

    /// Ids of the keys held, current first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn files(dir: &Path) -> KeyFiles {
        KeyFiles { secret: dir.join("archive.sec"), public: dir.join("archive.pub") }
    }

    #[test]
    fn keys_with_and_without_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let id = create_node_key(&files, Some(b"pw")).unwrap();
        assert_eq!(std::fs::metadata(&files.secret).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(key_id(&files.read_public().unwrap()), id);
        assert!(matches!(KeyRing::load(&files, None), Err(ArchiveError::PassphraseRequired(_))));
        assert!(matches!(KeyRing::load(&files, Some(b"no")), Err(ArchiveError::WrongPassphrase(_))));
        let ring = KeyRing::load(&files, Some(b"pw")).unwrap();
        assert!(ring.get(&id).is_some());
        assert!(matches!(ring.for_object("A", "ffff"), Err(ArchiveError::UnknownKey { .. })));

        // A pending key joins the ring and can be promoted.
        let next_id = create_node_key(&files.pending(), None).unwrap();
        let ring = KeyRing::load(&files, Some(b"pw")).unwrap();
        assert_eq!(ring.ids().collect::<Vec<_>>(), [id.as_str(), next_id.as_str()]);
        files.pending().promote_to(&files).unwrap();
        assert!(!files.pending().secret_exists());
        assert_eq!(KeyRing::load(&files, None).unwrap().ids().collect::<Vec<_>>(), [next_id.as_str()]);
        assert!(matches!(files.pending().read_public(), Err(ArchiveError::KeyMissing(_))));
    }
}
