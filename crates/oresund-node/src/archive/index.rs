//! A BGZF block index of an ingested VCF, so that `archive export --region` can hand a reader only
//! the compressed blocks that hold the header and the region's records, selected with a Crypt4GH
//! edit list (spec §3.2.4, §4.3) over the unchanged encrypted body.
//!
//! BGZF (SAM/BAM spec §4.1) is a series of independent gzip members ("blocks"), so any run of
//! whole blocks decompresses on its own. A run may only start where a line starts at the first
//! byte of a block (a *cut point*), or the reader would get half a record: writers that align
//! blocks to lines (`bcftools view -Oz`) make every block a cut point; `bgzip` 1.16, for one, cuts
//! blocks at fixed sizes, and such a file has no cut point after its header.
//!
//! The index is built while ingest decompresses the VCF ([`IndexingReader`], no extra pass) and
//! is archived encrypted like the VCF itself: an index leaks information too (record positions,
//! and from them the sex of the samples).

use std::io::{self, BufRead, Read};
use std::sync::{Arc, Mutex};

use noodles_bgzf::io::MultithreadedReader;

/// The 28-byte empty block that ends a BGZF file (SAM/BAM spec §4.1.2).
pub const BGZF_EOF: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 0x42, 0x43, 0x02, 0, 0x1b, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Longest line prefix kept while looking for the REF column; a longer REF counts as unbounded.
const MAX_PREFIX: usize = 1 << 20;

const MAGIC: &str = "oresund-bgzf-index 1";

/// Records that start in one block, on one contig: the span they may overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    pub contig: u32,
    /// Smallest POS (1-based).
    pub first: u64,
    /// Largest last base covered by REF.
    pub last: u64,
}

/// A block in which at least one line starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedBlock {
    /// Offset of the block in the compressed file.
    pub offset: u64,
    /// A line starts at the block's first byte: a run of blocks may start here.
    pub cut: bool,
    /// Its spans are `spans[first_span..]` up to the next block's `first_span`. One flat vector,
    /// not a vector a block: a 20,000-sample VCF has about one line a block, and 80,000 small
    /// vectors held 13 MB of the ingest's peak memory.
    first_span: u32,
}

/// The block index of one BGZF VCF.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockIndex {
    /// Size of the compressed file.
    pub size: u64,
    /// Offset of the trailing BGZF EOF block, if the file has one.
    pub eof: Option<u64>,
    /// End of the blocks that hold the header (a cut point, or `size`).
    pub header_end: u64,
    pub contigs: Vec<String>,
    pub blocks: Vec<IndexedBlock>,
    /// The record spans of every block, in block order.
    spans: Vec<RecordSpan>,
}

/// Blocks whose lines [`IndexText`] writes at a time.
const TEXT_BLOCKS: usize = 1024;

/// The serialised form of a [`BlockIndex`], read a part at a time ([`BlockIndex::text`]).
pub struct IndexText<'a> {
    index: &'a BlockIndex,
    /// The next block to write, or `None` before the header lines.
    next_block: Option<usize>,
    pending: Vec<u8>,
    /// Bytes of `pending` already read.
    at: usize,
}

impl IndexText<'_> {
    /// Writes the next part into `pending`; false at the end.
    fn refill(&mut self) -> bool {
        use std::io::Write as _;
        self.pending.clear();
        self.at = 0;
        let index = self.index;
        let out = &mut self.pending;
        // Writing into a Vec cannot fail.
        let Some(first) = self.next_block else {
            let _ = write!(out, "{MAGIC}\nsize\t{}\nheader_end\t{}\n", index.size, index.header_end);
            if let Some(eof) = index.eof {
                let _ = writeln!(out, "eof\t{eof}");
            }
            for name in &index.contigs {
                let _ = writeln!(out, "contig\t{name}");
            }
            self.next_block = Some(0);
            return true;
        };
        let end = index.blocks.len().min(first + TEXT_BLOCKS);
        for (i, block) in index.blocks.iter().enumerate().take(end).skip(first) {
            let _ = writeln!(out, "block\t{}\t{}", block.offset, u8::from(block.cut));
            for r in index.records(i) {
                let _ = writeln!(out, "records\t{}\t{}\t{}", r.contig, r.first, r.last);
            }
        }
        self.next_block = Some(end);
        first < end
    }
}

