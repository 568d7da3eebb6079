//! Carrier bitsets coded against another variant's: nearby common variants are in linkage
//! disequilibrium, so the heterozygous (or hom-ALT) columns of one are mostly those of another,
//! and the columns where two such sets differ are far fewer than either set.
//!
//! A linked set (tag `4` among the [`crate::carriers`] encodings) is the tag, the index (0–4: het,
//! hom-ALT, hemi, missing one, missing two) of the referenced variant's set, the byte length of
//! what follows (LEB128), then the columns where the two sets differ, ascending, as gaps coded like
//! a delta-coded set (below 255 one byte, else 255 and a LEB128). Only bitsets are linked, only to
//! a plain bitset, and only when the difference takes at most a quarter of the bitset's bytes (a
//! model over the 5,000-sample cohort kept nearly all of the saving with that cap: BENCHMARKS.md,
//! issue #19). The store keeps the two variants in one block ([`link`] when writing it);
//! [`unlink`] expands a linked set back into its bitset when reading, so everything past the block
//! counts the plain encoding.

use crate::carriers::{BITS, CarrierFormatError, ESCAPE, LINKED, SetRef, gap_len, read_set, take};
use crate::varint;

/// The bitsets of a plain encoding by set index (`None` where a set is coded otherwise), each with
/// its number of members.
pub type Bitsets<'a> = [Option<(&'a [u8], usize)>; 5];

/// How one set is linked: to which set of the reference, in how many bytes of gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    reference_set: u8,
    gaps: usize,
    /// Bytes saved against the bitset.
    saved: usize,
}

/// For each set, the link that saves most, if any.
pub type Plan = [Option<Link>; 5];

/// The bitsets of a plain encoding of a file with `columns` sample columns.
pub fn bitsets(mut carriers: &[u8], columns: usize) -> Result<Bitsets<'_>, CarrierFormatError> {
    let mut out = [None; 5];
    for slot in &mut out {
        if let SetRef::Bits(words) = read_set(&mut carriers, columns)? {
            *slot = Some((words, words.chunks_exact(8).map(|w| word(w).count_ones() as usize).sum()));
        }
    }
    if !carriers.is_empty() {
        return Err(CarrierFormatError("trailing bytes"));
    }
    Ok(out)
}

