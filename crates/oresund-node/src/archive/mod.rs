//! The node's encrypted archive: every ingested original (the VCF and the individuals file, which
//! holds local ids) kept as a Crypt4GH file encrypted to the node key, the header and the body as
//! separate objects, as the Nordic sensitive-data archives do.
//!
//! * **Bodies** (Crypt4GH spec §3.4: 64 KiB segments under a random data key) are written once
//!   and never change: granting a reader access, or rotating the node key, rewrites only a header
//!   of a few hundred bytes (§3.2, §3.3).
//! * **Headers** (§3.2) are encrypted to the node's public key by an ephemeral writer key, so
//!   ingest needs no passphrase.
//! * **Names** are opaque: `ab/ab12…ef.body` and `ab/ab12…ef.<key id>.header`, a random object id
//!   sharded by its first two digits. The catalog maps accessions to them; an object written by an
//!   ingest that never committed is referenced by nothing, invisible to `list`/`verify`/`export`,
//!   and removed by [`Node::archive_gc`].
//! * **Checksums**: SHA-256 and size of the plaintext and of the body, taken while encrypting.

pub(crate) mod bcf;
pub(crate) mod block_writer;
pub mod checksum;
pub mod config;
pub mod error;
pub mod export;
pub mod file_keys;
pub mod gc;
pub mod index;
pub mod ingest;
pub mod location;
pub(crate) mod originals;
mod part_pool;
pub mod rotate;
pub mod s3;
pub mod store;
pub mod verify;

use std::io::Read;

use oresund_c4gh::{DataKey, DecryptedHeader, Header, PublicKey, SecretKey, encrypt_body};
use oresund_store::ArchiveObject;

use crate::archive::checksum::{HashingReader, HashingWriter};
use crate::archive::error::ArchiveError;
use crate::archive::store::ObjectArchive;
use crate::keys::{KeyFiles, KeyRing, key_id};
use crate::node::Node;

/// Accession suffix of an ingest's individuals file (`DK-NGC-F000001-M`).
pub const INDIVIDUALS_SUFFIX: &str = "-M";
/// Accession suffix of a VCF's block index (`DK-NGC-F000001-I`).
pub const INDEX_SUFFIX: &str = "-I";

/// The body object of an object id.
pub fn body_path(object_id: &str) -> String {
    format!("{}/{object_id}.body", &object_id[..2])
}

/// The header object of an object id, encrypted to node key `key_id`.
pub fn header_path(object_id: &str, key_id: &str) -> String {
    format!("{}/{object_id}.{key_id}.header", &object_id[..2])
}

/// A fresh random object id (128 bits, hex).
pub fn new_object_id() -> Result<String, ArchiveError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ArchiveError::Invalid(format!("no randomness available: {e}")))?;
    Ok(oresund_core::hex::encode(&bytes))
}

/// An encrypted object just written, not yet in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub plaintext_sha256: String,
    pub plaintext_size: u64,
    pub body_sha256: String,
    pub body_size: u64,
    pub header_path: String,
    pub body_path: String,
    pub key_id: String,
}

impl StoredObject {
    /// The catalog record of this object.
    pub fn record(
        &self,
        accession: String,
        file: oresund_store::FileNumber,
        kind: oresund_store::ArchiveKind,
        name: String,
    ) -> ArchiveObject {
        ArchiveObject {
            accession,
            file,
            kind,
            name,
            plaintext_sha256: self.plaintext_sha256.clone(),
            plaintext_size: self.plaintext_size,
            body_sha256: self.body_sha256.clone(),
            body_size: self.body_size,
            header_path: self.header_path.clone(),
            body_path: self.body_path.clone(),
            key_id: self.key_id.clone(),
            created: String::new(),
            version: 1,
        }
    }

    /// Paths of its objects (to remove them when the ingest that wrote them fails).
    pub fn paths(&self) -> [&str; 2] {
        [&self.header_path, &self.body_path]
    }
}

