//! Carrier bitsets coded against another variant's: nearby common variants are in linkage
//! disequilibrium, so the heterozygous (or hom-ALT) columns of one are mostly those of another,
//! and the columns where two such sets differ are far fewer than either set.
//!
//! A linked set (tag `4` among the [`crate::carriers`] encodings) is the tag, the index (0–4: het,
//! hom-ALT, hemi, missing one, missing two) of the referenced variant's set, the number of columns
//! where the two sets differ (LEB128), then those columns ascending, u16 LE (u32 LE when the file
//! has more than 65,536 columns), like a list. Only bitsets are linked, only to a plain bitset, and
//! only when the columns take at most a quarter of the bitset's bytes. A count reads a linked set
//! in place: the count of the set it is linked to, plus or minus one for each differing column.
//! Fixed-width columns, not the one-byte gaps of a delta-coded set, because that loop is the cost:
//! at 20,000 samples gaps were a fifth smaller but made a 1 Mb region count 8% slower, a gap of
//! 255 or more (one in nine here) being a branch the processor cannot predict (issue #19,
//! BENCHMARKS.md).
//!
//! The store keeps the two variants in one block ([`link`] when writing it) and hands out
//! [`CarrierBytes`]; [`CarrierBytes::to_plain`] expands linked sets for everything but counting.

use std::borrow::Cow;

use crate::carrier_order::{ColumnOrder, read_runs};
use crate::carriers::{
    BITS, CarrierFormatError, EncodedCarriers, LINKED, RUNS, SetRef, as_bitset, encode_set, fixed_columns, read_set,
    take, wide,
};
use crate::varint;

/// One variant's carriers as a block holds them: the plain encoding ([`crate::carriers`]), one
/// with linked sets and the plain carriers of the variant they are linked to, or one with sets in
/// the block's order of people ([`crate::carrier_order`]) and that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarrierBytes<'a> {
    bytes: &'a [u8],
    linked_to: Option<&'a [u8]>,
    order: Option<&'a ColumnOrder<'a>>,
    /// The file's sample columns, to expand linked sets.
    columns: usize,
}

impl<'a> CarrierBytes<'a> {
    pub fn plain(bytes: &'a [u8]) -> Self {
        Self { bytes, linked_to: None, order: None, columns: 0 }
    }

    /// `bytes` with sets linked to `target`'s (plain) in a file of `columns` sample columns.
    pub fn linked(bytes: &'a [u8], target: &'a [u8], columns: usize) -> Self {
        Self { bytes, linked_to: Some(target), order: None, columns }
    }

    /// `bytes` with sets in `order`, a block's order of the people of a file of `columns` columns.
    pub fn sorted(bytes: &'a [u8], order: &'a ColumnOrder<'a>, columns: usize) -> Self {
        Self { bytes, linked_to: None, order: Some(order), columns }
    }

