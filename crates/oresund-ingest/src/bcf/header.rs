//! A BCF's header: the VCF header text it carries, and the two dictionaries its records index
//! into (VCF v4.3 §6.2.1): strings — the IDs of FILTER, INFO and FORMAT lines, `PASS` first — and
//! contigs, each in order of appearance unless a line gives its own `IDX`.

use std::collections::HashMap;

use crate::vcf::header::split_structured;

/// The dictionaries and the header as VCF text.
#[derive(Debug, Default)]
pub struct BcfHeader {
    /// The header as `bcftools view` prints it: the BCF's text without the `IDX` attributes.
    pub text: Vec<u8>,
    /// Dictionary of strings: index → ID.
    pub strings: Vec<Option<String>>,
    /// Dictionary of contigs: index → name.
    pub contigs: Vec<Option<String>>,
    /// Sample columns.
    pub samples: usize,
}

impl BcfHeader {
    /// Reads the header text of a BCF (up to its terminating NUL). Errors give the line.
    pub fn parse(raw: &[u8]) -> Result<Self, String> {
        let raw = raw.split(|&b| b == 0).next().unwrap_or_default();
        let text = std::str::from_utf8(raw).map_err(|e| format!("the header text is not UTF-8 ({e})"))?;
        let mut header = BcfHeader::default();
        let mut strings: HashMap<String, usize> = HashMap::new();
        put(&mut header.strings, &mut strings, "PASS", Some(0));
        let mut contigs: HashMap<String, usize> = HashMap::new();
        let mut saw_columns = false;
        for (number, line) in text.lines().enumerate() {
            let line_error = |message: String| format!("header line {}: {message}", number + 1);
            if line.starts_with("#CHROM") {
                // Eight fixed columns, FORMAT, then the samples.
                header.samples = line.split('\t').count().saturating_sub(9);
                header.text.extend_from_slice(line.as_bytes());
                header.text.push(b'\n');
                saw_columns = true;
                break;
            }
            let dictionary = ["##FILTER=<", "##INFO=<", "##FORMAT=<", "##contig=<"]
                .iter()
                .find_map(|prefix| line.strip_prefix(prefix).map(|rest| (*prefix, rest)));
            let Some((prefix, rest)) = dictionary else {
                header.text.extend_from_slice(line.as_bytes());
                header.text.push(b'\n');
                continue;
            };
            let inner =
                rest.strip_suffix('>').ok_or_else(|| line_error("a structured line must end with '>'".into()))?;
            let id = attribute(inner, "ID").ok_or_else(|| line_error("no ID".into()))?;
            let idx = match attribute(inner, "IDX") {
                Some(v) => {
                    Some(v.parse::<usize>().map_err(|_| line_error(format!("IDX={v} is not a dictionary index")))?)
                }
                None => None,
            };
            if prefix == "##contig=<" {
                put(&mut header.contigs, &mut contigs, id, idx);
            } else {
                put(&mut header.strings, &mut strings, id, idx);
            }
            header.text.extend_from_slice(prefix.as_bytes());
            header.text.extend_from_slice(without_idx(inner).as_bytes());
            header.text.extend_from_slice(b">\n");
        }
        if !saw_columns {
            return Err("the header text has no #CHROM line".into());
        }
        Ok(header)
    }

    /// The ID at `index` of the dictionary of strings.
    pub fn string(&self, index: i64) -> Option<&str> {
        usize::try_from(index).ok().and_then(|i| self.strings.get(i)).and_then(|s| s.as_deref())
    }

    /// The contig name at `index`.
    pub fn contig(&self, index: i64) -> Option<&str> {
        usize::try_from(index).ok().and_then(|i| self.contigs.get(i)).and_then(|s| s.as_deref())
    }
}

/// Largest dictionary index accepted (a header line cannot make the reader allocate gigabytes).
const MAX_INDEX: usize = 1 << 20;

