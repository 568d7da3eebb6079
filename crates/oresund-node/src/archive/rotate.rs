//! `keys rotate`: a new node key. The node key seals the file keys (`file_keys.rs`), which open
//! the headers; so a rotation seals every file key anew and touches no archive object. Objects
//! archived before file keys had headers encrypted to the node key itself: those headers are
//! re-encrypted, each file's to a new file key of its own (Crypt4GH spec §2.4: a header is
//! re-addressed without changing the body), so after one rotation every file can be shredded.
//!
//! Crash safety — a kill at any moment leaves every object readable by the node:
//!
//! 1. the next key is written beside the current one (`archive.sec.next`, `archive.pub.next`);
//!    from then on a [`KeyRing`] holds both;
//! 2. every file key gets a copy sealed to the next key; each old-style header is re-encrypted to
//!    a new file key under a **new** object name (the old header stays where the catalog points);
//! 3. one catalog transaction switches every object to its new header and key id;
//! 4. the next key's files are renamed over the current ones, public key first (ingest encrypts
//!    to the public file, so it never names a key whose secret half is gone);
//! 5. the old headers, and the file keys' copies sealed to the old key, are deleted.
//!
//! Interrupted before 3, the catalog still names the old headers and the old key; after it, the
//! new ones, and the next key is in the ring until 4 completes. Running `keys rotate` again
//! resumes with the same next key and finishes the job (it also re-encrypts any header an ingest
//! added to the old key in between). Old headers left by an interruption are removed by
//! `archive gc`. The ingest lock is held throughout, so no ingest adds objects meanwhile.

use std::collections::{BTreeSet, HashMap};

use oresund_c4gh::{Header, SecretKey, reencrypt_header};
use oresund_store::{FileNumber, HeaderSwitch};

use crate::NodeError;
use crate::archive::error::ArchiveError;
use crate::archive::header_path;
use crate::keys::{self, KeyRing, key_id};
use crate::node::Node;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSummary {
    /// The key rotated away from (`None` when the node had no key yet and one was created).
    pub old_key: Option<String>,
    pub new_key: String,
    /// Headers re-encrypted (those of objects archived before file keys: each file's now to a
    /// file key of its own).
    pub headers: usize,
    /// File keys sealed anew to the new node key.
    pub file_keys: usize,
}

/// The object id in an object path (`ab/<id>.body`, `ab/<id>.<key>.header`).
fn object_id(path: &str) -> Option<&str> {
    path.rsplit('/').next()?.split('.').next().filter(|id| id.len() >= 2)
}

impl Node {
    /// Rotates the node key (see the module documentation). `passphrase` unlocks the current
    /// key, and seals the new one if given.
    pub fn rotate_keys(&self, passphrase: Option<&[u8]>) -> Result<RotationSummary, NodeError> {
        let _writer = self.lock_writers()?;
        let files = self.key_files();
        let pending = files.pending();
        if !files.secret_exists() {
            // A node made before the archive existed: nothing is encrypted yet, so create a key.
            if !self.store.archive_objects()?.is_empty() {
                return Err(ArchiveError::KeyMissing(files.secret.clone()).into());
            }
            let new_key = keys::create_node_key(&files, passphrase)?;
            return Ok(RotationSummary { old_key: None, new_key, headers: 0, file_keys: 0 });
        }
        let current = files.read_secret(passphrase)?;
        let old_key = key_id(&current.public_key());
        // Resume an interrupted rotation with its key, or start one.
        let next = if pending.secret_exists() {
            pending.read_secret(passphrase)?
        } else {
            let next = SecretKey::generate()
                .map_err(|source| ArchiveError::KeyFile { path: pending.secret.clone(), source })?;
            pending.write(&next, passphrase)?;
            next
        };
        let new_key = key_id(&next.public_key());
        let ring = KeyRing::load(&files, passphrase)?;
        let objects = self.archive()?;
        let file_keys = ring.file_keys();

        // Objects archived before file keys have headers encrypted to a node key: each file's
        // headers move to a file key of its own, sealed to the next node key.
        let mut new_file_keys: HashMap<FileNumber, (String, SecretKey)> = HashMap::new();
        let mut switches = Vec::new();
        let mut resealed = BTreeSet::new();
        for object in self.store.archive_objects()? {
            if !ring.is_node_key(&object.key_id) {
                // A file key: sealed anew to the next node key (its headers stay as they are).
                if resealed.insert(object.key_id.clone()) {
                    let secret = ring.for_object(&object.accession, &object.key_id)?;
                    file_keys.seal(&object.key_id, &secret, &next.public_key())?;
                }
                continue;
            }
            let (to_key_id, to_key) = match new_file_keys.get(&object.file) {
                Some(found) => found.clone(),
                None => {
                    let created = file_keys.create(&next.public_key())?;
                    new_file_keys.insert(object.file, created.clone());
                    created
                }
            };
            let secret = ring.for_object(&object.accession, &object.key_id)?;
            let c4gh = ArchiveError::c4gh(&object.accession);
            let old = objects.get(&object.header_path)?;
            let writer = SecretKey::generate().map_err(&c4gh)?;
            let header = reencrypt_header(&old, &secret, &[to_key.public_key()], &writer, true).map_err(c4gh)?;
            // Never switch to a header its file key cannot open.
            Header::decrypt(&header, &to_key).map_err(ArchiveError::c4gh(&object.accession))?;
            let id = object_id(&object.body_path).ok_or_else(|| {
                ArchiveError::Invalid(format!("{}: unexpected object path {}", object.accession, object.body_path))
            })?;
            let to = header_path(id, &to_key_id);
            // A leftover of an interrupted run is unreferenced: replace it.
            objects.delete(&to)?;
            objects.put_new(&to, header)?;
            switches.push(HeaderSwitch {
                accession: object.accession,
                from_header_path: object.header_path,
                to_header_path: to,
                to_key_id,
            });
        }
        self.store.switch_archive_headers(&switches)?;
        // Rewrite the next public key from its secret (an interruption may have lost it), then
        // promote the pair.
        pending.write(&next, passphrase)?;
        pending.promote_to(&files)?;
        for switch in &switches {
            objects.delete(&switch.from_header_path)?;
        }
        // Copies sealed to the retired key go; so do copies a rotation interrupted earlier left.
        for (file_key, node_key) in file_keys.list()? {
            if node_key != new_key {
                file_keys.remove_copy(&file_key, &node_key)?;
            }
        }
        Ok(RotationSummary { old_key: Some(old_key), new_key, headers: switches.len(), file_keys: resealed.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::object_id;

    #[test]
    fn object_ids_from_paths() {
        assert_eq!(object_id("ab/abcd.body"), Some("abcd"));
        assert_eq!(object_id("ab/abcd.0123.header"), Some("abcd"));
        assert_eq!(object_id("x"), None);
    }
}
