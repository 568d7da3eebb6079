//! Delivering archived VCFs to approved researchers (GA4GH htsget 1.3, DRS 1.5): a region of any
//! archived bgzipped VCF as parts ([`plan`]) that concatenate to a valid bgzipped VCF, served
//! decrypted or as one Crypt4GH stream for the researcher's key ([`encrypted`]) in which the
//! stored body is passed through unchanged; data URLs carry signed, short-lived tokens
//! ([`token`]). HTTP, access decisions and the audit log are the server's.

pub mod bgzf;
pub mod encrypted;
pub mod error;
pub mod lines;
pub mod plan;
pub mod source;
pub mod token;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use oresund_c4gh::{DataKey, Header, PublicKey};
use oresund_store::{ArchiveKind, ArchiveObject, IndividualNumber};
use sha2::{Digest, Sha256};

pub use encrypted::Piece;
pub use error::DeliveryError;
pub use plan::{FileLayout, Part, Selection};
pub use token::{Claims, Form, TokenError, TokenSigner};

use crate::archive::error::ArchiveError;
use crate::archive::index::BlockIndex;
use crate::archive::store::{ObjectArchive, SERVE_CHUNK};
use crate::delivery::encrypted::{StoredBody, encrypted_pieces, plain_pieces};
use crate::delivery::source::{ArchivedPlaintext, CSEG, PlainSource, SEG};
use crate::keys::KeyRing;
use crate::node::Node;

/// Most files whose layout (block index, header) is kept in memory.
const LAYOUT_CACHE: usize = 64;

/// The deliverable files of one catalog generation, by accession.
type FilesByAccession = Arc<HashMap<String, DeliverableFile>>;

/// An archived VCF that can be delivered, with the dataset it belongs to.
#[derive(Debug, Clone)]
pub struct DeliverableFile {
    pub object: ArchiveObject,
    pub dataset: String,
    /// Its block index, if it has one (BGZF files).
    pub index: Option<ArchiveObject>,
    /// The pseudonyms of its sample columns, in order (delivered headers name no one else).
    pub samples: Vec<String>,
}

/// A node's delivery service: its keys, its archive, the token signer and the files' layouts.
pub struct Deliveries {
    keys: KeyRing,
    archive: ObjectArchive,
    signer: TokenSigner,
    layouts: Mutex<HashMap<String, Arc<FileLayout>>>,
    /// Size and SHA-256 of each file as delivered, once computed.
    digests: Mutex<HashMap<String, (u64, String)>>,
    /// Data keys of stored objects, by header object (a header is read and decrypted once).
    data_keys: Mutex<HashMap<String, Vec<DataKey>>>,
    /// The deliverable files by accession, as of a catalog generation.
    files: Mutex<Option<(u64, FilesByAccession)>>,
}

impl Deliveries {
    /// The delivery service of `node`, with its unlocked keys.
    pub fn new(node: &Node, keys: KeyRing) -> Result<Self, DeliveryError> {
        let current =
            keys.ids().next().and_then(|id| keys.get(id)).ok_or_else(|| {
                ArchiveError::Invalid("the node has no archive key to sign data URLs with".to_string())
            })?;
        let signer = TokenSigner::from_node_key(current);
        Ok(Deliveries {
            archive: node.archive()?,
            keys,
            signer,
            layouts: Mutex::new(HashMap::new()),
            digests: Mutex::new(HashMap::new()),
            files: Mutex::new(None),
            data_keys: Mutex::new(HashMap::new()),
        })
    }

    pub fn signer(&self) -> &TokenSigner {
        &self.signer
    }

    /// The archived VCF `accession` and its dataset; `NotFound` for anything else. (One catalog
    /// read per generation: a ticket and each of its data URLs look the file up again.)
    pub fn file(&self, node: &Node, accession: &str) -> Result<DeliverableFile, DeliveryError> {
        self.catalog(node)?.get(accession).cloned().ok_or_else(|| DeliveryError::NotFound(accession.to_string()))
    }

    /// Every deliverable file, by accession.
    pub fn files(&self, node: &Node) -> Result<Vec<DeliverableFile>, DeliveryError> {
        let mut files: Vec<DeliverableFile> = self.catalog(node)?.values().cloned().collect();
        files.sort_by(|a, b| a.object.accession.cmp(&b.object.accession));
        Ok(files)
    }

    /// The deliverable files of the catalog's current generation.
    fn catalog(&self, node: &Node) -> Result<Arc<HashMap<String, DeliverableFile>>, DeliveryError> {
        let generation = node.store.generation()?;
        if let Some((known, files)) = self.files.lock().ok().and_then(|f| f.clone())
            && known == generation
        {
            return Ok(files);
        }
        let files = Arc::new(read_catalog(node)?);
        if let Ok(mut slot) = self.files.lock() {
            *slot = Some((generation, files.clone()));
        }
        Ok(files)
    }

