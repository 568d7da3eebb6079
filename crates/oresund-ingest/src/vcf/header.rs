//! The VCF header: meta-information lines and the `#CHROM` line (VCF 4.3 §1.4 and §1.5).

/// `##contig=<ID=...,length=...>` (VCF 4.3 §1.4.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderContig {
    pub id: String,
    pub length: Option<u64>,
    /// Line of the header where it was declared (1-based).
    pub line: usize,
}

/// What the ingest needs from a VCF header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub file_format: String,
    pub contigs: Vec<HeaderContig>,
    /// Sample column names, in column order.
    pub samples: Vec<String>,
    /// Number of header lines; the first record is on line `lines + 1`.
    pub lines: usize,
}

/// A header rule the file broke. Messages quote the VCF 4.3 rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("a VCF must start with ##fileformat=VCFv4.x (VCF 4.3 §1.4.1), found {0:?}")]
    FileFormat(String),
    #[error(
        "this is an individuals file (its header names local_id), not a VCF: were the VCF and --individuals swapped?"
    )]
    IndividualsFile,
    #[error("malformed ##contig line (VCF 4.3 §1.4.7: ##contig=<ID=name,length=n>)")]
    Contig { line: usize },
    #[error(
        "line {line}: the #CHROM line must have the eight fixed columns, then FORMAT and sample columns (VCF 4.3 §1.5)"
    )]
    ColumnHeader { line: usize },
    #[error("the file has no sample columns; Øresund ingests genotypes")]
    NoSamples { line: usize },
    #[error(
        "sample column {column} has the same name as sample column {first} (VCF 4.3 §1.5: sample names must be unique)"
    )]
    DuplicateSample { line: usize, column: usize, first: usize },
    #[error("sample column {column} has an empty name")]
    EmptySample { line: usize, column: usize },
    #[error("the file ended before the #CHROM header line")]
    Truncated,
    #[error("the header line is longer than {limit}, more than any VCF header needs: is this a VCF?")]
    LineTooLong { line: usize, limit: String },
}

impl HeaderError {
    /// The 1-based line the error is about (0 when the file ended early).
    pub fn line(&self) -> usize {
        match self {
            HeaderError::FileFormat(_) | HeaderError::IndividualsFile => 1,
            HeaderError::Contig { line }
            | HeaderError::ColumnHeader { line }
            | HeaderError::NoSamples { line }
            | HeaderError::DuplicateSample { line, .. }
            | HeaderError::EmptySample { line, .. }
            | HeaderError::LineTooLong { line, .. } => *line,
            HeaderError::Truncated => 0,
        }
    }
}

const FIXED: [&str; 9] = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"];

/// Incremental header parser: feed lines until it returns `Ok(true)` (the `#CHROM` line was seen).
#[derive(Debug, Default)]
pub struct HeaderParser {
    header: Header,
}

impl HeaderParser {
    /// Feeds one header line (without its newline). Returns true once the header is complete.
    pub fn push(&mut self, line: &str) -> Result<bool, HeaderError> {
        self.header.lines += 1;
        let n = self.header.lines;
        if n == 1 {
            if line.trim_start_matches('\u{feff}').starts_with("local_id") {
                return Err(HeaderError::IndividualsFile);
            }
            let format = line.strip_prefix("##fileformat=").filter(|f| f.starts_with("VCFv4"));
            let format = format.ok_or_else(|| HeaderError::FileFormat(line.chars().take(40).collect()))?;
            self.header.file_format = format.to_string();
            return Ok(false);
        }
        if let Some(body) = line.strip_prefix("##contig=") {
            self.header.contigs.push(parse_contig(body, n)?);
            return Ok(false);
        }
        if line.starts_with("##") {
            return Ok(false);
        }
        if !line.starts_with("#CHROM") {
            return Err(HeaderError::ColumnHeader { line: n });
        }
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() < 8 || columns.iter().zip(FIXED).any(|(c, f)| *c != f) {
            return Err(HeaderError::ColumnHeader { line: n });
        }
        if columns.len() <= 9 {
            return Err(HeaderError::NoSamples { line: n });
        }
        let mut seen = std::collections::HashMap::new();
        for (i, name) in columns[9..].iter().enumerate() {
            if name.trim().is_empty() {
                return Err(HeaderError::EmptySample { line: n, column: i + 1 });
            }
            if let Some(first) = seen.insert(*name, i + 1) {
                return Err(HeaderError::DuplicateSample { line: n, column: i + 1, first });
            }
        }
        self.header.samples = columns[9..].iter().map(|s| s.to_string()).collect();
        Ok(true)
    }

    /// Header lines fed so far.
    pub fn lines(&self) -> usize {
        self.header.lines
    }

    pub fn finish(self) -> Header {
        self.header
    }
}

fn parse_contig(body: &str, line: usize) -> Result<HeaderContig, HeaderError> {
    let inner = body.strip_prefix('<').and_then(|b| b.strip_suffix('>')).ok_or(HeaderError::Contig { line })?;
    let mut id = None;
    let mut length = None;
    for field in split_structured(inner) {
        let (key, value) = field.split_once('=').ok_or(HeaderError::Contig { line })?;
        match key {
            "ID" => id = Some(value.to_string()),
            "length" => length = Some(value.parse::<u64>().map_err(|_| HeaderError::Contig { line })?),
            _ => {}
        }
    }
    Ok(HeaderContig { id: id.ok_or(HeaderError::Contig { line })?, length, line })
}

/// Splits `ID=x,Description="a, b"` on commas outside quotes (inside them, `\"` is a quote).
pub(crate) fn split_structured(inner: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                fields.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(&inner[start..]);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Header, HeaderError> {
        let mut parser = HeaderParser::default();
        for line in text.lines() {
            if parser.push(line)? {
                return Ok(parser.finish());
            }
        }
        Err(HeaderError::Truncated)
    }

    #[test]
    fn reads_contigs_and_samples() {
        let h = parse(
            "##fileformat=VCFv4.3\n##contig=<ID=22,length=17999999,assembly=\"GRCh38, synthetic\">\n##contig=<ID=X>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\n",
        )
        .unwrap();
        assert_eq!(h.contigs[0], HeaderContig { id: "22".into(), length: Some(17999999), line: 2 });
        assert_eq!(h.contigs[1].length, None);
        assert_eq!(h.samples, ["s1", "s2"]);
        assert_eq!(h.lines, 4);
    }

    #[test]
    fn rejects_broken_headers() {
        assert!(matches!(parse("#CHROM\tPOS\n"), Err(HeaderError::FileFormat(_))));
        let dup = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\ta\n";
        assert_eq!(parse(dup), Err(HeaderError::DuplicateSample { line: 2, column: 3, first: 1 }));
        let none = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
        assert_eq!(parse(none), Err(HeaderError::NoSamples { line: 2 }));
        let contig = "##fileformat=VCFv4.2\n##contig=<length=5>\n";
        assert_eq!(parse(contig), Err(HeaderError::Contig { line: 2 }));
        assert_eq!(parse("##fileformat=VCFv4.2\n"), Err(HeaderError::Truncated));
    }
}
