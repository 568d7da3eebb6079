//! Reading a VCF (plain, gzip or BGZF) record by record, keeping line numbers for messages.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::header::{Header, HeaderError, HeaderParser};
use crate::line::{LineRead, describe_size, read_line_capped};

/// The longest meta-information line (`##…`) read. Real ones are a few KB at most.
pub const MAX_META_LINE: usize = 1 << 20;
/// The longest `#CHROM` line: room for the names of a few million people.
pub const MAX_COLUMN_LINE: usize = 64 << 20;
/// A record may use this much for its fixed columns (a long INFO included) …
pub const MAX_RECORD_FIXED: usize = 4 << 20;
/// … and this much for each sample column (`GT:AD:DP:GQ:PL` of a multi-allelic site fits).
pub const MAX_RECORD_PER_SAMPLE: usize = 1 << 10;

/// A problem in a VCF, with where it is.
#[derive(Debug, thiserror::Error)]
pub enum VcfError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}:{}: {error}", path.display(), error.line())]
    Header { path: PathBuf, error: HeaderError },
    #[error("{}:{line}: {message}", path.display())]
    Record { path: PathBuf, line: usize, message: String },
}

/// One data line, borrowed from the reader's buffer: the eight fixed columns that matter and the
/// raw sample columns.
#[derive(Debug)]
pub struct Record<'a> {
    /// 1-based line number in the (decompressed) file.
    pub line: usize,
    pub chrom: &'a str,
    /// 1-based.
    pub pos: u64,
    pub reference: &'a [u8],
    /// The ALT column, comma-separated; `.` when there is no ALT allele.
    pub alternates: &'a [u8],
    pub format: &'a [u8],
    /// Everything after the FORMAT column.
    pub samples: &'a [u8],
}

pub struct VcfReader {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    header: Header,
    line: usize,
    buf: Vec<u8>,
    /// The longest data line accepted, from the number of samples.
    max_record: usize,
}

impl VcfReader {
    /// Opens a VCF and reads its header. `progress` gets the compressed bytes read so far.
    pub fn open(path: &Path, progress: impl FnMut(u64) + Send + 'static) -> Result<Self, VcfError> {
        let io_error = |source| VcfError::Io { path: path.to_path_buf(), error: source };
        let input = crate::input::open_with_progress(path, progress).map_err(io_error)?;
        Self::from_reader(path, Box::new(crate::input::buffered(input)))
    }

    /// Reads the header from an already opened stream; `path` is only used in messages.
    pub fn from_reader(path: &Path, mut input: Box<dyn BufRead + Send>) -> Result<Self, VcfError> {
        let mut parser = HeaderParser::default();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let io_error = |source| VcfError::Io { path: path.into(), error: source };
            let mut read = read_line_capped(&mut input, &mut buf, MAX_META_LINE).map_err(io_error)?;
            if read == LineRead::TooLong && buf.starts_with(b"#CHROM") {
                read = read_line_capped(&mut input, &mut buf, MAX_COLUMN_LINE).map_err(io_error)?;
            }
            match read {
                LineRead::End => return Err(VcfError::Header { path: path.into(), error: HeaderError::Truncated }),
                LineRead::TooLong => {
                    let limit = if buf.starts_with(b"#CHROM") { MAX_COLUMN_LINE } else { MAX_META_LINE };
                    let error = HeaderError::LineTooLong { line: parser.lines() + 1, limit: describe_size(limit) };
                    return Err(VcfError::Header { path: path.into(), error });
                }
                LineRead::Line => {}
            }
            let line = String::from_utf8_lossy(trim_newline(&buf)).into_owned();
            match parser.push(&line) {
                Ok(true) => break,
                Ok(false) => {}
                Err(error) => {
                    return Err(VcfError::Header { path: path.into(), error });
                }
            }
        }
        let header = parser.finish();
        let max_record = MAX_RECORD_FIXED.saturating_add(MAX_RECORD_PER_SAMPLE.saturating_mul(header.samples.len()));
        Ok(Self { path: path.to_path_buf(), input, line: header.lines, header, buf, max_record })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An error at a line of this file.
    pub fn error_at(&self, line: usize, message: impl Into<String>) -> VcfError {
        VcfError::Record { path: self.path.clone(), line, message: message.into() }
    }

