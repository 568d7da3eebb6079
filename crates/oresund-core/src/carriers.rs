//! Who carries a variant within one ingested file, and the allele counts that gives.
//!
//! Individuals are addressed by their *column* in the file (0-based sample column): the sets are
//! built in column order at ingest, and a query translates its cohort filter into the file's
//! columns once ([`ColumnFilter`]) and then counts every variant against it.
//!
//! The genotype classes follow `bcftools +fill-tags -- -t AN,AC,AC_Het,AC_Hom,AC_Hemi` exactly: a
//! genotype contributes its *called* alleles to AN; two called alleles that differ are
//! heterozygous, two ALT alleles homozygous, exactly one called ALT allele (haploid `1`, or
//! half-missing `./1`) hemizygous — on any chromosome.
//!
//! Encoding (one byte string per variant and file): for each of the five sets, a tag byte then
//! `0` empty; `6` the count (LEB128, [`crate::varint`]) and that many columns (u16 LE when the
//! file has at most 65,536 columns, else u32 LE); `3` the count and the byte length of what
//! follows (both LEB128), then the gaps between ascending columns (the first column, then each
//! column minus the previous one), a gap below 255 as one byte, a larger one as 255 and its
//! LEB128; `2` a bitset of ⌈columns/64⌉ u64 LE words. A set whose list would be larger than the
//! bitset is a bitset; below that the gaps when they are smaller and rarely escaped, else the
//! list (a rare variant's few carriers as a list, a less rare one's as one-byte gaps). All count
//! in place: the count is stored, and a cohort filter tests each column or ANDs the words.
//! (Earlier versions wrote `1`, a list with a u32 LE count, instead of `6`, and before that
//! no `3`; both are still read.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::ordered_filter::OrderedFilters;
use crate::varint;

/// Genotype classes for one biallelic variant among the sample columns of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarrierSets {
    /// Two called alleles, one REF and one ALT.
    pub het: Vec<u32>,
    /// Two called alleles, both ALT.
    pub hom_alt: Vec<u32>,
    /// Exactly one called allele, and it is ALT.
    pub hemi: Vec<u32>,
    /// One allele slot without a call: haploid `.`, or diploid `./0`, `./1`.
    pub missing_one: Vec<u32>,
    /// Two allele slots without a call: diploid `./.`.
    pub missing_two: Vec<u32>,
}

/// Allele counts over a set of individuals, with the names of the issue and of bcftools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlleleCounts {
    /// AC: ALT alleles among called alleles.
    pub allele_count: u64,
    /// AN: called alleles.
    pub allele_number: u64,
    /// AC_Het: heterozygous individuals (each carries one ALT allele).
    pub heterozygous: u64,
    /// AC_Hom / 2: homozygous-ALT individuals.
    pub homozygous_alt: u64,
    /// AC_Hemi: individuals with exactly one called allele, ALT.
    pub hemizygous: u64,
}

impl AlleleCounts {
    /// AC / AN, or 0 when nothing was called.
    pub fn allele_frequency(&self) -> f64 {
        if self.allele_number == 0 { 0.0 } else { self.allele_count as f64 / self.allele_number as f64 }
    }

    /// Individuals carrying at least one ALT allele.
    pub fn carriers(&self) -> u64 {
        self.heterozygous + self.homozygous_alt + self.hemizygous
    }
}

impl std::ops::SubAssign for AlleleCounts {
    /// Removes a subgroup's counts (a subset of these people), never below zero.
    fn sub_assign(&mut self, other: Self) {
        self.allele_count = self.allele_count.saturating_sub(other.allele_count);
        self.allele_number = self.allele_number.saturating_sub(other.allele_number);
        self.heterozygous = self.heterozygous.saturating_sub(other.heterozygous);
        self.homozygous_alt = self.homozygous_alt.saturating_sub(other.homozygous_alt);
        self.hemizygous = self.hemizygous.saturating_sub(other.hemizygous);
    }
}

impl std::ops::AddAssign for AlleleCounts {
    fn add_assign(&mut self, other: Self) {
        self.allele_count += other.allele_count;
        self.allele_number += other.allele_number;
        self.heterozygous += other.heterozygous;
        self.homozygous_alt += other.homozygous_alt;
        self.hemizygous += other.hemizygous;
    }
}

