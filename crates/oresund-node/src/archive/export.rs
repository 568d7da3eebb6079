//! `archive export`: a Crypt4GH file of an archived object for one reader, made by re-encrypting
//! only the header (Crypt4GH spec §3.3: new packets for the reader's public key); the body is
//! streamed unchanged.
//!
//! A region of a BGZF VCF is exported with an edit list (§3.2.4, §4.3): the header carries the
//! data key and a list of skip/keep lengths selecting the compressed bytes of the header blocks,
//! the region's blocks and the EOF block (see `archive_index`); the body carries only the 64 KiB
//! segments those bytes lie in (§3.4.1), so the reader receives — and can decrypt — nothing else.

use std::io::{self, Write};

use oresund_c4gh::body::{CIPHER_SEGMENT_SIZE, SEGMENT_SIZE};
use oresund_c4gh::{DecryptedHeader, EditList, Header, PublicKey, SecretKey, decrypt_body, reencrypt_header};
use oresund_core::region::Region;
use oresund_store::{ArchiveKind, ArchiveObject};

use crate::NodeError;
use crate::archive::checksum::HashingReader;
use crate::archive::error::ArchiveError;
use crate::archive::index::BlockIndex;
use crate::archive::store::ObjectArchive;
use crate::keys::KeyRing;
use crate::node::Node;

const SEG: u64 = SEGMENT_SIZE as u64;
const CSEG: u64 = CIPHER_SEGMENT_SIZE as u64;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub header_bytes: u64,
    pub body_bytes: u64,
    /// Plaintext bytes the reader will get.
    pub plaintext_bytes: u64,
    /// For a region: blocks of the VCF holding records that may overlap it.
    pub region_blocks: Option<usize>,
}

impl Node {
    /// Writes the archived object `accession` to `out` as a Crypt4GH file for `recipient`, whole
    /// or (for a BGZF VCF) only the blocks of `region`.
    pub fn export(
        &self,
        accession: &str,
        recipient: &PublicKey,
        region: Option<&Region>,
        keys: &KeyRing,
        out: &mut dyn Write,
    ) -> Result<ExportSummary, NodeError> {
        let object = self.archive_object(accession)?;
        let objects = self.archive()?;
        let secret = keys.for_object(&object.accession, &object.key_id)?;
        let stored_header = objects.get(&object.header_path)?;
        let writer = SecretKey::generate().map_err(ArchiveError::c4gh(accession))?;
        let failed = |error: io::Error| ArchiveError::Export { accession: accession.to_string(), error };
        match region {
            None => {
                let header = reencrypt_header(&stored_header, &secret, &[*recipient], &writer, true)
                    .map_err(ArchiveError::c4gh(accession))?;
                out.write_all(&header).map_err(failed)?;
                let mut body = HashingReader::new(objects.reader(&object.body_path, None)?);
                let copied = io::copy(&mut body, out).map_err(failed)?;
                out.flush().map_err(failed)?;
                if body.finish().0 != object.body_sha256 {
                    return Err(ArchiveError::Invalid(format!(
                        "{accession}: the stored body no longer matches its checksum, so the export is damaged; \
                         run `oresund archive verify`"
                    ))
                    .into());
                }
                Ok(ExportSummary {
                    header_bytes: header.len() as u64,
                    body_bytes: copied,
                    plaintext_bytes: object.plaintext_size,
                    region_blocks: None,
                })
            }
            Some(region) => {
                let content = Header::decrypt(&stored_header, &secret).map_err(ArchiveError::c4gh(accession))?;
                let index = self.block_index(&objects, &object, keys)?;
                let selection = index.select(&region.chrom, region.start, region.end).map_err(|why| {
                    ArchiveError::Region(format!("{accession}: cannot export region {}: {why}", region_text(region)))
                })?;
                let plan = SegmentPlan::new(&selection.spans);
                let content = DecryptedHeader::with_data_keys(content.data_keys().to_vec(), Some(plan.edit_list()))
                    .map_err(ArchiveError::c4gh(accession))?;
                let header = content.encrypt(&writer, &[*recipient]).map_err(ArchiveError::c4gh(accession))?;
                out.write_all(&header).map_err(failed)?;
                let mut body_bytes = 0;
                for &(first, end) in &plan.runs {
                    let range = first * CSEG..(end * CSEG).min(object.body_size);
                    body_bytes +=
                        io::copy(&mut objects.reader(&object.body_path, Some(range))?, out).map_err(failed)?;
                }
                out.flush().map_err(failed)?;
                Ok(ExportSummary {
                    header_bytes: header.len() as u64,
                    body_bytes,
                    plaintext_bytes: selection.spans.iter().map(|(s, e)| e - s).sum(),
                    region_blocks: Some(selection.blocks),
                })
            }
        }
    }