    /// The next data line, or `None` at the end of the file. Blank lines are skipped.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, VcfError> {
        loop {
            self.buf.clear();
            let read = read_line_capped(&mut self.input, &mut self.buf, self.max_record).map_err(|source| {
                // A compressed stream that stops mid-block says only "failed to fill whole buffer".
                let line = self.line + 1;
                let message = match source.kind() {
                    std::io::ErrorKind::UnexpectedEof => {
                        format!("the file is truncated: its compressed data ends in the middle of a block ({source})")
                    }
                    _ => format!("reading failed: {source}"),
                };
                VcfError::Record { path: self.path.clone(), line, message }
            })?;
            if read == LineRead::End {
                return Ok(None);
            }
            self.line += 1;
            if read == LineRead::TooLong {
                let message = format!(
                    "the line is longer than {} bytes, the most a record with {} samples may take \
                     ({} for the fixed columns and INFO, {} per sample)",
                    self.max_record,
                    self.header.samples.len(),
                    describe_size(MAX_RECORD_FIXED),
                    describe_size(MAX_RECORD_PER_SAMPLE)
                );
                return Err(self.error_at(self.line, message));
            }
            if !trim_newline(&self.buf).is_empty() {
                break;
            }
        }
        let line = self.line;
        let fail = |message: String| VcfError::Record { path: self.path.clone(), line, message };
        let text = trim_newline(&self.buf);
        let mut fields = text.splitn(10, |b| *b == b'\t');
        let mut next = |name: &str| {
            fields.next().ok_or_else(|| {
                fail(format!("the line ends before the {name} column (VCF 4.3 §1.6: 8 fixed columns, FORMAT, samples)"))
            })
        };
        let chrom = next("CHROM")?;
        let pos = next("POS")?;
        let _id = next("ID")?;
        let reference = next("REF")?;
        let alternates = next("ALT")?;
        let _qual = next("QUAL")?;
        let _filter = next("FILTER")?;
        let _info = next("INFO")?;
        let format = next("FORMAT")?;
        let samples = next("sample")?;
        let chrom = std::str::from_utf8(chrom).map_err(|_| fail("CHROM is not UTF-8".into()))?;
        let pos = std::str::from_utf8(pos)
            .ok()
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| fail(format!("POS {:?} is not a positive integer", String::from_utf8_lossy(pos))))?;
        if reference.is_empty() || alternates.is_empty() {
            return Err(fail("REF and ALT must not be empty (use . for no ALT)".into()));
        }
        Ok(Some(Record { line, chrom, pos, reference, alternates, format, samples }))
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> Result<VcfReader, VcfError> {
        VcfReader::from_reader(Path::new("t.vcf"), Box::new(std::io::Cursor::new(text.as_bytes().to_vec())))
    }

    const HEADER: &str = "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\n";

    #[test]
    fn reads_records_with_line_numbers() {
        let mut r = reader(&format!(
            "{HEADER}22\t5\t.\tA\tC,G\t.\tPASS\t.\tGT\t0/1\t1/2\n\n22\t9\t.\tT\t.\t.\t.\t.\tGT:DP\t0/0:3\t./.:0\r\n"
        ))
        .unwrap();
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!((rec.line, rec.chrom, rec.pos, rec.reference, rec.alternates), (3, "22", 5, &b"A"[..], &b"C,G"[..]));
        assert_eq!(rec.samples, b"0/1\t1/2");
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!((rec.line, rec.samples), (5, &b"0/0:3\t./.:0"[..]));
        assert!(r.next_record().unwrap().is_none());
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let mut r = reader(&format!("{HEADER}22\tx\t.\tA\tC\t.\t.\t.\tGT\t0/1\t0/0\n")).unwrap();
        assert_eq!(r.next_record().unwrap_err().to_string(), "t.vcf:3: POS \"x\" is not a positive integer");
        let mut r = reader(&format!("{HEADER}22\t5\t.\tA\tC\n")).unwrap();
        assert!(r.next_record().unwrap_err().to_string().starts_with("t.vcf:3: the line ends before the QUAL column"));
        assert!(matches!(
            reader("##fileformat=VCFv4.3\n"),
            Err(VcfError::Header { error: HeaderError::Truncated, .. })
        ));
    }

    #[test]
    fn overlong_lines_are_refused_with_their_line_number() {
        let long_meta = format!("##fileformat=VCFv4.3\n##comment={}\n{HEADER}", "x".repeat(MAX_META_LINE));
        let error = reader(&long_meta).err().unwrap();
        assert!(matches!(&error, VcfError::Header { error: HeaderError::LineTooLong { line: 2, .. }, .. }), "{error}");
        assert_eq!(
            error.to_string(),
            "t.vcf:2: the header line is longer than 1 MiB, more than any VCF header needs: is this a VCF?"
        );
        // A #CHROM line may be longer: it names every sample.
        let names: Vec<String> = (0..200_000).map(|i| format!("sample{i}")).collect();
        let wide = format!(
            "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{}\n",
            names.join("\t")
        );
        assert!(wide.len() > MAX_META_LINE);
        assert_eq!(reader(&wide).unwrap().header().samples.len(), 200_000);
        // Two samples: 4 MiB + 2 KiB for a record; an INFO of 5 MiB is refused at its line.
        let info = "A".repeat(5 << 20);
        let mut r = reader(&format!("{HEADER}22\t5\t.\tA\tC\t.\t.\tX={info}\tGT\t0/1\t0/0\n")).unwrap();
        let message = r.next_record().unwrap_err().to_string();
        assert!(
            message.starts_with("t.vcf:3: the line is longer than 4196352 bytes, the most a record with 2 samples"),
            "{message}"
        );
        let fits = "A".repeat(4 << 20);
        let mut r = reader(&format!("{HEADER}22\t5\t.\tA\tC\t.\t.\tX={fits}\tGT\t0/1\t0/0\n")).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().samples, b"0/1\t0/0");
    }
}