/// The columns of one file that pass a cohort filter, as a bitset.
#[derive(Debug, Clone)]
pub struct ColumnFilter {
    words: Vec<u64>,
    len: u64,
    /// New for every filter built or changed (a clone keeps it): a block keeps the filter put
    /// into its order of people under this id ([`crate::carrier_order`]), which an address would
    /// not name safely (a freed filter's memory is reused).
    id: u64,
    /// This filter in the orders of people of the blocks it was asked of (its clones share them).
    ordered: Arc<OrderedFilters>,
}

impl PartialEq for ColumnFilter {
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words
    }
}

impl Eq for ColumnFilter {}

fn new_filter_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl ColumnFilter {
    /// Columns `0..columns` for which `keep(column)` holds.
    pub fn from_fn(columns: usize, mut keep: impl FnMut(usize) -> bool) -> Self {
        let mut words = vec![0u64; columns.div_ceil(64)];
        let mut len = 0;
        for column in 0..columns {
            if keep(column) {
                words[column / 64] |= 1 << (column % 64);
                len += 1;
            }
        }
        Self { words, len, id: new_filter_id(), ordered: Arc::default() }
    }

    /// Names this filter's columns as they are now (see the field).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn ordered(&self) -> &OrderedFilters {
        &self.ordered
    }

    /// After a change: a new id, and nothing kept in order.
    fn changed(&mut self) {
        self.id = new_filter_id();
        self.ordered = Arc::default();
    }

    /// Number of columns that pass.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, column: u32) -> bool {
        self.contains_wide(u64::from(column))
    }

    /// 1 when a column read from an order of people passes, else 0 (beyond the filter: 0).
    #[inline]
    pub(crate) fn bit(&self, column: usize) -> u64 {
        self.words.get(column / 64).map_or(0, |w| w >> (column % 64) & 1)
    }

    /// [`ColumnFilter::contains`] for a column decoded as u64 (beyond the filter: false).
    fn contains_wide(&self, column: u64) -> bool {
        usize::try_from(column / 64)
            .ok()
            .and_then(|word| self.words.get(word))
            .is_some_and(|w| w & (1 << (column % 64)) != 0)
    }

    /// Adds `column` (ignored beyond the filter's width).
    pub fn insert(&mut self, column: u32) {
        if let Some(word) = self.words.get_mut(column as usize / 64) {
            let bit = 1 << (column % 64);
            if *word & bit == 0 {
                *word |= bit;
                self.len += 1;
                self.changed();
            }
        }
    }

    /// Adds every column of `other` (of the same width).
    pub fn union_with(&mut self, other: &ColumnFilter) {
        for (word, o) in self.words.iter_mut().zip(&other.words) {
            *word |= o;
        }
        self.len = self.words.iter().map(|w| u64::from(w.count_ones())).sum();
        self.changed();
    }

    /// The columns of `self` (every one of `columns` when `None`) that are not in `removed`.
    pub fn without(this: Option<&ColumnFilter>, columns: usize, removed: &ColumnFilter) -> ColumnFilter {
        let mut out = this.cloned().unwrap_or_else(|| ColumnFilter::from_fn(columns, |_| true));
        for (word, r) in out.words.iter_mut().zip(&removed.words) {
            *word &= !r;
        }
        out.len = out.words.iter().map(|w| u64::from(w.count_ones())).sum();
        out.changed();
        out
    }
}