/// Encrypts `plain` to `recipient` and stores header and body apart, hashing both sides on the way
/// (one pass, constant memory; the body is encrypted on all cores).
pub fn store_encrypted(
    objects: &ObjectArchive,
    plain: impl Read,
    recipient: &PublicKey,
) -> Result<StoredObject, ArchiveError> {
    let object_id = new_object_id()?;
    let key_id = key_id(recipient);
    let (header_path, body_path) = (header_path(&object_id, &key_id), body_path(&object_id));
    let c4gh = |source| ArchiveError::Crypt4gh { accession: body_path.clone(), source };
    let data_key = DataKey::generate().map_err(c4gh)?;
    // An ephemeral writer key (§3.3.1): the header reveals nothing about who wrote it.
    let writer = SecretKey::generate().map_err(c4gh)?;
    let header = Header::encrypt(&DecryptedHeader::new(data_key.clone()), &writer, &[*recipient]).map_err(c4gh)?;

    let mut plain = HashingReader::new(plain);
    let mut body = HashingWriter::new(objects.writer(&body_path)?);
    encrypt_body(&mut plain, &mut body, &data_key, 0).map_err(|e| match e {
        oresund_c4gh::Error::Io(error) => ArchiveError::ObjectIo { path: body_path.clone(), error },
        other => c4gh(other),
    })?;
    let (upload, (body_sha256, body_size)) = body.finish();
    upload.finish()?;
    let (plaintext_sha256, plaintext_size) = plain.finish();
    if let Err(e) = objects.put_new(&header_path, header) {
        let _ = objects.delete(&body_path);
        return Err(e);
    }
    Ok(StoredObject { plaintext_sha256, plaintext_size, body_sha256, body_size, header_path, body_path, key_id })
}

/// Removes objects written for an ingest that failed (best effort: `archive gc` finds leftovers).
pub fn discard(objects: &ObjectArchive, stored: &[&StoredObject]) {
    for path in stored.iter().flat_map(|s| s.paths()) {
        let _ = objects.delete(path);
    }
}

impl Node {
    /// The archive's object store.
    pub fn archive(&self) -> Result<ObjectArchive, ArchiveError> {
        crate::backend::open_archive(self.layout.root(), &self.config.archive)
    }

    /// Where the node's key pair is kept.
    pub fn key_files(&self) -> KeyFiles {
        KeyFiles::of(self.layout.root(), &self.config.archive)
    }

    /// The node's secret keys, unlocked with `passphrase` (see [`crate::keys::passphrase_from_env`]).
    pub fn load_keys(&self, passphrase: Option<&[u8]>) -> Result<KeyRing, ArchiveError> {
        KeyRing::load(&self.key_files(), passphrase)
    }

    /// Every archived object of a committed ingest, by accession.
    pub fn archive_objects(&self) -> Result<Vec<ArchiveObject>, crate::NodeError> {
        Ok(self.store.archive_objects()?)
    }

    /// One archived object by accession.
    pub fn archive_object(&self, accession: &str) -> Result<ArchiveObject, crate::NodeError> {
        self.store.archive_object(accession)?.ok_or_else(|| ArchiveError::NotFound(accession.to_string()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oresund_c4gh::{KeyPair, decrypt};

    #[test]
    fn stored_objects_decrypt_and_checksums_match() {
        let dir = tempfile::tempdir().unwrap();
        let objects = ObjectArchive::open_local(dir.path()).unwrap();
        let node_key = KeyPair::generate().unwrap();
        let plain: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
        let stored = store_encrypted(&objects, &plain[..], &node_key.public).unwrap();
        assert_eq!(stored.plaintext_size, 300_000);
        assert_eq!(stored.body_size, oresund_c4gh::body::ciphertext_len(300_000));
        assert!(stored.header_path.ends_with(&format!(".{}.header", key_id(&node_key.public))));
        let mut file = objects.get(&stored.header_path).unwrap();
        file.extend(objects.get(&stored.body_path).unwrap());
        let mut back = Vec::new();
        decrypt(&file[..], &mut back, &node_key.secret, 1).unwrap();
        assert!(back == plain);
        let sha = oresund_core::hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&plain));
        assert_eq!(stored.plaintext_sha256, sha);
    }
}
