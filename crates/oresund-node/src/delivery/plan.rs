//! What to deliver of a BGZF VCF, as parts whose concatenation is itself a valid bgzipped VCF:
//! the header, then exactly the lines of the requested regions, then the EOF block.
//!
//! Whole blocks of the stored file are passed through untouched ([`Part::Stored`]: served as
//! stored, or — with Crypt4GH — as the stored cipher segments). Where a region starts or ends
//! inside a block, only that block's kept lines are re-compressed ([`Part::Inline`], at most
//! 64 KiB each side), so any bgzipped file works, not only files whose blocks follow lines.
//!
//! The header is always made anew: its sample columns name people by their local ids (national
//! identity numbers), which never leave the node, so the delivered header names them by their
//! pseudonyms — the ids the Beacon answers with. The whole file is delivered the same way: the
//! new header, then every stored data block.
//!
//! Records between the first and the last overlapping record are delivered whole, as htsget
//! allows ("the client MAY receive more data than requested"); with sorted SNVs and short indels
//! that is exactly `bcftools view -r`. A long deletion that starts before the region overlaps it
//! and is delivered, with the non-overlapping records between it and the region.

use std::ops::Range;

use oresund_core::region::Region;

use crate::archive::index::{BlockIndex, merge};
use crate::delivery::bgzf::{self, BGZF_EOF};
use crate::delivery::error::DeliveryError;
use crate::delivery::lines::{LineReader, VirtualPosition};
use crate::delivery::source::PlainSource;

/// A piece of the delivered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// BGZF bytes made for this delivery.
    Inline(Vec<u8>),
    /// Bytes of the stored (plaintext) file, whole BGZF blocks.
    Stored(Range<u64>),
}