/// Malformed carrier bytes (a damaged store): an error, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("carrier record is malformed: {0}")]
pub struct CarrierFormatError(pub(crate) &'static str);

const EMPTY: u8 = 0;
/// A list with a u32 count, as written before [`SHORT_LIST`].
const LIST: u8 = 1;
/// A list with a LEB128 count: three bytes fewer for the many rare variants (issue #19).
const SHORT_LIST: u8 = 6;
pub(crate) const BITS: u8 = 2;
const DELTAS: u8 = 3;
/// A bitset coded against another variant's ([`crate::carrier_links`]); read only through it.
pub(crate) const LINKED: u8 = 4;
/// Runs of places in a block's order of people ([`crate::carrier_order`]); read only through it.
pub(crate) const RUNS: u8 = 5;
/// In a delta-coded set, the byte that says a LEB128 gap follows.
const ESCAPE: u8 = 255;

fn gap_len(gap: u64) -> usize {
    if gap < u64::from(ESCAPE) { 1 } else { 1 + varint::len(gap) }
}

pub(crate) fn wide(columns: usize) -> bool {
    columns > 1 << 16
}

/// Whether a set of `count` members of a file of `columns` is coded as a bitset: when its list of
/// fixed-width columns would be larger (see [`encode_set`]).
pub(crate) fn as_bitset(count: usize, columns: usize) -> bool {
    let width = if wide(columns) { 4 } else { 2 };
    4 + count * width > columns.div_ceil(64) * 8
}

/// Appends one set (ascending columns), encoded as the module docs say.
pub fn encode_set(out: &mut Vec<u8>, set: &[u32], columns: usize) {
    let words = columns.div_ceil(64);
    if set.is_empty() {
        out.push(EMPTY);
        return;
    }
    let width = if wide(columns) { 4 } else { 2 };
    let gaps = || {
        set.iter().scan(0u32, |prev, &c| {
            let gap = c.saturating_sub(*prev);
            *prev = c;
            Some(u64::from(gap))
        })
    };
    let (body, escapes) =
        gaps().fold((0, 0), |(body, escapes), gap| (body + gap_len(gap), escapes + usize::from(gap_len(gap) > 1)));
    let deltas = varint::len(set.len() as u64) + varint::len(body as u64) + body;
    let list = varint::len(set.len() as u64) + set.len() * width;
    // A filtered count ANDs a bitset's fixed number of words but tests every listed column, so a
    // set becomes a bitset as soon as its fixed-width list would be larger, even when one-byte
    // gaps would still be smaller; and gaps are written only when at most one in sixteen needs
    // the escape, whose branch the processor cannot predict. (Writing gaps wherever they were
    // smaller took a 1 Mb region count with a phenotype filter from about 3 to 4-5 ms.)
    if as_bitset(set.len(), columns) {
        out.push(BITS);
        let mut bits = vec![0u64; words];
        for &column in set {
            if let Some(word) = bits.get_mut(column as usize / 64) {
                *word |= 1 << (column % 64);
            }
        }
        for word in bits {
            out.extend_from_slice(&word.to_le_bytes());
        }
    } else if list <= deltas || escapes * 16 > set.len() {
        out.push(SHORT_LIST);
        varint::put(out, set.len() as u64);
        for &column in set {
            if width == 2 {
                out.extend_from_slice(&(column as u16).to_le_bytes());
            } else {
                out.extend_from_slice(&column.to_le_bytes());
            }
        }
    } else {
        out.push(DELTAS);
        varint::put(out, set.len() as u64);
        varint::put(out, body as u64);
        for gap in gaps() {
            if gap < u64::from(ESCAPE) {
                out.push(gap as u8);
            } else {
                out.push(ESCAPE);
                varint::put(out, gap);
            }
        }
    }
}

/// A block's order of people ([`crate::carrier_order`]), through which a set coded in it is read.
pub(crate) trait PeopleOrder: std::fmt::Debug {
    /// Members of `runs` (a set in order, after its count and length) that pass `filter`.
    fn count_runs(&self, runs: &[u8], filter: &ColumnFilter) -> u64;
    /// The columns of the `count` members of `runs`, ascending.
    fn columns_of_runs(&self, count: usize, runs: &[u8]) -> Vec<u32>;
}

/// One encoded set, borrowed from the store's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SetRef<'a> {
    Empty,
    List {
        count: usize,
        bytes: &'a [u8],
        width: usize,
    },
    /// `count` gaps, each one byte or 255 and a LEB128 (see the module docs).
    Deltas {
        count: usize,
        gaps: &'a [u8],
    },
    Bits(&'a [u8]),
    /// A bitset coded as the columns where it differs from `base`, another variant's bitset
    /// ([`crate::carrier_links`]): `differing` holds them as `width`-byte LE integers.
    Linked {
        base: &'a [u8],
        differing: &'a [u8],
        width: usize,
    },
    /// `count` members as runs of places in a block's `order` of people ([`crate::carrier_order`]).
    Runs {
        count: usize,
        runs: &'a [u8],
        order: &'a dyn PeopleOrder,
    },
}

pub(crate) fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], CarrierFormatError> {
    if bytes.len() < n {
        return Err(CarrierFormatError("truncated"));
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Ok(head)
}

pub(crate) fn read_set<'a>(bytes: &mut &'a [u8], columns: usize) -> Result<SetRef<'a>, CarrierFormatError> {
    let tag = take(bytes, 1)?[0];
    match tag {
        EMPTY => Ok(SetRef::Empty),
        LIST | SHORT_LIST => {
            let count = if tag == LIST {
                u32::from_le_bytes(take(bytes, 4)?.try_into().map_err(|_| CarrierFormatError("count"))?) as usize
            } else {
                varint::get(bytes).and_then(|c| usize::try_from(c).ok()).ok_or(CarrierFormatError("count"))?
            };
            let width = if wide(columns) { 4 } else { 2 };
            let body = take(bytes, count.checked_mul(width).ok_or(CarrierFormatError("count"))?)?;
            Ok(SetRef::List { count, bytes: body, width })
        }
        BITS => Ok(SetRef::Bits(take(bytes, columns.div_ceil(64) * 8)?)),
        DELTAS => {
            let count = varint::get(bytes).ok_or(CarrierFormatError("count"))? as usize;
            let length = varint::get(bytes).ok_or(CarrierFormatError("length"))? as usize;
            let gaps = take(bytes, length)?;
            // Each gap takes at least one byte.
            if count > length || (count == 0) != gaps.is_empty() {
                return Err(CarrierFormatError("gaps"));
            }
            Ok(SetRef::Deltas { count, gaps })
        }
        LINKED => Err(CarrierFormatError("a linked set read without the set it is linked to")),
        RUNS => Err(CarrierFormatError("a set in order read without its block's order of people")),
        _ => Err(CarrierFormatError("unknown set encoding")),
    }
}