    /// The data keys of a stored object (from its header, decrypted with the node key).
    fn data_keys(&self, object: &ArchiveObject) -> Result<Vec<DataKey>, DeliveryError> {
        if let Some(keys) = self.data_keys.lock().ok().and_then(|k| k.get(&object.header_path).cloned()) {
            return Ok(keys);
        }
        let secret = self.keys.for_object(&object.accession, &object.key_id)?;
        let header = Header::decrypt(&self.archive.get(&object.header_path)?, &secret)
            .map_err(ArchiveError::c4gh(&object.accession))?;
        let keys = header.data_keys().to_vec();
        if let Ok(mut known) = self.data_keys.lock() {
            if known.len() >= LAYOUT_CACHE * 4 {
                known.clear();
            }
            known.insert(object.header_path.clone(), keys.clone());
        }
        Ok(keys)
    }

    fn plaintext(&self, object: &ArchiveObject) -> Result<ArchivedPlaintext<'_>, DeliveryError> {
        Ok(ArchivedPlaintext::new(
            &self.archive,
            object.body_path.clone(),
            object.body_size,
            object.plaintext_size,
            self.data_keys(object)?,
        ))
    }

    /// The layout of a file, read once and kept.
    fn layout(&self, file: &DeliverableFile) -> Result<Arc<FileLayout>, DeliveryError> {
        let key = format!("{}\t{}", file.object.accession, file.object.body_path);
        if let Some(layout) = self.layouts.lock().ok().and_then(|l| l.get(&key).cloned()) {
            return Ok(layout);
        }
        let index_object =
            file.index.as_ref().ok_or_else(|| DeliveryError::NotIndexed(file.object.accession.clone()))?;
        let mut index_bytes = Vec::with_capacity(index_object.plaintext_size as usize);
        let mut index_source = self.plaintext(index_object)?;
        index_bytes.extend(index_source.read_range(0, index_object.plaintext_size)?);
        let index = BlockIndex::from_bytes(&index_bytes)
            .map_err(|error| ArchiveError::BlockIndex { accession: index_object.accession.clone(), error })?;
        let layout = Arc::new(FileLayout::read(&mut self.plaintext(&file.object)?, index, &file.samples)?);
        if let Ok(mut layouts) = self.layouts.lock() {
            if layouts.len() >= LAYOUT_CACHE {
                layouts.clear();
            }
            layouts.insert(key, layout.clone());
        }
        Ok(layout)
    }

    /// The pieces of `selection` of `file`: plain, or one Crypt4GH stream for `recipient`.
    pub fn plan(
        &self,
        file: &DeliverableFile,
        selection: &Selection,
        recipient: Option<&PublicKey>,
    ) -> Result<Vec<Piece>, DeliveryError> {
        let mut source = self.plaintext(&file.object)?;
        let parts = self.layout(file)?.plan(&mut source, selection)?;
        match recipient {
            None => Ok(plain_pieces(parts)),
            Some(recipient) => {
                let keys = self.data_keys(&file.object)?;
                let stored = StoredBody {
                    keys: &keys,
                    plaintext_size: file.object.plaintext_size,
                    body_size: file.object.body_size,
                };
                encrypted_pieces(&parts, &stored, recipient, &mut source)
            }
        }
    }

    /// Writes plaintext bytes `range` of `file`, decrypting segment by segment; returns the
    /// bytes written.
    pub fn copy_plain(
        &self,
        file: &DeliverableFile,
        range: Range<u64>,
        out: &mut dyn ByteSink,
    ) -> Result<u64, DeliveryError> {
        let object = &file.object;
        let end = range.end.min(object.plaintext_size);
        if range.start >= end {
            return Ok(0);
        }
        let keys = self.data_keys(object)?;
        let (first, last) = (range.start / SEG, (end - 1) / SEG + 1);
        let cipher = first * CSEG..(last * CSEG).min(object.body_size);
        let mut reader = self.archive.reader_in_chunks(&object.body_path, Some(cipher), SERVE_CHUNK)?;
        let mut segment = vec![0u8; CSEG as usize];
        let mut written = 0;
        for index in first..last {
            let len = ((index + 1) * CSEG).min(object.body_size) - index * CSEG;
            let segment = &mut segment[..len as usize];
            reader.read_exact(segment)?;
            let plain = oresund_c4gh::body::decrypt_segment(segment, &keys, index)
                .map_err(ArchiveError::c4gh(&object.accession))?;
            let base = index * SEG;
            let from = range.start.saturating_sub(base) as usize;
            let to = ((end - base) as usize).min(plain.len());
            let kept = plain.get(from..to).ok_or(DeliveryError::Damaged(base))?;
            out.write_all(kept)?;
            written += kept.len() as u64;
        }
        Ok(written)
    }

    /// Writes bytes `range` of the stored Crypt4GH body of `file`, as stored.
    pub fn copy_cipher(
        &self,
        file: &DeliverableFile,
        range: Range<u64>,
        out: &mut dyn ByteSink,
    ) -> Result<u64, DeliveryError> {
        let end = range.end.min(file.object.body_size);
        if range.start >= end {
            return Ok(0);
        }
        let mut reader = self.archive.reader_in_chunks(&file.object.body_path, Some(range.start..end), SERVE_CHUNK)?;
        let mut written = 0;
        while let Some(chunk) = reader.next_chunk()? {
            written += chunk.len() as u64;
            out.write_chunk(chunk)?;
        }
        Ok(written)
    }

    /// Size and SHA-256 (hex) of the whole `file` as delivered (plain, samples renamed): what a
    /// DRS object describes. The first call reads the whole file; the answer is kept.
    pub fn delivered_digest(&self, file: &DeliverableFile) -> Result<(u64, String), DeliveryError> {
        let key = format!("{}\t{}", file.object.accession, file.object.body_path);
        if let Some(known) = self.digests.lock().ok().and_then(|d| d.get(&key).cloned()) {
            return Ok(known);
        }
        let pieces = self.plan(file, &Selection::Whole, None)?;
        let mut hash = HashingSink(Sha256::new(), 0);
        self.copy_pieces(file, &pieces, &mut hash)?;
        let digest = (hash.1, oresund_core::hex::encode(&hash.0.finalize()));
        if let Ok(mut digests) = self.digests.lock() {
            digests.insert(key, digest.clone());
        }
        Ok(digest)
    }

    /// Writes `pieces` of `file` in order; returns the bytes written.
    pub fn copy_pieces(
        &self,
        file: &DeliverableFile,
        pieces: &[Piece],
        out: &mut dyn ByteSink,
    ) -> Result<u64, DeliveryError> {
        let mut written = 0;
        for piece in pieces {
            written += match piece {
                Piece::Bytes(bytes) => {
                    out.write_all(bytes)?;
                    bytes.len() as u64
                }
                Piece::Plain(range) => self.copy_plain(file, range.clone(), out)?,
                Piece::Cipher(range) => self.copy_cipher(file, range.clone(), out)?,
            };
        }
        Ok(written)
    }
}

