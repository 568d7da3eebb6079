//! BGZF blocks that each start with a line, as `bcftools view -Oz` writes them, so that any run
//! of blocks can be handed out by region — indexed as they are written. Used for a withdrawal's
//! new version of a VCF and for the VCF text of an ingested BCF.

use std::io::{self, Write};

use libdeflater::{CompressionLvl, Compressor, Crc};

use crate::archive::index::{BGZF_EOF, BlockIndex, WrittenIndex};

/// Most uncompressed bytes in one written block (htslib's `BGZF_BLOCK_SIZE`).
const BLOCK_INPUT: usize = 0xff00;

/// Whole blocks compressed together, spread over the compressing threads.
const BATCH: usize = 16;

/// Line-aligned BGZF over `out`, with its block index. Blocks are compressed in batches on up to
/// four threads (compression is most of the writing), and written in order.
pub(crate) struct BlockWriter<W> {
    out: W,
    /// The block being filled.
    pending: Vec<u8>,
    /// Full blocks waiting for their batch, and emptied buffers to fill again.
    full: Vec<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    /// One compressor a thread, and one output buffer a block of the batch.
    compressors: Vec<Compressor>,
    compressed: Vec<Vec<u8>>,
    offset: u64,
    index: WrittenIndex,
}

impl<W: Write> BlockWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        let compressors: Vec<Compressor> = (0..threads).map(|_| Compressor::new(CompressionLvl::default())).collect();
        let bound = Compressor::new(CompressionLvl::default()).deflate_compress_bound(BLOCK_INPUT);
        BlockWriter {
            out,
            pending: Vec::with_capacity(BLOCK_INPUT),
            full: Vec::with_capacity(BATCH),
            spare: Vec::new(),
            compressors,
            compressed: vec![vec![0u8; bound]; BATCH],
            offset: 0,
            index: WrittenIndex::new(),
        }
    }

    /// Adds one whole line (with its newline).
    pub(crate) fn line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.pending.len() + line.len() > BLOCK_INPUT && !self.pending.is_empty() {
            self.end_block()?;
        }
        // A line longer than a block spans several: only the first starts with a line.
        for piece in line.chunks(BLOCK_INPUT) {
            if self.pending.len() + piece.len() > BLOCK_INPUT {
                self.end_block()?;
            }
            self.pending.extend_from_slice(piece);
        }
        Ok(())
    }

    /// Queues the block being filled; a full batch is compressed and written.
    fn end_block(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let next = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(BLOCK_INPUT));
        self.full.push(std::mem::replace(&mut self.pending, next));
        if self.full.len() == BATCH { self.write_batch() } else { Ok(()) }
    }

    fn write_batch(&mut self) -> io::Result<()> {
        let blocks = self.full.len();
        let per_thread = blocks.div_ceil(self.compressors.len()).max(1);
        let sizes: Vec<usize> = std::thread::scope(|threads| {
            let work = self
                .compressors
                .iter_mut()
                .zip(self.full.chunks(per_thread).zip(self.compressed.chunks_mut(per_thread)));
            let running: Vec<_> = work
                .map(|(compressor, (inputs, outputs))| {
                    threads.spawn(move || {
                        inputs
                            .iter()
                            .zip(outputs.iter_mut())
                            .map(|(input, output)| compressor.deflate_compress(input, output))
                            .collect::<Result<Vec<usize>, _>>()
                    })
                })
                .collect();
            let mut sizes = Vec::with_capacity(blocks);
            for thread in running {
                let compressed = thread.join().map_err(|_| io::Error::other("a compressing thread stopped"))?;
                sizes.extend(compressed.map_err(|e| io::Error::other(format!("compressing a block: {e:?}")))?);
            }
            Ok::<_, io::Error>(sizes)
        })?;
        for (i, size) in sizes.into_iter().enumerate() {
            let data = &self.full[i];
            let mut crc = Crc::new();
            crc.update(data);
            let bsize =
                u16::try_from(18 + size + 8 - 1).map_err(|_| io::Error::other("a compressed block over 64 KiB"))?;
            let mut head = [0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0, 0, 0];
            head[16..18].copy_from_slice(&bsize.to_le_bytes());
            self.out.write_all(&head)?;
            self.out.write_all(&self.compressed[i][..size])?;
            self.out.write_all(&crc.sum().to_le_bytes())?;
            self.out.write_all(&(data.len() as u32).to_le_bytes())?;
            self.index.block(self.offset, data);
            self.offset += u64::from(bsize) + 1;
        }
        for mut block in self.full.drain(..) {
            block.clear();
            self.spare.push(block);
        }
        Ok(())
    }

    /// Writes the last block and the EOF block; returns the file's block index.
    pub(crate) fn finish(mut self) -> io::Result<BlockIndex> {
        self.end_block()?;
        self.write_batch()?;
        self.out.write_all(&BGZF_EOF)?;
        self.out.flush()?;
        let size = self.offset + BGZF_EOF.len() as u64;
        Ok(self.index.finish(size, &BGZF_EOF))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn blocks_start_with_lines_and_read_back() {
        let mut file = Vec::new();
        let mut writer = BlockWriter::new(&mut file);
        let mut text = Vec::new();
        for i in 0..20_000u32 {
            let line = format!("22\t{}\t.\tA\tC\t.\t.\t.\tGT\t0/1\t{}\n", 1000 + i, "0/0\t".repeat((i % 40) as usize));
            text.extend_from_slice(line.as_bytes());
            writer.line(line.as_bytes()).unwrap();
        }
        let long = format!("22\t999999\t.\tA\tC\t.\t.\t.\tGT{}\n", "\t0/0".repeat(40_000));
        text.extend_from_slice(long.as_bytes());
        writer.line(long.as_bytes()).unwrap();
        let index = writer.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&file[..]).read_to_end(&mut back).unwrap();
        assert!(back == text);
        assert_eq!(index.size, file.len() as u64);
        assert_eq!(index.eof, Some(file.len() as u64 - 28));
        assert!(index.blocks.len() > 2 * BATCH, "{} blocks: several batches", index.blocks.len());
        // Every block but the long line's continuations starts a line.
        assert_eq!(index.blocks.iter().filter(|b| !b.cut).count(), 0, "continuations start no line, so are not listed");
        let selection = index.select("22", 2000, 2100).unwrap();
        assert!(selection.blocks >= 1);
    }
}