impl SetRef<'_> {
    pub(crate) fn columns(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        match *self {
            SetRef::Empty => Box::new(std::iter::empty()),
            SetRef::List { bytes, width, .. } => Box::new(fixed_columns(bytes, width)),
            SetRef::Deltas { gaps, .. } => Box::new(delta_columns(gaps)),
            SetRef::Linked { base, differing, width } => Box::new(linked_columns(base, differing, width).into_iter()),
            SetRef::Runs { count, runs, order } => Box::new(order.columns_of_runs(count, runs).into_iter()),
            SetRef::Bits(bytes) => Box::new(bytes.chunks_exact(8).enumerate().flat_map(|(i, c)| {
                let mut word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                std::iter::from_fn(move || {
                    (word != 0).then(|| {
                        let bit = word.trailing_zeros();
                        word &= word - 1;
                        i as u32 * 64 + bit
                    })
                })
            })),
        }
    }

    /// Members that pass `filter` (all members when `None`).
    pub(crate) fn count(&self, filter: Option<&ColumnFilter>) -> u64 {
        match (*self, filter) {
            (SetRef::Empty, _) => 0,
            (SetRef::Linked { base, differing, width }, filter) => {
                let differences = match filter {
                    None => linked_sum(base, differing, width, |_| true),
                    Some(f) => linked_sum(base, differing, width, |column| f.contains_wide(column)),
                };
                SetRef::Bits(base).count(filter).saturating_add_signed(differences)
            }
            (SetRef::List { count, .. } | SetRef::Deltas { count, .. }, None) => count as u64,
            (SetRef::Runs { count, .. }, None) => count as u64,
            (SetRef::Runs { runs, order, .. }, Some(f)) => order.count_runs(runs, f),
            (SetRef::Deltas { gaps, .. }, Some(f)) => count_deltas(gaps, f),
            (SetRef::Bits(bytes), None) => bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()).count_ones() as u64)
                .sum(),
            (SetRef::Bits(bytes), Some(f)) => bytes
                .chunks_exact(8)
                .zip(&f.words)
                .map(|(c, w)| (u64::from_le_bytes(c.try_into().unwrap_or_default()) & w).count_ones() as u64)
                .sum(),
            (SetRef::List { bytes, width: 2, .. }, Some(f)) => {
                bytes.chunks_exact(2).filter(|c| f.contains(u32::from(u16::from_le_bytes([c[0], c[1]])))).count() as u64
            }
            (SetRef::List { bytes, .. }, Some(f)) => {
                bytes.chunks_exact(4).filter(|c| f.contains(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))).count()
                    as u64
            }
        }
    }
}

