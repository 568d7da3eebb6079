//! Many stored variants at once, by key. The re-identification budget costs the carriers of every
//! rare variant an answer shows: thousands in a 1 Mb region at 20,000 samples. Looked up one by
//! one, each took a read of its own, and a registered user's refused region cost the node several
//! times a controlled user's answer (issue #19). Here keys near each other are read as one stretch
//! of blocks, each block once.

use oresund_core::variant::Variant;
use oresund_store::blocks::{BLOCK_SPAN, BlockView};
use oresund_store::{VariantCalls, VariantKey};

use crate::error::NodeError;
use crate::node::Node;

impl Node {
    /// The key a variant the node reported is stored under (`VariantCount::variant`: already
    /// normalised, so not realigned again).
    pub fn stored_key(&self, variant: &Variant) -> Result<VariantKey, NodeError> {
        let (index, _) = self.contig(variant.chrom())?;
        let contig = u32::try_from(index).map_err(|_| NodeError::Damaged(format!("contig {index} out of range")))?;
        Ok(VariantKey {
            contig,
            pos: variant.pos(),
            reference: variant.reference().to_string(),
            alternate: variant.alternate().to_string(),
        })
    }

    /// The stored variants with these keys: `found[i]` is what `VariantIndex::variant` gives for
    /// `keys[i]`. Keys at most a block's span apart are read together, as a region
    /// (`VariantIndex::region_blocks`: one read, each block once), so no block is read that
    /// lies wholly in a gap wider than that; a key far from any other is looked up alone.
    pub fn stored_variants(&self, keys: &[VariantKey]) -> Result<Vec<Option<VariantCalls>>, NodeError> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_unstable_by_key(|&i| (keys[i].contig, keys[i].pos));
        let mut found = vec![None; keys.len()];
        let near =
            |a: &usize, b: &usize| keys[*a].contig == keys[*b].contig && keys[*b].pos - keys[*a].pos <= BLOCK_SPAN;
        for stretch in order.chunk_by(near) {
            match stretch {
                [one] => found[*one] = self.store.variant(&keys[*one])?,
                _ => self.read_stretch(keys, stretch, &mut found)?,
            }
        }
        Ok(found)
    }

    /// Reads the blocks from the first to the last of `stretch` (indices into `keys`, by
    /// position), adding each key's calls in every file to `found`.
    fn read_stretch(
        &self,
        keys: &[VariantKey],
        stretch: &[usize],
        found: &mut [Option<VariantCalls>],
    ) -> Result<(), NodeError> {
        let (Some(&first), Some(&last)) = (stretch.first(), stretch.last()) else { return Ok(()) };
        let (contig, start, end) = (keys[first].contig, keys[first].pos, keys[last].pos);
        // Blocks come file by file, so each variant's calls come by file, as `variant` gives them.
        self.store.region_blocks(contig, start, end, &mut |block| {
            let view = BlockView::parse(&block.bytes)?;
            let Some(last_slot) = view.len().checked_sub(1) else { return Ok(()) };
            let (low, high) = (view.pos(0), view.pos(last_slot));
            let from = stretch.partition_point(|&i| keys[i].pos < low);
            for &i in stretch[from..].iter().take_while(|&&i| keys[i].pos <= high) {
                let key = &keys[i];
                let Some(slot) = view.find(key.pos, &key.reference, &key.alternate)? else { continue };
                let entry = view.entry(slot)?;
                let calls = entry.calls(block.file)?;
                match &mut found[i] {
                    Some(variant) => variant.calls.push(calls),
                    empty => {
                        *empty =
                            Some(VariantCalls { key: key.clone(), vrs_id: entry.vrs_id.to_id(), calls: vec![calls] })
                    }
                }
            }
            Ok(())
        })?;
        Ok(())
    }
}
