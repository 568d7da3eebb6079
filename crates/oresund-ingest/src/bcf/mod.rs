//! BCF (VCF v4.3 §6, "BCF specification") read as the VCF text `bcftools view` prints for it,
//! so that everything after — normalisation, counting, the archived copy researchers receive, a
//! withdrawal's rewrite — handles one format. [`BcfText`] is a `Read` of that text, record by
//! record, in constant memory.
//!
//! The text is byte-identical to `bcftools view --no-version` (htslib 1.16): tested against it on
//! the demo cohorts and on a fixture with every value type.

mod float;
mod header;
mod typed;

use std::io::{self, Read};

use header::BcfHeader;
use typed::{Cursor, Kind, push_array, push_genotype};

use crate::vcf::reader::{MAX_RECORD_FIXED, MAX_RECORD_PER_SAMPLE};

/// The first bytes of a decompressed BCF: `BCF`, major version 2.
const MAGIC: &[u8; 4] = b"BCF\x02";

/// Whether decompressed bytes starting with `head` are a BCF.
fn is_bcf(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// Most bytes of header text accepted (a real one is well under a megabyte; the cap keeps a
/// damaged length from allocating gigabytes).
const MAX_HEADER: u32 = 64 << 20;

/// Why a BCF could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BcfError {
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
    #[error("not a BCF file (it does not start with \"BCF\\2\")")]
    NotBcf,
    #[error("BCF version 2.{0} is not read here (2.1 and 2.2 are)")]
    Version(u8),
    #[error("header: {0}")]
    Header(String),
    #[error("record {record}: {message}")]
    Record { record: u64, message: String },
}

impl BcfError {
    /// The error a [`BcfText`] read failed with (its `io::Error` carries it), else the I/O error.
    pub fn from_io(error: io::Error) -> Self {
        if !error.get_ref().is_some_and(|inner| inner.is::<BcfError>()) {
            return BcfError::Io(error);
        }
        match error.into_inner().map(|inner| inner.downcast::<BcfError>()) {
            Some(Ok(bcf)) => *bcf,
            _ => BcfError::Io(io::Error::other("a BCF error that could not be recovered")),
        }
    }
}

/// Whether the file at `path` (plain, gzip or BGZF) is a BCF, from its first decompressed bytes.
pub fn is_bcf_file(path: &std::path::Path) -> io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let mut head = Vec::with_capacity(MAGIC.len());
    match crate::input::sniff(&mut file)? {
        crate::input::Compression::None => file.take(MAGIC.len() as u64).read_to_end(&mut head)?,
        _ => match flate2::read::MultiGzDecoder::new(file).take(MAGIC.len() as u64).read_to_end(&mut head) {
            Ok(n) => n,
            // Not gzip after all, or damaged: the VCF reader says what is wrong.
            Err(_) => return Ok(false),
        },
    };
    Ok(is_bcf(&head))
}

/// A BCF's records as VCF lines.
pub struct BcfReader<R> {
    input: R,
    header: BcfHeader,
    /// Records read so far (1-based number of the last one).
    record: u64,
    shared: Vec<u8>,
    samples: Vec<u8>,
}

