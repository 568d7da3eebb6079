//! The scale backend: the catalog and the variant index in PostgreSQL, with the same tables,
//! the same encoded blocks (`bytea`) and the same semantics as the embedded store:
//!
//! * one ingest is one transaction: nothing is visible before `COMMIT`, and a killed ingest's
//!   connection drops, which makes the server roll it back;
//! * ingests queue on a transaction-scoped advisory lock, like `BEGIN IMMEDIATE` in SQLite;
//! * `meta.generation` moves at every commit, so every process reading the same database (N
//!   `serve` processes) sees another's ingest at its next generation check;
//! * connections come from a small bounded [`pool`];
//! * single-variant lookups read committed blocks through a per-process `block_cache.rs`, emptied
//!   when [`Catalog::generation`] sees the generation move.

mod access;
mod archive;
mod audit;
mod budget;
mod dac;
mod erasure;
mod ingest;
mod match_cases;
pub mod options;
mod peer_heads;
mod pool;
mod rows;
mod schema;
mod tx;

use std::ops::Range;
use std::sync::Arc;

use oresund_core::carriers::decode_columns;
use postgres::types::ToSql;

use crate::blocks::{BLOCK_SPAN, BlockView, TABLES_MAX, entries_at, find_piecewise};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::variant_index::{BlockBytes, BlockVisit, RegionBlock, add_block_calls, add_file_calls, in_file_order};
use crate::vrs_key::vrs_key;
use crate::{ArchiveCatalog, Catalog, IngestTransaction, SchemaVersion, VariantIndex, WriterLock, Writers, rules};

use crate::block_cache::{BlockCache, Directory, Head, Heads, Listed};
pub use options::{CatalogUrlError, PostgresOptions, check_url, redact_url, url_has_password};
use pool::{Conn, Pool};
use rows::file_columns;

/// Session advisory lock key of the store-wide writer lock ("oresund" + 2).
const WRITER_LOCK: i64 = 0x6f72_6573_756e_6402;

/// A node store in a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    schema: SchemaVersion,
    cache: BlockCache,
}

impl PostgresStore {
    /// Connects to the database and applies migrations.
    pub fn open(options: &PostgresOptions) -> Result<Self> {
        let pool = Pool::new(options)?;
        let (found, current) = schema::migrate(&mut pool.get()?.client)?;
        let schema = SchemaVersion { part: "catalog, variant index and access records (PostgreSQL)", found, current };
        Ok(PostgresStore { pool, schema, cache: BlockCache::new(options.block_cache_bytes) })
    }

