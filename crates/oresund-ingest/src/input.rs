//! Opening input files whatever their compression: plain text, gzip, or BGZF (decompressed on
//! worker threads), with a byte counter for progress bars.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::path::Path;

/// How a file is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    /// BGZF (SAM/BAM spec §4.1): gzip members with a `BC` extra subfield.
    Bgzf,
}

/// Sniffs the compression of `file` and rewinds it.
pub fn sniff(file: &mut File) -> io::Result<Compression> {
    let mut magic = [0u8; 18];
    let n = read_up_to(file, &mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(match &magic[..n] {
        [0x1f, 0x8b, 8, flags, _, _, _, _, _, _, _, _, b'B', b'C', ..] if flags & 4 != 0 => Compression::Bgzf,
        [0x1f, 0x8b, ..] => Compression::Gzip,
        _ => Compression::None,
    })
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Opens `path` for reading decompressed bytes.
pub fn open_maybe_gzipped(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    open_with_progress(path, |_| {})
}

/// Opens `path` for reading decompressed bytes; `progress` receives the compressed bytes read so far.
pub fn open_with_progress(path: &Path, progress: impl FnMut(u64) + Send + 'static) -> io::Result<Box<dyn Read + Send>> {
    let mut file = File::open(path)?;
    let compression = sniff(&mut file)?;
    let counted = ProgressRead::new(file, progress);
    Ok(match compression {
        Compression::None => Box::new(counted),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, counted))),
        Compression::Bgzf => {
            let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get).clamp(1, 4);
            let workers = NonZeroUsize::new(workers).unwrap_or(NonZeroUsize::MIN);
            Box::new(noodles_bgzf::io::MultithreadedReader::with_worker_count(workers, counted))
        }
    })
}

/// A buffered line reader over any input.
pub fn buffered(read: Box<dyn Read + Send>) -> impl BufRead + Send {
    BufReader::with_capacity(1 << 20, read)
}

/// Counts bytes as they are read and reports the running total.
pub struct ProgressRead<R, F> {
    inner: R,
    total: u64,
    report: F,
}

impl<R, F: FnMut(u64)> ProgressRead<R, F> {
    pub fn new(inner: R, report: F) -> Self {
        Self { inner, total: 0, report }
    }
}

impl<R: Read, F: FnMut(u64)> Read for ProgressRead<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        (self.report)(self.total);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_plain_gzip_and_bgzf_alike() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"##fileformat=VCFv4.3\nline two\n".repeat(1000);
        let plain = dir.path().join("a.vcf");
        std::fs::write(&plain, &text).unwrap();
        let gzip = dir.path().join("a.vcf.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&gzip).unwrap(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        enc.finish().unwrap();
        let bgzf = dir.path().join("b.vcf.gz");
        let mut writer = noodles_bgzf::io::Writer::new(File::create(&bgzf).unwrap());
        writer.write_all(&text).unwrap();
        writer.finish().unwrap();
        for (path, kind) in [(&plain, Compression::None), (&gzip, Compression::Gzip), (&bgzf, Compression::Bgzf)] {
            assert_eq!(sniff(&mut File::open(path).unwrap()).unwrap(), kind);
            let mut out = Vec::new();
            open_maybe_gzipped(path).unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, text, "{kind:?}");
        }
    }
}
