//! Lines of a BGZF VCF by virtual position (SAM/BAM spec §4.1.1: the offset of a block in the
//! compressed file, and an offset in its decompressed data), read block by block from a
//! [`PlainSource`]. Only the start of each line is kept (CHROM, POS, REF), as much as deciding
//! overlap with a region needs.

use crate::archive::index::LinePrefix;
use crate::delivery::bgzf::Block;
use crate::delivery::error::DeliveryError;
use crate::delivery::source::PlainSource;

/// A position in a BGZF file: the block's offset and an offset in its decompressed data. A line
/// that starts or ends at a block boundary has `within == 0` in the next block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtualPosition {
    pub block: u64,
    pub within: usize,
}

impl VirtualPosition {
    pub const fn new(block: u64, within: usize) -> Self {
        VirtualPosition { block, within }
    }
}

/// One line: where it starts and ends (after its newline), and its first columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub start: VirtualPosition,
    pub end: VirtualPosition,
    /// The line starts with `#`.
    pub meta: bool,
    pub chrom: Vec<u8>,
    /// POS, if it is a number.
    pub pos: Option<u64>,
    /// The last base REF covers (`u64::MAX` when REF was not seen whole).
    pub last: u64,
}

impl Line {
    /// The record overlaps `chrom:start-end` (1-based, inclusive), judged by POS and REF.
    pub fn overlaps(&self, chrom: &str, start: u64, end: u64) -> bool {
        !self.meta && self.chrom == chrom.as_bytes() && self.pos.is_some_and(|p| p <= end) && self.last >= start
    }
}

/// Reads lines from a block on, up to `data_end` (the EOF block, or the end of the file).
pub struct LineReader<'s, S: PlainSource + ?Sized> {
    source: &'s mut S,
    data_end: u64,
    block: Block,
    at: usize,
}

impl<'s, S: PlainSource + ?Sized> LineReader<'s, S> {
    /// Starts at the block at `offset`; with `mid_line`, its first bytes end a line that started
    /// earlier and are skipped.
    pub fn new(source: &'s mut S, offset: u64, data_end: u64, mid_line: bool) -> Result<Self, DeliveryError> {
        let block = source.block(offset)?;
        let mut reader = LineReader { source, data_end, block, at: 0 };
        if mid_line {
            match memchr::memchr(b'\n', &reader.block.data) {
                Some(i) => reader.at = i + 1,
                None => reader.at = reader.block.data.len(),
            }
        }
        Ok(reader)
    }

    /// Moves to the next block with data; false at the end.
    fn advance(&mut self) -> Result<bool, DeliveryError> {
        while self.at >= self.block.data.len() {
            let next = self.block.end();
            if next >= self.data_end {
                return Ok(false);
            }
            self.block = self.source.block(next)?;
            self.at = 0;
        }
        Ok(true)
    }

    /// The position just read up to, moved to the next block's start at a block's end.
    fn position(&self) -> VirtualPosition {
        if self.at >= self.block.data.len() {
            VirtualPosition::new(self.block.end(), 0)
        } else {
            VirtualPosition::new(self.block.offset, self.at)
        }
    }

    /// The next line, or `None` at the end of the data.
    pub fn next_line(&mut self) -> Result<Option<Line>, DeliveryError> {
        if !self.advance()? {
            return Ok(None);
        }
        let start = VirtualPosition::new(self.block.offset, self.at);
        let mut prefix = LinePrefix::default();
        loop {
            let rest = &self.block.data[self.at..];
            let newline = memchr::memchr(b'\n', rest);
            prefix.collect(&rest[..newline.unwrap_or(rest.len())]);
            match newline {
                Some(i) => {
                    self.at += i + 1;
                    break;
                }
                None => {
                    self.at = self.block.data.len();
                    if !self.advance()? {
                        break;
                    }
                }
            }
        }
        let line = prefix.parse();
        let (meta, chrom, pos, last) = (line.meta, line.chrom.to_vec(), line.pos, line.last);
        Ok(Some(Line { start, end: self.position(), meta, chrom, pos, last }))
    }
}