    /// Whether the catalog holds anything yet (`init` refuses to take over a used catalog).
    pub fn is_empty(&self) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let row = conn
            .client
            .query_one("SELECT NOT EXISTS (SELECT 1 FROM individuals) AND NOT EXISTS (SELECT 1 FROM datasets)", &[])?;
        Ok(row.try_get(0)?)
    }

    /// A variant found through the block cache: on warm data no round trip at all, else one to
    /// list the contig's blocks (once per generation), and one for the blocks not held — whole
    /// while the cache has room for them, else only their entries at the position, which the
    /// contig's block heads locate (read once per generation, when first needed; see
    /// `block_cache.rs`).
    fn cached_variant(&self, key: &VariantKey) -> Result<Option<VariantCalls>> {
        let epoch = self.cache.epoch();
        let directory = match self.cache.directory(key.contig) {
            Some(directory) => directory,
            None => self.cache.put_directory(epoch, key.contig, self.read_directory(key.contig)?),
        };
        let holding = directory.holding(key.pos);
        let mut blocks: Vec<Option<Arc<[u8]>>> = holding.iter().map(|b| self.cache.block(b.id)).collect();
        let mut whole = Vec::new();
        let mut not_held = Vec::new();
        for (listed, _) in holding.iter().zip(&blocks).filter(|(_, data)| data.is_none()) {
            if self.cache.has_room(listed.len) { whole.push(listed.id) } else { not_held.push(listed) }
        }
        let heads = match (not_held.is_empty(), self.cache.heads(key.contig)) {
            (true, _) => None,
            (false, Some(heads)) => Some(heads),
            (false, None) => Some(self.cache.put_heads(epoch, key.contig, self.read_heads(key.contig)?)),
        };
        let mut entries = Vec::new();
        for listed in not_held {
            match heads.as_ref().and_then(|heads| heads.get(&listed.id)) {
                Some(head) => {
                    if let Some(span) = entries_at(&head.bytes, key.pos)? {
                        entries.push((listed, head, span));
                    }
                }
                // Committed after the heads were read: read it whole (not kept).
                None => whole.push(listed.id),
            }
        }
        let mut out: Option<VariantCalls> = None;
        if !whole.is_empty() || !entries.is_empty() {
            let mut conn = self.pool.get()?;
            self.fetch_into(&mut conn, Some(epoch), &whole, &holding, &mut blocks)?;
            let changed = find_in_pieces(&mut conn, key, &entries, &mut out)?;
            // Not kept: the cache belongs to the generation whose heads no longer match.
            self.fetch_into(&mut conn, None, &changed, &holding, &mut blocks)?;
        }
        // A block missing now was deleted (its file removed) since the directory was read.
        for (listed, data) in holding.iter().zip(&blocks) {
            let Some(data) = data else { continue };
            add_block_calls(&mut out, data, listed.file, key)?;
        }
        // Pieces were added before held blocks.
        in_file_order(&mut out);
        Ok(out)
    }

    /// Fetches the blocks `ids` whole into their places in `blocks` (which follows `listed`),
    /// keeping each read since `keep`'s epoch while the cache has room.
    fn fetch_into(
        &self,
        conn: &mut Conn,
        keep: Option<u64>,
        ids: &[i64],
        listed: &[Listed],
        blocks: &mut [Option<Arc<[u8]>>],
    ) -> Result<()> {
        for (id, data) in fetch_blocks(conn, ids)? {
            if let Some(epoch) = keep.filter(|_| self.cache.has_room(data.len())) {
                self.cache.put_block(epoch, id, data.clone());
            }
            if let Some(slot) = listed.iter().position(|b| b.id == id) {
                blocks[slot] = Some(data);
            }
        }
        Ok(())
    }

    /// [`VariantIndex::region_blocks`] through the cache and `directory`.
    fn cached_region(&self, directory: &Directory, start: u64, end: u64, visit: &mut BlockVisit<'_>) -> Result<()> {
        let epoch = self.cache.epoch();
        let listed = directory.overlapping(start, end);
        let mut blocks: Vec<Option<Arc<[u8]>>> = listed.iter().map(|b| self.cache.block(b.id)).collect();
        let missing: Vec<i64> =
            listed.iter().zip(&blocks).filter(|(_, data)| data.is_none()).map(|(b, _)| b.id).collect();
        if !missing.is_empty() {
            let mut conn = self.pool.get()?;
            self.fetch_into(&mut conn, Some(epoch), &missing, &listed, &mut blocks)?;
        }
        // A block missing now was deleted (its file removed) since the directory was read.
        for (listed, data) in listed.iter().zip(&blocks) {
            let Some(data) = data else { continue };
            let bytes = BlockBytes::Shared(data.clone());
            visit(RegionBlock { file: listed.file, bytes, max_ref_len: directory.max_ref_len })?;
        }
        Ok(())
    }

    /// [`VariantIndex::region_blocks`] in one round trip, without the directory.
    fn uncached_region(&self, contig: u32, start: u64, end: u64, visit: &mut BlockVisit<'_>) -> Result<()> {
        let mut conn = self.pool.get()?;
        // The longest REF comes with the blocks (a block starts at most BLOCK_SPAN + REF length
        // before the last base it covers).
        let statement = conn.statement(
            "WITH m AS (SELECT value AS max_ref_len FROM meta WHERE key = 'max_ref_len') \
             SELECT m.max_ref_len, b.file, b.data FROM m, blocks b \
             WHERE b.contig = $1::integer AND b.first_pos BETWEEN $2::bigint - $4::bigint - m.max_ref_len AND $3::bigint \
             AND b.last_pos >= $2::bigint \
             ORDER BY b.file, b.first_pos, b.id",
        )?;
        let params: [&(dyn ToSql + Sync); 4] =
            [&contig_param(contig)?, &position_param(start)?, &position_param(end)?, &position_param(BLOCK_SPAN)?];
        let mut rows = conn.client.query_raw(&statement, params)?;
        while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
            let max_ref_len: u64 = rows::unsigned(row.try_get(0)?, "max_ref_len")?;
            let file: FileNumber = rows::unsigned(row.try_get(1)?, "file number")?;
            visit(RegionBlock { file, bytes: BlockBytes::Borrowed(row.try_get(2)?), max_ref_len })?;
        }
        Ok(())
    }

    /// Every committed block of a contig, with the longest REF (for the directory's window).
    fn read_directory(&self, contig: u32) -> Result<Directory> {
        let mut conn = self.pool.get()?;
        let statement = conn.statement(
            "SELECT b.id, b.file, b.first_pos, b.last_pos, m.value, octet_length(b.data) \
             FROM blocks b, meta m WHERE b.contig = $1 AND m.key = 'max_ref_len'",
        )?;
        let mut max_ref_len = 0;
        let mut listed = Vec::new();
        for row in conn.client.query(&statement, &[&contig_param(contig)?])? {
            max_ref_len = rows::unsigned(row.try_get(4)?, "max_ref_len")?;
            listed.push(Listed {
                id: row.try_get(0)?,
                file: rows::unsigned(row.try_get(1)?, "file number")?,
                first_pos: rows::unsigned(row.try_get(2)?, "position")?,
                last_pos: rows::unsigned(row.try_get(3)?, "position")?,
                len: rows::unsigned(i64::from(row.try_get::<_, i32>(5)?), "block length")?,
            });
        }
        Ok(Directory::new(max_ref_len, listed))
    }

    /// The heads of a contig's committed blocks (`block_cache::Head`).
    fn read_heads(&self, contig: u32) -> Result<Heads> {
        let mut conn = self.pool.get()?;
        let statement = conn.statement(
            "SELECT id, substring(data FROM 1 FOR $2), octet_length(data), xmin::text::bigint \
             FROM blocks WHERE contig = $1",
        )?;
        let head = i32::try_from(TABLES_MAX).unwrap_or(i32::MAX);
        let mut heads = Heads::new();
        for row in conn.client.query(&statement, &[&contig_param(contig)?, &head])? {
            heads.insert(
                row.try_get(0)?,
                Head {
                    bytes: Arc::from(row.try_get::<_, &[u8]>(1)?),
                    len: rows::unsigned(i64::from(row.try_get::<_, i32>(2)?), "block length")?,
                    row_version: row.try_get(3)?,
                },
            );
        }
        Ok(heads)
    }
}