/// The best link of each of `entry`'s bitsets to one of `reference`'s.
pub fn plan(entry: &Bitsets<'_>, reference: &Bitsets<'_>) -> Plan {
    entry.map(|set| {
        let (set, members) = set?;
        let cap = set.len() / 4;
        let mut best: Option<Link> = None;
        for (index, r) in reference.iter().enumerate() {
            // Sets whose sizes differ by more than the cap differ in more columns than that.
            let Some((r, _)) = r.filter(|(_, m)| m.abs_diff(members) <= cap) else { continue };
            let Some(gaps) = difference_len(set, r, cap) else { continue };
            let linked = 2 + varint::len(gaps as u64) + gaps;
            let saved = (1 + set.len()).saturating_sub(linked);
            if saved > best.map_or(0, |b| b.saved) {
                best = Some(Link { reference_set: index as u8, gaps, saved });
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

/// Bytes of the gaps between the columns where two bitsets differ, or `None` past `cap`.
fn difference_len(set: &[u8], reference: &[u8], cap: usize) -> Option<usize> {
    if set.len() != reference.len() {
        return None;
    }
    let pairs = || set.chunks_exact(8).zip(reference.chunks_exact(8)).map(|(a, b)| word(a) ^ word(b));
    // Every differing column takes at least a byte: count first, stop early for unrelated sets.
    let mut differing = 0;
    for x in pairs() {
        differing += x.count_ones() as usize;
        if differing > cap {
            return None;
        }
    }
    let (mut len, mut previous) = (0, 0u64);
    for (i, mut x) in pairs().enumerate() {
        while x != 0 {
            let column = i as u64 * 64 + u64::from(x.trailing_zeros());
            x &= x - 1;
            len += gap_len(column - previous);
            previous = column;
        }
    }
    (len <= cap).then_some(len)
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
        varint::put(&mut out, link.gaps as u64);
        let mut previous = 0u64;
        for (i, (a, b)) in words.chunks_exact(8).zip(r.chunks_exact(8)).enumerate() {
            let mut x = word(a) ^ word(b);
            while x != 0 {
                let column = i as u64 * 64 + u64::from(x.trailing_zeros());
                x &= x - 1;
                let gap = column - previous;
                previous = column;
                if gap < u64::from(ESCAPE) {
                    out.push(gap as u8);
                } else {
                    out.push(ESCAPE);
                    varint::put(&mut out, gap);
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
/// encoding of the variant it is linked to. Damaged bytes are an error, never a panic.
pub fn unlink(carriers: &[u8], reference: &[u8], columns: usize) -> Result<Vec<u8>, CarrierFormatError> {
    // Sized by the bytes at hand, not by `columns`, which comes from a header that may be damaged.
    let mut out = Vec::with_capacity(carriers.len() + reference.len());
    let reference = bitsets(reference, columns)?;
    let mut rest = carriers;
    for _ in 0..5 {
        if rest.first() != Some(&LINKED) {
            out.extend_from_slice(next_set(&mut rest, columns)?);
            continue;
        }
        let head = take(&mut rest, 2)?;
        let words = reference.get(usize::from(head[1])).copied().flatten().map(|(words, _)| words);
        let words = words.ok_or(CarrierFormatError("linked to a set that is not a bitset"))?;
        let len = varint::get(&mut rest).ok_or(CarrierFormatError("length"))?;
        let mut gaps = take(&mut rest, usize::try_from(len).map_err(|_| CarrierFormatError("length"))?)?;
        out.push(BITS);
        let start = out.len();
        out.extend_from_slice(words);
        let mut column = 0u64;
        while let Some((&byte, tail)) = gaps.split_first() {
            gaps = tail;
            let gap = if byte != ESCAPE {
                u64::from(byte)
            } else {
                varint::get(&mut gaps).ok_or(CarrierFormatError("gap"))?
            };
            column =
                column.checked_add(gap).filter(|&c| c < columns as u64).ok_or(CarrierFormatError("linked column"))?;
            // Bit `column` of little-endian u64 words is bit `column % 8` of byte `column / 8`.
            out[start + (column / 8) as usize] ^= 1 << (column % 8);
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
    use crate::carriers::{CarrierSets, ColumnFilter, EncodedCarriers};

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
        let plan = plan(&bitsets(&plain, columns).unwrap(), &r);
        // Differing columns 0, 1, 300, 301, 3000, 4999: gaps 0, 1, then 299, 2699 and 1999 escaped
        // (three bytes each), 12 bytes in all; linked, 15 bytes instead of 633.
        assert_eq!(plan[0], Some(Link { reference_set: 0, gaps: 12, saved: 633 - 15 }));
        assert_eq!(plan[1], None, "unrelated sets stay bitsets");
        let linked = link(&plain, &r, &plan, columns).unwrap();
        assert_eq!(linked.len(), plain.len() - saved(&plan));
        assert_eq!(&linked[..9], &[LINKED, 0, 12, 0, 1, ESCAPE, 0xAB, 0x02, 1]);
        assert!(EncodedCarriers::parse(&linked, columns).is_err(), "a linked set is not read on its own");
        let back = unlink(&linked, &reference_bytes, columns).unwrap();
        assert_eq!(back, plain);
        let filter = ColumnFilter::from_fn(columns, |c| c < 400);
        let counts = EncodedCarriers::parse(&back, columns).unwrap().counts(Some(&filter), 800);
        assert_eq!(counts.heterozygous, entry.het.iter().filter(|&&c| c < 400).count() as u64);
    }

    #[test]
    fn damaged_links_are_errors() {
        let columns = 200;
        let reference = CarrierSets { het: set(200, |c| c % 2 == 0), ..CarrierSets::default() }.encode(columns);
        let ok = [LINKED, 0, 1, 5, 0, 0, 0, 0];
        assert!(unlink(&ok, &reference, columns).is_ok());
        for damaged in [
            &[LINKED, 1, 1, 5, 0, 0, 0, 0][..],     // set 1 of the reference is not a bitset
            &[LINKED, 9, 1, 5, 0, 0, 0, 0],         // no set 9
            &[LINKED, 0, 1, 200, 0, 0, 0, 0],       // column 200 of 200
            &[LINKED, 0, 2, 255, 0x80, 0, 0, 0, 0], // escaped gap cut short
            &[LINKED, 0, 9, 5, 0, 0, 0, 0],         // length beyond the bytes
            &[LINKED, 0],
            &[LINKED, 0, 1, 5, 0, 0, 0, 0, 0], // trailing
        ] {
            assert!(unlink(damaged, &reference, columns).is_err(), "{damaged:?}");
        }
        assert!(unlink(&ok, &[LINKED, 0, 0, 0, 0, 0, 0], columns).is_err(), "the reference must be plain");
    }
}