impl Read for IndexText<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.pending.len() {
            if !self.refill() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Why a block index cannot serve a region, or cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error(
        "its BGZF blocks are not aligned to lines (it was compressed in fixed-size blocks, as bgzip 1.16 \
         does), so a region would need the whole file; export it whole, or re-compress it with \
         `bcftools view -Oz` before ingest"
    )]
    NotLineAligned,
    #[error("the block index is not text")]
    NotText,
    #[error("not an Øresund block index (version 1)")]
    NotAnIndex,
    #[error("block index line {line}: malformed")]
    Malformed { line: usize },
}

/// Which compressed bytes to hand over for a region: sorted, disjoint `start..end` spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub spans: Vec<(u64, u64)>,
    /// Blocks holding records that may overlap the region.
    pub blocks: usize,
}

impl BlockIndex {
    /// The byte spans of the file to hand over for `contig:start-end` (1-based, inclusive): the
    /// header blocks, every block from the last cut point before the first overlapping record to
    /// the first cut point after the last one, and the EOF block. Records near the region's ends
    /// may come along (as with htsget); every line is whole.
    pub fn select(&self, contig: &str, start: u64, end: u64) -> Result<Selection, IndexError> {
        let cut_after_header = self.blocks.iter().any(|b| b.cut && b.offset >= self.header_end && b.offset < self.size);
        if self.header_end >= self.eof.unwrap_or(self.size) || !cut_after_header {
            return Err(IndexError::NotLineAligned);
        }
        let mut spans = vec![(0, self.header_end)];
        let hits = self.overlapping(contig, start, end);
        if let (Some(&first), Some(&last)) = (hits.first(), hits.last()) {
            let run_start = self.blocks[..=first].iter().rev().find(|b| b.cut).map_or(0, |b| b.offset);
            let data_end = self.eof.unwrap_or(self.size);
            let run_end = self.blocks[last + 1..].iter().find(|b| b.cut).map_or(data_end, |b| b.offset);
            spans.push((run_start, run_end));
        }
        if let Some(eof) = self.eof {
            spans.push((eof, self.size));
        }
        Ok(Selection { spans: merge(spans), blocks: hits.len() })
    }

    /// The spans of the records that start in block `i`.
    pub fn records(&self, i: usize) -> &[RecordSpan] {
        let Some(block) = self.blocks.get(i) else { return &[] };
        let end = self.blocks.get(i + 1).map_or(self.spans.len(), |next| next.first_span as usize);
        self.spans.get(block.first_span as usize..end).unwrap_or_default()
    }

    /// The blocks holding records that may overlap `contig:start-end` (1-based, inclusive).
    pub fn overlapping(&self, contig: &str, start: u64, end: u64) -> Vec<usize> {
        let Some(wanted) = self.contigs.iter().position(|c| c == contig) else { return Vec::new() };
        (0..self.blocks.len())
            .filter(|&i| {
                self.records(i).iter().any(|r| r.contig as usize == wanted && r.first <= end && r.last >= start)
            })
            .collect()
    }

    /// Starts a block at `offset` (its spans follow with [`BlockIndex::push_span`]).
    fn push_block(&mut self, offset: u64, cut: bool) {
        // u32 spans: one a line start, so a file would need four billion lines to overflow.
        let first_span = u32::try_from(self.spans.len()).unwrap_or(u32::MAX);
        self.blocks.push(IndexedBlock { offset, cut, first_span });
    }

    /// Adds a span to the last block.
    fn push_span(&mut self, span: RecordSpan) {
        self.spans.push(span);
    }

