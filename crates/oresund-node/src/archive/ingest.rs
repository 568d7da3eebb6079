//! The VCF as ingest's second pass reads it: decompressed lines for the VCF reader while the raw
//! bytes are hashed again — proving the indexed bytes are the archived ones — and, for BGZF, a
//! block index is built for region export. Nothing is read twice within the pass.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};

use noodles_bgzf::io::MultithreadedReader;
use oresund_ingest::bcf::BcfText;
use oresund_ingest::input::{Compression, ProgressRead, buffered, sniff};
use oresund_ingest::read_ahead::ReadAhead;

use crate::archive::checksum::Checksum;
use crate::archive::index::{BGZF_EOF, BlockIndex, IndexingReader, PendingIndex};

/// What the raw reader saw: checksum and the last bytes (to spot the BGZF EOF block).
#[derive(Default)]
struct RawSeen {
    checksum: Checksum,
    tail: Vec<u8>,
}

/// Hashes the compressed bytes as the decompressor reads them (on its own thread, for BGZF).
struct RawTap<R> {
    inner: R,
    seen: Arc<Mutex<RawSeen>>,
}

impl<R: Read> Read for RawTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.seen.lock().map_err(|_| io::Error::other("checksum state poisoned"))?;
        seen.checksum.update(&buf[..n]);
        let keep = BGZF_EOF.len();
        seen.tail.extend_from_slice(&buf[n.saturating_sub(keep)..n]);
        let excess = seen.tail.len().saturating_sub(keep);
        seen.tail.drain(..excess);
        Ok(n)
    }
}

/// Collects what the tapped input saw once its reader is dropped.
pub struct InputTap {
    seen: Arc<Mutex<RawSeen>>,
    index: Option<PendingIndex>,
}

/// What the second pass saw.
pub struct Tapped {
    /// Hex SHA-256 and size of the raw file bytes read.
    pub sha256: String,
    pub size: u64,
    /// The BGZF block index, when the VCF is BGZF.
    pub index: Option<BlockIndex>,
}

impl InputTap {
    /// Call after the reader (and so the decompressor and its threads) has been dropped.
    pub fn finish(self) -> Tapped {
        let seen = match Arc::try_unwrap(self.seen) {
            Ok(mutex) => mutex.into_inner().unwrap_or_default(),
            Err(shared) => shared
                .lock()
                .map(|s| RawSeen { checksum: s.checksum.clone(), tail: s.tail.clone() })
                .unwrap_or_default(),
        };
        let (sha256, size) = seen.checksum.finish();
        let index = self.index.and_then(|pending| pending.finish(size, &seen.tail));
        Tapped { sha256, size, index }
    }
}

/// Opens `path` (plain, gzip or BGZF) as decompressed lines, tapped. `progress` gets the
/// compressed bytes read so far.
pub fn open_tapped(
    path: &Path,
    progress: impl FnMut(u64) + Send + 'static,
) -> io::Result<(Box<dyn BufRead + Send>, InputTap)> {
    let RawInput { compression, reader: raw, seen } = open_raw(path, progress)?;
    Ok(match compression {
        Compression::None => (Box::new(buffered(Box::new(raw))), InputTap { seen, index: None }),
        Compression::Gzip => {
            let decoder = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, raw));
            (Box::new(buffered(Box::new(decoder))), InputTap { seen, index: None })
        }
        Compression::Bgzf => {
            let (reader, pending) = IndexingReader::new(MultithreadedReader::with_worker_count(workers(), raw));
            (Box::new(reader), InputTap { seen, index: Some(pending) })
        }
    })
}

/// Opens the BCF at `path` (BGZF or uncompressed) as the VCF text `bcftools view` prints for it,
/// made on its own thread, tapped like [`open_tapped`]. No block index: the archived copy is that
/// text, compressed anew (`archive/bcf.rs`), and indexed as it is written.
pub fn open_tapped_bcf(path: &Path, progress: impl FnMut(u64) + Send + 'static) -> io::Result<(ReadAhead, InputTap)> {
    let RawInput { compression, reader: raw, seen } = open_raw(path, progress)?;
    let decompressed: Box<dyn Read + Send> = match compression {
        // Records are read a few bytes at a time: buffered before the tap's lock, not after.
        Compression::None => Box::new(BufReader::with_capacity(1 << 16, raw)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, raw))),
        Compression::Bgzf => Box::new(MultithreadedReader::with_worker_count(workers(), raw)),
    };
    let text = BcfText::new(decompressed).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok((ReadAhead::new(text), InputTap { seen, index: None }))
}

/// A file opened for a tapped read: its compression, and its raw bytes hashed as they are read.
struct RawInput<F> {
    compression: Compression,
    reader: RawTap<ProgressRead<File, F>>,
    seen: Arc<Mutex<RawSeen>>,
}

fn open_raw<F: FnMut(u64) + Send + 'static>(path: &Path, progress: F) -> io::Result<RawInput<F>> {
    let mut file = File::open(path)?;
    let compression = sniff(&mut file)?;
    if compression == Compression::Bgzf {
        check_bgzf_end(&mut file)?;
    }
    let seen = Arc::new(Mutex::new(RawSeen::default()));
    Ok(RawInput { compression, reader: RawTap { inner: ProgressRead::new(file, progress), seen: seen.clone() }, seen })
}

/// The same decompression as a plain ingest: worker threads, up to four.
fn workers() -> NonZeroUsize {
    let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get).clamp(1, 4);
    NonZeroUsize::new(workers).unwrap_or(NonZeroUsize::MIN)
}

/// A BGZF file ends with the empty EOF block (SAM/BAM spec §4.1.2); one that stops on a block
/// boundary without it was cut short, and reading it would ingest part of a cohort without a word
/// (htslib only warns). Refused before anything is read; `file` is rewound.
fn check_bgzf_end(file: &mut File) -> io::Result<()> {
    let length = file.metadata()?.len();
    let mut tail = [0u8; BGZF_EOF.len()];
    let ends_with_eof = length >= tail.len() as u64 && {
        file.seek(SeekFrom::Start(length - tail.len() as u64))?;
        file.read_exact(&mut tail)?;
        tail == BGZF_EOF
    };
    file.seek(SeekFrom::Start(0))?;
    if ends_with_eof {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "truncated: no BGZF end-of-file block (the file was cut short; copy or compress it again)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn every_compression_is_read_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let text = "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n22\t5\t.\tA\tC\t.\t.\t.\n";
        let plain = dir.path().join("a.vcf");
        std::fs::write(&plain, text).unwrap();
        let gz = dir.path().join("a.vcf.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        let bgzf = dir.path().join("b.vcf.gz");
        let mut writer = noodles_bgzf::io::Writer::new(File::create(&bgzf).unwrap());
        writer.write_all(text.as_bytes()).unwrap();
        writer.finish().unwrap();
        for (path, indexed) in [(&plain, false), (&gz, false), (&bgzf, true)] {
            let (mut reader, tap) = open_tapped(path, |_| {}).unwrap();
            let mut got = String::new();
            reader.read_to_string(&mut got).unwrap();
            drop(reader);
            let tapped = tap.finish();
            assert_eq!(got, text);
            let bytes = std::fs::read(path).unwrap();
            assert_eq!(tapped.size, bytes.len() as u64);
            assert_eq!(tapped.sha256, oresund_core::hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
            assert_eq!(tapped.index.is_some(), indexed, "{}", path.display());
            if let Some(index) = tapped.index {
                assert_eq!(index.eof, Some(bytes.len() as u64 - 28));
            }
        }
    }
}
