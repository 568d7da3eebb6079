//! Carrier sets coded in a block's own order of people (issue #19: the index at half the BCF).
//!
//! Nearby variants are inherited together. When the people of a block of variants are sorted by
//! their genotypes at its most informative variants ([`order_people`]), the carriers of a common
//! variant sit side by side in that order: a set that takes a bitset (a bit a person) in the file's
//! column order takes a few dozen runs in the block's (`bench/carrier_order_model.py`).
//!
//! A block stores its order once: a 16-byte fingerprint (the first bytes of the SHA-512 of what
//! follows), then the column of each place in as many bits as the largest column needs
//! ([`encode_order`]), read through [`ColumnOrder`]. A set coded in it (tag `5` among the
//! [`crate::carriers`] encodings) is the tag, its number of members and the byte length of what
//! follows (LEB128), then for each run the places from the end of the previous run to its start
//! and its length (LEB128). Only a set that takes fewer bytes so is coded so ([`encode_in_order`]).
//! A count reads it in place: without a filter the stored count; with one, the filter is put into
//! the block's order ([`ColumnOrder::with_filter`]) and each run's bits are counted. A filter
//! keeps what it was put into, by the order's fingerprint ([`crate::ordered_filter`]): putting it in order
//! reads every place of the block, which a node's repeated questions would otherwise pay each time.

use std::cell::RefCell;
use std::sync::Arc;

use sha2::{Digest, Sha512};

use crate::carriers::{CarrierFormatError, ColumnFilter, EncodedCarriers, PeopleOrder, RUNS, read_set, take};
use crate::ordered_filter::{FINGERPRINT, OrderedFilter};
use crate::varint;

/// Most variants whose genotypes sort the people (a 2-bit genotype each fills a u128 key).
const SORT_KEYS: usize = 64;

/// A block's order of people, borrowed from its bytes, with the filter last put into it.
#[derive(Debug)]
pub struct ColumnOrder<'a> {
    /// As the block stores it: the fingerprint, then the packed columns.
    stored: &'a [u8],
    fingerprint: [u8; FINGERPRINT],
    /// The packed columns.
    bytes: &'a [u8],
    /// Places (the file's columns).
    len: usize,
    /// Bits a column takes ([`column_bits`]).
    bits: usize,
    /// The filter (its [`ColumnFilter::id`]) and its words in this order, kept for the block's
    /// other sets: a region count asks the same filter of every entry.
    ordered: RefCell<Option<(u64, Arc<OrderedFilter>)>>,
}

impl PartialEq for ColumnOrder<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for ColumnOrder<'_> {}

impl<'a> ColumnOrder<'a> {
    /// The order of a file of `columns` sample columns; the length must match (the columns
    /// themselves are not checked: a damaged one counts wrong, never panics).
    pub fn parse(stored: &'a [u8], columns: usize) -> Result<Self, CarrierFormatError> {
        let bits = column_bits(columns);
        let (fingerprint, bytes) = stored.split_at_checked(FINGERPRINT).ok_or(CarrierFormatError("order length"))?;
        if bytes.len() != (columns * bits).div_ceil(8) {
            return Err(CarrierFormatError("order length"));
        }
        let fingerprint = fingerprint.try_into().map_err(|_| CarrierFormatError("order length"))?;
        Ok(Self { stored, fingerprint, bytes, len: columns, bits, ordered: RefCell::new(None) })
    }

