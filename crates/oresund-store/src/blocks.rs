//! The variant index's unit of storage: a block of up to [`BLOCK_VARIANTS`] consecutive variants of
//! one file on one contig, sorted by position, in one byte string. A region query reads a handful
//! of blocks instead of thousands of rows; a single-variant lookup reads one block and jumps to
//! its slot. Every backend stores the same blocks.
//!
//! Layout (fixed-width integers little-endian; `varint` is LEB128, `oresund_core::varint`):
//! ```text
//! u8 version = 4 | u32 sample columns | u32 order length | u32 n | n × u32 pos
//!                | n × u32 end offset of each entry among the entries | order | entries
//! entry:   varint len, REF | varint len, ALT | VRS id | varint 2 × haploid set | carriers
//! VRS id:  0, then the 24 bytes of a `ga4gh:VA.` digest | 1, varint len, the text of any other id
//! ```
//! The carriers run to the entry's end. The order is the block's order of people
//! (`oresund_core::carrier_order`), absent (length 0) when no entry has a set coded in it: the
//! people sorted by their genotypes at the block's most informative variants, in which the
//! carriers of a common variant come in a few runs. An entry's sets are each coded on their own or
//! as runs in that order, whichever is smaller; [`EntryRef`] carriers hold the order, and a count
//! reads them in place.
//!
//! Earlier versions are still read. Version 3 (64 variants a block, issue #19 before the order)
//! has no order: `u8 3 | u32 columns | u32 n | …`, and an entry's haploid field is `2 × set + 1`
//! when it codes some carrier bitsets against those of an earlier, unlinked entry of the block
//! (`oresund_core::carrier_links`), followed by how many slots back that entry is. Version 2 has
//! no column count and no links: `u8 2 | u32 n | …` and `varint haploid set`. Version 1: per entry
//! `u32 len, REF | u32 len, ALT | u32 len, VRS id | u32 haploid set | u32 len, carriers`.

use std::collections::{BTreeMap, HashMap};

use oresund_core::carrier_links::CarrierBytes;
use oresund_core::carrier_order::{self, ColumnOrder};
use oresund_core::carriers::EncodedCarriers;
use oresund_core::digest::{push_sha512t24u_text, sha512t24u_bytes};
use oresund_core::varint;

use crate::error::{Result, StoreError};
use crate::model;

/// Most variants in one block: one order of people per 256 variants is where the model of
/// `bench/carrier_order_model.py` found the sets and the order smallest together (issue #19).
pub const BLOCK_VARIANTS: usize = 256;
/// Largest distance between the first and last position of a block.
pub const BLOCK_SPAN: u64 = 100_000;
/// The most bytes a block's header and position and offset tables take (version 4, full block):
/// a store that keeps these heads in memory finds a variant's entry without the rest of the block.
pub const TABLES_MAX: usize = 13 + 8 * BLOCK_VARIANTS;
/// How far behind the furthest position seen a variant may still arrive (normalisation moves
/// indels left through repeats, rarely by more than a few hundred bases; bcftools' own window is
/// 1 kb); later arrivals are refused.
pub const SORT_WINDOW: u64 = 100_000;

/// Column count and the order of people in the header, sets in that order.
const VERSION: u8 = 4;
/// Column count in the header, linked entries.
const VERSION_3: u8 = 3;
/// Every entry on its own.
const VERSION_2: u8 = 2;
/// The fixed-width entries of the first version.
const VERSION_1: u8 = 1;
/// The prefix of the VRS ids a block keeps as their 24 digest bytes.
const VRS_ALLELE: &str = "ga4gh:VA.";
const VRS_DIGEST: u8 = 0;
const VRS_TEXT: u8 = 1;

/// One variant of one file, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub pos: u64,
    pub reference: String,
    pub alternate: String,
    pub vrs_id: String,
    /// Id of the file's haploid set (0: every call diploid).
    pub haploid_set: u32,
    /// Encoded carrier sets (`oresund_core::carriers`).
    pub carriers: Vec<u8>,
}

impl Entry {
    pub fn end(&self) -> u64 {
        self.pos + self.reference.len() as u64 - 1
    }
}

/// A finished block, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub contig: u32,
    pub first_pos: u64,
    /// Largest end (pos + len(REF) - 1) of its entries.
    pub last_pos: u64,
    pub entries: Vec<Entry>,
    /// The file's sample columns, to code sets in the block's order of people (version 4); `None`
    /// writes every entry on its own (version 2).
    pub columns: Option<usize>,
}

impl Block {
    pub fn encode(&self) -> Vec<u8> {
        let Some(columns) = self.columns else { return self.encode_as(VERSION_2, &[], &[], None) };
        let (order, carriers) = in_order(&self.entries, columns);
        let carriers: Vec<&[u8]> = carriers.iter().map(Vec::as_slice).collect();
        self.encode_as(VERSION, &order, &carriers, None)
    }

    /// The block in `version` with `carriers` for each entry's (its own when empty), the order of
    /// people's bytes (version 4) and, for version 3, each entry's link (how many slots back).
    fn encode_as(&self, version: u8, order: &[u8], carriers: &[&[u8]], links: Option<&[Option<usize>]>) -> Vec<u8> {
        let n = self.entries.len();
        let mut payload = Vec::new();
        let mut ends = Vec::with_capacity(n);
        for (i, e) in self.entries.iter().enumerate() {
            for field in [e.reference.as_bytes(), e.alternate.as_bytes()] {
                varint::put(&mut payload, field.len() as u64);
                payload.extend_from_slice(field);
            }
            match e.vrs_id.strip_prefix(VRS_ALLELE).and_then(sha512t24u_bytes) {
                Some(digest) => {
                    payload.push(VRS_DIGEST);
                    payload.extend_from_slice(&digest);
                }
                None => {
                    payload.push(VRS_TEXT);
                    varint::put(&mut payload, e.vrs_id.len() as u64);
                    payload.extend_from_slice(e.vrs_id.as_bytes());
                }
            }
            let link = links.and_then(|l| l.get(i).copied().flatten());
            match (version, link) {
                (VERSION_2, _) => varint::put(&mut payload, u64::from(e.haploid_set)),
                (_, None) => varint::put(&mut payload, u64::from(e.haploid_set) << 1),
                (_, Some(back)) => {
                    varint::put(&mut payload, u64::from(e.haploid_set) << 1 | 1);
                    varint::put(&mut payload, back as u64);
                }
            }
            payload.extend_from_slice(carriers.get(i).copied().unwrap_or(&e.carriers));
            ends.push(payload.len() as u32);
        }
        let mut out = Vec::with_capacity(13 + 8 * n + order.len() + payload.len());
        out.push(version);
        if version != VERSION_2 {
            out.extend_from_slice(&(self.columns.unwrap_or(0) as u32).to_le_bytes());
        }
        if version == VERSION {
            out.extend_from_slice(&(order.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(&(n as u32).to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&(e.pos as u32).to_le_bytes());
        }
        for end in ends {
            out.extend_from_slice(&end.to_le_bytes());
        }
        out.extend_from_slice(order);
        out.extend_from_slice(&payload);
        out
    }
}

/// The block's order of people (its bytes; empty when no set is smaller in it) and each entry's
/// carriers coded for it. Carriers that do not parse at `columns` are stored as they are.
fn in_order(entries: &[Entry], columns: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let sets: Option<Vec<_>> = entries.iter().map(|e| EncodedCarriers::parse(&e.carriers, columns).ok()).collect();
    let Some(sets) = sets else { return (Vec::new(), Vec::new()) };
    let Some(order) = carrier_order::order_people(&sets, columns) else { return (Vec::new(), Vec::new()) };
    let places = carrier_order::places(&order);
    let coded: Result<Vec<(Vec<u8>, bool)>, _> =
        entries.iter().map(|e| carrier_order::encode_in_order(&e.carriers, columns, &places)).collect();
    let Some(coded) = coded.ok().filter(|c| c.iter().any(|(_, in_order)| *in_order)) else {
        return (Vec::new(), Vec::new());
    };
    (carrier_order::encode_order(&order), coded.into_iter().map(|(c, _)| c).collect())
}

/// A VRS id as a block keeps it; [`VrsIdRef::to_id`] gives the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrsIdRef<'a> {
    /// `ga4gh:VA.` and these 24 bytes as base64url.
    Digest(&'a [u8; 24]),
    Text(&'a str),
}

impl VrsIdRef<'_> {
    /// The id as text, in one allocation (a region count makes thousands).
    pub fn to_id(&self) -> String {
        match self {
            VrsIdRef::Digest(bytes) => {
                let mut id = String::with_capacity(VRS_ALLELE.len() + 32);
                id.push_str(VRS_ALLELE);
                push_sha512t24u_text(bytes, &mut id);
                id
            }
            VrsIdRef::Text(text) => text.to_string(),
        }
    }
}

/// One entry read in place from a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub pos: u64,
    pub reference: &'a str,
    pub alternate: &'a str,
    pub vrs_id: VrsIdRef<'a>,
    pub haploid_set: u32,
    pub carriers: CarrierBytes<'a>,
}

impl<'a> EntryRef<'a> {
    pub fn end(&self) -> u64 {
        self.pos + self.reference.len() as u64 - 1
    }