/// Fetches the entries at `key`'s position of each block in `entries` (the block, its head, the
/// entries' span) in one round trip, and adds the file's calls for the entry with `key`'s
/// alleles to `out`. Returns the blocks gone or rewritten since their heads were read.
fn find_in_pieces(
    conn: &mut Conn,
    key: &VariantKey,
    entries: &[(&Listed, &Head, Range<usize>)],
    out: &mut Option<VariantCalls>,
) -> Result<Vec<i64>> {
    let pieces: Vec<Piece> = entries.iter().map(|(b, head, span)| (b.id, head.row_version, span.clone())).collect();
    let fetched = fetch_pieces(conn, &pieces)?;
    let mut changed = Vec::new();
    for ((listed, head, span), bytes) in entries.iter().zip(fetched) {
        // Gone or rewritten (an erasure) since its head was read: the caller reads it whole.
        let Some(bytes) = bytes.filter(|b| b.len() == span.len()) else {
            changed.push(listed.id);
            continue;
        };
        // The head and the entries at the position are in hand; a linked entry's target outside
        // them costs one more round trip.
        let read = |offset: usize, buffer: &mut [u8]| -> Result<()> {
            let piece = offset..offset + buffer.len();
            if piece.end <= head.bytes.len() {
                buffer.copy_from_slice(&head.bytes[piece]);
            } else if span.start <= piece.start && piece.end <= span.end {
                buffer.copy_from_slice(&bytes[piece.start - span.start..piece.end - span.start]);
            } else {
                let fetched = fetch_pieces(conn, &[(listed.id, head.row_version, piece)])?.pop().flatten();
                let fetched = fetched.filter(|f| f.len() == buffer.len());
                buffer.copy_from_slice(&fetched.ok_or_else(|| corrupt_block("changed while read"))?);
            }
            Ok(())
        };
        if let Some(one) = find_piecewise(head.len, key.pos, &key.reference, &key.alternate, read)? {
            let (calls, id) = one.calls(listed.file, |entry| entry.vrs_id.to_id())?;
            add_file_calls(out, calls, || Ok((key.clone(), id)))?;
        }
    }
    Ok(changed)
}