    /// The bytes as the block stores them.
    pub fn as_stored(&self) -> &'a [u8] {
        self.stored
    }

    /// Places in the order (the file's columns).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The column at `place` (past the order: one past every column).
    #[inline]
    fn column(&self, place: usize) -> usize {
        let bit = place * self.bits;
        let at = bit / 8;
        let word = match self.bytes.get(at..at + 8) {
            Some(word) => u64::from_le_bytes(word.try_into().unwrap_or_default()),
            None => {
                let tail = self.bytes.get(at..).unwrap_or_default();
                let mut word = [0u8; 8];
                word[..tail.len()].copy_from_slice(tail);
                u64::from_le_bytes(word)
            }
        };
        if place >= self.len { usize::MAX } else { (word >> (bit % 8) & ((1 << self.bits) - 1)) as usize }
    }

    /// Calls `count` with `filter` in this order: the one this block last used for the same
    /// filter, else the one the filter kept for an order with this fingerprint, else put in order
    /// now (and kept).
    pub(crate) fn with_filter<R>(&self, filter: &ColumnFilter, count: impl FnOnce(&OrderedFilter) -> R) -> R {
        let mut ordered = self.ordered.borrow_mut();
        let current = match ordered.as_ref() {
            Some((id, current)) if *id == filter.id() => current.clone(),
            _ => {
                let current = filter.ordered().get_or_insert(self.fingerprint, || self.put_in_order(filter));
                *ordered = Some((filter.id(), current.clone()));
                current
            }
        };
        count(&current)
    }

    /// `filter` in this order.
    fn put_in_order(&self, filter: &ColumnFilter) -> OrderedFilter {
        // One word more than the places need: a rank at the very end reads a zero word.
        let mut words = vec![0u64; self.len.div_ceil(64) + 1];
        for (w, word) in words.iter_mut().enumerate().take(self.len.div_ceil(64)) {
            self.for_each_column(w * 64..(w + 1) * 64, |place, column| {
                *word |= filter.bit(column) << (place % 64);
            });
        }
        OrderedFilter::new(words)
    }

    /// Calls `f(place, column)` for each place of `places` in turn: eight places at a time from
    /// one 16-byte load where a column takes at most 16 bits (65,536 people), as putting a filter
    /// in order reads every place of the block, and expanding a set every place of its runs.
    #[inline]
    fn for_each_column(&self, places: std::ops::Range<usize>, mut f: impl FnMut(usize, usize)) {
        let (bits, mask) = (self.bits, (1u128 << self.bits) - 1);
        let end = places.end.min(self.len);
        let mut place = places.start.min(end);
        if bits <= 16 {
            while !place.is_multiple_of(8) && place < end {
                f(place, self.column(place));
                place += 1;
            }
            // Eight places take `bits` bytes.
            while place + 8 <= end {
                let at = place / 8 * bits;
                let mut word = [0u8; 16];
                word[..bits].copy_from_slice(&self.bytes[at..at + bits]);
                let word = u128::from_le_bytes(word);
                for i in 0..8 {
                    f(place + i, (word >> (i * bits) & mask) as usize);
                }
                place += 8;
            }
        }
        for place in place..end {
            f(place, self.column(place));
        }
    }

    /// The columns at the places of `runs` as a bitset over the file's columns (places past the
    /// order and columns past the file are left out: damage, never a panic).
    pub(crate) fn bits_of(&self, runs: &Runs<'_>) -> Vec<u64> {
        let mut bits = vec![0u64; self.len().div_ceil(64)];
        for run in runs.places() {
            self.for_each_column(run, |_, column| {
                if let Some(word) = bits.get_mut(column / 64) {
                    *word |= 1 << (column % 64);
                }
            });
        }
        bits
    }
}

/// Whether any of the five sets of `bytes` (one variant's carriers in a file of `columns`) is
/// coded in its block's order, which must then be read with it.
pub fn needs_order(mut bytes: &[u8], columns: usize) -> Result<bool, CarrierFormatError> {
    let mut any = false;
    for _ in 0..5 {
        if bytes.first() == Some(&RUNS) {
            read_runs(&mut bytes)?;
            any = true;
        } else {
            read_set(&mut bytes, columns)?;
        }
    }
    Ok(any)
}

/// A set coded as runs of places, borrowed from the store's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Runs<'a> {
    pub(crate) count: usize,
    pub(crate) runs: &'a [u8],
}

impl PeopleOrder for ColumnOrder<'_> {
    fn count_runs(&self, runs: &[u8], filter: &ColumnFilter) -> u64 {
        self.with_filter(filter, |ordered| Runs { count: 0, runs }.count_in(ordered))
    }

    fn columns_of_runs(&self, count: usize, runs: &[u8]) -> Vec<u32> {
        Runs { count, runs }.columns(self)
    }
}

/// Reads a set coded in order (tag [`RUNS`]) from the front of `bytes`, passing it.
pub(crate) fn read_runs<'a>(bytes: &mut &'a [u8]) -> Result<Runs<'a>, CarrierFormatError> {
    if take(bytes, 1)? != [RUNS] {
        return Err(CarrierFormatError("not a set in order"));
    }
    let count = varint::get(bytes).and_then(|c| usize::try_from(c).ok()).ok_or(CarrierFormatError("count"))?;
    let length = varint::get(bytes).and_then(|c| usize::try_from(c).ok()).ok_or(CarrierFormatError("length"))?;
    let runs = take(bytes, length)?;
    // A run takes at least two bytes; members come in runs.
    if runs.len() == 1 || (count == 0) != runs.is_empty() {
        return Err(CarrierFormatError("runs"));
    }
    Ok(Runs { count, runs })
}

