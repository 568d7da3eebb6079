//! File keys: the middle of the archive's key hierarchy, so that one ingested file can be made
//! unrecoverable everywhere by destroying one small key (crypto-shredding).
//!
//! ```text
//! node key (secrets/archive.sec, passphrase-sealed)      never in a data backup
//!   └─ seals each file key (secrets/file-keys/<file key id>.<node key id>.c4gh)
//!        └─ opens the Crypt4GH headers of one file version (VCF, individuals file, block index)
//!             └─ hold the data key of each body (archive/, S3)
//! ```
//!
//! * Each ingested file version gets a key pair of its own; its headers are encrypted to it, not
//!   to the node key. The secret half is kept only here, as a Crypt4GH file encrypted to the node
//!   key (so ingest seals it with the node's *public* key, without a passphrase, and Python
//!   `crypt4gh decrypt --sk archive.sec` opens it: the plaintext is a `c4gh-v1` PEM key file).
//! * Shredding deletes a file key's sealed copies and syncs the directory. A backup of the archive
//!   (object versions included) and of the catalog then holds headers nobody can open — not even
//!   with the node key, which never sealed the data key itself. A backup must therefore never
//!   contain `secrets/` (README: "Keys and backups").
//! * `keys rotate` re-seals every file key to the next node key (headers and bodies untouched);
//!   the node key id in the name tells which node key a copy is sealed to, so a rotation
//!   interrupted at any moment leaves a copy the ring can open.

use std::path::{Path, PathBuf};

use oresund_c4gh::keys::{read_secret_key_pem, write_secret_key_pem};
use oresund_c4gh::{PublicKey, SecretKey, decrypt, encrypt};
use zeroize::Zeroizing;

use crate::archive::error::ArchiveError;
use crate::fsutil;
use crate::key_id::key_id;

/// Suffix of a sealed file key.
const SEALED: &str = ".c4gh";

/// The directory of sealed file keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKeys {
    dir: PathBuf,
}

impl FileKeys {
    /// File keys kept in `dir` (created on first use, mode 0700).
    pub fn new(dir: PathBuf) -> Self {
        FileKeys { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sealed_path(&self, file_key: &str, node_key: &str) -> PathBuf {
        self.dir.join(format!("{file_key}.{node_key}{SEALED}"))
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
        move |error| ArchiveError::Io { path: path.to_path_buf(), error }
    }

    /// A new file key, sealed to `node_key` before it is returned (a key whose secret half was
    /// not kept must never encrypt anything). Returns its id and the key.
    pub fn create(&self, node_key: &PublicKey) -> Result<(String, SecretKey), ArchiveError> {
        let secret =
            SecretKey::generate().map_err(|source| ArchiveError::KeyFile { path: self.dir.clone(), source })?;
        let id = key_id(&secret.public_key());
        self.seal(&id, &secret, node_key)?;
        Ok((id, secret))
    }

    /// Writes the copy of `secret` sealed to `node_key` (atomically, mode 0600).
    pub fn seal(&self, id: &str, secret: &SecretKey, node_key: &PublicKey) -> Result<(), ArchiveError> {
        fsutil::create_private_dir(&self.dir).map_err(|e| ArchiveError::Invalid(e.to_string()))?;
        let path = self.sealed_path(id, &key_id(node_key));
        let key_error = |source| ArchiveError::KeyFile { path: path.clone(), source };
        let pem = Zeroizing::new(write_secret_key_pem(secret, None, None).map_err(key_error)?);
        // An ephemeral writer key, as for archive headers: the sealed file names no sender.
        let writer = SecretKey::generate().map_err(key_error)?;
        let mut sealed = Vec::with_capacity(pem.len() + 256);
        encrypt(pem.as_bytes(), &mut sealed, &[*node_key], &writer, None, 1).map_err(key_error)?;
        fsutil::write_secret(&path, &sealed).map_err(|e| ArchiveError::Invalid(e.to_string()))
    }

    /// Opens file key `id` with whichever of `node_keys` (id, secret) a copy is sealed to.
    /// `Ok(None)`: no copy sealed to any of them (shredded, or never kept here).
    pub fn open<'a>(
        &self,
        id: &str,
        node_keys: impl IntoIterator<Item = (&'a str, &'a SecretKey)>,
    ) -> Result<Option<SecretKey>, ArchiveError> {
        for (node_id, node_secret) in node_keys {
            let path = self.sealed_path(id, node_id);
            let sealed = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(ArchiveError::Io { path, error }),
            };
            let key_error = |source| ArchiveError::KeyFile { path: path.clone(), source };
            let mut pem = Zeroizing::new(Vec::new());
            decrypt(&sealed[..], &mut *pem, node_secret, 1).map_err(key_error)?;
            let text = std::str::from_utf8(&pem)
                .map_err(|_| ArchiveError::Invalid(format!("{}: not a sealed key file", path.display())))?;
            let secret = read_secret_key_pem(text, None).map_err(key_error)?;
            if key_id(&secret.public_key()) != id {
                return Err(ArchiveError::Invalid(format!("{}: holds another key than its name says", path.display())));
            }
            return Ok(Some(secret));
        }
        Ok(None)
    }