    /// Serialises the index (a small text format; it is stored encrypted).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Reading from memory cannot fail.
        let _ = self.text().read_to_end(&mut out);
        out
    }

    /// The text of [`BlockIndex::to_bytes`] as a reader that writes a few blocks' lines at a time:
    /// at 20,000 samples the whole text is 3.5 MB (a VCF line a BGZF block), and building it
    /// at once beside the encryption's buffers set the ingest's peak memory.
    pub fn text(&self) -> IndexText<'_> {
        IndexText { index: self, next_block: None, pending: Vec::new(), at: 0 }
    }

    /// Parses [`BlockIndex::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IndexError> {
        let text = std::str::from_utf8(bytes).map_err(|_| IndexError::NotText)?;
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(IndexError::NotAnIndex);
        }
        let mut index = BlockIndex::default();
        for (n, line) in lines.enumerate() {
            let bad = || IndexError::Malformed { line: n + 2 };
            let fields: Vec<&str> = line.split('\t').collect();
            let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).ok_or_else(bad);
            match fields[0] {
                "size" => index.size = num(1)?,
                "header_end" => index.header_end = num(1)?,
                "eof" => index.eof = Some(num(1)?),
                "contig" => index.contigs.push(fields.get(1).ok_or_else(bad)?.to_string()),
                "block" => index.push_block(num(1)?, num(2)? == 1),
                "records" => {
                    let contig = u32::try_from(num(1)?).map_err(|_| bad())?;
                    if index.blocks.is_empty() {
                        return Err(bad());
                    }
                    index.push_span(RecordSpan { contig, first: num(2)?, last: num(3)? });
                }
                _ => return Err(bad()),
            }
        }
        Ok(index)
    }
}

/// Sorted, non-empty spans with overlapping ones joined.
pub(crate) fn merge<T: Ord + Copy>(mut spans: Vec<(T, T)>) -> Vec<(T, T)> {
    spans.retain(|(s, e)| s < e);
    spans.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The start of a VCF line, up to its REF column, collected from the pieces the line arrives in
/// (a line may span blocks): enough to say which positions the record covers.
#[derive(Debug, Default, Clone)]
pub(crate) struct LinePrefix {
    bytes: Vec<u8>,
    /// Tabs seen; collection stops at the 4th (after REF).
    tabs: usize,
}

/// What a line's prefix says: a `#` line, or a record's CHROM, POS and the last base its REF covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineStart<'a> {
    pub meta: bool,
    pub chrom: &'a [u8],
    /// POS, if it is a number.
    pub pos: Option<u64>,
    /// The last base REF covers; `u64::MAX` when REF was not seen whole (it may reach anywhere).
    pub last: u64,
}

impl LinePrefix {
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.tabs = 0;
    }

    /// Keeps the line's bytes up to the tab after REF (at most [`MAX_PREFIX`]).
    pub(crate) fn collect(&mut self, segment: &[u8]) {
        if self.tabs >= 4 || self.bytes.len() >= MAX_PREFIX {
            return;
        }
        let mut take = segment.len();
        for i in memchr::memchr_iter(b'\t', segment) {
            self.tabs += 1;
            if self.tabs == 4 {
                take = i;
                break;
            }
        }
        let room = MAX_PREFIX - self.bytes.len();
        self.bytes.extend_from_slice(&segment[..take.min(room)]);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn parse(&self) -> LineStart<'_> {
        let meta = self.bytes.first() == Some(&b'#');
        let mut fields = self.bytes.split(|b| *b == b'\t');
        let chrom = fields.next().unwrap_or_default();
        let pos = fields.next().and_then(|p| std::str::from_utf8(p).ok()).and_then(|p| p.parse::<u64>().ok());
        let last = match (pos, fields.nth(1)) {
            (Some(pos), Some(r)) if self.tabs >= 4 && !r.is_empty() => pos.saturating_add(r.len() as u64 - 1),
            _ => u64::MAX,
        };
        LineStart { meta, chrom, pos, last }
    }
}

/// The block index of a BGZF file as it is written, one whole block at a time (a withdrawal's
/// rewritten VCF).
pub(crate) struct WrittenIndex(IndexBuilder);

impl WrittenIndex {
    pub(crate) fn new() -> Self {
        WrittenIndex(IndexBuilder::new())
    }

    /// The block written at `offset` holds `data`, uncompressed.
    pub(crate) fn block(&mut self, offset: u64, data: &[u8]) {
        self.0.consume(offset, 0, data);
    }

