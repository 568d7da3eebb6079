//! The encrypted originals of one ingest or withdrawal (VCF, individuals file, block index): all
//! under one new file key, removed again — key included — unless their catalog transaction
//! commits.

use std::io::Read;

use oresund_c4gh::PublicKey;

use crate::archive::file_keys::FileKeys;
use crate::archive::store::ObjectArchive;
use crate::archive::{self, StoredObject};
use crate::error::NodeError;
use crate::keys::KeyFiles;

/// The encrypted originals of one file version (VCF, individuals file, block index), all under
/// one new file key; removed again, key included, unless their catalog transaction commits.
pub(crate) struct Originals<'a> {
    objects: &'a ObjectArchive,
    file_keys: FileKeys,
    file_key: (String, PublicKey),
    written: Vec<StoredObject>,
}

impl<'a> Originals<'a> {
    /// A new file key, sealed to the node's public key (no passphrase needed).
    pub(crate) fn new(objects: &'a ObjectArchive, keys: &KeyFiles) -> Result<Self, NodeError> {
        let file_keys = keys.file_keys();
        let (id, secret) = file_keys.create(&keys.read_public()?)?;
        Ok(Originals { objects, file_keys, file_key: (id, secret.public_key()), written: Vec::new() })
    }

    /// Encrypts and stores `plain` (see [`archive::store_encrypted`]).
    pub(crate) fn store(&mut self, plain: impl Read) -> Result<StoredObject, NodeError> {
        let stored = archive::store_encrypted(self.objects, plain, &self.file_key.1)?;
        self.written.push(stored.clone());
        Ok(stored)
    }

    /// Removes what was written, and destroys the file key (best effort: `archive gc` finds
    /// leftovers).
    pub(crate) fn discard(self) {
        archive::discard(self.objects, &self.written.iter().collect::<Vec<_>>());
        let _ = self.file_keys.shred(&self.file_key.0);
    }
}