impl Runs<'_> {
    /// Each run as `start..end` places; stops at damaged bytes. The position in the bytes is a
    /// plain index and a one-byte number (nearly all of them) one branch: this is the inner loop of
    /// a filtered region count.
    fn places(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let (runs, mut at, mut end) = (self.runs, 0usize, 0usize);
        std::iter::from_fn(move || {
            let gap = next_number(runs, &mut at)?;
            let len = next_number(runs, &mut at)?;
            let start = end.checked_add(gap)?;
            end = start.checked_add(len)?;
            Some(start..end)
        })
    }

    /// Members whose place passes `ordered` (a filter in the block's order): for each run, the
    /// difference of two ranks, without a branch on the run's length. Places past it count nothing.
    pub(crate) fn count_in(&self, ordered: &OrderedFilter) -> u64 {
        self.places().map(|run| ordered.rank(run.end) - ordered.rank(run.start)).sum()
    }

    /// The members' columns, ascending.
    pub(crate) fn columns(&self, order: &ColumnOrder<'_>) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.count.min(order.len()));
        for (i, mut word) in order.bits_of(self).into_iter().enumerate() {
            while word != 0 {
                out.push(i as u32 * 64 + word.trailing_zeros());
                word &= word - 1;
            }
        }
        out
    }
}

/// The LEB128 number at `bytes[*at..]`, passed; `None` at the end or when damaged.
#[inline]
fn next_number(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let &first = bytes.get(*at)?;
    if first < 0x80 {
        *at += 1;
        return Some(usize::from(first));
    }
    // Two bytes (128 to 16,383: many runs and gaps among 20,000 people) without the general loop.
    if let Some(&second) = bytes.get(*at + 1).filter(|&&b| b < 0x80) {
        *at += 2;
        return Some(usize::from(first & 0x7f) | usize::from(second) << 7);
    }
    let mut rest = &bytes[*at..];
    let before = rest.len();
    let value = varint::get(&mut rest).and_then(|v| usize::try_from(v).ok())?;
    *at += before - rest.len();
    Some(value)
}

/// The block's order of people: sorted by their genotypes at up to [`SORT_KEYS`] of `variants`,
/// the most informative first (most people on the rarer side of carrying), then by column. `None`
/// when no variant is carried by some and not by others. The variants are read in place: a block's
/// sets decoded into lists at once take 4 bytes a carrier, a growing share of an ingest's memory
/// as cohorts grow (issue #19).
pub fn order_people(variants: &[EncodedCarriers<'_>], columns: usize) -> Option<Vec<u32>> {
    let mut informative: Vec<(usize, usize)> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let [het, hom_alt, hemi, ..] = &v.sets;
            let carriers = (het.count(None) + hom_alt.count(None) + hemi.count(None)) as usize;
            (carriers.min(columns.saturating_sub(carriers)), i)
        })
        .filter(|&(minor, _)| minor > 0)
        .collect();
    if informative.is_empty() {
        return None;
    }
    informative.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // Each person's key: two bits a variant, 2 hom-ALT, 1 one ALT allele (het or hemi), 0 otherwise.
    let mut keys: Vec<(u128, u32)> = (0..columns as u32).map(|c| (0, c)).collect();
    for (rank, &(_, i)) in informative.iter().take(SORT_KEYS).enumerate() {
        let shift = 2 * (SORT_KEYS - 1 - rank);
        let [het, hom_alt, hemi, ..] = &variants[i].sets;
        for (set, dose) in [(het, 1u128), (hemi, 1), (hom_alt, 2)] {
            for c in set.columns() {
                if let Some((key, _)) = keys.get_mut(c as usize) {
                    *key |= dose << shift;
                }
            }
        }
    }
    keys.sort_unstable();
    Some(keys.into_iter().map(|(_, c)| c).collect())
}

/// The place of each column in `order`.
pub fn places(order: &[u32]) -> Vec<u32> {
    let mut places = vec![0u32; order.len()];
    for (place, &column) in order.iter().enumerate() {
        if let Some(p) = places.get_mut(column as usize) {
            *p = place as u32;
        }
    }
    places
}