impl Part {
    pub fn len(&self) -> u64 {
        match self {
            Part::Inline(bytes) => bytes.len() as u64,
            Part::Stored(range) => range.end - range.start,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What is asked for (htsget's `class` and regions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The whole file, as stored.
    Whole,
    /// The header only (`class=header`).
    Header,
    /// The header and the records of these regions (1-based, inclusive).
    Regions(Vec<Region>),
}

/// What planning needs to know of one file once: its block index, its header re-compressed, and
/// where its data lines start and end.
#[derive(Debug, Clone)]
pub struct FileLayout {
    pub index: BlockIndex,
    /// The header lines as BGZF blocks.
    pub header: Vec<u8>,
    /// Contigs named by `##contig` lines or by records.
    pub contigs: Vec<String>,
    /// Where the first record starts.
    pub first_record: VirtualPosition,
    /// Where the data (records, then EOF block) ends.
    pub data_end: u64,
}

impl FileLayout {
    /// Reads the header of the file behind `source`, indexed by `index`, and names its sample
    /// columns `samples` (in column order).
    pub fn read(
        source: &mut (impl PlainSource + ?Sized),
        index: BlockIndex,
        samples: &[String],
    ) -> Result<Self, DeliveryError> {
        let data_end = index.eof.unwrap_or(index.size).min(source.size());
        let mut header = Vec::new();
        let mut contigs = index.contigs.clone();
        let mut meta_end = VirtualPosition::new(0, 0);
        if data_end > 0 {
            let mut lines = LineReader::new(source, 0, data_end, false)?;
            while let Some(line) = lines.next_line()? {
                if !line.meta {
                    break;
                }
                meta_end = line.end;
            }
            header = rename_samples(read_between(source, VirtualPosition::new(0, 0), meta_end)?, samples)?;
        }
        for line in header.split(|b| *b == b'\n') {
            if let Some(rest) = line.strip_prefix(b"##contig=<ID=") {
                let id = rest.split(|b| *b == b',' || *b == b'>').next().unwrap_or_default();
                let id = String::from_utf8_lossy(id).into_owned();
                if !contigs.contains(&id) {
                    contigs.push(id);
                }
            }
        }
        if header.is_empty() {
            return Err(DeliveryError::NoHeader);
        }
        Ok(FileLayout { index, header: bgzf::compress(&header), contigs, first_record: meta_end, data_end })
    }

    /// The parts to deliver for `selection`, read through `source` where a boundary falls
    /// inside a block.
    pub fn plan(
        &self,
        source: &mut (impl PlainSource + ?Sized),
        selection: &Selection,
    ) -> Result<Vec<Part>, DeliveryError> {
        let spans = match selection {
            Selection::Whole => vec![(self.first_record, VirtualPosition::new(self.data_end, 0))],
            Selection::Header => Vec::new(),
            Selection::Regions(regions) => {
                let mut spans = Vec::new();
                for region in regions {
                    if !self.contigs.contains(&region.chrom) {
                        return Err(DeliveryError::UnknownContig {
                            name: region.chrom.clone(),
                            known: self.contigs.clone(),
                        });
                    }
                    spans.extend(self.span_of(source, region)?);
                }
                merge(spans)
            }
        };
        let mut parts = vec![Part::Inline(self.header.clone())];
        for (from, to) in spans {
            parts.extend(cut(source, from, to)?);
        }
        parts.push(Part::Inline(BGZF_EOF.to_vec()));
        Ok(join_inline(parts))
    }

    /// From the start of the first record overlapping `region` to the end of the last one.
    fn span_of(
        &self,
        source: &mut (impl PlainSource + ?Sized),
        region: &Region,
    ) -> Result<Option<(VirtualPosition, VirtualPosition)>, DeliveryError> {
        let (start, end) = (region.start, region.end);
        let hits = self.index.overlapping(&region.chrom, start, end);
        let mut first = None;
        'forward: for &i in &hits {
            let block = &self.index.blocks[i];
            let mut lines = LineReader::new(source, block.offset, self.data_end, !block.cut)?;
            while let Some(line) = lines.next_line()? {
                if line.start.block != block.offset {
                    break;
                }
                if line.overlaps(&region.chrom, start, end) {
                    first = Some(line.start);
                    break 'forward;
                }
            }
        }
        let Some(first) = first else { return Ok(None) };
        for &i in hits.iter().rev() {
            let block = &self.index.blocks[i];
            let mut lines = LineReader::new(source, block.offset, self.data_end, !block.cut)?;
            let mut last = None;
            while let Some(line) = lines.next_line()? {
                if line.start.block != block.offset {
                    break;
                }
                if line.overlaps(&region.chrom, start, end) {
                    last = Some(line.end);
                }
            }
            if let Some(last) = last {
                return Ok(Some((first, last)));
            }
        }
        Ok(None)
    }
}

/// The header with the sample names of its `#CHROM` line replaced by `samples`.
fn rename_samples(header: Vec<u8>, samples: &[String]) -> Result<Vec<u8>, DeliveryError> {
    let body = header.strip_suffix(b"\n").unwrap_or(&header);
    let start = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = &body[start..];
    if !line.starts_with(b"#CHROM") {
        return Err(DeliveryError::NoHeader);
    }
    let fixed: Vec<&[u8]> = line.split(|b| *b == b'\t').take(9).collect();
    let columns = line.split(|b| *b == b'\t').count().saturating_sub(9);
    if columns != samples.len() {
        return Err(DeliveryError::Samples { columns, known: samples.len() });
    }
    let mut out = header[..start].to_vec();
    out.extend_from_slice(&fixed.join(&b'\t'));
    for sample in samples {
        out.push(b'\t');
        out.extend_from_slice(sample.as_bytes());
    }
    out.push(b'\n');
    Ok(out)
}

/// The decompressed bytes between two positions.
fn read_between(
    source: &mut (impl PlainSource + ?Sized),
    from: VirtualPosition,
    to: VirtualPosition,
) -> Result<Vec<u8>, DeliveryError> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let block = source.block(at.block)?;
        let end = if block.offset == to.block { to.within } else { block.data.len() };
        out.extend_from_slice(block.data.get(at.within..end.max(at.within)).unwrap_or_default());
        if block.offset == to.block || block.size == 0 {
            break;
        }
        at = VirtualPosition::new(block.end(), 0);
    }
    Ok(out)
}

/// Parts holding exactly the decompressed bytes `from..to`: whole stored blocks where possible,
/// the partial blocks at either end re-compressed.
fn cut(
    source: &mut (impl PlainSource + ?Sized),
    from: VirtualPosition,
    to: VirtualPosition,
) -> Result<Vec<Part>, DeliveryError> {
    if from >= to {
        return Ok(Vec::new());
    }
    let first = source.block(from.block)?;
    if from.block == to.block {
        let kept = first.data.get(from.within..to.within).ok_or(DeliveryError::Damaged(from.block))?;
        return Ok(vec![Part::Inline(bgzf::compress(kept))]);
    }
    let mut parts = Vec::new();
    let stored_from = if from.within == 0 {
        first.offset
    } else {
        let kept = first.data.get(from.within..).ok_or(DeliveryError::Damaged(from.block))?;
        parts.push(Part::Inline(bgzf::compress(kept)));
        first.end()
    };
    if stored_from < to.block {
        parts.push(Part::Stored(stored_from..to.block));
    }
    if to.within > 0 {
        let last = source.block(to.block)?;
        let kept = last.data.get(..to.within).ok_or(DeliveryError::Damaged(to.block))?;
        parts.push(Part::Inline(bgzf::compress(kept)));
    }
    Ok(parts)
}

/// Neighbouring inline parts as one.
fn join_inline(parts: Vec<Part>) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        match (out.last_mut(), part) {
            (Some(Part::Inline(bytes)), Part::Inline(more)) => bytes.extend_from_slice(&more),
            (_, part) => out.push(part),
        }
    }
    out
}
