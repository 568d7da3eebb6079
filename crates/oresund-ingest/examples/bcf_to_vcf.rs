//! Prints a BCF as VCF text (as `bcftools view --no-version` does), for benchmarking the reader
//! against bcftools (`bench/bcf.sh`): `cargo run --release -p oresund-ingest --example bcf_to_vcf -- FILE.bcf`.

use std::io::{Read, Write};

use oresund_ingest::bcf::BcfText;
use oresund_ingest::input::open_maybe_gzipped;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os().nth(1).ok_or("usage: bcf_to_vcf FILE.bcf")?;
    let mut text = BcfText::new(open_maybe_gzipped(path.as_ref())?)?;
    let mut out = std::io::stdout().lock();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = text.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        out.write_all(&buffer[..n])?;
    }
    Ok(())
}