    /// The index of the file, `size` bytes long and ending with `tail`.
    pub(crate) fn finish(self, size: u64, tail: &[u8]) -> BlockIndex {
        self.0.finish(size, tail)
    }
}

/// Builds a [`BlockIndex`] from the decompressed bytes as they are consumed, block by block.
#[derive(Debug, Default)]
struct IndexBuilder {
    index: BlockIndex,
    /// The next byte starts a line.
    at_line_start: bool,
    /// Block of the current line's first byte, and whether that byte is the block's first.
    line_block: u64,
    line_at_block_start: bool,
    /// The start of the current line, up to its REF column.
    prefix: LinePrefix,
    /// Where the first data line started: (block offset, at the block's first byte).
    first_data: Option<(u64, bool)>,
}

impl IndexBuilder {
    fn new() -> Self {
        IndexBuilder { at_line_start: true, ..Default::default() }
    }

    /// `bytes` were consumed from the block at `block`, from its uncompressed offset `within`.
    fn consume(&mut self, block: u64, within: usize, bytes: &[u8]) {
        let mut pos = 0;
        while pos < bytes.len() {
            if self.at_line_start {
                self.start_line(block, within + pos == 0);
            }
            let newline = memchr::memchr(b'\n', &bytes[pos..]).map(|i| pos + i);
            let end = newline.unwrap_or(bytes.len());
            self.prefix.collect(&bytes[pos..end]);
            match newline {
                Some(nl) => {
                    self.end_line();
                    pos = nl + 1;
                }
                None => pos = end,
            }
        }
    }

    fn start_line(&mut self, block: u64, at_block_start: bool) {
        self.at_line_start = false;
        self.line_block = block;
        self.line_at_block_start = at_block_start;
        self.prefix.clear();
        match self.index.blocks.last() {
            Some(last) if last.offset == block => {}
            _ => self.index.push_block(block, at_block_start),
        }
    }

    fn end_line(&mut self) {
        self.at_line_start = true;
        let line = self.prefix.parse();
        if self.prefix.is_empty() || line.meta {
            return;
        }
        if self.first_data.is_none() {
            self.first_data = Some((self.line_block, self.line_at_block_start));
        }
        let Some(pos) = line.pos else { return };
        let (chrom, last) = (line.chrom, line.last);
        let contig = contig_number(&mut self.index.contigs, chrom);
        let Some(first) = self.index.blocks.last().map(|b| b.first_span as usize) else { return };
        let spans = self.index.spans.get_mut(first..).unwrap_or_default();
        match spans.iter_mut().find(|r| r.contig == contig) {
            Some(span) => {
                span.first = span.first.min(pos);
                span.last = span.last.max(last);
            }
            None => self.index.push_span(RecordSpan { contig, first: pos, last }),
        }
    }

    /// The index of a file of `size` bytes ending with `tail`.
    fn finish(mut self, size: u64, tail: &[u8]) -> BlockIndex {
        self.index.size = size;
        self.index.eof = (tail == BGZF_EOF && size >= BGZF_EOF.len() as u64).then(|| size - BGZF_EOF.len() as u64);
        let data_end = self.index.eof.unwrap_or(size);
        self.index.header_end = match self.first_data {
            Some((block, true)) => block,
            Some((block, false)) => {
                self.index.blocks.iter().find(|b| b.cut && b.offset > block).map_or(data_end, |b| b.offset)
            }
            None => data_end,
        };
        self.index
    }
}

/// The number of a contig name, adding it when new.
fn contig_number(contigs: &mut Vec<String>, chrom: &[u8]) -> u32 {
    let name = String::from_utf8_lossy(chrom);
    match contigs.iter().position(|c| *c == name) {
        Some(i) => i as u32,
        None => {
            contigs.push(name.into_owned());
            (contigs.len() - 1) as u32
        }
    }
}

/// A BGZF reader that feeds an [`IndexBuilder`] with every byte its consumer takes.
pub struct IndexingReader<R: Read + Send + 'static> {
    inner: MultithreadedReader<R>,
    builder: Option<IndexBuilder>,
    /// Where the builder goes when the reader is dropped (its consumer owns the reader).
    done: Arc<Mutex<Option<IndexBuilder>>>,
    /// Block and offset of the bytes last returned by `fill_buf`.
    at: (u64, usize),
}