/// The columns of a delta-coded set; stops early on damaged bytes (which `read_set` mostly refuses).
fn delta_columns(mut gaps: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut column = 0u64;
    std::iter::from_fn(move || {
        let (&byte, tail) = gaps.split_first()?;
        gaps = tail;
        let gap = if byte != ESCAPE { u64::from(byte) } else { varint::get(&mut gaps)? };
        column = column.checked_add(gap)?;
        u32::try_from(column).ok()
    })
}

/// Members of a delta-coded set that pass `filter`: the hot loop of a filtered region count. A
/// gap below 255 is one byte and one well-predicted branch (LEB128 gaps, whose second byte starts
/// at 128, took twice as long in a 1 Mb region count); damaged bytes give a wrong count, never a
/// panic (`contains_wide` ignores columns past the filter).
///
/// The position in `gaps` is a plain index: while it was a slice passed by `&mut` to the LEB128
/// reader, it lived on the stack and was stored and reloaded at every byte, in the loop's critical
/// path (this function was a third of a 1 Mb region count at 20,000 samples, issue #19).
fn count_deltas(gaps: &[u8], filter: &ColumnFilter) -> u64 {
    let (mut column, mut count, mut at) = (0u64, 0u64, 0usize);
    while let Some(&byte) = gaps.get(at) {
        at += 1;
        let gap = if byte != ESCAPE { u64::from(byte) } else { escaped_gap(gaps, &mut at) };
        column = column.saturating_add(gap);
        count += u64::from(filter.contains_wide(column));
    }
    count
}

/// The columns of `width`-byte LE integers.
pub(crate) fn fixed_columns(bytes: &[u8], width: usize) -> impl Iterator<Item = u32> + '_ {
    bytes.chunks_exact(width).map(|c| match *c {
        [a, b] => u32::from(u16::from_le_bytes([a, b])),
        [a, b, c, d] => u32::from_le_bytes([a, b, c, d]),
        _ => u32::MAX,
    })
}

/// The columns of a linked set, ascending (differing columns beyond the bitset are ignored).
fn linked_columns(base: &[u8], differing: &[u8], width: usize) -> Vec<u32> {
    let mut words = base.to_vec();
    for column in fixed_columns(differing, width) {
        if let Some(byte) = words.get_mut(column as usize / 8) {
            *byte ^= 1 << (column % 8);
        }
    }
    SetRef::Bits(&words).columns().collect()
}

/// What a linked set's ([`crate::carrier_links`]) differing columns that `keep` admits add to
/// the count of `base`: one for each column `base` lacks, minus one for each it has, without a
/// branch (whether a differing column is in `base` is a coin toss to the processor). Damaged
/// bytes give a wrong count, never a panic.
fn linked_sum(base: &[u8], differing: &[u8], width: usize, keep: impl Fn(u64) -> bool) -> i64 {
    let one = |column: u64| {
        let in_base =
            usize::try_from(column / 8).ok().and_then(|i| base.get(i)).is_some_and(|b| b >> (column % 8) & 1 == 1);
        i64::from(keep(column)) * (1 - 2 * i64::from(in_base))
    };
    if width == 2 {
        differing.chunks_exact(2).map(|c| one(u64::from(u16::from_le_bytes([c[0], c[1]])))).sum()
    } else {
        differing.chunks_exact(4).map(|c| one(u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))).sum()
    }
}