/// Every archived VCF of the catalog with its dataset, block index and sample pseudonyms.
fn read_catalog(node: &Node) -> Result<HashMap<String, DeliverableFile>, DeliveryError> {
    let stored: HashMap<_, _> = node.store.files()?.into_iter().map(|f| (f.number, f)).collect();
    let pseudonyms: HashMap<_, _> =
        node.store.individuals()?.into_iter().map(|i| (i.number, i.individual.pseudonym.to_string())).collect();
    let objects = node.store.archive_objects()?;
    let mut files = HashMap::new();
    for object in objects.iter().filter(|o| o.kind == ArchiveKind::Vcf) {
        let Some(file) = stored.get(&object.file) else { continue };
        let index = objects.iter().find(|o| o.file == object.file && o.kind == ArchiveKind::BlockIndex).cloned();
        let unknown = || DeliveryError::Samples { columns: file.columns.len(), known: pseudonyms.len() };
        // A withdrawn person's column is blank in the index and absent from the archived VCF.
        let samples = file
            .columns
            .iter()
            .filter(|n| **n != IndividualNumber::WITHDRAWN)
            .map(|n| pseudonyms.get(n).cloned().ok_or_else(unknown))
            .collect::<Result<_, _>>()?;
        let deliverable = DeliverableFile { object: object.clone(), dataset: file.dataset.clone(), index, samples };
        files.insert(object.accession.clone(), deliverable);
    }
    Ok(files)
}

/// Where delivered bytes go: a writer that can also take a fetched chunk whole, without copying.
pub trait ByteSink: Write {
    fn write_chunk(&mut self, chunk: bytes::Bytes) -> io::Result<()> {
        self.write_all(&chunk)
    }
}

impl ByteSink for Vec<u8> {}

impl ByteSink for HashingSink {}

/// A writer that only hashes and counts.
struct HashingSink(Sha256, u64);

impl Write for HashingSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.update(bytes);
        self.1 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How many bytes `pieces` of `file` come to.
pub fn pieces_len(file: &DeliverableFile, pieces: &[Piece]) -> u64 {
    let clamp = |range: &Range<u64>, size: u64| range.end.min(size).saturating_sub(range.start);
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Bytes(bytes) => bytes.len() as u64,
            Piece::Plain(range) => clamp(range, file.object.plaintext_size),
            Piece::Cipher(range) => clamp(range, file.object.body_size),
        })
        .sum()
}

#[cfg(test)]
mod tests;