    /// This entry's variant, on `contig` (blocks do not repeat their contig in each entry).
    pub fn key(&self, contig: u32) -> model::VariantKey {
        model::VariantKey {
            contig,
            pos: self.pos,
            reference: self.reference.to_string(),
            alternate: self.alternate.to_string(),
        }
    }

    /// This entry's calls, as one file's part of a [`model::VariantCalls`]: the carriers with the
    /// block's order of people when a set is in it (a count reads them in place), else plain.
    pub fn calls(&self, file: model::FileNumber) -> Result<model::FileCalls> {
        let haploid_set = self.haploid_set;
        Ok(match self.carriers.order_needed().map_err(|e| corrupt(&e.to_string()))? {
            Some(order) => {
                let (carriers, order) = (self.carriers.as_stored().to_vec(), Some(order.to_vec()));
                model::FileCalls { file, haploid_set, carriers, order }
            }
            None => model::FileCalls { file, haploid_set, carriers: self.plain_carriers()?.into_owned(), order: None },
        })
    }

    /// The carriers' plain encoding (`oresund_core::carriers`), expanded when linked.
    pub fn plain_carriers(&self) -> Result<std::borrow::Cow<'a, [u8]>> {
        self.carriers.to_plain().map_err(|e| corrupt(&format!("linked carriers: {e}")))
    }
}

/// An entry as stored: a linked one's carriers still coded against another entry's.
struct StoredEntry<'a> {
    entry: EntryRef<'a>,
    /// How many slots back the entry this one is linked to is.
    link: Option<usize>,
    /// Bytes before the haploid-set field (to rewrite an entry unlinked).
    head: usize,
}

/// A stored block, parsed lazily.
pub struct BlockView<'a> {
    version: u8,
    /// Sample columns of the file (version 3 and 4; 0 before).
    columns: usize,
    n: usize,
    positions: &'a [u8],
    ends: &'a [u8],
    /// Bytes of the order of people (version 4; 0 when the block has none).
    order_len: usize,
    /// The order, when the block was read through it.
    order: Option<ColumnOrder<'a>>,
    /// The entries.
    payload: &'a [u8],
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("variant block: {what}"))
}

fn u32_at(bytes: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]])
}

/// Bytes before the position table: the version, the column count (version 3 and 4), the order's
/// length (version 4) and n.
fn header_len(version: u8) -> usize {
    match version {
        VERSION => 13,
        VERSION_3 => 9,
        _ => 5,
    }
}