    /// Every file key id with a sealed copy here, and the node key ids it is sealed to.
    pub fn list(&self) -> Result<Vec<(String, String)>, ArchiveError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(ArchiveError::Io { path: self.dir.clone(), error }),
        };
        let mut out = Vec::new();
        for entry in entries {
            let name = entry.map_err(Self::io(&self.dir))?.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(SEALED)) else { continue };
            if let Some((file_key, node_key)) = stem.split_once('.') {
                out.push((file_key.to_string(), node_key.to_string()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Whether file key `id` still has a sealed copy.
    pub fn exists(&self, id: &str) -> Result<bool, ArchiveError> {
        Ok(self.list()?.iter().any(|(file_key, _)| file_key == id))
    }

    /// Removes the copy of `id` sealed to `node_key` (after a rotation sealed it anew).
    pub fn remove_copy(&self, id: &str, node_key: &str) -> Result<(), ArchiveError> {
        let path = self.sealed_path(id, node_key);
        match std::fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(ArchiveError::Io { path, error }),
        }
    }

    /// Destroys file key `id`: every sealed copy, then the directory entry made durable. Whatever
    /// its headers were copied to can no longer be opened. Shredding a key that is gone is fine.
    pub fn shred(&self, id: &str) -> Result<(), ArchiveError> {
        for (file_key, node_key) in self.list()? {
            if file_key == id {
                self.remove_copy(&file_key, &node_key)?;
            }
        }
        // A copy a killed write left under its temporary name (`.<id>.<node key>.c4gh.tmp`).
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(ArchiveError::Io { path: self.dir.clone(), error }),
        };
        let prefix = format!(".{id}.");
        for entry in entries {
            let entry = entry.map_err(Self::io(&self.dir))?;
            if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(Self::io(&path))?;
                sync_dir(&self.dir)?;
            }
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|error| ArchiveError::Io { path: dir.into(), error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_opened_resealed_and_shredded() {
        let dir = tempfile::tempdir().unwrap();
        let keys = FileKeys::new(dir.path().join("file-keys"));
        let node = SecretKey::generate().unwrap();
        let node_id = key_id(&node.public_key());
        let (id, created) = keys.create(&node.public_key()).unwrap();
        let opened = keys.open(&id, [(node_id.as_str(), &node)]).unwrap().unwrap();
        assert_eq!(opened.public_key(), created.public_key());
        // A copy a killed write left under its temporary name goes with the key.
        std::fs::write(keys.dir().join(format!(".{id}.{node_id}.c4gh.tmp")), b"x").unwrap();
        // Another node key opens nothing.
        let other = SecretKey::generate().unwrap();
        let other_id = key_id(&other.public_key());
        assert!(keys.open(&id, [(other_id.as_str(), &other)]).unwrap().is_none());
        // Re-sealed to the next node key, then the old copy removed: only the next key opens it.
        keys.seal(&id, &opened, &other.public_key()).unwrap();
        keys.remove_copy(&id, &node_id).unwrap();
        assert!(keys.open(&id, [(node_id.as_str(), &node)]).unwrap().is_none());
        assert!(keys.open(&id, [(other_id.as_str(), &other)]).unwrap().is_some());
        assert_eq!(keys.list().unwrap(), [(id.clone(), other_id.clone())]);
        keys.shred(&id).unwrap();
        assert!(!keys.exists(&id).unwrap());
        assert_eq!(std::fs::read_dir(keys.dir()).unwrap().count(), 0, "nothing of the key is left");
        assert!(keys.open(&id, [(other_id.as_str(), &other)]).unwrap().is_none());
        keys.shred(&id).unwrap();
    }
}