    /// The bytes as stored (linked sets not expanded).
    pub fn as_stored(&self) -> &'a [u8] {
        self.bytes
    }

    /// The stored order of people these carriers need to be read, when some set is in it.
    pub fn order_needed(&self) -> Result<Option<&'a [u8]>, CarrierFormatError> {
        match self.order {
            Some(order) if crate::carrier_order::needs_order(self.bytes, self.columns)? => Ok(Some(order.as_stored())),
            _ => Ok(None),
        }
    }

    /// The sets, read in place for a file of `columns` sample columns; linked sets are counted
    /// against the bitset they are linked to, without expanding them.
    pub fn parse(&self, columns: usize) -> Result<EncodedCarriers<'a>, CarrierFormatError> {
        if self.linked_to.is_none() && self.order.is_none() {
            return EncodedCarriers::parse(self.bytes, columns);
        }
        let base = self.linked_to.map(|target| EncodedCarriers::parse(target, columns)).transpose()?;
        let mut rest = self.bytes;
        let mut sets = [SetRef::Empty; 5];
        for set in &mut sets {
            *set = match (rest.first(), base, self.order) {
                (Some(&RUNS), _, Some(order)) => {
                    let runs = read_runs(&mut rest)?;
                    SetRef::Runs { count: runs.count, runs: runs.runs, order }
                }
                (Some(&LINKED), Some(base), _) => {
                    let (index, differing, width) = read_linked(&mut rest, columns)?;
                    match base.sets.get(index) {
                        Some(&SetRef::Bits(base)) => SetRef::Linked { base, differing, width },
                        _ => return Err(CarrierFormatError("linked to a set that is not a bitset")),
                    }
                }
                _ => read_set(&mut rest, columns)?,
            };
        }
        if !rest.is_empty() {
            return Err(CarrierFormatError("trailing bytes"));
        }
        Ok(EncodedCarriers { sets })
    }

    /// The plain encoding, expanded when linked or in order.
    pub fn to_plain(&self) -> Result<Cow<'a, [u8]>, CarrierFormatError> {
        match (self.linked_to, self.order) {
            (Some(target), _) => unlink(self.bytes, target, self.columns).map(Cow::Owned),
            (None, Some(order)) => self.out_of_order(order).map(Cow::Owned),
            (None, None) => Ok(Cow::Borrowed(self.bytes)),
        }
    }

    /// The sets in order coded on their own again; damaged bytes are an error (like [`unlink`]).
    fn out_of_order(&self, order: &ColumnOrder<'_>) -> Result<Vec<u8>, CarrierFormatError> {
        let mut out = Vec::with_capacity(self.bytes.len());
        let mut rest = self.bytes;
        for _ in 0..5 {
            if rest.first() != Some(&RUNS) {
                out.extend_from_slice(next_set(&mut rest, self.columns)?);
                continue;
            }
            let runs = read_runs(&mut rest)?;
            let words = order.bits_of(&runs);
            let count: usize = words.iter().map(|w| w.count_ones() as usize).sum();
            if count != runs.count || words.len() != self.columns.div_ceil(64) {
                return Err(CarrierFormatError("runs and their count disagree"));
            }
            // A set its own coding keeps as a bitset is written from the bitset at hand.
            if as_bitset(count, self.columns) {
                out.push(BITS);
                words.iter().for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
            } else {
                encode_set(&mut out, &runs.columns(order), self.columns);
            }
        }
        if !rest.is_empty() {
            return Err(CarrierFormatError("trailing bytes"));
        }
        Ok(out)
    }
}

fn width(columns: usize) -> usize {
    if wide(columns) { 4 } else { 2 }
}

/// The referenced set's index, the differing columns and their width, of the linked set at the
/// front of `bytes`, passed.
fn read_linked<'a>(bytes: &mut &'a [u8], columns: usize) -> Result<(usize, &'a [u8], usize), CarrierFormatError> {
    let head = take(bytes, 2)?;
    if head[0] != LINKED {
        return Err(CarrierFormatError("not a linked set"));
    }
    let count = varint::get(bytes).and_then(|c| usize::try_from(c).ok()).ok_or(CarrierFormatError("count"))?;
    let width = width(columns);
    let differing = take(bytes, count.checked_mul(width).ok_or(CarrierFormatError("count"))?)?;
    Ok((usize::from(head[1]), differing, width))
}

/// The bitsets of a plain encoding by set index (`None` where a set is coded otherwise), each with
/// its number of members.
pub type Bitsets<'a> = [Option<(&'a [u8], usize)>; 5];

/// How one set is linked: to which set of the reference, with how many differing columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    reference_set: u8,
    differing: usize,
    /// Bytes saved against the bitset.
    saved: usize,
}

/// For each set, the link that saves most, if any.
pub type Plan = [Option<Link>; 5];

/// The bitsets of a plain encoding of a file with `columns` sample columns.
pub fn bitsets(carriers: &[u8], columns: usize) -> Result<Bitsets<'_>, CarrierFormatError> {
    Ok(EncodedCarriers::parse(carriers, columns)?.sets.map(|set| match set {
        SetRef::Bits(words) => Some((words, words.chunks_exact(8).map(|w| word(w).count_ones() as usize).sum())),
        _ => None,
    }))
}

/// The best link of each of `entry`'s bitsets to one of `reference`'s, in a file of `columns`.
pub fn plan(entry: &Bitsets<'_>, reference: &Bitsets<'_>, columns: usize) -> Plan {
    let width = width(columns);
    entry.map(|set| {
        let (set, members) = set?;
        let cap = set.len() / 4 / width;
        let mut best: Option<Link> = None;
        for (index, r) in reference.iter().enumerate() {
            // Sets whose sizes differ by more than the cap differ in more columns than that.
            let Some((r, _)) = r.filter(|(_, m)| m.abs_diff(members) <= cap) else { continue };
            let Some(differing) = differing(set, r, cap) else { continue };
            let linked = 2 + varint::len(differing as u64) + differing * width;
            let saved = (1 + set.len()).saturating_sub(linked);
            if saved > best.map_or(0, |b| b.saved) {
                best = Some(Link { reference_set: index as u8, differing, saved });
            }
        }
        best
    })
}