/// Whole blocks by id, in one round trip (mostly one block: then the plain primary-key lookup).
fn fetch_blocks(conn: &mut Conn, ids: &[i64]) -> Result<Vec<(i64, Arc<[u8]>)>> {
    let rows = match ids {
        [] => return Ok(Vec::new()),
        [id] => {
            let statement = conn.statement("SELECT id, data FROM blocks WHERE id = $1")?;
            conn.client.query(&statement, &[id])?
        }
        // In id order (the order files were committed in), not the plan's: which blocks a full
        // cache keeps is then the same on every run.
        _ => {
            let statement = conn.statement("SELECT id, data FROM blocks WHERE id = ANY($1) ORDER BY id")?;
            conn.client.query(&statement, &[&ids])?
        }
    };
    rows.iter().map(|row| Ok((row.try_get(0)?, Arc::from(row.try_get::<_, &[u8]>(1)?)))).collect()
}

/// A byte range of a block: its id, the row version its head was read at, the range.
type Piece = (i64, i64, Range<usize>);

/// Byte ranges of blocks in one round trip: `substring` of an uncompressed (`EXTERNAL`) value
/// reads only the TOAST chunks it spans. `None` for a block that is gone, or whose row is no
/// longer the version listed (an erasure rewrites blocks in place, moving their entries).
fn fetch_pieces(conn: &mut Conn, pieces: &[Piece]) -> Result<Vec<Option<Vec<u8>>>> {
    let int = |n: usize| i32::try_from(n).map_err(|_| corrupt_block("offset out of range"));
    match pieces {
        [] => Ok(Vec::new()),
        [(id, row_version, range)] => {
            let statement = conn.statement(
                "SELECT substring(data FROM $3 FOR $4) FROM blocks WHERE id = $1 AND xmin::text::bigint = $2",
            )?;
            let row =
                conn.client.query_opt(&statement, &[id, row_version, &int(range.start + 1)?, &int(range.len())?])?;
            Ok(vec![row.map(|row| row.try_get(0)).transpose()?])
        }
        _ => {
            let statement = conn.statement(
                "SELECT u.i, substring(b.data FROM u.start FOR u.len) \
                 FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[]) \
                 WITH ORDINALITY AS u(id, row_version, start, len, i) \
                 JOIN blocks b ON b.id = u.id AND b.xmin::text::bigint = u.row_version",
            )?;
            let ids: Vec<i64> = pieces.iter().map(|(id, _, _)| *id).collect();
            let versions: Vec<i64> = pieces.iter().map(|(_, version, _)| *version).collect();
            let starts = pieces.iter().map(|(_, _, r)| int(r.start + 1)).collect::<Result<Vec<i32>>>()?;
            let lens = pieces.iter().map(|(_, _, r)| int(r.len())).collect::<Result<Vec<i32>>>()?;
            let mut out = vec![None; pieces.len()];
            for row in conn.client.query(&statement, &[&ids, &versions, &starts, &lens])? {
                let i: usize = rows::unsigned(row.try_get::<_, i64>(0)? - 1, "piece")?;
                *out.get_mut(i).ok_or_else(|| corrupt_block("piece out of range"))? = Some(row.try_get(1)?);
            }
            Ok(out)
        }
    }
}