/// Adds `id` at `idx` (or the next free index); an ID already present keeps its first index, as
/// one ID names an INFO and a FORMAT field alike.
fn put(dictionary: &mut Vec<Option<String>>, seen: &mut HashMap<String, usize>, id: &str, idx: Option<usize>) {
    if seen.contains_key(id) {
        return;
    }
    let index = idx.unwrap_or(dictionary.len()).min(MAX_INDEX);
    if dictionary.len() <= index {
        dictionary.resize(index + 1, None);
    }
    dictionary[index] = Some(id.to_string());
    seen.insert(id.to_string(), index);
}

/// The value of `key` in a structured line's inside (IDs and IDX are never quoted).
fn attribute<'a>(inner: &'a str, key: &str) -> Option<&'a str> {
    split_structured(inner).into_iter().find_map(|field| field.strip_prefix(key)?.strip_prefix('='))
}

/// The inside of a structured line without its `IDX=n` attribute (htslib leaves it out of VCF).
fn without_idx(inner: &str) -> String {
    let mut kept = split_structured(inner);
    kept.retain(|attribute| !attribute.starts_with("IDX="));
    kept.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "##fileformat=VCFv4.3\n\
##FILTER=<ID=PASS,Description=\"All filters passed\",IDX=0>\n\
##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth, total\",IDX=1>\n\
##FILTER=<ID=q10,Description=\"Quality \\\"below\\\" 10\",IDX=2>\n\
##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\",IDX=3>\n\
##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Depth\",IDX=1>\n\
##contig=<ID=chr2,length=100,IDX=1>\n\
##contig=<ID=chr1,length=200,IDX=0>\n\
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\n\0\0";

    #[test]
    fn dictionaries_follow_idx_and_text_loses_it() {
        let header = BcfHeader::parse(TEXT.as_bytes()).unwrap();
        assert_eq!(header.string(0), Some("PASS"));
        assert_eq!(header.string(1), Some("DP"));
        assert_eq!(header.string(2), Some("q10"));
        assert_eq!(header.string(3), Some("GT"));
        assert_eq!(header.string(4), None);
        assert_eq!((header.contig(0), header.contig(1)), (Some("chr1"), Some("chr2")));
        assert_eq!(header.samples, 2);
        let text = String::from_utf8(header.text).unwrap();
        assert!(!text.contains("IDX"), "{text}");
        assert!(text.contains("##FILTER=<ID=q10,Description=\"Quality \\\"below\\\" 10\">\n"), "{text}");
        assert!(text.ends_with("FORMAT\tA\tB\n"));
    }

    #[test]
    fn without_idx_ids_take_the_next_index() {
        let text = "##INFO=<ID=AC,Number=A,Type=Integer,Description=\"x\">\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"y\">\n\
##FORMAT=<ID=AC,Number=1,Type=Integer,Description=\"z\">\n##contig=<ID=22>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
        let header = BcfHeader::parse(text.as_bytes()).unwrap();
        assert_eq!(header.strings, [Some("PASS".into()), Some("AC".into()), Some("GT".into())]);
        assert_eq!(header.contig(0), Some("22"));
        assert_eq!(header.samples, 0);
    }

    #[test]
    fn malformed_lines_are_named() {
        let bad_idx = "##INFO=<ID=AC,Description=\"x, y\",IDX=two>\n#CHROM\tPOS\n";
        assert_eq!(
            BcfHeader::parse(bad_idx.as_bytes()).unwrap_err(),
            "header line 1: IDX=two is not a dictionary index"
        );
        let no_id = "##fileformat=VCFv4.3\n##INFO=<Number=1>\n#CHROM\n";
        assert_eq!(BcfHeader::parse(no_id.as_bytes()).unwrap_err(), "header line 2: no ID");
        assert_eq!(BcfHeader::parse(b"##fileformat=VCFv4.3\n").unwrap_err(), "the header text has no #CHROM line");
    }
}