    /// The decrypted block index archived with a VCF.
    fn block_index(
        &self,
        objects: &ObjectArchive,
        vcf: &ArchiveObject,
        keys: &KeyRing,
    ) -> Result<BlockIndex, NodeError> {
        let refuse = |why: &str| ArchiveError::Region(format!("{}: {why}", vcf.accession));
        if vcf.kind != ArchiveKind::Vcf {
            return Err(refuse("only a VCF can be exported by region; export this object whole").into());
        }
        let index = self
            .store
            .archive_objects_of_file(vcf.file)?
            .into_iter()
            .find(|o| o.kind == ArchiveKind::BlockIndex)
            .ok_or_else(|| refuse("region export needs a BGZF-compressed VCF, and this one is not; export it whole"))?;
        let secret = keys.for_object(&index.accession, &index.key_id)?;
        let header = Header::decrypt(&objects.get(&index.header_path)?, &secret)
            .map_err(ArchiveError::c4gh(&index.accession))?;
        let mut plain = Vec::with_capacity(index.plaintext_size as usize);
        decrypt_body(objects.reader(&index.body_path, None)?, &mut plain, &header, 1)
            .map_err(ArchiveError::c4gh(&index.accession))?;
        Ok(BlockIndex::from_bytes(&plain)
            .map_err(|error| ArchiveError::BlockIndex { accession: index.accession.clone(), error })?)
    }
}

fn region_text(region: &Region) -> String {
    format!("{}:{}-{}", region.chrom, region.start, region.end)
}

/// The body segments holding some plaintext spans, and the edit list that, over just those
/// segments, keeps exactly the spans.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SegmentPlan {
    /// Runs of kept segments, `first..end` by segment index, in order.
    runs: Vec<(u64, u64)>,
    /// The spans (sorted, disjoint) in plaintext offsets of the original body.
    spans: Vec<(u64, u64)>,
}

impl SegmentPlan {
    fn new(spans: &[(u64, u64)]) -> Self {
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for &(start, end) in spans.iter().filter(|(s, e)| s < e) {
            let (first, last) = (start / SEG, (end - 1) / SEG + 1);
            match runs.last_mut() {
                Some(run) if first <= run.1 => run.1 = run.1.max(last),
                _ => runs.push((first, last)),
            }
        }
        SegmentPlan { runs, spans: spans.to_vec() }
    }

    /// Offset in the new body (kept segments only) of plaintext offset `at` of the original.
    fn new_offset(&self, at: u64) -> u64 {
        let segment = at / SEG;
        let mut before = 0;
        for &(first, end) in &self.runs {
            if segment < end {
                return (before + segment.saturating_sub(first)) * SEG + at % SEG;
            }
            before += end - first;
        }
        before * SEG
    }

    /// Skip/keep lengths over the new body (§4.3); an even count drops what follows the last keep.
    fn edit_list(&self) -> EditList {
        let mut lengths = Vec::with_capacity(2 * self.spans.len());
        let mut cursor = 0;
        for &(start, end) in self.spans.iter().filter(|(s, e)| s < e) {
            let at = self.new_offset(start);
            lengths.push(at - cursor);
            lengths.push(end - start);
            cursor = at + (end - start);
        }
        EditList::new(lengths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_plan_keeps_exactly_the_spans() {
        let plain: Vec<u8> = (0..(10 * SEG as u32)).map(|i| (i % 253) as u8).collect();
        let spans = [(0, 100), (70_000, 70_010), (140_000, 300_000), (655_000, 655_360)];
        let plan = SegmentPlan::new(&spans);
        assert_eq!(plan.runs, [(0, 5), (9, 10)]);
        // The new body: the kept segments' plaintext, in order.
        let mut body = Vec::new();
        for &(first, end) in &plan.runs {
            body.extend_from_slice(&plain[(first * SEG) as usize..(end * SEG) as usize]);
        }
        let want: Vec<u8> = spans.iter().flat_map(|&(s, e)| plain[s as usize..e as usize].to_vec()).collect();
        assert!(plan.edit_list().apply(&body).unwrap() == want);
    }
}
