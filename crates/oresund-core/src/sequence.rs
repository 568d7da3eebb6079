//! Random access to a reference sequence, whatever stores it.

use std::io;

/// A reference sequence read with 0-based, half-open coordinates. Reads past the end are clamped
/// (as htslib's `faidx_fetch_seq` clamps), so `fetch(len - 1, len + 5)` returns one base.
pub trait Sequence {
    /// Number of bases.
    fn len(&self) -> u64;

    /// Bases `start..end`, upper-case as stored.
    fn fetch(&self, start: u64, end: u64) -> io::Result<Vec<u8>>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Sequence for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn fetch(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let len = <[u8]>::len(self) as u64;
        let start = start.min(len);
        let end = end.clamp(start, len);
        Ok(self[start as usize..end as usize].to_vec())
    }
}

/// Reads single bases through a cached window, for algorithms that walk base by base
/// (VRS rolling, left-alignment) over a sequence stored on disk.
pub struct BaseReader<'a, S: Sequence + ?Sized> {
    sequence: &'a S,
    window_start: u64,
    window: Vec<u8>,
}

const WINDOW: u64 = 1024;

impl<'a, S: Sequence + ?Sized> BaseReader<'a, S> {
    pub fn new(sequence: &'a S) -> Self {
        Self { sequence, window_start: 0, window: Vec::new() }
    }

    pub fn len(&self) -> u64 {
        self.sequence.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sequence.is_empty()
    }

    /// The base at `pos`, or `None` past the end.
    pub fn base(&mut self, pos: u64) -> io::Result<Option<u8>> {
        if pos >= self.sequence.len() {
            return Ok(None);
        }
        let offset = pos.wrapping_sub(self.window_start);
        if pos < self.window_start || offset >= self.window.len() as u64 {
            self.window_start = pos.saturating_sub(WINDOW / 2);
            self.window = self.sequence.fetch(self.window_start, self.window_start + WINDOW)?;
        }
        Ok(self.window.get((pos - self.window_start) as usize).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_clamp_like_faidx() {
        let seq: &[u8] = b"ACGTACGT";
        assert_eq!(Sequence::fetch(seq, 6, 20).unwrap(), b"GT");
        assert_eq!(Sequence::fetch(seq, 20, 30).unwrap(), b"");
        assert_eq!(Sequence::fetch(seq, 5, 2).unwrap(), b"");
    }

    #[test]
    fn base_reader_walks_both_ways() {
        let seq: Vec<u8> = (0..5000u32).map(|i| b"ACGT"[(i % 4) as usize]).collect();
        let mut reader = BaseReader::new(seq.as_slice());
        for pos in (0..5000).rev().chain(0..5000) {
            assert_eq!(reader.base(pos).unwrap(), Some(seq[pos as usize]));
        }
        assert_eq!(reader.base(5000).unwrap(), None);
    }
}