/// Bits a column of a file of `columns` takes in an order: 13 for 5,000 people (a u16 each took a
/// fifth of `node.db` more than the target of issue #19 allowed).
fn column_bits(columns: usize) -> usize {
    (usize::BITS - columns.saturating_sub(1).leading_zeros()).max(1) as usize
}

/// The order's bytes as a block stores them: its fingerprint, then each column in
/// [`column_bits`] bits, little-endian, the first place in the lowest bits.
pub fn encode_order(order: &[u32]) -> Vec<u8> {
    let bits = column_bits(order.len());
    let mut out = vec![0u8; (order.len() * bits).div_ceil(8)];
    for (place, &column) in order.iter().enumerate() {
        let bit = place * bits;
        let value = u64::from(column) << (bit % 8);
        for (i, byte) in value.to_le_bytes().iter().enumerate().take((bit % 8 + bits).div_ceil(8)) {
            if let Some(out) = out.get_mut(bit / 8 + i) {
                *out |= byte;
            }
        }
    }
    let mut stored = Sha512::digest(&out)[..FINGERPRINT].to_vec();
    stored.extend_from_slice(&out);
    stored
}

/// Appends `set` (columns) as runs of the places `places` gives them: marked in a bitset of
/// places and read back in order (sorting the places took a tenth of an ingest).
fn encode_runs(out: &mut Vec<u8>, set: impl Iterator<Item = u32>, places: &[u32], marks: &mut Vec<u64>) {
    marks.clear();
    marks.resize(places.len().div_ceil(64), 0);
    for c in set {
        if let Some(&p) = places.get(c as usize) {
            marks[p as usize / 64] |= 1 << (p % 64);
        }
    }
    let (mut body, mut members) = (Vec::new(), 0usize);
    let (mut end, mut run) = (0usize, None::<(usize, usize)>);
    let mut emit = |body: &mut Vec<u8>, (start, len): (usize, usize)| {
        varint::put(body, (start - end) as u64);
        varint::put(body, len as u64);
        end = start + len;
    };
    for (w, &word) in marks.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            let place = w * 64 + word.trailing_zeros() as usize;
            word &= word - 1;
            members += 1;
            run = match run {
                Some((start, len)) if start + len == place => Some((start, len + 1)),
                Some(done) => {
                    emit(&mut body, done);
                    Some((place, 1))
                }
                None => Some((place, 1)),
            };
        }
    }
    if let Some(done) = run {
        emit(&mut body, done);
    }
    out.push(RUNS);
    varint::put(out, members as u64);
    varint::put(out, body.len() as u64);
    out.extend_from_slice(&body);
}