impl<'a> BlockView<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let view = Self::tables(bytes)?;
        if view.n > 0 && u32_at(view.ends, view.n - 1) as usize != view.payload.len() {
            return Err(corrupt("payload length"));
        }
        Ok(view)
    }

    /// The header and tables of a block whose first bytes are `bytes` (at least through the
    /// tables; what follows is taken as the order and the entries, whole or not): positions and
    /// entry spans without the entries, for reading a block piecewise ([`read_slot`]).
    fn tables(bytes: &'a [u8]) -> Result<Self> {
        let version = *bytes.first().ok_or_else(|| corrupt("empty"))?;
        let header = header_len(version);
        if bytes.len() < header || ![VERSION, VERSION_3, VERSION_2, VERSION_1].contains(&version) {
            return Err(corrupt("unknown version or too short"));
        }
        let columns = if header > 5 { u32_at(&bytes[1..5], 0) as usize } else { 0 };
        let order_len = if version == VERSION { u32_at(&bytes[5..9], 0) as usize } else { 0 };
        let n = u32_at(&bytes[header - 4..header], 0) as usize;
        let table = n.checked_mul(8).filter(|t| header + t <= bytes.len()).ok_or_else(|| corrupt("truncated table"))?;
        let (positions, ends) = bytes[header..header + table].split_at(4 * n);
        let rest = &bytes[header + table..];
        let (order, payload) = match rest.split_at_checked(order_len) {
            Some((order, entries)) if order_len > 0 => {
                (Some(ColumnOrder::parse(order, columns).map_err(|e| corrupt(&e.to_string()))?), entries)
            }
            Some(_) => (None, rest),
            None => (None, &rest[..0]), // the tables alone, read piecewise
        };
        Ok(Self { version, columns, n, positions, ends, order_len, order, payload })
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn pos(&self, i: usize) -> u64 {
        u64::from(u32_at(self.positions, i))
    }

    /// Entry `i`; its carriers come with the block's order of people, or a linked entry's with
    /// those of the entry they are linked to.
    pub fn entry(&self, i: usize) -> Result<EntryRef<'_>> {
        let stored = self.stored(i)?;
        if let Some(order) = &self.order {
            let mut entry = stored.entry;
            entry.carriers = CarrierBytes::sorted(entry.carriers.as_stored(), order, self.columns);
            return Ok(entry);
        }
        let Some(back) = stored.link else { return Ok(stored.entry) };
        let target = self.stored(i.checked_sub(back).ok_or_else(|| corrupt("link before the block"))?)?;
        let mut entry = stored.entry;
        entry.carriers = CarrierBytes::linked(entry.carriers.as_stored(), plain_target(&target)?, self.columns);
        Ok(entry)
    }

    /// Entry `i` as stored.
    fn stored(&self, i: usize) -> Result<StoredEntry<'a>> {
        if i >= self.n {
            return Err(corrupt("slot out of range"));
        }
        let start = if i == 0 { 0 } else { u32_at(self.ends, i - 1) as usize };
        let end = u32_at(self.ends, i) as usize;
        let bytes = self.payload.get(start..end).ok_or_else(|| corrupt("entry bounds"))?;
        parse_entry(self.version, self.pos(i), bytes)
    }

    /// The same block with each entry's carrier sets replaced by `carriers(haploid set, old)` (a
    /// withdrawal blanks sample columns; positions, alleles and slots stay, so the stored slots
    /// (`vrs_keys`, on both stores) still point at the right entry).
    pub fn map_carriers(&self, mut carriers: impl FnMut(u32, &[u8]) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
        let columns = (self.version >= VERSION_3).then_some(self.columns);
        let mut block = Block { contig: 0, first_pos: 0, last_pos: 0, entries: Vec::with_capacity(self.n), columns };
        for i in 0..self.n {
            let e = self.entry(i)?;
            block.entries.push(Entry {
                pos: e.pos,
                reference: e.reference.to_string(),
                alternate: e.alternate.to_string(),
                vrs_id: e.vrs_id.to_id(),
                haploid_set: e.haploid_set,
                carriers: carriers(e.haploid_set, &e.plain_carriers()?)?,
            });
        }
        Ok(block.encode())
    }

    /// The slot holding this variant, if any.
    pub fn find(&self, pos: u64, reference: &str, alternate: &str) -> Result<Option<usize>> {
        for i in self.slots_at(pos) {
            let e = self.stored(i)?.entry;
            if e.reference == reference && e.alternate == alternate {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// The slots at position `pos` (several for the ALTs of a split multi-allelic site).
    fn slots_at(&self, pos: u64) -> impl Iterator<Item = usize> + '_ {
        (self.lower_bound(pos)..self.n).take_while(move |&i| self.pos(i) == pos)
    }

    /// The first slot whose position is at least `pos`.
    pub fn lower_bound(&self, pos: u64) -> usize {
        partition_point(self.n, |i| self.pos(i) < pos)
    }

    /// Calls `visit` for every entry overlapping `start..=end` (1-based), in order. `max_ref_len`
    /// bounds how far before `start` an overlapping entry can begin.
    pub fn visit_overlapping(
        &self,
        start: u64,
        end: u64,
        max_ref_len: u64,
        mut visit: impl FnMut(EntryRef<'_>) -> Result<()>,
    ) -> Result<()> {
        // Entries are sorted by position; one before `start` may still overlap it.
        for i in self.lower_bound(start.saturating_sub(max_ref_len.saturating_sub(1)))..self.n {
            if self.pos(i) > end {
                break;
            }
            let entry = self.entry(i)?;
            if entry.end() >= start {
                visit(entry)?;
            }
        }
        Ok(())
    }

    /// Where slot `i`'s entry lies in the encoded block: a store that can read part of a stored
    /// value (PostgreSQL `substring` on an uncompressed bytea) fetches only these bytes for a
    /// single-variant lookup, and reads them back with [`block_of_one`].
    pub fn entry_span(&self, i: usize) -> Result<std::ops::Range<usize>> {
        if i >= self.n {
            return Err(corrupt("slot out of range"));
        }
        let payload_start = header_len(self.version) + 8 * self.n + self.order_len;
        let start = if i == 0 { 0 } else { u32_at(self.ends, i - 1) as usize };
        let end = u32_at(self.ends, i) as usize;
        Ok(payload_start + start..payload_start + end)
    }
}

/// The entry `bytes` of slot `pos`, in a block of `version`.
fn parse_entry(version: u8, pos: u64, mut bytes: &[u8]) -> Result<StoredEntry<'_>> {
    let text = |b| std::str::from_utf8(b).map_err(|_| corrupt("text field"));
    if version == VERSION_1 {
        let reference = text(field(&mut bytes)?)?;
        let alternate = text(field(&mut bytes)?)?;
        let vrs_id = VrsIdRef::Text(text(field(&mut bytes)?)?);
        let haploid_set = u32_at(take(&mut bytes, 4)?, 0);
        let carriers = CarrierBytes::plain(field(&mut bytes)?);
        let entry = EntryRef { pos, reference, alternate, vrs_id, haploid_set, carriers };
        return Ok(StoredEntry { entry, link: None, head: 0 });
    }
    let whole = bytes.len();
    let reference = text(short_field(&mut bytes)?)?;
    let alternate = text(short_field(&mut bytes)?)?;
    let vrs_id = match take(&mut bytes, 1)?[0] {
        VRS_DIGEST => VrsIdRef::Digest(take(&mut bytes, 24)?.try_into().map_err(|_| corrupt("VRS digest"))?),
        VRS_TEXT => VrsIdRef::Text(text(short_field(&mut bytes)?)?),
        _ => return Err(corrupt("VRS id")),
    };
    let head = whole - bytes.len();
    let mut haploid = varint::get(&mut bytes).ok_or_else(|| corrupt("haploid set"))?;
    let mut link = None;
    if version >= VERSION_3 {
        if haploid & 1 == 1 {
            if version != VERSION_3 {
                return Err(corrupt("a link outside version 3"));
            }
            let back = varint::get(&mut bytes).and_then(|b| usize::try_from(b).ok()).filter(|&b| b > 0);
            link = Some(back.ok_or_else(|| corrupt("link"))?);
        }
        haploid >>= 1;
    }
    let haploid_set = u32::try_from(haploid).map_err(|_| corrupt("haploid set"))?;
    let entry = EntryRef { pos, reference, alternate, vrs_id, haploid_set, carriers: CarrierBytes::plain(bytes) };
    Ok(StoredEntry { entry, link, head })
}

/// The carriers of an entry others are linked to, which must not be linked itself.
fn plain_target<'a>(target: &StoredEntry<'a>) -> Result<&'a [u8]> {
    match target.link {
        None => Ok(target.entry.carriers.as_stored()),
        Some(_) => Err(corrupt("link to a linked entry")),
    }
}

/// A block holding one entry, from the bytes [`BlockView::entry_span`] delimits, its position
/// and the header of the block they came from (its version and column count). The entry must not
/// be linked to another entry of its block ([`read_slot`] expands links); a version 4 block of one
/// has no order of people, which [`EntryAlone`] carries beside it.
pub fn block_of_one(version: u8, columns: usize, pos: u64, entry: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(21 + entry.len());
    out.push(version);
    if version >= VERSION_3 {
        out.extend_from_slice(&(columns as u32).to_le_bytes());
    }
    if version == VERSION {
        out.extend_from_slice(&0u32.to_le_bytes()); // no order: see `EntryAlone`
    }
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(pos as u32).to_le_bytes());
    out.extend_from_slice(&(entry.len() as u32).to_le_bytes());
    out.extend_from_slice(entry);
    out
}