fn corrupt_block(what: &str) -> StoreError {
    StoreError::Corrupt(format!("variant block: {what}"))
}

fn contig_param(contig: u32) -> Result<i32> {
    i32::try_from(contig).map_err(|_| StoreError::Conflict(format!("contig number {contig} is out of range")))
}

fn position_param(pos: u64) -> Result<i64> {
    i64::try_from(pos).map_err(|_| StoreError::Conflict(format!("position {pos} is out of range")))
}

impl Catalog for PostgresStore {
    fn schema_versions(&self) -> Vec<SchemaVersion> {
        vec![self.schema.clone()]
    }

    fn generation(&self) -> Result<u64> {
        let mut conn = self.pool.get()?;
        let statement = conn.statement("SELECT value FROM meta WHERE key = 'generation'")?;
        let generation = rows::unsigned(conn.client.query_one(&statement, &[])?.try_get(0)?, "generation")?;
        self.cache.observe(generation);
        Ok(generation)
    }

    fn datasets(&self) -> Result<Vec<Dataset>> {
        let mut conn = self.pool.get()?;
        // A dataset whose files were all removed is gone (its row stays for the tombstones).
        let rows = conn.client.query(
            "SELECT d.accession, d.created FROM datasets d \
             WHERE EXISTS (SELECT 1 FROM files f WHERE f.dataset = d.id AND f.finished) ORDER BY d.id",
            &[],
        )?;
        rows.iter().map(|r| Ok(Dataset { id: r.try_get(0)?, created: r.try_get(1)? })).collect()
    }

    fn files(&self) -> Result<Vec<StoredFile>> {
        let mut conn = self.pool.get()?;
        let statement = conn.statement(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files f JOIN datasets d ON d.id = f.dataset WHERE f.finished ORDER BY f.number"
        ))?;
        conn.client.query(&statement, &[])?.iter().map(rows::file_from_row).collect()
    }

    fn find_file(&self, dataset: &str, sha256: &str) -> Result<Option<StoredFile>> {
        let mut conn = self.pool.get()?;
        let statement = conn.statement(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files f JOIN datasets d ON d.id = f.dataset WHERE d.accession = $1 AND f.sha256 = $2 AND f.finished"
        ))?;
        conn.client.query_opt(&statement, &[&dataset, &sha256])?.as_ref().map(rows::file_from_row).transpose()
    }

    fn individuals(&self) -> Result<Vec<StoredIndividual>> {
        let mut conn = self.pool.get()?;
        let statement = conn.statement(
            "SELECT number, pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent FROM individuals \
             WHERE NOT retired ORDER BY number",
        )?;
        conn.client.query(&statement, &[])?.iter().map(rows::individual_from_row).collect()
    }
}

impl VariantIndex for PostgresStore {
    fn variant(&self, key: &VariantKey) -> Result<Option<VariantCalls>> {
        self.cached_variant(key)
    }

    /// A process that has read the contig's directory (every single-variant lookup does) scans
    /// through the block cache: held blocks cost no round trip, missing ones come in one (and are
    /// kept while the cache has room). A process that has not (one CLI question) reads the
    /// region's blocks in one round trip without the directory.
    fn region_blocks(&self, contig: u32, start: u64, end: u64, visit: &mut BlockVisit<'_>) -> Result<()> {
        match self.cache.directory(contig) {
            Some(directory) => self.cached_region(&directory, start, end, visit),
            None => self.uncached_region(contig, start, end, visit),
        }
    }