/// The LEB128 gap after an escape byte at `gaps[*at..]`; `u64::MAX` (past every column) when damaged.
#[cold]
fn escaped_gap(gaps: &[u8], at: &mut usize) -> u64 {
    let mut rest = gaps.get(*at..).unwrap_or_default();
    let before = rest.len();
    let gap = varint::get(&mut rest).unwrap_or(u64::MAX);
    *at += before - rest.len();
    gap
}

/// The five sets of one variant in one file, read in place from their encoding.
#[derive(Debug, Clone, Copy)]
pub struct EncodedCarriers<'a> {
    pub(crate) sets: [SetRef<'a>; 5],
}

impl<'a> EncodedCarriers<'a> {
    /// Parses the encoding of a file with `columns` sample columns.
    pub fn parse(mut bytes: &'a [u8], columns: usize) -> Result<Self, CarrierFormatError> {
        let mut sets = [SetRef::Empty; 5];
        for set in &mut sets {
            *set = read_set(&mut bytes, columns)?;
        }
        if !bytes.is_empty() {
            return Err(CarrierFormatError("trailing bytes"));
        }
        Ok(Self { sets })
    }

    /// Counts over the columns in `filter` (all when `None`); `slots` is [`allele_slots`] for the same filter.
    pub fn counts(&self, filter: Option<&ColumnFilter>, slots: u64) -> AlleleCounts {
        let [het, hom, hemi, missing_one, missing_two] = self.sets.map(|s| s.count(filter));
        AlleleCounts {
            allele_count: het + 2 * hom + hemi,
            allele_number: slots.saturating_sub(missing_one + 2 * missing_two),
            heterozygous: het,
            homozygous_alt: hom,
            hemizygous: hemi,
        }
    }

    /// Columns with at least one ALT allele, ascending.
    pub fn carriers(&self) -> Vec<u32> {
        let mut out: Vec<u32> = self.sets[..3].iter().flat_map(|s| s.columns()).collect();
        out.sort_unstable();
        out
    }

    /// Back to lists of columns.
    pub fn decode(&self) -> CarrierSets {
        let list = |s: &SetRef<'_>| s.columns().collect::<Vec<u32>>();
        CarrierSets {
            het: list(&self.sets[0]),
            hom_alt: list(&self.sets[1]),
            hemi: list(&self.sets[2]),
            missing_one: list(&self.sets[3]),
            missing_two: list(&self.sets[4]),
        }
    }
}

impl CarrierSets {
    /// Encodes for a file with `columns` sample columns (see the module docs).
    pub fn encode(&self, columns: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for set in [&self.het, &self.hom_alt, &self.hemi, &self.missing_one, &self.missing_two] {
            encode_set(&mut out, set, columns);
        }
        out
    }
}

/// Encodes a single set of columns (a haploid set) on its own.
pub fn encode_columns(set: &[u32], columns: usize) -> Vec<u8> {
    let mut out = Vec::new();
    encode_set(&mut out, set, columns);
    out
}

/// Decodes what [`encode_columns`] wrote.
pub fn decode_columns(mut bytes: &[u8], columns: usize) -> Result<Vec<u32>, CarrierFormatError> {
    let set = read_set(&mut bytes, columns)?;
    Ok(set.columns().collect())
}

/// Allele slots of the columns that pass a filter: 2 per diploid, 1 per haploid column.
pub fn allele_slots(columns: usize, haploid: &[u32], filter: Option<&ColumnFilter>) -> u64 {
    match filter {
        None => 2 * columns as u64 - haploid.len() as u64,
        Some(f) => 2 * f.len() - haploid.iter().filter(|&&c| f.contains(c)).count() as u64,
    }
}