/// One entry read piecewise ([`read_slot`], [`find_piecewise`]): a block holding it alone
/// ([`block_of_one`]) and, when one of its sets is in its block's order of people, that order,
/// read as a piece of its own and kept apart so that it reaches [`model::FileCalls`] uncopied (at
/// 20,000 people it is 37.5 kB, and copying it twice more was a quarter of a lookup's time).
#[derive(Debug, PartialEq, Eq)]
pub struct EntryAlone {
    pub block: Vec<u8>,
    pub order: Option<Vec<u8>>,
}

impl EntryAlone {
    /// The entry's calls in `file`, and what `with` makes of the entry (its key, its VRS id).
    pub fn calls<R>(
        self,
        file: model::FileNumber,
        with: impl FnOnce(&EntryRef<'_>) -> R,
    ) -> Result<(model::FileCalls, R)> {
        let view = BlockView::parse(&self.block)?;
        let entry = view.entry(0)?;
        let made = with(&entry);
        let calls = match self.order {
            Some(order) => {
                let (haploid_set, carriers) = (entry.haploid_set, entry.carriers.as_stored().to_vec());
                model::FileCalls { file, haploid_set, carriers, order: Some(order) }
            }
            None => entry.calls(file)?,
        };
        Ok((calls, made))
    }
}

/// Slot `i` of an encoded block of `len` bytes as a block of its own ([`block_of_one`]), read
/// piecewise through `read(offset, buffer)`: the header with the position and offset tables, then
/// the slot's entry — for a store that can read part of a stored block (SQLite's incremental blob
/// I/O) and would otherwise copy all of it for one entry. Every piece is checked against `len`
/// before it is read, so a damaged block is an error naming what is wrong, not a read past its end.
pub fn read_slot(len: usize, i: usize, mut read: impl FnMut(usize, &mut [u8]) -> Result<()>) -> Result<EntryAlone> {
    let head = read_tables(len, &mut read)?;
    let tables = BlockView::tables(&head)?;
    let bytes = entry_bytes(&tables, i, len, &mut read)?;
    // Only versions 3 and 4 have links or sets in order to expand (and a slot's bytes are parsed
    // by the caller anyway).
    let stored =
        (tables.version >= VERSION_3).then(|| parse_entry(tables.version, tables.pos(i), &bytes)).transpose()?;
    alone(&tables, i, &bytes, stored, len, &mut read)
}

/// Where the entries at `pos` lie in a block whose first bytes (through its tables, as
/// [`TABLES_MAX`] bounds them) are `head`: one span for all of them (the ALTs of a split
/// multi-allelic site are adjacent), or `None` when the block has no entry at `pos`.
pub fn entries_at(head: &[u8], pos: u64) -> Result<Option<std::ops::Range<usize>>> {
    let tables = BlockView::tables(head)?;
    let mut slots = tables.slots_at(pos);
    let Some(first) = slots.next() else { return Ok(None) };
    let last = slots.last().unwrap_or(first);
    Ok(Some(tables.entry_span(first)?.start..tables.entry_span(last)?.end))
}

/// The entry at `pos` with these alleles as a block of its own ([`block_of_one`]), or `None`,
/// read piecewise like [`read_slot`]: the header and tables, then each entry at `pos` until one
/// has these alleles (a lookup by key, without an index of slots).
pub fn find_piecewise(
    len: usize,
    pos: u64,
    reference: &str,
    alternate: &str,
    mut read: impl FnMut(usize, &mut [u8]) -> Result<()>,
) -> Result<Option<EntryAlone>> {
    let head = read_tables(len, &mut read)?;
    let tables = BlockView::tables(&head)?;
    for i in tables.slots_at(pos) {
        let bytes = entry_bytes(&tables, i, len, &mut read)?;
        let stored = parse_entry(tables.version, tables.pos(i), &bytes)?;
        if stored.entry.reference == reference && stored.entry.alternate == alternate {
            return alone(&tables, i, &bytes, Some(stored), len, &mut read).map(Some);
        }
    }
    Ok(None)
}

/// A block's bytes from its start through its tables (for [`BlockView::tables`]): one read when
/// it holds at most [`BLOCK_VARIANTS`] entries (each read through SQLite's blob handle costs a
/// call into the b-tree).
fn read_tables(len: usize, piece: &mut impl FnMut(usize, &mut [u8]) -> Result<()>) -> Result<Vec<u8>> {
    let mut head = vec![0; len.min(TABLES_MAX)];
    if head.len() < header_len(VERSION_2) {
        return Err(corrupt("unknown version or too short"));
    }
    piece(0, &mut head)?;
    let header = header_len(head[0]);
    let n = u32_at(head.get(header - 4..header).ok_or_else(|| corrupt("too short"))?, 0) as usize;
    let tables = n.checked_mul(8).and_then(|t| t.checked_add(header)).filter(|&t| t <= len);
    let tables = tables.ok_or_else(|| corrupt("truncated table"))?;
    if tables > head.len() {
        let read = head.len();
        head.resize(tables, 0);
        piece(read, &mut head[read..])?;
    }
    head.truncate(tables);
    Ok(head)
}

/// The bytes of entry `i` of the block whose tables are `tables`.
fn entry_bytes(
    tables: &BlockView<'_>,
    i: usize,
    len: usize,
    piece: &mut impl FnMut(usize, &mut [u8]) -> Result<()>,
) -> Result<Vec<u8>> {
    let span = tables.entry_span(i)?;
    if span.start > span.end || span.end > len {
        return Err(corrupt("entry bounds")); // before allocating what a damaged offset says
    }
    let mut entry = vec![0; span.len()];
    piece(span.start, &mut entry)?;
    Ok(entry)
}

/// Entry `i` (its `bytes`, parsed as `stored` in a version 3 or 4 block) as a block of its own;
/// an entry with sets in the block's order comes with the order, a linked entry reads the entry
/// it is linked to as well and comes back unlinked.
fn alone(
    tables: &BlockView<'_>,
    i: usize,
    bytes: &[u8],
    stored: Option<StoredEntry<'_>>,
    len: usize,
    piece: &mut impl FnMut(usize, &mut [u8]) -> Result<()>,
) -> Result<EntryAlone> {
    let block = |entry: &[u8]| block_of_one(tables.version, tables.columns, tables.pos(i), entry);
    if let Some(stored) = stored.as_ref().filter(|_| tables.order_len > 0) {
        let carriers = stored.entry.carriers.as_stored();
        if carrier_order::needs_order(carriers, tables.columns).map_err(|e| corrupt(&e.to_string()))? {
            let start = header_len(tables.version) + 8 * tables.n;
            if start + tables.order_len > len {
                return Err(corrupt("order bounds"));
            }
            let mut order = vec![0; tables.order_len];
            piece(start, &mut order)?;
            return Ok(EntryAlone { block: block(bytes), order: Some(order) });
        }
    }
    let Some((stored, back)) = stored.and_then(|s| s.link.map(|back| (s, back))) else {
        return Ok(EntryAlone { block: block(bytes), order: None });
    };
    let target = i.checked_sub(back).ok_or_else(|| corrupt("link before the block"))?;
    let target_bytes = entry_bytes(tables, target, len, piece)?;
    let target = parse_entry(tables.version, tables.pos(target), &target_bytes)?;
    let mut linked = stored.entry;
    linked.carriers = CarrierBytes::linked(linked.carriers.as_stored(), plain_target(&target)?, tables.columns);
    let mut entry = bytes[..stored.head].to_vec();
    varint::put(&mut entry, u64::from(linked.haploid_set) << 1);
    entry.extend_from_slice(&linked.plain_carriers()?);
    Ok(EntryAlone { block: block(&entry), order: None })
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    if bytes.len() < n {
        return Err(corrupt("entry is truncated"));
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Ok(head)
}

/// A u32-length-prefixed field (version 1).
fn field<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = u32_at(take(bytes, 4)?, 0) as usize;
    take(bytes, len)
}

/// A varint-length-prefixed field.
fn short_field<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = varint::get(bytes).ok_or_else(|| corrupt("field length"))?;
    take(bytes, usize::try_from(len).map_err(|_| corrupt("field length"))?)
}