/// Bytes a plan saves.
pub fn saved(plan: &Plan) -> usize {
    plan.iter().flatten().map(|l| l.saved).sum()
}

fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

/// The words of `set` XOR those of `reference`.
fn xor<'a>(set: &'a [u8], reference: &'a [u8]) -> impl Iterator<Item = u64> + 'a {
    set.chunks_exact(8).zip(reference.chunks_exact(8)).map(|(a, b)| word(a) ^ word(b))
}

/// Columns where two bitsets differ, or `None` past `cap` (stopping early for unrelated sets).
fn differing(set: &[u8], reference: &[u8], cap: usize) -> Option<usize> {
    if set.len() != reference.len() {
        return None;
    }
    let mut differing = 0;
    for x in xor(set, reference) {
        differing += x.count_ones() as usize;
        if differing > cap {
            return None;
        }
    }
    Some(differing)
}

/// The bytes of one set of `rest`, which it passes.
fn next_set<'a>(rest: &mut &'a [u8], columns: usize) -> Result<&'a [u8], CarrierFormatError> {
    let before = *rest;
    read_set(rest, columns)?;
    Ok(&before[..before.len() - rest.len()])
}

/// `carriers` (a plain encoding) with the sets `plan` names coded against `reference`'s bitsets.
pub fn link(
    carriers: &[u8],
    reference: &Bitsets<'_>,
    plan: &Plan,
    columns: usize,
) -> Result<Vec<u8>, CarrierFormatError> {
    let mut out = Vec::with_capacity(carriers.len());
    let mut rest = carriers;
    for link in plan {
        let set = next_set(&mut rest, columns)?;
        let Some(link) = link else {
            out.extend_from_slice(set);
            continue;
        };
        let words = set.get(1..).filter(|_| set.first() == Some(&BITS));
        let r = reference.get(usize::from(link.reference_set)).copied().flatten().map(|(r, _)| r);
        let (Some(words), Some(r)) = (words, r) else { return Err(CarrierFormatError("link plan")) };
        out.extend_from_slice(&[LINKED, link.reference_set]);
        varint::put(&mut out, link.differing as u64);
        for (i, mut x) in xor(words, r).enumerate() {
            while x != 0 {
                let column = i as u32 * 64 + x.trailing_zeros();
                x &= x - 1;
                if wide(columns) {
                    out.extend_from_slice(&column.to_le_bytes());
                } else {
                    out.extend_from_slice(&(column as u16).to_le_bytes());
                }
            }
        }
    }
    if !rest.is_empty() {
        return Err(CarrierFormatError("trailing bytes"));
    }
    Ok(out)
}