/// Collects the index once the [`IndexingReader`] is dropped.
pub struct PendingIndex {
    done: Arc<Mutex<Option<IndexBuilder>>>,
}

impl PendingIndex {
    /// The finished index of a file of `size` bytes whose last bytes are `tail`, once the reader
    /// has read everything and been dropped.
    pub fn finish(self, size: u64, tail: &[u8]) -> Option<BlockIndex> {
        let builder = self.done.lock().ok()?.take()?;
        Some(builder.finish(size, tail))
    }
}

impl<R: Read + Send + 'static> IndexingReader<R> {
    pub fn new(inner: MultithreadedReader<R>) -> (Self, PendingIndex) {
        let done = Arc::new(Mutex::new(None));
        let reader = IndexingReader { inner, builder: Some(IndexBuilder::new()), done: done.clone(), at: (0, 0) };
        (reader, PendingIndex { done })
    }
}

impl<R: Read + Send + 'static> Drop for IndexingReader<R> {
    fn drop(&mut self) {
        if let (Some(builder), Ok(mut slot)) = (self.builder.take(), self.done.lock()) {
            *slot = Some(builder);
        }
    }
}

impl<R: Read + Send + 'static> Read for IndexingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read + Send + 'static> BufRead for IndexingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let bytes = self.inner.fill_buf()?;
        if !bytes.is_empty() {
            // fill_buf returns the rest of one block, so this is where those bytes live.
            let (block, within) = self.inner.virtual_position().into();
            self.at = (block, usize::from(within));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let (Some(builder), Ok(bytes)) = (self.builder.as_mut(), self.inner.fill_buf()) {
            let amount = amount.min(bytes.len());
            builder.consume(self.at.0, self.at.1, &bytes[..amount]);
            self.at.1 += amount;
        }
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A VCF in BGZF, one block per `lines_per_block` lines (aligned) or cut every 300 bytes.
    fn bgzf(text: &str, aligned: bool) -> Vec<u8> {
        let mut writer = noodles_bgzf::io::Writer::new(Vec::new());
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if aligned {
            for chunk in lines.chunks(3) {
                writer.write_all(chunk.concat().as_bytes()).unwrap();
                writer.flush().unwrap();
            }
        } else {
            for chunk in text.as_bytes().chunks(300) {
                writer.write_all(chunk).unwrap();
                writer.flush().unwrap();
            }
        }
        writer.finish().unwrap()
    }

    fn vcf() -> String {
        let mut text = String::from("##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
        for pos in (100..2000).step_by(100) {
            text.push_str(&format!("22\t{pos}\t.\tACGT\tA\t.\t.\t.\n"));
        }
        for pos in (100..500).step_by(100) {
            text.push_str(&format!("X\t{pos}\t.\tA\tC\t.\t.\t.\n"));
        }
        text
    }

    fn index_of(file: &[u8]) -> (BlockIndex, String) {
        let (mut reader, pending) = IndexingReader::new(MultithreadedReader::new(io::Cursor::new(file.to_vec())));
        let mut text = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 {
            text.push_str(&line);
            line.clear();
        }
        drop(reader);
        (pending.finish(file.len() as u64, &file[file.len() - 28..]).unwrap(), text)
    }

    /// The decompressed text of the selected spans.
    fn extract(file: &[u8], selection: &Selection) -> String {
        let mut picked = Vec::new();
        for &(s, e) in &selection.spans {
            picked.extend_from_slice(&file[s as usize..e as usize]);
        }
        let mut text = String::new();
        noodles_bgzf::io::Reader::new(&picked[..]).read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn aligned_files_export_whole_lines_of_the_region() {
        let file = bgzf(&vcf(), true);
        let (index, text) = index_of(&file);
        assert_eq!(text, vcf(), "the reader passes every byte through");
        assert_eq!(index.contigs, ["22", "X"]);
        assert_eq!(index.eof, Some(file.len() as u64 - 28));
        assert_eq!(BlockIndex::from_bytes(&index.to_bytes()).unwrap(), index);

        let selection = index.select("22", 502, 700).unwrap();
        let out = extract(&file, &selection);
        let records: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(out.starts_with("##fileformat=VCFv4.3\n#CHROM"), "{out}");
        // 500 overlaps 502 (ACGT covers 500-503); every record in the region is there, whole.
        for pos in [500, 600, 700] {
            assert!(records.contains(&format!("22\t{pos}\t.\tACGT\tA\t.\t.\t.").as_str()), "{pos} missing: {out}");
        }
        assert!(records.len() < 10, "only nearby records come along: {}", records.len());
        assert!(records.iter().all(|r| r.split('\t').count() == 8));

        let none = index.select("22", 5000, 6000).unwrap();
        // Only the record that shares the header's last block comes along.
        assert_eq!(extract(&file, &none).lines().filter(|l| !l.starts_with('#')).count(), 1);
        let other = index.select("X", 1, 150).unwrap();
        assert!(extract(&file, &other).contains("X\t100\t"));
        assert_eq!(index.select("7", 1, 100).unwrap().blocks, 0);
    }

    #[test]
    fn each_block_keeps_its_own_spans() {
        let text = format!(
            "{MAGIC}\nsize\t900\nheader_end\t100\ncontig\t22\ncontig\tX\nblock\t0\t1\nblock\t100\t1\n\
             records\t0\t10\t20\nrecords\t1\t5\t7\nblock\t400\t0\nblock\t700\t1\nrecords\t0\t30\t40\n"
        );
        let index = BlockIndex::from_bytes(text.as_bytes()).unwrap();
        let span = |contig, first, last| RecordSpan { contig, first, last };
        assert_eq!(index.records(0), []);
        assert_eq!(index.records(1), [span(0, 10, 20), span(1, 5, 7)]);
        assert_eq!(index.records(2), []);
        assert_eq!(index.records(3), [span(0, 30, 40)]);
        assert_eq!(index.records(4), [], "past the last block");
        assert_eq!(index.overlapping("22", 15, 35), [1, 3]);
        assert_eq!(index.overlapping("X", 1, 5), [1]);
        assert_eq!(index.to_bytes(), text.as_bytes());
        let orphan = format!("{MAGIC}\nsize\t900\nrecords\t0\t10\t20\n");
        assert_eq!(BlockIndex::from_bytes(orphan.as_bytes()), Err(IndexError::Malformed { line: 3 }));
    }

    #[test]
    fn the_text_reads_the_same_in_any_piece_size() {
        // Several parts of TEXT_BLOCKS blocks, blocks with no, one and two spans, and the EOF line.
        let mut text = format!("{MAGIC}\nsize\t9000000\nheader_end\t100\neof\t8999972\ncontig\t22\ncontig\tX\n");
        for i in 0..(2 * TEXT_BLOCKS + 77) as u64 {
            text.push_str(&format!("block\t{}\t{}\n", 100 + 3000 * i, u8::from(i % 3 != 1)));
            for k in 0..i % 3 {
                text.push_str(&format!("records\t{}\t{}\t{}\n", k, 10 * i + k, 10 * i + k + 4));
            }
        }
        let index = BlockIndex::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(index.blocks.len(), 2 * TEXT_BLOCKS + 77);
        for piece in [1, 7, 4096, 1 << 20] {
            let mut reader = index.text();
            let mut out = Vec::new();
            let mut buf = vec![0; piece];
            loop {
                let n = reader.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                assert!(n <= piece);
                out.extend_from_slice(&buf[..n]);
            }
            assert!(out == text.as_bytes(), "read {piece} bytes at a time");
        }
        assert_eq!(BlockIndex::from_bytes(&BlockIndex::default().to_bytes()).unwrap(), BlockIndex::default());
    }

    #[test]
    fn unaligned_files_are_refused() {
        let file = bgzf(&vcf(), false);
        let (index, text) = index_of(&file);
        assert_eq!(text, vcf());
        assert_eq!(index.select("22", 1, 1000), Err(IndexError::NotLineAligned));
    }
}
