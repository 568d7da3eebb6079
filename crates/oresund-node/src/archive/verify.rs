//! `archive verify`: re-read every stored body and check it against the catalog's checksums; with
//! the node key, also decrypt it (every segment's MAC, Crypt4GH spec §4.1) and check the
//! plaintext's SHA-256. Problems are collected per accession, never fatal to the run. Versions a
//! withdrawal or removal shredded are listed apart: their key must be gone, their objects too.

use std::io::{self, Read};

use oresund_c4gh::{DecryptedHeader, Header, decrypt_body};
use oresund_store::{ArchiveKind, ArchiveObject, ShreddedObject};

use crate::archive::checksum::{HashingReader, HashingWriter};
use crate::archive::error::ArchiveError;
use crate::archive::store::ObjectArchive;
use crate::keys::KeyRing;
use crate::node::Node;

/// The outcome for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCheck {
    pub accession: String,
    pub kind: ArchiveKind,
    /// Empty when the object is intact.
    pub problems: Vec<String>,
    /// Whether the plaintext was decrypted and checked (needs the node key).
    pub plaintext_checked: bool,
}

/// An old version a withdrawal or removal shredded: reported as such, not as damage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShreddedCheck {
    pub version: ShreddedObject,
    /// Whether its file key is destroyed (false: an interrupted run; run it again, or `archive gc`).
    pub key_destroyed: bool,
    /// Archived before file keys, its header was encrypted to the node key itself: unreadable in
    /// old backups only once `keys rotate` has retired that key.
    pub sealed_to_node_key: bool,
    /// Whether its objects are gone from the archive.
    pub objects_deleted: bool,
}

/// The outcome of a whole verify run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    pub objects: Vec<ObjectCheck>,
    pub shredded: Vec<ShreddedCheck>,
}

impl VerifyReport {
    /// The objects with problems.
    pub fn corrupt(&self) -> impl Iterator<Item = &ObjectCheck> {
        self.objects.iter().filter(|o| !o.problems.is_empty())
    }
}

impl Node {
    /// Verifies every archived object. Without `keys` only the encrypted bodies are checked.
    /// `progress` is called before each object.
    pub fn verify_archive(
        &self,
        keys: Option<&KeyRing>,
        mut progress: impl FnMut(&ArchiveObject),
    ) -> Result<VerifyReport, crate::NodeError> {
        let objects = self.archive()?;
        let mut report = VerifyReport::default();
        for object in self.store.archive_objects()? {
            progress(&object);
            report.objects.push(check(&objects, &object, keys));
        }
        let file_keys = self.key_files().file_keys();
        let node_key = crate::keys::key_id(&self.key_files().read_public()?);
        for version in self.store.shredded_objects()? {
            let sealed_to_node_key = version.key_id == node_key;
            let key_destroyed = !sealed_to_node_key && !file_keys.exists(&version.key_id)?;
            let objects_deleted =
                objects.size(&version.header_path)?.is_none() && objects.size(&version.body_path)?.is_none();
            report.shredded.push(ShreddedCheck { version, key_destroyed, sealed_to_node_key, objects_deleted });
        }
        Ok(report)
    }
}

fn check(objects: &ObjectArchive, object: &ArchiveObject, keys: Option<&KeyRing>) -> ObjectCheck {
    let mut problems = Vec::new();
    let header = open_header(objects, object, keys).unwrap_or_else(|problem| {
        problems.push(problem);
        None
    });
    let plaintext_checked = header.is_some();
    match objects.reader(&object.body_path, None) {
        Ok(body) => check_body(object, body, header.as_ref(), &mut problems),
        Err(ArchiveError::Missing(path)) => problems.push(format!("body object {path} is missing")),
        Err(e) => problems.push(format!("body: {e}")),
    }
    ObjectCheck { accession: object.accession.clone(), kind: object.kind, problems, plaintext_checked }
}

/// The decrypted header, `None` without keys; `Err` describes a problem with it.
fn open_header(
    objects: &ObjectArchive,
    object: &ArchiveObject,
    keys: Option<&KeyRing>,
) -> Result<Option<DecryptedHeader>, String> {
    let bytes = match objects.get(&object.header_path) {
        Ok(bytes) => bytes,
        Err(ArchiveError::ObjectStore { source, .. }) if matches!(*source, object_store::Error::NotFound { .. }) => {
            return Err(format!("header object {} is missing", object.header_path));
        }
        Err(e) => return Err(format!("header: {e}")),
    };
    let header = Header::parse(&bytes).map_err(|e| format!("header: {e}"))?;
    let Some(keys) = keys else { return Ok(None) };
    let secret = keys.for_object(&object.accession, &object.key_id).map_err(|e| e.to_string())?;
    header
        .decrypt_for(&secret)
        .map(Some)
        .map_err(|e| format!("header does not open with node key {}: {e}", object.key_id))
}

fn check_body(object: &ArchiveObject, body: impl Read, header: Option<&DecryptedHeader>, problems: &mut Vec<String>) {
    let mut body = HashingReader::new(body);
    let mut plaintext = HashingWriter::new(io::sink());
    if let Some(Err(e)) = header.map(|header| decrypt_body(&mut body, &mut plaintext, header, 0)) {
        problems.push(format!("body does not decrypt: {e}"));
    }
    // Hash whatever decryption did not read (all of it without a key, the rest after an error).
    if let Err(e) = io::copy(&mut body, &mut io::sink()) {
        problems.push(format!("body: {e}"));
        return;
    }
    let (sha256, size) = body.finish();
    if (sha256.as_str(), size) != (object.body_sha256.as_str(), object.body_size) {
        problems.push(format!(
            "body SHA-256 {sha256} ({size} bytes) differs from the recorded {} ({} bytes)",
            object.body_sha256, object.body_size
        ));
    }
    if header.is_some() && problems.is_empty() {
        let (_, (sha256, size)) = plaintext.finish();
        if (sha256.as_str(), size) != (object.plaintext_sha256.as_str(), object.plaintext_size) {
            problems.push(format!(
                "plaintext SHA-256 {sha256} ({size} bytes) differs from the recorded {} ({} bytes)",
                object.plaintext_sha256, object.plaintext_size
            ));
        }
    }
}
