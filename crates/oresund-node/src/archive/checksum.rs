//! SHA-256 and byte counts taken while bytes stream past, so checksums cost no extra pass.

use std::io::{self, Read, Write};

use oresund_core::hex;
use sha2::{Digest, Sha256};

/// A running SHA-256 and byte count.
#[derive(Clone, Default)]
pub struct Checksum {
    hasher: Sha256,
    size: u64,
}

impl Checksum {
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// (hex SHA-256, size).
    pub fn finish(self) -> (String, u64) {
        (hex::encode(&self.hasher.finalize()), self.size)
    }
}

/// Hashes what is read through it.
pub struct HashingReader<R> {
    inner: R,
    checksum: Checksum,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, checksum: Checksum::default() }
    }

    pub fn finish(self) -> (String, u64) {
        self.checksum.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.checksum.update(&buf[..n]);
        Ok(n)
    }
}

/// Hashes what is written through it.
pub struct HashingWriter<W> {
    inner: W,
    checksum: Checksum,
}

impl<W> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, checksum: Checksum::default() }
    }

    /// The inner writer and (hex SHA-256, size) of what went through.
    pub fn finish(self) -> (W, (String, u64)) {
        (self.inner, self.checksum.finish())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.checksum.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_one_shot_digest() {
        let data = b"abc".repeat(1000);
        let mut reader = HashingReader::new(&data[..]);
        let mut writer = HashingWriter::new(Vec::new());
        io::copy(&mut reader, &mut writer).unwrap();
        let want = hex::encode(&Sha256::digest(&data));
        assert_eq!(reader.finish(), (want.clone(), 3000));
        let (out, sum) = writer.finish();
        assert_eq!((out, sum), (data, (want, 3000)));
    }
}