/// One variant's carriers for a block whose order gives `places` (see [`places`]): each set as
/// the fewer bytes of its own coding (as in `plain`, the variant's plain encoding, read in place)
/// and runs in the order. Also says whether any set is in order (the block must then store its
/// order).
pub fn encode_in_order(plain: &[u8], columns: usize, places: &[u32]) -> Result<(Vec<u8>, bool), CarrierFormatError> {
    let mut out = Vec::with_capacity(plain.len());
    let mut in_order = false;
    let (mut rest, mut runs, mut marks) = (plain, Vec::new(), Vec::new());
    for _ in 0..5 {
        let before = rest;
        let set = read_set(&mut rest, columns)?;
        let own = &before[..before.len() - rest.len()];
        runs.clear();
        if set.count(None) > 1 {
            encode_runs(&mut runs, set.columns(), places, &mut marks);
        }
        if !runs.is_empty() && runs.len() < own.len() {
            out.extend_from_slice(&runs);
            in_order = true;
        } else {
            out.extend_from_slice(own);
        }
    }
    if !rest.is_empty() {
        return Err(CarrierFormatError("trailing bytes"));
    }
    Ok((out, in_order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier_links::CarrierBytes;
    use crate::carriers::CarrierSets;

    /// A block of variants over `columns` people in two haplotype groups (even and odd columns),
    /// as linkage makes them: common variants carried by one group, with a few exceptions.
    fn block(columns: u32) -> Vec<CarrierSets> {
        (0..20u32)
            .map(|v| {
                let group = |c: u32| (c % 2 == v % 2) ^ (c % 97 == v);
                CarrierSets {
                    het: (0..columns).filter(|&c| group(c) && c % 5 != 0).collect(),
                    hom_alt: (0..columns).filter(|&c| group(c) && c % 5 == 0).collect(),
                    hemi: vec![],
                    missing_one: vec![],
                    missing_two: if v == 3 { vec![1, 2, 3] } else { vec![] },
                }
            })
            .collect()
    }

    /// The order of people for `variants`, from their plain encodings as a block's entries hold them.
    fn order_of(variants: &[CarrierSets], columns: usize) -> Option<Vec<u32>> {
        let plain: Vec<Vec<u8>> = variants.iter().map(|sets| sets.encode(columns)).collect();
        let parsed: Vec<EncodedCarriers<'_>> =
            plain.iter().map(|bytes| EncodedCarriers::parse(bytes, columns).unwrap()).collect();
        order_people(&parsed, columns)
    }

    /// [`block`] over `columns` people, its order of people and the order's stored bytes.
    fn block_in_order(columns: usize) -> (Vec<CarrierSets>, Vec<u32>, Vec<u8>) {
        let variants = block(columns as u32);
        let order = order_of(&variants, columns).unwrap();
        let order_bytes = encode_order(&order);
        (variants, order, order_bytes)
    }

    #[test]
    fn sets_in_order_are_smaller_and_count_and_decode_as_their_own_coding() {
        let columns = 5000;
        let (variants, order, order_bytes) = block_in_order(columns);
        let places = places(&order);
        let stored = ColumnOrder::parse(&order_bytes, columns).unwrap();
        let filters =
            [ColumnFilter::from_fn(columns, |c| c % 3 == 0), ColumnFilter::from_fn(columns, |c| c < 100 || c == 4999)];
        for sets in &variants {
            let plain = sets.encode(columns);
            let (bytes, in_order) = encode_in_order(&plain, columns, &places).unwrap();
            assert!(in_order && bytes.len() * 10 < plain.len(), "{} against {}", bytes.len(), plain.len());
            assert!(EncodedCarriers::parse(&bytes, columns).is_err(), "runs are read only with their order");
            let carriers = CarrierBytes::sorted(&bytes, &stored, columns);
            assert_eq!(carriers.to_plain().unwrap(), plain);
            let (in_place, whole) =
                (carriers.parse(columns).unwrap(), EncodedCarriers::parse(&plain, columns).unwrap());
            assert_eq!(in_place.decode(), *sets);
            for filter in [None, Some(&filters[0]), Some(&filters[1]), Some(&filters[0])] {
                assert_eq!(in_place.counts(filter, 10_000), whole.counts(filter, 10_000));
            }
        }
    }

    #[test]
    fn a_filter_keeps_itself_in_order_by_fingerprint_and_starts_again_when_changed() {
        let columns = 5000;
        let (variants, order, order_bytes) = block_in_order(columns);
        let sets = &variants[0];
        let (coded, _) = encode_in_order(&sets.encode(columns), columns, &places(&order)).unwrap();
        // Each count reads the block anew, as a lookup does: only the filter remembers.
        let count = |filter: &ColumnFilter| {
            let order = ColumnOrder::parse(&order_bytes, columns).unwrap();
            CarrierBytes::sorted(&coded, &order, columns).parse(columns).unwrap().counts(Some(filter), 0).heterozygous
        };
        let want = |filter: &ColumnFilter| sets.het.iter().filter(|&&c| filter.contains(c)).count() as u64;
        let mut filter = ColumnFilter::from_fn(columns, |c| c % 3 == 0);
        assert_eq!(count(&filter), want(&filter));
        assert_eq!(count(&filter.clone()), want(&filter));
        assert_eq!(filter.ordered().lock().1.len(), 1, "kept once, shared by the clone");
        let &outside = sets.het.iter().find(|&&c| !filter.contains(c)).unwrap();
        filter.insert(outside);
        assert_eq!(count(&filter), want(&filter), "a changed filter is put in order again");
        assert_eq!(filter.ordered().lock().1.len(), 1);
    }

    #[test]
    fn the_order_follows_the_most_informative_variants_and_is_complete() {
        let variants = block(1000);
        let order = order_of(&variants, 1000).unwrap();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<u32>>());
        // People sort by group (column parity) apart from each variant's few exceptions: in the
        // file's order the group changes at every column, in the block's at most a few dozen times.
        let changes = order.windows(2).filter(|w| w[0] % 2 != w[1] % 2).count();
        assert!(changes < 60, "{changes} changes of group");
        assert_eq!(order_of(&[CarrierSets::default()], 10), None);
        assert_eq!(order_of(&[CarrierSets { het: (0..10).collect(), ..CarrierSets::default() }], 10), None);
    }

    #[test]
    fn orders_take_the_bits_their_columns_need_and_read_back() {
        for (columns, bits) in [(1usize, 1usize), (2, 1), (3, 2), (8, 3), (9, 4), (5000, 13), (70_000, 17)] {
            assert_eq!(column_bits(columns), bits, "{columns} columns");
            let order: Vec<u32> = (0..columns as u32).map(|c| (c * 7 + 3) % columns as u32).rev().collect();
            let bytes = encode_order(&order);
            assert_eq!(bytes.len(), FINGERPRINT + (columns * bits).div_ceil(8));
            let stored = ColumnOrder::parse(&bytes, columns).unwrap();
            assert!((0..columns).all(|p| stored.column(p) == order[p] as usize), "{columns} columns");
            for places in [0..columns, 3..columns.saturating_sub(2), 9..30, 0..columns + 9] {
                let mut read = Vec::new();
                stored.for_each_column(places.clone(), |place, column| read.push((place, column as u32)));
                let want = places.start.min(columns)..places.end.min(columns);
                assert!(read.iter().map(|&(p, _)| p).eq(want.clone()), "{columns} columns, {places:?}");
                assert!(read.iter().all(|&(p, c)| c == order[p]), "{columns} columns, {places:?}");
            }
            assert_eq!(stored.column(columns), usize::MAX);
        }
    }

    #[test]
    fn counting_runs_agrees_with_testing_each_place() {
        let mut next = crate::carriers::seeded(3);
        for _ in 0..200 {
            let mut words: Vec<u64> = (0..4).map(|_| next(u64::MAX >> 1) ^ next(u64::MAX >> 1) << 31).collect();
            let expected = |start: usize, end: usize| {
                (start.min(256)..end.min(256)).filter(|&p| words[p / 64] >> (p % 64) & 1 == 1).count() as u64
            };
            let (start, len) = (next(300) as usize, next(300) as usize);
            let want = expected(start, start + len);
            words.push(0);
            let filter = OrderedFilter::new(words.clone());
            assert_eq!(filter.rank(start + len) - filter.rank(start), want, "{start}+{len}");
            words.pop();
        }
    }

    #[test]
    fn damaged_runs_and_orders_are_errors_or_counts_never_panics() {
        let order_bytes = encode_order(&(0..8).rev().collect::<Vec<u32>>());
        assert!(ColumnOrder::parse(&order_bytes[1..], 8).is_err());
        assert!(ColumnOrder::parse(&order_bytes[..FINGERPRINT], 8).is_err());
        let order = ColumnOrder::parse(&order_bytes, 8).unwrap();
        let filter = ColumnFilter::from_fn(8, |_| true);
        let damaged: [&[u8]; 6] = [
            &[RUNS, 2, 2, 0, 2, 0, 0, 0, 0],          // fine: places 0 and 1
            &[RUNS, 2, 2, 0, 200, 0, 0, 0, 0],        // a run past the order
            &[RUNS, 2, 2, 0xff, 0xff, 0, 0, 0, 0],    // unfinished LEB128
            &[RUNS, 2, 9, 0, 2, 0, 0, 0, 0],          // a length past the end
            &[RUNS, 0, 2, 0, 2, 0, 0, 0, 0],          // runs for no member
            &[RUNS, 2, 2, 0x80, 0x80, 0x80, 0x80, 0], // cut short
        ];
        for bytes in damaged {
            let carriers = CarrierBytes::sorted(bytes, &order, 8);
            let _ = carriers.parse(8).map(|c| (c.counts(Some(&filter), 16), c.decode()));
            let _ = carriers.to_plain();
        }
        let fine = CarrierBytes::sorted(damaged[0], &order, 8).parse(8).unwrap();
        assert_eq!(fine.decode().het, [6, 7]);
        assert_eq!(fine.counts(Some(&ColumnFilter::from_fn(8, |c| c == 7)), 16).heterozygous, 1);
    }
}