    /// The entries whose VRS id has `vrs_id`'s key, read from their whole blocks (one round trip;
    /// a linked entry needs the entry it is linked to, which its block holds), those with another
    /// id (a key shared by chance) skipped.
    fn variant_by_vrs_id(&self, vrs_id: &str) -> Result<Option<VariantCalls>> {
        let mut conn = self.pool.get()?;
        let statement = conn.statement(
            "SELECT b.file, k.slot, b.contig, b.data FROM vrs_keys k JOIN blocks b ON b.id = k.block \
             WHERE k.key = $1 ORDER BY b.file",
        )?;
        let mut out: Option<VariantCalls> = None;
        for row in conn.client.query(&statement, &[&vrs_key(vrs_id)])? {
            let file: FileNumber = rows::unsigned(row.try_get(0)?, "file number")?;
            let slot: usize = rows::unsigned(i64::from(row.try_get::<_, i32>(1)?), "slot")?;
            let contig: u32 = rows::unsigned(i64::from(row.try_get::<_, i32>(2)?), "contig")?;
            let view = BlockView::parse(row.try_get(3)?)?;
            let entry = view.entry(slot)?;
            let id = entry.vrs_id.to_id();
            if id != vrs_id {
                continue;
            }
            add_file_calls(&mut out, entry.calls(file)?, || Ok((entry.key(contig), id)))?;
        }
        Ok(out)
    }

    fn haploid_set(&self, file: FileNumber, set: u32) -> Result<Vec<u32>> {
        if set == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get()?;
        let statement = conn.statement(
            "SELECT h.columns, length(f.columns) / 4 FROM haploid_sets h JOIN files f ON f.number = h.file \
             WHERE h.file = $1 AND h.id = $2",
        )?;
        let row = conn.client.query_opt(&statement, &[&i64::from(file), &i64::from(set)])?;
        let row = row.ok_or_else(|| StoreError::Corrupt(format!("haploid set {set} of file {file} is missing")))?;
        let columns: usize = rows::unsigned(i64::from(row.try_get::<_, i32>(1)?), "column count")?;
        decode_columns(row.try_get(0)?, columns).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

impl Writers for PostgresStore {
    fn begin_ingest(&self) -> Result<Box<dyn IngestTransaction + '_>> {
        Ok(Box::new(ingest::PostgresIngest::begin(self.pool.get()?, &self.cache)?))
    }

    /// A session advisory lock on a connection of its own: it lasts as long as that session, so
    /// a killed writer's lock goes with its connection.
    fn lock_writers(&self) -> Result<Option<WriterLock>> {
        let mut client = self.pool.connect()?;
        let locked: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LOCK])?.try_get(0)?;
        if !locked {
            return Err(StoreError::Busy(
                "another ingest, archive gc or key rotation is running on this node's PostgreSQL catalog \
                 (it holds the writer lock); try again when it has finished"
                    .into(),
            ));
        }
        Ok(Some(WriterLock::new(client)))
    }
}

impl ArchiveCatalog for PostgresStore {
    fn archive_objects(&self) -> Result<Vec<ArchiveObject>> {
        archive::list(&mut *self.pool.get()?)
    }

    fn archive_object(&self, accession: &str) -> Result<Option<ArchiveObject>> {
        archive::get(&mut *self.pool.get()?, accession)
    }

    fn archive_objects_of_file(&self, file: FileNumber) -> Result<Vec<ArchiveObject>> {
        archive::of_file(&mut *self.pool.get()?, file)
    }

    fn switch_archive_headers(&self, switches: &[HeaderSwitch]) -> Result<()> {
        self.pool.get()?.write(|tx| rules::archive::switch_headers(tx, switches))
    }
}
