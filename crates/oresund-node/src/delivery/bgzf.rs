//! BGZF blocks (SAM/BAM spec §4.1): reading one block at a known offset, and writing bytes as
//! new blocks. A delivery cuts a file at record boundaries; where a boundary falls inside a
//! block, that block's kept part is re-compressed into blocks of its own.

use libdeflater::{CompressionLvl, Compressor, Crc, Decompressor};

/// The 28-byte empty block that ends a BGZF file (§4.1.2).
pub use crate::archive::index::BGZF_EOF;

/// Length of a block header with only the `BC` extra field (§4.1: 12 + XLEN 6).
const HEADER_LEN: usize = 18;
/// CRC32 and ISIZE after the compressed data.
const FOOTER_LEN: usize = 8;
/// Most uncompressed bytes put in one written block: htslib's `BGZF_BLOCK_SIZE` (0xff00), which
/// keeps even incompressible data under the 64 KiB block limit.
const MAX_INPUT: usize = 0xff00;
/// Longest possible block (BSIZE is 16 bits, block size - 1).
pub const MAX_BLOCK: usize = 1 << 16;

/// Why bytes are not a BGZF block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("not a BGZF block at offset {0} (no gzip magic, or no BC extra field)")]
    NotBgzf(u64),
    #[error("the BGZF block at offset {0} is cut short")]
    Truncated(u64),
    #[error("the BGZF block at offset {0} does not decompress: {1}")]
    Corrupt(u64, String),
}

/// One decompressed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Offset of the block in the compressed file.
    pub offset: u64,
    /// Compressed size (the whole gzip member).
    pub size: u64,
    pub data: Vec<u8>,
}

impl Block {
    /// Offset of the next block.
    pub fn end(&self) -> u64 {
        self.offset + self.size
    }
}

/// The size of the block whose first bytes are `head` (at least [`HEADER_LEN`] of them), read
/// from its `BC` extra subfield (§4.1: BSIZE = total block size - 1).
pub fn block_size(head: &[u8], offset: u64) -> Result<usize, BlockError> {
    if head.len() < 12 {
        return Err(BlockError::Truncated(offset));
    }
    if head[0..4] != [0x1f, 0x8b, 8, 4] {
        return Err(BlockError::NotBgzf(offset));
    }
    let xlen = usize::from(u16::from_le_bytes([head[10], head[11]]));
    let extra = head.get(12..12 + xlen).ok_or(BlockError::Truncated(offset))?;
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (si1, si2) = (extra[at], extra[at + 1]);
        let slen = usize::from(u16::from_le_bytes([extra[at + 2], extra[at + 3]]));
        if si1 == b'B' && si2 == b'C' && slen == 2 && at + 6 <= extra.len() {
            return Ok(usize::from(u16::from_le_bytes([extra[at + 4], extra[at + 5]])) + 1);
        }
        at += 4 + slen;
    }
    Err(BlockError::NotBgzf(offset))
}

/// Decompresses the block `bytes` (exactly one whole block) found at `offset`.
pub fn decompress(bytes: &[u8], offset: u64) -> Result<Block, BlockError> {
    let size = block_size(bytes, offset)?;
    if bytes.len() < size || size < HEADER_LEN + FOOTER_LEN {
        return Err(BlockError::Truncated(offset));
    }
    let xlen = usize::from(u16::from_le_bytes([bytes[10], bytes[11]]));
    let cdata = bytes.get(12 + xlen..size - FOOTER_LEN).ok_or(BlockError::Truncated(offset))?;
    let footer = &bytes[size - FOOTER_LEN..size];
    let isize = u32::from_le_bytes([footer[4], footer[5], footer[6], footer[7]]) as usize;
    if isize > MAX_BLOCK {
        return Err(BlockError::Corrupt(offset, format!("ISIZE {isize} is over 64 KiB")));
    }
    let mut data = vec![0u8; isize];
    let n = Decompressor::new()
        .deflate_decompress(cdata, &mut data)
        .map_err(|e| BlockError::Corrupt(offset, e.to_string()))?;
    let crc = u32::from_le_bytes([footer[0], footer[1], footer[2], footer[3]]);
    let mut check = Crc::new();
    check.update(&data);
    if n != isize || check.sum() != crc {
        return Err(BlockError::Corrupt(offset, "length or CRC32 differs".into()));
    }
    Ok(Block { offset, size: size as u64, data })
}

/// `data` as BGZF blocks (no EOF block): each one a gzip member with the `BC` field. libdeflate's
/// fastest level: a ticket re-compresses two blocks while the caller waits, and a few percent
/// larger blocks cost nothing next to the stored ones.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    let mut compressor = Compressor::new(CompressionLvl::fastest());
    let mut cdata = vec![0u8; compressor.deflate_compress_bound(MAX_INPUT)];
    for chunk in data.chunks(MAX_INPUT) {
        // The bound always fits (libdeflate's own guarantee), so this cannot fail.
        let n = compressor.deflate_compress(chunk, &mut cdata).unwrap_or(0);
        let cdata = &cdata[..n];
        let bsize = (HEADER_LEN + cdata.len() + FOOTER_LEN - 1) as u16;
        out.extend_from_slice(&[0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0]);
        out.extend_from_slice(&bsize.to_le_bytes());
        out.extend_from_slice(cdata);
        let mut crc = Crc::new();
        crc.update(chunk);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn written_blocks_read_back_and_split_at_the_htslib_size() {
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 7 + u32::from(i % 1000 == 0)) as u8 + b'a').collect();
        let file = compress(&data);
        let (mut at, mut back, mut sizes) = (0usize, Vec::new(), Vec::new());
        while at < file.len() {
            let block = decompress(&file[at..], at as u64).unwrap();
            sizes.push(block.data.len());
            back.extend_from_slice(&block.data);
            at = block.end() as usize;
        }
        assert_eq!(back, data);
        assert_eq!(sizes, [0xff00, 0xff00, 150_000 - 2 * 0xff00]);
        // A standard gzip reader agrees (BGZF is multi-member gzip).
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(&file[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(plain, data);
    }

    #[test]
    fn damaged_blocks_are_errors_not_panics() {
        let block = compress(b"chr1\t1\t.\tA\tC\n");
        assert_eq!(decompress(&block[..10], 5), Err(BlockError::Truncated(5)));
        assert_eq!(decompress(b"plain text, not gzip at all", 0), Err(BlockError::NotBgzf(0)));
        let mut bad = block.clone();
        let n = bad.len();
        bad[n - 6] ^= 1; // CRC
        assert!(matches!(decompress(&bad, 0), Err(BlockError::Corrupt(0, _))));
        assert_eq!(decompress(&BGZF_EOF, 0).unwrap().data, b"");
    }
}