/// A seeded pseudo-random `next(n)` in `0..n` for tests (no rand dependency).
#[cfg(test)]
pub(crate) fn seeded(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bcftools fill-tags worked example: `0/1 1 1/1 0 ./1 ./. . 0/0` gives
    /// AN=9;AC=5;AC_Het=1;AC_Hom=2;AC_Hemi=2 (columns 0..8, haploid: 1, 3, 6).
    fn example() -> (CarrierSets, Vec<u32>) {
        let sets = CarrierSets {
            het: vec![0],
            hom_alt: vec![2],
            hemi: vec![1, 4],
            missing_one: vec![4, 6],
            missing_two: vec![5],
        };
        (sets, vec![1, 3, 6])
    }

    #[test]
    fn counts_like_bcftools_fill_tags() {
        let (sets, haploid) = example();
        let bytes = sets.encode(8);
        let c = EncodedCarriers::parse(&bytes, 8).unwrap().counts(None, allele_slots(8, &haploid, None));
        assert_eq!(
            c,
            AlleleCounts { allele_count: 5, allele_number: 9, heterozygous: 1, homozygous_alt: 1, hemizygous: 2 }
        );
        assert!((c.allele_frequency() - 5.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn filters_restrict_every_count() {
        let (sets, haploid) = example();
        let bytes = sets.encode(8);
        let filter = ColumnFilter::from_fn(8, |c| [0, 1, 5].contains(&c));
        let c =
            EncodedCarriers::parse(&bytes, 8).unwrap().counts(Some(&filter), allele_slots(8, &haploid, Some(&filter)));
        // 0/1 → AN 2, AC 1; haploid 1 → AN 1, AC 1; ./. → 0.
        assert_eq!(
            c,
            AlleleCounts { allele_count: 2, allele_number: 3, heterozygous: 1, homozygous_alt: 0, hemizygous: 1 }
        );
    }

    #[test]
    fn dense_sets_become_bitsets_and_count_the_same() {
        let columns = 5000;
        let het: Vec<u32> = (0..columns as u32).filter(|c| c % 3 == 0).collect();
        let sets = CarrierSets { het: het.clone(), hom_alt: vec![1, 4999], ..CarrierSets::default() };
        let bytes = sets.encode(columns);
        assert_eq!(bytes[0], BITS);
        assert!(bytes.len() < 700, "{} bytes", bytes.len());
        let parsed = EncodedCarriers::parse(&bytes, columns).unwrap();
        assert_eq!(parsed.decode(), sets);
        let filter = ColumnFilter::from_fn(columns, |c| c < 100);
        let slots = allele_slots(columns, &[], Some(&filter));
        let c = parsed.counts(Some(&filter), slots);
        assert_eq!((c.heterozygous, c.homozygous_alt, c.allele_number), (34, 1, 200));
        assert_eq!(parsed.carriers().len(), het.len() + 2);
    }

    #[test]
    fn close_carriers_are_gaps_and_scattered_ones_a_list_whatever_the_width() {
        // 40 columns three apart and one far: one escape in 41 gaps; four columns, one far: a list.
        let mut het: Vec<u32> = (0..40).map(|i| i * 3).collect();
        het.push(70_000);
        let sets = CarrierSets { het, hemi: vec![0, 1, 2, 99_999], ..CarrierSets::default() };
        let bytes = sets.encode(100_000);
        // Tag, count 41, length 44: 40 one-byte gaps, then the escape and 69,883 in three bytes.
        assert_eq!(&bytes[..4], &[DELTAS, 41, 44, 0]);
        assert_eq!(&bytes[42..47], &[3, ESCAPE, 0xFB, 0xA1, 0x04]);
        assert_eq!(&bytes[47..50], &[EMPTY, SHORT_LIST, 4]);
        let parsed = EncodedCarriers::parse(&bytes, 100_000).unwrap();
        assert_eq!(parsed.decode(), sets);
        let filter = ColumnFilter::from_fn(100_000, |c| c % 2 == 0);
        let counts = parsed.counts(Some(&filter), 0);
        assert_eq!((counts.heterozygous, counts.hemizygous), (21, 2));
        assert_eq!(parsed.counts(None, 0).hemizygous, 4);
        assert_eq!(decode_columns(&encode_columns(&[7, 99_999], 100_000), 100_000).unwrap(), [7, 99_999]);
    }

    #[test]
    fn the_fixed_width_lists_of_earlier_versions_still_count() {
        // het {1, 5} as tag 1 with u16 columns; hom_alt {70,000} in a 100,000-column file (u32).
        let mut narrow = vec![LIST, 2, 0, 0, 0, 1, 0, 5, 0];
        narrow.extend([EMPTY; 4]);
        let parsed = EncodedCarriers::parse(&narrow, 8).unwrap();
        assert_eq!(parsed.decode().het, [1, 5]);
        let filter = ColumnFilter::from_fn(8, |c| c == 5);
        assert_eq!(parsed.counts(Some(&filter), 2).heterozygous, 1);
        let mut wide = vec![EMPTY, LIST, 1, 0, 0, 0];
        wide.extend(70_000u32.to_le_bytes());
        wide.extend([EMPTY; 3]);
        assert_eq!(EncodedCarriers::parse(&wide, 100_000).unwrap().decode().hom_alt, [70_000]);
    }

    #[test]
    fn the_counting_loop_agrees_with_decoding() {
        let mut next = seeded(7);
        for columns in [10usize, 5000, 200_000] {
            for _ in 0..50 {
                let stride = 1 + next(400) as u32;
                let set: Vec<u32> = (0..columns as u32).filter(|_| next(u64::from(stride)) == 0).collect();
                let filter = ColumnFilter::from_fn(columns, |_| next(3) > 0);
                let mut out = Vec::new();
                encode_set(&mut out, &set, columns);
                let parsed = read_set(&mut &out[..], columns).unwrap();
                let expected = set.iter().filter(|&&c| filter.contains(c)).count() as u64;
                assert_eq!(parsed.count(Some(&filter)), expected, "{columns} columns, stride {stride}");
                assert_eq!(parsed.columns().collect::<Vec<_>>(), set);
            }
        }
    }

    #[test]
    fn the_smaller_encoding_is_chosen() {
        // 5,000 columns: a bitset is 79 words, 632 bytes, after its tag.
        let sparse: Vec<u32> = (0..300).map(|i| i * 16).collect();
        // 400 columns: gaps would take 405 bytes, but a list 804, so a bitset (faster to count).
        let dense: Vec<u32> = (0..400).map(|i| i * 12).collect();
        let mut out = Vec::new();
        // Five far apart: gaps of 255 or more take three bytes each, columns two.
        encode_set(&mut out, &[100, 1000, 2000, 3000, 4000], 5000);
        assert_eq!((out[0], out.len()), (SHORT_LIST, 1 + 1 + 10));
        out.clear();
        encode_set(&mut out, &sparse, 5000);
        assert_eq!((out[0], out.len()), (DELTAS, 1 + 2 + 2 + 300));
        out.clear();
        encode_set(&mut out, &dense, 5000);
        assert_eq!((out[0], out.len()), (BITS, 1 + 632));
    }

    #[test]
    fn corrupt_bytes_are_errors() {
        let (sets, _) = example();
        let bytes = sets.encode(8);
        for cut in 0..bytes.len() {
            assert!(EncodedCarriers::parse(&bytes[..cut], 8).is_err(), "cut at {cut}");
        }
        assert!(EncodedCarriers::parse(&[9, 0, 0, 0, 0], 8).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(EncodedCarriers::parse(&long, 8).is_err());
        assert!(EncodedCarriers::parse(&[1, 255, 255, 255, 255, 0, 0, 0, 0], 8).is_err());
        assert!(EncodedCarriers::parse(&[SHORT_LIST, 255, 255, 255, 255, 15, 0, 0, 0, 0], 8).is_err());
        assert!(EncodedCarriers::parse(&[SHORT_LIST, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255], 8).is_err());
        // Delta-coded: a count above the gap bytes, a length past the end.
        for bad in [[DELTAS, 3, 2, 1, 1], [DELTAS, 1, 9, 1, 1]] {
            let mut bytes = bad.to_vec();
            bytes.extend([EMPTY; 4]);
            assert!(EncodedCarriers::parse(&bytes, 8).is_err(), "{bad:?}");
        }
        // An escape without its gap: parsed (the length fits), then counted and decoded short.
        let mut short = vec![DELTAS, 2, 2, 1, ESCAPE];
        short.extend([EMPTY; 4]);
        let parsed = EncodedCarriers::parse(&short, 8).unwrap();
        assert_eq!(parsed.decode().het, [1]);
        assert_eq!(parsed.counts(Some(&ColumnFilter::from_fn(8, |_| true)), 0).heterozygous, 1);
    }
}
