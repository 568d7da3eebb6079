//! Random access to an archived file's plaintext: the 64 KiB Crypt4GH segments (spec §3.4) that
//! hold a byte range are fetched with one ranged read and decrypted; nothing else is. Planning a
//! delivery reads a few blocks at a record boundary this way, never the file.

use std::io::Read;

use oresund_c4gh::DataKey;
use oresund_c4gh::body::{CIPHER_SEGMENT_SIZE, SEGMENT_SIZE, decrypt_segment};

use crate::archive::error::ArchiveError;
use crate::archive::store::ObjectArchive;
use crate::delivery::bgzf::{self, Block, MAX_BLOCK};
use crate::delivery::error::DeliveryError;

pub(crate) const SEG: u64 = SEGMENT_SIZE as u64;
pub(crate) const CSEG: u64 = CIPHER_SEGMENT_SIZE as u64;

/// Bytes of a file by offset: the plaintext of an archived object, or a file in memory (tests).
pub trait PlainSource {
    /// Size of the whole file.
    fn size(&self) -> u64;
    /// Bytes `start..end` (clamped to the file).
    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, DeliveryError>;

    /// The BGZF block at `offset`.
    fn block(&mut self, offset: u64) -> Result<Block, DeliveryError> {
        let head = self.read_range(offset, offset + MAX_BLOCK as u64)?;
        Ok(bgzf::decompress(&head, offset)?)
    }
}

impl PlainSource for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, DeliveryError> {
        let len = self.len() as u64;
        Ok(self[start.min(len) as usize..end.min(len) as usize].to_vec())
    }
}

/// The plaintext of one archived object, decrypted segment by segment on demand.
pub struct ArchivedPlaintext<'a> {
    objects: &'a ObjectArchive,
    body_path: String,
    body_size: u64,
    plaintext_size: u64,
    keys: Vec<DataKey>,
    /// The last segments read (first segment index, their plaintext), for neighbouring blocks.
    cached: Option<(u64, Vec<u8>)>,
    /// The last blocks decompressed (finding a boundary and cutting there read the same block).
    blocks: Vec<Block>,
}

impl<'a> ArchivedPlaintext<'a> {
    pub fn new(
        objects: &'a ObjectArchive,
        body_path: String,
        body_size: u64,
        plaintext_size: u64,
        keys: Vec<DataKey>,
    ) -> Self {
        ArchivedPlaintext { objects, body_path, body_size, plaintext_size, keys, cached: None, blocks: Vec::new() }
    }

    /// Plaintext of segments `first..end` (by index).
    fn segments(&self, first: u64, end: u64) -> Result<Vec<u8>, DeliveryError> {
        let range = first * CSEG..(end * CSEG).min(self.body_size);
        let mut cipher = Vec::with_capacity((range.end - range.start) as usize);
        let io = |error| ArchiveError::ObjectIo { path: self.body_path.clone(), error };
        self.objects.reader(&self.body_path, Some(range))?.read_to_end(&mut cipher).map_err(io)?;
        let mut plain = Vec::with_capacity(((end - first) * SEG) as usize);
        for (i, segment) in cipher.chunks_mut(CIPHER_SEGMENT_SIZE).enumerate() {
            let opened =
                decrypt_segment(segment, &self.keys, first + i as u64).map_err(ArchiveError::c4gh(&self.body_path))?;
            plain.extend_from_slice(opened);
        }
        Ok(plain)
    }
}

impl PlainSource for ArchivedPlaintext<'_> {
    fn size(&self) -> u64 {
        self.plaintext_size
    }

    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, DeliveryError> {
        let end = end.min(self.plaintext_size);
        if start >= end {
            return Ok(Vec::new());
        }
        let (first, last) = (start / SEG, (end - 1) / SEG + 1);
        let hit = matches!(&self.cached, Some((f, p)) if *f <= first && f * SEG + p.len() as u64 >= end);
        if !hit {
            let plain = self.segments(first, last)?;
            self.cached = Some((first, plain));
        }
        let Some((f, plain)) = &self.cached else { return Ok(Vec::new()) };
        let base = f * SEG;
        // A body shorter than the catalog says is damage, not a panic.
        let bytes = plain.get((start - base) as usize..(end - base) as usize).ok_or(DeliveryError::Damaged(start))?;
        Ok(bytes.to_vec())
    }

    fn block(&mut self, offset: u64) -> Result<Block, DeliveryError> {
        if let Some(block) = self.blocks.iter().find(|b| b.offset == offset) {
            return Ok(block.clone());
        }
        let head = self.read_range(offset, offset + MAX_BLOCK as u64)?;
        let block = bgzf::decompress(&head, offset)?;
        if self.blocks.len() >= 4 {
            self.blocks.remove(0);
        }
        self.blocks.push(block.clone());
        Ok(block)
    }
}
