//! A BCF read as VCF text equals what `bcftools view` printed for it (fixtures made with
//! bcftools 1.16, see `fixtures/bcf/README.md`), compressed or not; damage is an error that names
//! the record, never a panic or a silently shorter file.

use std::io::Read;
use std::path::PathBuf;

use oresund_ingest::bcf::{BcfError, BcfReader, BcfText};
use oresund_ingest::input::open_maybe_gzipped;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bcf").join(name)
}

fn as_text(name: &str) -> String {
    let mut text = String::new();
    BcfText::new(open_maybe_gzipped(&fixture(name)).unwrap()).unwrap().read_to_string(&mut text).unwrap();
    text
}

#[test]
fn prints_what_bcftools_view_prints() {
    for (name, text) in [
        ("types.bcf", "types.bcftools-view.vcf"),
        ("types.uncompressed.bcf", "types.bcftools-view.vcf"),
        ("types.idx-gaps.bcf", "types.idx-gaps.bcftools-view.vcf"),
    ] {
        let expected = std::fs::read_to_string(fixture(text)).unwrap();
        let ours = as_text(name);
        for (number, (a, b)) in ours.lines().zip(expected.lines()).enumerate() {
            assert_eq!(a, b, "{name}: line {} differs", number + 1);
        }
        assert_eq!(ours, expected, "{name}");
    }
}

fn raw_bcf() -> Vec<u8> {
    std::fs::read(fixture("types.uncompressed.bcf")).unwrap()
}

/// Reads every record, returning the error if one is refused.
fn read_all(bytes: &[u8]) -> Result<u64, BcfError> {
    let mut reader = BcfReader::new(bytes)?;
    let mut line = Vec::new();
    let mut records = 0;
    while reader.next_line(&mut line)? {
        records += 1;
    }
    Ok(records)
}

#[test]
fn damaged_files_are_refused_with_the_record() {
    let bytes = raw_bcf();
    assert_eq!(read_all(&bytes).unwrap(), 9);
    let header_end = 9 + u32::from_le_bytes(bytes[5..9].try_into().unwrap()) as usize;

    // Cut inside the third record.
    let mut at = header_end;
    for _ in 0..2 {
        let shared = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let samples = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        at += 8 + shared + samples;
    }
    let cut = read_all(&bytes[..at + 20]).unwrap_err().to_string();
    assert_eq!(cut, "record 3: the file ends inside the record");

    // The first record's contig index beyond the header's contigs.
    let mut wrong_contig = bytes.clone();
    wrong_contig[header_end + 8..header_end + 12].copy_from_slice(&7i32.to_le_bytes());
    assert_eq!(read_all(&wrong_contig).unwrap_err().to_string(), "record 1: contig 7 is not in the header");

    // A record claiming more samples than the header.
    let mut samples = bytes.clone();
    samples[header_end + 8 + 20..header_end + 8 + 24].copy_from_slice(&(1u32 << 24 | 4).to_le_bytes());
    assert_eq!(read_all(&samples).unwrap_err().to_string(), "record 1: 4 samples, the header has 3");

    // A record length from a damaged file.
    let mut huge = bytes.clone();
    huge[header_end..header_end + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(read_all(&huge).unwrap_err().to_string().starts_with("record 1: "), "refused, not allocated");

    // Not a BCF, another version, a header cut short.
    assert!(matches!(read_all(b"##fileformat=VCFv4.3\n"), Err(BcfError::NotBcf)));
    let mut v3 = bytes.clone();
    v3[4] = 9;
    assert_eq!(read_all(&v3).unwrap_err().to_string(), "BCF version 2.9 is not read here (2.1 and 2.2 are)");
    assert_eq!(read_all(&bytes[..100]).unwrap_err().to_string(), "header: the file ends inside the header");
}

#[test]
fn every_prefix_and_flipped_byte_is_an_error_or_a_shorter_read_never_a_panic() {
    let bytes = raw_bcf();
    for end in 0..bytes.len() {
        let _ = read_all(&bytes[..end]);
    }
    let header_end = 9 + u32::from_le_bytes(bytes[5..9].try_into().unwrap()) as usize;
    for at in header_end..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] ^= flip;
            let _ = read_all(&damaged);
        }
    }
}