impl<R: Read> BcfReader<R> {
    /// Reads the magic and header of a decompressed BCF stream.
    pub fn new(mut input: R) -> Result<Self, BcfError> {
        let mut magic = [0u8; 5];
        input.read_exact(&mut magic).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => BcfError::NotBcf,
            _ => BcfError::Io(e),
        })?;
        if !is_bcf(&magic) {
            return Err(BcfError::NotBcf);
        }
        if !matches!(magic[4], 1 | 2) {
            return Err(BcfError::Version(magic[4]));
        }
        let length = read_u32(&mut input)?.ok_or_else(|| BcfError::Header("the file ends before the header".into()))?;
        if length > MAX_HEADER {
            return Err(BcfError::Header(format!("{length} bytes of header text, more than {MAX_HEADER} are refused")));
        }
        let mut text = Vec::new();
        if (&mut input).take(length.into()).read_to_end(&mut text)? < length as usize {
            return Err(BcfError::Header("the file ends inside the header".into()));
        }
        let header = BcfHeader::parse(&text).map_err(BcfError::Header)?;
        Ok(BcfReader { input, header, record: 0, shared: Vec::new(), samples: Vec::new() })
    }

    /// Appends the next record as one VCF line (with its newline) to `out`; `false` at the end.
    pub fn next_line(&mut self, out: &mut Vec<u8>) -> Result<bool, BcfError> {
        let Some(shared) = read_u32(&mut self.input)? else {
            return Ok(false);
        };
        self.record += 1;
        let record = self.record;
        let fail = |message: String| BcfError::Record { record, message };
        let samples = match read_u32(&mut self.input) {
            Ok(Some(samples)) => samples,
            Ok(None) => return Err(fail("the file ends inside the record".into())),
            Err(BcfError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(fail("the file ends inside the record".into()));
            }
            Err(other) => return Err(other),
        };
        // The VCF reader's limit for a line of this many samples; the binary form is shorter.
        let limit = MAX_RECORD_FIXED as u64 + MAX_RECORD_PER_SAMPLE as u64 * self.header.samples as u64;
        let length = u64::from(shared) + u64::from(samples);
        if length > limit {
            return Err(fail(format!("{length} bytes long, more than the {limit} accepted for its samples")));
        }
        for (buffer, length) in [(&mut self.shared, shared), (&mut self.samples, samples)] {
            // Grown as bytes arrive: a damaged length meets the end of the file, not the allocator.
            buffer.clear();
            let read = (&mut self.input).take(length.into()).read_to_end(buffer)?;
            if read < length as usize {
                return Err(fail("the file ends inside the record".into()));
            }
        }
        let start = out.len();
        format_record(&self.header, &self.shared, &self.samples, out).map_err(|message| {
            out.truncate(start);
            fail(message)
        })?;
        Ok(true)
    }
}