fn partition_point(n: usize, mut before: impl FnMut(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Position, REF and ALT: a variant's identity within one contig.
type VariantKey = (u64, String, String);

/// Builds the blocks of one file from variants arriving nearly sorted (normalisation moves some
/// left), interning haploid sets. Two records of a file that normalise to the same variant are
/// kept once when their genotypes agree exactly, and refused when they differ: which one to believe
/// is for the operator to decide (`bcftools norm -d exact` removes duplicates).
#[derive(Default)]
pub struct FileBlocks {
    contig: Option<u32>,
    done_contigs: Vec<u32>,
    pending: BTreeMap<VariantKey, Entry>,
    furthest: u64,
    /// Key, carriers and haploid set of the last variant written, to recognise a late duplicate.
    last_flushed: Option<(VariantKey, Vec<u8>, u32)>,
    open: Vec<Entry>,
    haploid_ids: HashMap<Vec<u32>, u32>,
    new_haploid_sets: Vec<(u32, Vec<u32>)>,
    pub duplicates: u64,
    pub variants: u64,
    pub max_ref_len: usize,
    /// See [`Block::columns`].
    columns: Option<usize>,
}

impl FileBlocks {
    /// Blocks that link entries ([`Block::columns`]), for a file of `columns` sample columns.
    pub fn linked(columns: usize) -> Self {
        Self { columns: Some(columns), ..Self::default() }
    }

    /// Id of a haploid set (0 when empty), registering it when new.
    pub fn haploid_set(&mut self, columns: &[u32]) -> u32 {
        if columns.is_empty() {
            return 0;
        }
        if let Some(&id) = self.haploid_ids.get(columns) {
            return id;
        }
        let id = self.haploid_ids.len() as u32 + 1;
        self.haploid_ids.insert(columns.to_vec(), id);
        self.new_haploid_sets.push((id, columns.to_vec()));
        id
    }

    /// Haploid sets registered since the last call, to be stored.
    pub fn take_new_haploid_sets(&mut self) -> Vec<(u32, Vec<u32>)> {
        std::mem::take(&mut self.new_haploid_sets)
    }

    /// Adds a variant; returns the blocks it completed.
    pub fn push(&mut self, contig: u32, entry: Entry) -> Result<Vec<Block>> {
        let mut done = Vec::new();
        if self.contig != Some(contig) {
            if self.done_contigs.contains(&contig) {
                return Err(StoreError::Conflict(format!(
                    "the records of contig #{contig} are not together; sort the VCF (bcftools sort)"
                )));
            }
            done.extend(self.flush_all());
            if let Some(previous) = self.contig {
                self.done_contigs.push(previous);
            }
            self.contig = Some(contig);
            self.furthest = 0;
            self.last_flushed = None;
        }
        let key = (entry.pos, entry.reference.clone(), entry.alternate.clone());
        if let Some((last, carriers, haploid)) = &self.last_flushed {
            if key == *last {
                return self
                    .duplicate(&entry, carriers == &entry.carriers && *haploid == entry.haploid_set)
                    .map(|()| done);
            }
            if key < *last {
                return Err(StoreError::Conflict(format!(
                    "normalisation moved the variant at position {} more than {SORT_WINDOW} bases before records \
                     already read; this is unsupported",
                    entry.pos
                )));
            }
        }
        self.furthest = self.furthest.max(entry.pos);
        if let Some(earlier) = self.pending.get(&key) {
            let same = earlier.carriers == entry.carriers && earlier.haploid_set == entry.haploid_set;
            self.duplicate(&entry, same)?;
        } else {
            self.pending.insert(key, entry);
        }
        while let Some(first) = self.pending.first_key_value() {
            if first.0.0 + SORT_WINDOW >= self.furthest {
                break;
            }
            if let Some((key, entry)) = self.pending.pop_first() {
                self.last_flushed = Some((key, entry.carriers.clone(), entry.haploid_set));
                done.extend(self.append(entry));
            }
        }
        Ok(done)
    }

    /// A second record of the same variant: counted once if it says the same, refused otherwise.
    fn duplicate(&mut self, entry: &Entry, same_genotypes: bool) -> Result<()> {
        if same_genotypes {
            self.duplicates += 1;
            return Ok(());
        }
        Err(StoreError::Conflict(format!(
            "an earlier record of this file normalises to the same variant ({} {}>{}) with different genotypes; \
             remove one (bcftools norm -d exact keeps the first)",
            entry.pos, entry.reference, entry.alternate
        )))
    }

    fn append(&mut self, entry: Entry) -> Option<Block> {
        let full = self
            .open
            .first()
            .is_some_and(|first| self.open.len() >= BLOCK_VARIANTS || entry.pos > first.pos + BLOCK_SPAN);
        let finished = if full { self.close() } else { None };
        self.variants += 1;
        self.max_ref_len = self.max_ref_len.max(entry.reference.len());
        self.open.push(entry);
        finished
    }

    fn close(&mut self) -> Option<Block> {
        let entries = std::mem::take(&mut self.open);
        let contig = self.contig?;
        let first_pos = entries.first()?.pos;
        let last_pos = entries.iter().map(Entry::end).max()?;
        Some(Block { contig, first_pos, last_pos, entries, columns: self.columns })
    }

    fn flush_all(&mut self) -> Vec<Block> {
        let mut done = Vec::new();
        while let Some((key, entry)) = self.pending.pop_first() {
            self.last_flushed = Some((key, entry.carriers.clone(), entry.haploid_set));
            done.extend(self.append(entry));
        }
        done.extend(self.close());
        done
    }

    /// Everything still buffered, as blocks.
    pub fn finish(&mut self) -> Vec<Block> {
        self.flush_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pos: u64, alt: &str) -> Entry {
        Entry {
            pos,
            reference: "A".into(),
            alternate: alt.into(),
            vrs_id: format!("ga4gh:VA.{pos}{alt}"),
            haploid_set: 0,
            carriers: vec![0, 0, 0, 0, 0],
        }
    }

    fn build(entries: Vec<(u32, Entry)>) -> Result<(Vec<Block>, FileBlocks)> {
        let mut file = FileBlocks::default();
        let mut blocks = Vec::new();
        for (contig, e) in entries {
            blocks.extend(file.push(contig, e)?);
        }
        blocks.extend(file.finish());
        Ok((blocks, file))
    }

    #[test]
    fn blocks_are_sorted_bounded_and_round_trip() {
        // Arrive slightly out of order, as left-aligned indels do; one duplicate.
        let mut input: Vec<(u32, Entry)> = (0..800).map(|i| (0, entry(1000 + i * 10, "C"))).collect();
        input.swap(5, 6);
        input.push((0, entry(1500, "C"))); // the same record again: kept once
        input.push((1, entry(7, "G")));
        let (blocks, file) = build(input).unwrap();
        assert_eq!((file.duplicates, file.variants), (1, 801));
        assert_eq!(blocks.iter().map(|b| b.entries.len()).collect::<Vec<_>>(), [256, 256, 256, 32, 1]);
        let all: Vec<u64> =
            blocks.iter().filter(|b| b.contig == 0).flat_map(|b| b.entries.iter().map(|e| e.pos)).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        let bytes = blocks[1].encode();
        let view = BlockView::parse(&bytes).unwrap();
        assert_eq!(view.len(), 256);
        let e = view.entry(3).unwrap();
        assert_eq!((e.pos, e.reference, e.alternate), (blocks[1].entries[3].pos, "A", "C"));
        assert_eq!(view.find(e.pos, "A", "C").unwrap(), Some(3));
        assert_eq!(view.find(e.pos, "A", "T").unwrap(), None);
        assert_eq!(view.lower_bound(e.pos), 3);
        let one = block_of_one(bytes[0], 0, e.pos, &bytes[view.entry_span(3).unwrap()]);
        assert_eq!(BlockView::parse(&one).unwrap().entry(0).unwrap(), e);
    }

    #[test]
    fn a_duplicate_with_other_genotypes_is_refused() {
        let mut other = entry(20, "C");
        other.carriers = vec![1, 1, 0, 0, 0, 3, 0, 0, 0, 0];
        let pending = build(vec![(0, entry(20, "C")), (0, other.clone())]);
        assert!(matches!(pending, Err(StoreError::Conflict(m)) if m.contains("different genotypes")));
        let far = 2 * SORT_WINDOW;
        let flushed = build(vec![(0, entry(20, "C")), (0, entry(far, "C")), (0, other)]);
        assert!(matches!(flushed, Err(StoreError::Conflict(m)) if m.contains("different genotypes")));
        let (_, same) = build(vec![(0, entry(20, "C")), (0, entry(far, "C")), (0, entry(20, "C"))]).unwrap();
        assert_eq!(same.duplicates, 1);
    }

    #[test]
    fn blocks_close_on_span() {
        let (blocks, _) = build(vec![(0, entry(1, "C")), (0, entry(2, "C")), (0, entry(3 + BLOCK_SPAN, "C"))]).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!((blocks[0].first_pos, blocks[0].last_pos), (1, 2));
    }

    #[test]
    fn far_late_and_scattered_contigs_are_refused() {
        let (late, _) = build(vec![(0, entry(100, "C")), (0, entry(50, "C")), (0, entry(60, "C"))]).unwrap();
        let order: Vec<u64> = late[0].entries.iter().map(|e| e.pos).collect();
        assert_eq!(order, [50, 60, 100], "within the window, late variants are sorted in");
        let far = build(vec![
            (0, entry(10, "C")),
            (0, entry(20, "C")),
            (0, entry(3 * SORT_WINDOW, "C")),
            (0, entry(15, "C")),
        ]);
        assert!(matches!(far, Err(StoreError::Conflict(_))));
        let scattered = build(vec![(0, entry(10, "C")), (1, entry(10, "C")), (0, entry(20, "C"))]);
        assert!(matches!(scattered, Err(StoreError::Conflict(m)) if m.contains("bcftools sort")));
    }

    #[test]
    fn a_slot_read_piecewise_is_checked_before_it_is_read() {
        let entries: Vec<Entry> = (0..5).map(|i| entry(100 + i, "C")).collect();
        let bytes = Block { contig: 0, first_pos: 100, last_pos: 104, entries, columns: None }.encode();
        let view = BlockView::parse(&bytes).unwrap();
        let from = |bytes: &[u8], slot| {
            read_slot(bytes.len(), slot, |at, buf| {
                buf.copy_from_slice(&bytes[at..at + buf.len()]);
                Ok(())
            })
        };
        for slot in 0..5 {
            let one = from(&bytes, slot).unwrap();
            assert_eq!(BlockView::parse(&one.block).unwrap().entry(0).unwrap(), view.entry(slot).unwrap());
        }
        assert!(matches!(from(&bytes, 5), Err(StoreError::Corrupt(_))));
        assert!(matches!(from(&bytes[..3], 0), Err(StoreError::Corrupt(_))));
        // A damaged end offset (the last slot's, claiming 4 GB) is an error, not a read past the end.
        let mut damaged = bytes.clone();
        damaged[5 + 4 * 5 + 4 * 4..5 + 4 * 5 + 4 * 5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(from(&damaged, 4), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn a_variant_found_piecewise_is_the_one_with_its_alleles() {
        // Two positions with three ALTs each (a split multi-allelic site), and one alone.
        let mut entries = Vec::new();
        for pos in [100, 200] {
            for alt in ["C", "G", "T"] {
                entries.push(entry(pos, alt));
            }
        }
        entries.push(entry(300, "G"));
        let bytes = Block { contig: 0, first_pos: 100, last_pos: 300, entries, columns: None }.encode();
        let view = BlockView::parse(&bytes).unwrap();
        let find = |bytes: &[u8], pos, alt: &str| {
            find_piecewise(bytes.len(), pos, "A", alt, |at, buf| {
                buf.copy_from_slice(&bytes[at..at + buf.len()]);
                Ok(())
            })
        };
        for (slot, (pos, alt)) in [(100, "C"), (100, "G"), (100, "T"), (200, "C"), (200, "T"), (300, "G")]
            .into_iter()
            .zip([0, 1, 2, 3, 5, 6])
            .map(|(k, slot)| (slot, k))
        {
            let one = find(&bytes, pos, alt).unwrap().unwrap();
            assert_eq!(BlockView::parse(&one.block).unwrap().entry(0).unwrap(), view.entry(slot).unwrap());
        }
        for (pos, alt) in [(100, "A"), (150, "C"), (99, "C"), (301, "G"), (300, "C")] {
            assert!(find(&bytes, pos, alt).unwrap().is_none(), "{pos} {alt}");
        }
        // A store that keeps the heads alone finds where the entries at a position lie.
        let head = &bytes[..bytes.len().min(TABLES_MAX)];
        let span = |first, last| view.entry_span(first).unwrap().start..view.entry_span(last).unwrap().end;
        assert_eq!(entries_at(head, 100).unwrap(), Some(span(0, 2)), "the three ALTs at 100");
        assert_eq!(entries_at(head, 200).unwrap(), Some(span(3, 5)));
        assert_eq!(entries_at(head, 300).unwrap(), Some(span(6, 6)));
        for pos in [99, 150, 301] {
            assert_eq!(entries_at(head, pos).unwrap(), None, "{pos}");
        }
        assert!(matches!(entries_at(&bytes[..20], 300), Err(StoreError::Corrupt(_))));
        assert!(matches!(find(&bytes[..20], 300, "G"), Err(StoreError::Corrupt(_))));
        let mut damaged = bytes.clone();
        damaged[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(find(&damaged, 300, "G"), Err(StoreError::Corrupt(_))));
    }

    /// Twelve variants of a 1,000-column file: four haplotypes' worth of common variants (each a
    /// bitset a few columns away from its haplotype's), and rare ones as lists.
    fn linked_entries() -> Vec<Entry> {
        let columns = 1000u32;
        (0..12u32)
            .map(|i| {
                let haplotype = i % 4;
                let het = if i % 3 == 2 {
                    vec![i, 500 + i]
                } else {
                    let mut het: Vec<u32> = (0..columns).filter(|c| (c * 7 + haplotype) % 5 < 2).collect();
                    het.retain(|&c| c % 97 != i); // a few columns differ between variants
                    het
                };
                let sets = oresund_core::carriers::CarrierSets {
                    het,
                    hom_alt: (0..columns).filter(|c| (c + haplotype) % 9 == 0).collect(),
                    ..Default::default()
                };
                let mut e = entry(100 + u64::from(i), ["C", "G"][i as usize % 2]);
                e.carriers = sets.encode(columns as usize);
                e.haploid_set = i % 2;
                e
            })
            .collect()
    }

    impl Block {
        /// Version 3 as it was written, with links, for the tests that such blocks still read.
        fn encode_linked(&self) -> Vec<u8> {
            let columns = self.columns.unwrap();
            let links = link_entries(&self.entries, columns);
            let carriers: Vec<&[u8]> =
                self.entries.iter().zip(&links).map(|(e, l)| l.as_ref().map_or(&e.carriers[..], |(_, c)| c)).collect();
            let backs: Vec<Option<usize>> = links.iter().map(|l| l.as_ref().map(|(back, _)| *back)).collect();
            self.encode_as(VERSION_3, &[], &carriers, Some(&backs))
        }
    }

    /// For each entry, the earlier unlinked entry its carrier bitsets are best coded against (how
    /// many slots back) and the linked carriers, or `None` (version 3's writer).
    fn link_entries(entries: &[Entry], columns: usize) -> Vec<Option<(usize, Vec<u8>)>> {
        use oresund_core::carrier_links;
        let bitsets: Vec<_> = entries
            .iter()
            .map(|e| carrier_links::bitsets(&e.carriers, columns).ok().filter(|b| b.iter().any(Option::is_some)))
            .collect();
        let mut links: Vec<Option<(usize, Vec<u8>)>> = vec![None; entries.len()];
        for (i, own) in bitsets.iter().enumerate() {
            let Some(own) = own else { continue };
            let mut best = None;
            for j in 0..i {
                let Some(reference) = bitsets[j].as_ref().filter(|_| links[j].is_none()) else { continue };
                let plan = carrier_links::plan(own, reference, columns);
                let saved = carrier_links::saved(&plan);
                if saved > best.as_ref().map_or(0, |(_, _, _, s)| *s) {
                    best = Some((j, reference, plan, saved));
                }
            }
            if let Some((j, reference, plan, _)) = best {
                links[i] =
                    carrier_links::link(&entries[i].carriers, reference, &plan, columns).ok().map(|c| (i - j, c));
            }
        }
        links
    }

    /// Every entry of `bytes` read whole, by slot and by key piecewise gives `entries`' alleles
    /// and carriers, and counts in place as its plain carriers do.
    fn reads_back(bytes: &[u8], entries: &[Entry]) {
        let view = BlockView::parse(bytes).unwrap();
        let read = |i: usize| {
            read_slot(bytes.len(), i, |at, buf| {
                buf.copy_from_slice(&bytes[at..at + buf.len()]);
                Ok(())
            })
        };
        // An entry with its carriers expanded, to compare stored and plain ones.
        let plain =
            |e: EntryRef<'_>| (e.pos, e.alternate.to_string(), e.haploid_set, e.plain_carriers().unwrap().to_vec());
        let filter = oresund_core::carriers::ColumnFilter::from_fn(1000, |c| c % 3 != 0);
        for (i, e) in entries.iter().enumerate() {
            let got = view.entry(i).unwrap();
            assert_eq!(plain(got), (e.pos, e.alternate.clone(), e.haploid_set, e.carriers.clone()), "entry {i}");
            let whole = EncodedCarriers::parse(&e.carriers, 1000).unwrap();
            let in_place = got.carriers.parse(1000).unwrap();
            for f in [None, Some(&filter)] {
                assert_eq!(in_place.counts(f, 2000), whole.counts(f, 2000), "entry {i} counted in place");
            }
            let found = find_piecewise(bytes.len(), e.pos, "A", &e.alternate, |at, buf| {
                buf.copy_from_slice(&bytes[at..at + buf.len()]);
                Ok(())
            });
            for alone in [read(i).unwrap(), found.unwrap().unwrap()] {
                let file = model::FileNumber::new(1);
                let (calls, (pos, alternate)) = alone.calls(file, |a| (a.pos, a.alternate.to_string())).unwrap();
                let carriers = calls.plain_carriers(1000).unwrap();
                assert_eq!((pos, alternate, calls.haploid_set, carriers), plain(got), "slot {i} alone");
            }
        }
    }

    #[test]
    fn linked_entries_of_version_3_read_back_plain_whole_and_piecewise() {
        let entries = linked_entries();
        let linked = Block { contig: 0, first_pos: 100, last_pos: 111, entries: entries.clone(), columns: Some(1000) };
        let plain = Block { columns: None, ..linked.clone() };
        let (bytes, plain_bytes) = (linked.encode_linked(), plain.encode());
        assert_eq!((bytes[0], plain_bytes[0]), (VERSION_3, VERSION_2));
        let view = BlockView::parse(&bytes).unwrap();
        let links = (0..view.len()).filter(|&i| view.stored(i).unwrap().link.is_some()).count();
        // The first variant of each haplotype is plain; every later one links its hom-ALT bitset
        // (the same as its haplotype's), and the common ones their het bitset too.
        assert_eq!(links, 8, "linked entries");
        assert!(bytes.len() * 10 < plain_bytes.len() * 6, "{} bytes linked, {} plain", bytes.len(), plain_bytes.len());
        reads_back(&bytes, &entries);
        // A withdrawal's rewrite writes the current version, with the same entries.
        let rewritten = view.map_carriers(|_, c| Ok(c.to_vec())).unwrap();
        assert_eq!((rewritten[0], rewritten), (VERSION, linked.encode()));
    }

    #[test]
    fn entries_in_the_order_of_people_read_back_plain_whole_and_piecewise() {
        let entries = linked_entries();
        let block = Block { contig: 0, first_pos: 100, last_pos: 111, entries: entries.clone(), columns: Some(1000) };
        let bytes = block.encode();
        let view = BlockView::parse(&bytes).unwrap();
        assert_eq!((bytes[0], view.order_len), (VERSION, 16 + 1250), "a fingerprint and 1,000 people, ten bits each");
        let in_order = (0..view.len())
            .filter(|&i| carrier_order::needs_order(view.stored(i).unwrap().entry.carriers.as_stored(), 1000).unwrap())
            .count();
        // Every entry's hom-ALT set (a ninth of the people, by haplotype) comes in runs.
        assert_eq!(in_order, 12, "entries with sets in order");
        // Without the order (which pays for itself over a full block, not over twelve variants),
        // the entries are smaller than linked ones.
        let (entries_len, linked) = (bytes.len() - view.order_len, block.encode_linked());
        assert!(entries_len * 10 < linked.len() * 6, "{entries_len} bytes in order, {} linked", linked.len());
        reads_back(&bytes, &entries);
        let rewritten = view.map_carriers(|_, c| Ok(c.to_vec())).unwrap();
        assert_eq!(rewritten, bytes);
    }

    #[test]
    fn a_link_to_a_linked_entry_or_before_the_block_is_corrupt() {
        let bytes = Block { contig: 0, first_pos: 100, last_pos: 111, entries: linked_entries(), columns: Some(1000) }
            .encode_linked();
        let view = BlockView::parse(&bytes).unwrap();
        let i = (0..view.len()).find(|&i| view.stored(i).unwrap().link.is_some()).unwrap();
        let span = view.entry_span(i).unwrap();
        let head = view.stored(i).unwrap().head;
        // The entry's link (one byte after its haploid-set byte) pointed at itself, then past slot 0.
        for back in [0u8, i as u8 + 1] {
            let mut damaged = bytes.clone();
            damaged[span.start + head + 1] = back;
            let view = BlockView::parse(&damaged).unwrap();
            assert!(matches!(view.entry(i), Err(StoreError::Corrupt(_))), "back {back}");
        }
    }

    /// A damaged block read piecewise gives an answer or an error, never a panic: every byte of
    /// the header and tables (and the first entries) set to four values, and every truncation.
    #[test]
    fn damaged_blocks_read_piecewise_never_panic() {
        let entries: Vec<Entry> = (0..7).map(|i| entry(100 + i / 2, ["C", "G"][i as usize % 2])).collect();
        let plain = Block { contig: 0, first_pos: 100, last_pos: 103, entries, columns: None };
        let sorted = Block { contig: 0, first_pos: 100, last_pos: 111, entries: linked_entries(), columns: Some(1000) };
        let linked = sorted.encode_linked();
        for (block, bytes) in [(&plain, plain.encode()), (&sorted, linked), (&sorted, sorted.encode())] {
            damage_piecewise(block, bytes);
        }
    }

    fn damage_piecewise(block: &Block, bytes: Vec<u8>) {
        let keys: Vec<(u64, String)> = block.entries.iter().map(|e| (e.pos, e.alternate.clone())).collect();
        let read_all = |bytes: &[u8]| {
            let read = |at: usize, buf: &mut [u8]| {
                buf.copy_from_slice(&bytes[at..at + buf.len()]);
                Ok(())
            };
            for slot in 0..9 {
                let _ = read_slot(bytes.len(), slot, read);
            }
            for (pos, alt) in &keys {
                let _ = find_piecewise(bytes.len(), *pos, "A", alt, read);
                let _ = entries_at(&bytes[..bytes.len().min(TABLES_MAX)], *pos);
            }
        };
        // The header, the tables, the order's first columns and the first entries.
        for at in (0..bytes.len().min(13 + 8 * 12 + 400)).chain((1375..1775).filter(|&at| at < bytes.len())) {
            for value in [0, 1, 0x7f, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] = value;
                read_all(&damaged);
            }
        }
        for cut in 0..bytes.len() {
            read_all(&bytes[..cut]);
        }
    }

    #[test]
    fn corrupt_blocks_are_errors() {
        let (blocks, _) = build(vec![(0, entry(1, "C")), (0, entry(2, "G"))]).unwrap();
        let bytes = blocks[0].encode();
        for cut in 0..bytes.len() {
            if let Ok(view) = BlockView::parse(&bytes[..cut]) {
                assert!((0..view.len()).any(|i| view.entry(i).is_err()), "cut {cut} parsed cleanly");
            }
        }
    }

    /// The version 1 layout, as earlier builds wrote it.
    fn encode_version_1(entries: &[Entry]) -> Vec<u8> {
        let mut payload = Vec::new();
        let mut ends = Vec::new();
        for e in entries {
            for field in [e.reference.as_bytes(), e.alternate.as_bytes(), e.vrs_id.as_bytes()] {
                payload.extend_from_slice(&(field.len() as u32).to_le_bytes());
                payload.extend_from_slice(field);
            }
            payload.extend_from_slice(&e.haploid_set.to_le_bytes());
            payload.extend_from_slice(&(e.carriers.len() as u32).to_le_bytes());
            payload.extend_from_slice(&e.carriers);
            ends.push(payload.len() as u32);
        }
        let mut out = vec![VERSION_1];
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        out.extend(entries.iter().flat_map(|e| (e.pos as u32).to_le_bytes()));
        out.extend(ends.iter().flat_map(|end| end.to_le_bytes()));
        out.extend_from_slice(&payload);
        out
    }

    #[test]
    fn vrs_digests_take_24_bytes_and_version_1_blocks_still_read() {
        let digest = format!("{VRS_ALLELE}{}", oresund_core::digest::sha512t24u(b"allele"));
        let mut real = entry(10, "T");
        real.vrs_id = digest.clone();
        real.haploid_set = 300;
        real.carriers = vec![3, 1, 1, 4, 0, 0, 0, 0];
        let other = entry(12, "G"); // not a digest: kept as text
        let block =
            Block { contig: 0, first_pos: 10, last_pos: 12, entries: vec![real.clone(), other.clone()], columns: None };
        let (new, old) = (block.encode(), encode_version_1(&block.entries));
        assert_eq!(new[0], VERSION_2);
        // REF and ALT lengths 1 byte each instead of 4; the digest 25 bytes instead of 45, the text
        // id's length 2 instead of 4; the haploid set 2 or 1 bytes instead of 4; no carrier length.
        assert_eq!(old.len() - new.len(), (6 + 20 + 2 + 4) + (6 + 2 + 3 + 4));
        for bytes in [&new, &old] {
            let view = BlockView::parse(bytes).unwrap();
            let (a, b) = (view.entry(0).unwrap(), view.entry(1).unwrap());
            assert_eq!(
                (a.vrs_id.to_id(), a.haploid_set, a.carriers.as_stored()),
                (digest.clone(), 300, &real.carriers[..])
            );
            assert_eq!(
                (b.vrs_id.to_id(), b.alternate, b.carriers.as_stored()),
                (other.vrs_id.clone(), "G", &other.carriers[..])
            );
            let span = view.entry_span(0).unwrap();
            let one = block_of_one(bytes[0], 0, 10, &bytes[span]);
            assert_eq!(BlockView::parse(&one).unwrap().entry(0).unwrap(), a);
        }
        assert!(BlockView::parse(&[4, 0, 0, 0, 0]).is_err(), "an unknown version");
    }

    #[test]
    fn haploid_sets_are_interned() {
        let mut file = FileBlocks::default();
        assert_eq!(file.haploid_set(&[]), 0);
        assert_eq!(file.haploid_set(&[1, 3]), 1);
        assert_eq!(file.haploid_set(&[1, 3]), 1);
        assert_eq!(file.haploid_set(&[2]), 2);
        assert_eq!(file.take_new_haploid_sets().len(), 2);
        assert!(file.take_new_haploid_sets().is_empty());
    }
}
