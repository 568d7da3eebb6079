//! An ingested BCF is archived as the VCF text `bcftools view` prints for it
//! (`oresund_ingest::bcf`), in line-aligned BGZF indexed as it is written: delivery, region export
//! and a withdrawal's rewrite then handle one format, and a researcher receives a VCF. The BCF's
//! own bytes are hashed (the second pass must read the same file) but not kept.

use std::io::{self, BufRead, PipeWriter};
use std::path::Path;

use oresund_ingest::bcf::BcfError;

use crate::archive::StoredObject;
use crate::archive::block_writer::BlockWriter;
use crate::archive::index::BlockIndex;
use crate::archive::ingest::{Tapped, open_tapped_bcf};
use crate::archive::originals::Originals;
use crate::error::NodeError;

/// The archived VCF text of a BCF.
pub(crate) struct ArchivedBcf {
    pub stored: StoredObject,
    /// Its block index, from the writing.
    pub index: BlockIndex,
    /// SHA-256 and size of the BCF read.
    pub source: Tapped,
}

/// Converts the BCF at `path` and stores the VCF text in `originals`: one thread converts and
/// compresses into a pipe, this one encrypts and uploads (nothing in clear on disk).
pub(crate) fn archive_bcf(path: &Path, originals: &mut Originals<'_>) -> Result<ArchivedBcf, NodeError> {
    let (text_in, text_out) = io::pipe().map_err(|e| NodeError::io(path, e))?;
    std::thread::scope(|threads| {
        let converting = threads.spawn(move || convert(path, text_out));
        let stored = originals.store(text_in);
        let converted = converting.join().unwrap_or_else(|_| {
            Err(NodeError::io(path, io::Error::other("the BCF conversion thread stopped unexpectedly")))
        });
        // A damaged BCF is the cause when both failed (the upload then only stored a short text,
        // which the failed ingest removes); a failed upload is, when it broke the pipe.
        match (stored, converted) {
            (_, Err(bcf @ NodeError::Bcf { .. })) => Err(bcf),
            (Err(upload), _) => Err(upload),
            (Ok(_), Err(other)) => Err(other),
            (Ok(stored), Ok((index, source))) => Ok(ArchivedBcf { stored, index, source }),
        }
    })
}

fn convert(path: &Path, out: PipeWriter) -> Result<(BlockIndex, Tapped), NodeError> {
    let bcf_error = |error: io::Error| NodeError::Bcf { path: path.to_path_buf(), error: BcfError::from_io(error) };
    let (mut lines, tap) = open_tapped_bcf(path, |_| {}).map_err(bcf_error)?;
    let mut writer = BlockWriter::new(out);
    let mut line = Vec::with_capacity(1 << 16);
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).map_err(bcf_error)? == 0 {
            break;
        }
        writer.line(&line).map_err(|e| NodeError::io(path, e))?;
    }
    let index = writer.finish().map_err(|e| NodeError::io(path, e))?;
    drop(lines);
    Ok((index, tap.finish()))
}