/// Reads a little-endian u32; `None` at a clean end of input.
fn read_u32(input: &mut impl Read) -> Result<Option<u32>, BcfError> {
    let mut bytes = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        match input.read(&mut bytes[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file ends inside a record").into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(u32::from_le_bytes(bytes)))
}

/// One record as a VCF line (htslib's `vcf_format`): the shared part (§6.3.1) gives the eight
/// fixed columns, the per-sample part (§6.3.2) FORMAT and the sample columns.
fn format_record(header: &BcfHeader, shared: &[u8], samples: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut c = Cursor::new(shared);
    let (chrom, pos, _rlen, qual) = (c.i32()?, c.i32()?, c.i32()?, c.u32()?);
    let allele_info = c.u32()?;
    let (n_allele, n_info) = ((allele_info >> 16) as usize, (allele_info & 0xffff) as usize);
    let format_sample = c.u32()?;
    let (n_format, n_sample) = ((format_sample >> 24) as usize, (format_sample & 0x00ff_ffff) as usize);
    if n_sample != header.samples {
        return Err(format!("{n_sample} samples, the header has {}", header.samples));
    }
    let contig = header.contig(chrom.into()).ok_or_else(|| format!("contig {chrom} is not in the header"))?;
    if pos < 0 {
        return Err(format!("position {pos} is negative"));
    }
    out.extend_from_slice(contig.as_bytes());
    out.push(b'\t');
    typed::push_int(out, i64::from(pos) + 1);
    out.push(b'\t');
    let id = c.typed()?;
    push_or_dot(out, id.string()?);
    let mut alleles = Vec::with_capacity(n_allele);
    for _ in 0..n_allele {
        alleles.push(c.typed()?.string()?);
    }
    out.push(b'\t');
    push_or_dot(out, alleles.first().copied().unwrap_or_default());
    out.push(b'\t');
    if alleles.len() > 1 {
        out.extend_from_slice(&alleles[1..].join(&b','));
    } else {
        out.push(b'.');
    }
    out.push(b'\t');
    if qual == 0x7F80_0001 {
        out.push(b'.');
    } else {
        float::push_float(out, f32::from_bits(qual).into());
    }
    out.push(b'\t');
    let filters = c.typed()?.integers()?;
    if filters.is_empty() {
        out.push(b'.');
    }
    for (i, &filter) in filters.iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        out.extend_from_slice(key(header, filter, "FILTER")?.as_bytes());
    }
    out.push(b'\t');
    if n_info == 0 {
        out.push(b'.');
    }
    for i in 0..n_info {
        if i > 0 {
            out.push(b';');
        }
        let name = key(header, c.integer()?, "INFO")?;
        out.extend_from_slice(name.as_bytes());
        c.typed()?.push_info(out);
    }
    if n_sample > 0 {
        format_samples(header, samples, n_format, n_sample, out)?;
    }
    out.push(b'\n');
    Ok(())
}

/// FORMAT and the sample columns: the per-sample part holds, for each FORMAT key, one typed
/// descriptor and then every sample's values of that width.
fn format_samples(
    header: &BcfHeader,
    bytes: &[u8],
    n_format: usize,
    n_sample: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    if n_format == 0 {
        for _ in 0..=n_sample {
            out.extend_from_slice(b"\t.");
        }
        return Ok(());
    }
    let mut c = Cursor::new(bytes);
    let mut fields: Vec<(bool, Kind, usize, &[u8])> = Vec::with_capacity(n_format);
    out.push(b'\t');
    for i in 0..n_format {
        let name = key(header, c.integer()?, "FORMAT")?;
        let (kind, count) = c.descriptor()?;
        let width = count.checked_mul(kind.width()).ok_or("a FORMAT vector too long to hold")?;
        let values = c.take(width.checked_mul(n_sample).ok_or("a FORMAT field too long to hold")?)?;
        if i > 0 {
            out.push(b':');
        }
        out.extend_from_slice(name.as_bytes());
        fields.push((name == "GT", kind, count, values));
    }
    if let [(true, Kind::Int8, 2, values)] = fields[..] {
        // GT alone, diploid, one byte an allele: most of a cohort's bytes.
        typed::push_diploid_column(out, values);
        return Ok(());
    }
    for sample in 0..n_sample {
        out.push(b'\t');
        for (i, &(genotype, kind, count, values)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b':');
            }
            let width = count * kind.width();
            let mine = &values[sample * width..(sample + 1) * width];
            if genotype {
                push_genotype(out, kind, count, mine);
            } else {
                push_array(out, kind, count, mine);
            }
        }
    }
    Ok(())
}

/// The dictionary ID a record names for `what`.
fn key<'h>(header: &'h BcfHeader, index: i64, what: &str) -> Result<&'h str, String> {
    header.string(index).ok_or_else(|| format!("{what} key {index} is not in the header's dictionary"))
}

fn push_or_dot(out: &mut Vec<u8>, text: &[u8]) {
    if text.is_empty() {
        out.push(b'.');
    } else {
        out.extend_from_slice(text);
    }
}

/// A BCF as VCF text: the header, then one line per record. Errors surface from `read` as
/// `InvalidData` carrying the [`BcfError`] (see [`BcfError::from_io`]).
pub struct BcfText<R> {
    reader: BcfReader<R>,
    buffer: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> BcfText<R> {
    pub fn new(input: R) -> Result<Self, BcfError> {
        let reader = BcfReader::new(input)?;
        let buffer = reader.header.text.clone();
        Ok(BcfText { reader, buffer, at: 0, done: false })
    }
}

impl<R: Read> Read for BcfText<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.buffer.len() && !self.done {
            self.buffer.clear();
            self.at = 0;
            // Lines are gathered up to 64 KiB, not handed out one by one.
            while self.buffer.len() < 1 << 16 {
                match self.reader.next_line(&mut self.buffer) {
                    Ok(true) => {}
                    Ok(false) => {
                        self.done = true;
                        break;
                    }
                    Err(BcfError::Io(e)) => return Err(e),
                    Err(other) => return Err(io::Error::new(io::ErrorKind::InvalidData, other)),
                }
            }
        }
        let n = buf.len().min(self.buffer.len() - self.at);
        buf[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
