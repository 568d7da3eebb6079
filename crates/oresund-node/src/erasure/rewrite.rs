//! A withdrawal's new version of an archived VCF: the old version decrypted, decompressed, its
//! withdrawn sample columns dropped line by line (as `bcftools view -s ^ID` does, INFO/AC and AN
//! recomputed where present), compressed again as line-aligned BGZF with its block index built on
//! the way, and encrypted to the new version's file key — one streaming pass, nothing in clear on
//! disk. Three threads over two pipes: decrypting, rewriting, and the encrypting upload.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::num::NonZeroUsize;

use noodles_bgzf::io::MultithreadedReader;
use oresund_c4gh::{Header, SecretKey, decrypt_body};
use oresund_ingest::subset::{SampleSubset, sample_columns_of};
use oresund_store::ArchiveObject;

use crate::archive::StoredObject;
use crate::archive::block_writer::BlockWriter;
use crate::archive::error::ArchiveError;
use crate::archive::index::BlockIndex;
use crate::archive::originals::Originals;
use crate::archive::store::ObjectArchive;
use crate::erasure::error::ErasureError;
use crate::error::NodeError;

/// The rewritten VCF as stored, and its block index.
pub(crate) struct RewrittenVcf {
    pub stored: StoredObject,
    pub index: BlockIndex,
}

/// Writes the new version of `old` without the sample columns `drop` (0-based) into `originals`.
/// `is_withdrawn` confirms each dropped column's sample name (the catalog's column is the VCF's,
/// but a wrong person must never be dropped silently).
pub(crate) fn rewrite_vcf(
    objects: &ObjectArchive,
    old: &ArchiveObject,
    secret: &SecretKey,
    drop: &[usize],
    is_withdrawn: &(dyn Fn(&[u8]) -> bool + Sync),
    originals: &mut Originals<'_>,
) -> Result<RewrittenVcf, NodeError> {
    let c4gh = ArchiveError::c4gh(&old.accession);
    let header = Header::decrypt(&objects.get(&old.header_path)?, secret).map_err(&c4gh)?;
    let pipe = |what: &str| {
        io::pipe().map_err(|error| ArchiveError::ObjectIo { path: format!("{} ({what})", old.accession), error })
    };
    let (plain_in, plain_out) = pipe("decrypted")?;
    let (new_in, new_out) = pipe("rewritten")?;
    std::thread::scope(|threads| {
        let decrypting = threads.spawn(move || -> Result<(), NodeError> {
            let body = objects.reader(&old.body_path, None)?;
            decrypt_body(body, plain_out, &header, 1).map_err(ArchiveError::c4gh(&old.accession))?;
            Ok(())
        });
        let rewriting = threads.spawn(move || rewrite_stream(plain_in, new_out, drop, is_withdrawn, &old.accession));
        let stored = originals.store(new_in);
        // One failure breaks the pipes of the others: report the cause. A refusal of the rewrite
        // (a column that is not the person's) comes first, then decryption, the rewrite, the upload.
        let decrypted = decrypting.join().unwrap_or_else(|_| Err(ErasureError::Crashed("decrypting").into()));
        let rewritten = rewriting.join().unwrap_or_else(|_| Err(ErasureError::Crashed("rewriting").into()));
        match (decrypted, rewritten) {
            (_, Err(refused @ NodeError::Erasure(_))) => Err(refused),
            (Err(failed), _) | (Ok(()), Err(failed)) => Err(failed),
            (Ok(()), Ok(index)) => Ok(RewrittenVcf { stored: stored?, index }),
        }
    })
}

/// Decompresses `input` (BGZF, gzip or plain), drops the columns and writes line-aligned BGZF.
fn rewrite_stream(
    input: impl Read + Send + 'static,
    output: impl Write,
    drop: &[usize],
    is_withdrawn: &(dyn Fn(&[u8]) -> bool + Sync),
    accession: &str,
) -> Result<BlockIndex, NodeError> {
    let failed = |error: io::Error| ArchiveError::ObjectIo { path: accession.to_string(), error };
    let mut input = BufReader::with_capacity(1 << 16, input);
    let head = input.fill_buf().map_err(failed)?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let bgzf = gzip && head.len() >= 16 && head[3] & 4 != 0 && &head[12..14] == b"BC";
    let lines: Box<dyn BufRead> = if bgzf {
        let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get).clamp(1, 2);
        let workers = NonZeroUsize::new(workers).unwrap_or(NonZeroUsize::MIN);
        Box::new(BufReader::with_capacity(1 << 20, MultithreadedReader::with_worker_count(workers, input)))
    } else if gzip {
        Box::new(BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(input)))
    } else {
        Box::new(input)
    };
    let mut writer = BlockWriter::new(output);
    // Set at the #CHROM line: `Some(None)` when no column is dropped.
    let mut subset: Option<Option<SampleSubset>> = None;
    let (mut line, mut rewritten) = (Vec::with_capacity(1 << 16), Vec::with_capacity(1 << 16));
    let mut lines = lines;
    let mut number = 0u64;
    // Meta lines wait for the sample names: one naming a withdrawn sample (`##SAMPLE=<ID=…>`,
    // `##PEDIGREE`, an earlier tool's command line) is left out.
    let mut meta: Vec<Vec<u8>> = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).map_err(failed)? == 0 {
            break;
        }
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if subset.is_none() && text.starts_with(b"##") {
            meta.push(text.to_vec());
            continue;
        }
        if text.starts_with(b"#CHROM") {
            let samples = sample_columns_of(text);
            for &column in drop {
                if !samples.get(column).is_some_and(|name| is_withdrawn(name)) {
                    return Err(ErasureError::ColumnMismatch { accession: accession.to_string(), column }.into());
                }
            }
            let names: Vec<&[u8]> = drop.iter().filter_map(|&c| samples.get(c).copied()).collect();
            for kept in meta.iter().filter(|m| !names.iter().any(|n| memchr::memmem::find(m, n).is_some())) {
                rewritten.clear();
                rewritten.extend_from_slice(kept);
                rewritten.push(b'\n');
                writer.line(&rewritten).map_err(failed)?;
            }
            meta.clear();
            // Nothing to drop (the person is only in the individuals file, or the VCF has no
            // samples): the lines are copied as they are, re-blocked.
            subset = Some((!drop.is_empty()).then(|| SampleSubset::new(samples.len(), drop)));
        }
        rewritten.clear();
        match &subset {
            Some(Some(subset)) => subset.rewrite_line(text, number, &mut rewritten).map_err(|error| {
                ErasureError::Rewrite { accession: accession.to_string(), message: error.to_string() }
            })?,
            Some(None) | None => {
                rewritten.extend_from_slice(text);
                rewritten.push(b'\n');
            }
        }
        writer.line(&rewritten).map_err(failed)?;
    }
    if subset.is_none() {
        return Err(ErasureError::Rewrite {
            accession: accession.to_string(),
            message: "the archived VCF has no #CHROM line".into(),
        }
        .into());
    }
    Ok(writer.finish().map_err(failed)?)
}