/// `carriers` with each linked set expanded into its bitset, against `reference`: the plain
/// encoding of the variant it is linked to. Damaged bytes are an error, never a panic (unlike a
/// count, which reads the same bytes leniently: an expanded set is stored again by a withdrawal).
pub fn unlink(carriers: &[u8], reference: &[u8], columns: usize) -> Result<Vec<u8>, CarrierFormatError> {
    // Sized by the bytes at hand, not by `columns`, which comes from a header that may be damaged.
    let mut out = Vec::with_capacity(carriers.len() + reference.len());
    let reference = EncodedCarriers::parse(reference, columns)?;
    let mut rest = carriers;
    for _ in 0..5 {
        if rest.first() != Some(&LINKED) {
            out.extend_from_slice(next_set(&mut rest, columns)?);
            continue;
        }
        let (index, differing, width) = read_linked(&mut rest, columns)?;
        let Some(&SetRef::Bits(words)) = reference.sets.get(index) else {
            return Err(CarrierFormatError("linked to a set that is not a bitset"));
        };
        out.push(BITS);
        let start = out.len();
        out.extend_from_slice(words);
        for column in fixed_columns(differing, width) {
            if column as usize >= columns {
                return Err(CarrierFormatError("linked column"));
            }
            // Bit `column` of little-endian u64 words is bit `column % 8` of byte `column / 8`.
            out[start + column as usize / 8] ^= 1 << (column % 8);
        }
    }
    if !rest.is_empty() {
        return Err(CarrierFormatError("trailing bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carriers::{CarrierSets, ColumnFilter};

    /// Columns `0..columns` where `keep` holds.
    fn set(columns: u32, keep: impl Fn(u32) -> bool) -> Vec<u32> {
        (0..columns).filter(|&c| keep(c)).collect()
    }

    #[test]
    fn a_set_in_ld_with_another_is_stored_as_their_difference_and_read_back_whole() {
        let columns = 5000;
        let reference = CarrierSets {
            het: set(5000, |c| c % 3 == 0),
            hom_alt: set(5000, |c| c % 7 == 1),
            ..CarrierSets::default()
        };
        // The same het columns but six, and hom-ALT columns unrelated to either of the reference's sets.
        let mut het = reference.het.clone();
        het.retain(|c| ![0, 300, 3000].contains(c));
        het.extend([1, 301, 4999]);
        het.sort_unstable();
        let entry = CarrierSets { het, hom_alt: set(5000, |c| c % 5 == 2), hemi: vec![7], ..CarrierSets::default() };
        let (plain, reference_bytes) = (entry.encode(columns), reference.encode(columns));
        let r = bitsets(&reference_bytes, columns).unwrap();
        let plan = plan(&bitsets(&plain, columns).unwrap(), &r, columns);
        // Six differing columns, 0, 1, 300, 301, 3000 and 4999, two bytes each: 15 bytes, not 633.
        assert_eq!(plan[0], Some(Link { reference_set: 0, differing: 6, saved: 633 - 15 }));
        assert_eq!(plan[1], None, "unrelated sets stay bitsets");
        let linked = link(&plain, &r, &plan, columns).unwrap();
        assert_eq!(linked.len(), plain.len() - saved(&plan));
        assert_eq!(&linked[..9], &[LINKED, 0, 6, 0, 0, 1, 0, 0x2C, 0x01]);
        assert!(EncodedCarriers::parse(&linked, columns).is_err(), "a linked set is not read on its own");
        let back = unlink(&linked, &reference_bytes, columns).unwrap();
        assert_eq!(back, plain);
        // Counted in place, the linked set gives the plain set's counts, with or without a filter.
        let stored = CarrierBytes::linked(&linked, &reference_bytes, columns);
        assert_eq!(stored.to_plain().unwrap(), plain);
        let (in_place, whole) = (stored.parse(columns).unwrap(), EncodedCarriers::parse(&plain, columns).unwrap());
        let filter = ColumnFilter::from_fn(columns, |c| c < 400 || c == 4999);
        for f in [None, Some(&filter)] {
            assert_eq!(in_place.counts(f, 800), whole.counts(f, 800));
        }
        let counts = in_place.counts(Some(&filter), 800);
        assert_eq!(counts.heterozygous, entry.het.iter().filter(|&&c| c < 400 || c == 4999).count() as u64);
        assert_eq!(in_place.decode(), entry);
    }

    #[test]
    fn damaged_links_are_errors() {
        let columns = 200;
        let reference = CarrierSets { het: set(200, |c| c % 2 == 0), ..CarrierSets::default() }.encode(columns);
        let ok = [LINKED, 0, 1, 5, 0, 0, 0, 0, 0];
        assert!(unlink(&ok, &reference, columns).is_ok());
        let damaged: [&[u8]; 7] = [
            &[LINKED, 1, 1, 5, 0, 0, 0, 0, 0],   // set 1 of the reference is not a bitset
            &[LINKED, 9, 1, 5, 0, 0, 0, 0, 0],   // no set 9
            &[LINKED, 0, 1, 200, 0, 0, 0, 0, 0], // column 200 of 200
            &[LINKED, 0, 2, 5, 0, 0, 0, 0, 0],   // two columns: the sets after them cut short
            &[LINKED, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0], // a count beyond the bytes
            &[LINKED, 0],
            &[LINKED, 0, 1, 5, 0, 0, 0, 0, 0, 0], // trailing
        ];
        for bytes in damaged {
            assert!(unlink(bytes, &reference, columns).is_err(), "{bytes:?}");
            // Counted in place, damage is an error or a count, never a panic.
            let _ = CarrierBytes::linked(bytes, &reference, columns).parse(columns).map(|c| c.counts(None, 0));
        }
        assert!(unlink(&ok, &[LINKED, 0, 0, 0, 0, 0, 0], columns).is_err(), "the reference must be plain");
    }
}
