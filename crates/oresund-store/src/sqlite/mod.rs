//! The embedded backend: SQLite database files (WAL mode) in the node directory, so a node is
//! one directory and `serve` can read while `ingest` writes.

mod access;
mod access_schema;
mod archive;
mod audit;
mod budget;
mod cached_lookup;
mod dac;
mod erasure;
mod match_cases;
mod numbers;
mod peer_heads;
mod pool;
mod schema;
mod tx;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use oresund_core::carriers::{decode_columns, encode_columns};
use oresund_core::individual::Individual;
use rusqlite::{OptionalExtension, Row, params};

use crate::block_cache::BlockCache;
use crate::blocks::{BLOCK_SPAN, Block, Entry, FileBlocks, find_piecewise, read_slot};
use crate::encoding::{columns_bytes, columns_from, individual_from_columns, list_text};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::variant_index::{BlockBytes, BlockVisit, RegionBlock, add_file_calls, in_file_order};
use crate::{ArchiveCatalog, Catalog, IngestTransaction, SchemaVersion, VariantIndex, Writers, rules};
use pool::{ConnPool, PageCache, Pooled};

/// A node store in SQLite: the catalog and variant index in one file (`node.db`), and the
/// controlled-access records (audit log, access requests, grants, budgets) in another beside it
/// (`access.db`). Two files because an ingest holds the catalog's write lock for its whole
/// transaction, and audit appends and budget charges must not wait for it.
pub struct SqliteStore {
    main: ConnPool,
    access: ConnPool,
    schema: Vec<SchemaVersion>,
    /// Committed blocks this process has read (`cached_lookup.rs`).
    cache: BlockCache,
    /// Whether a single-variant lookup was made yet: the first goes through SQLite alone, so that
    /// a process asking one question (`oresund query --variant`) does not read a block directory
    /// and a whole block for it (at 5,000 samples the command took 6.0-6.5 ms that way, against
    /// 5.0-5.5 ms without the cache: issue #19).
    looked_up: AtomicBool,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and `access.db` beside it, applying
    /// migrations, with a block cache of [`DEFAULT_BLOCK_CACHE_BYTES`].
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_BLOCK_CACHE_BYTES)
    }

    /// [`SqliteStore::open`] keeping at most `block_cache_bytes` of committed blocks in this
    /// process (0: none; every lookup then reads through SQLite).
    pub fn open_with_cache(path: &Path, block_cache_bytes: usize) -> Result<Self> {
        let (main, (found, current)) = ConnPool::open(path, PageCache::Large, schema::migrate)?;
        let catalog = SchemaVersion { part: "catalog and variant index (node.db)", found, current };
        let (access, (found, current)) =
            ConnPool::open(&path.with_file_name(ACCESS_DB), PageCache::Small, access_schema::migrate)?;
        let records = SchemaVersion { part: "access records and audit log (access.db)", found, current };
        let cache = BlockCache::new(block_cache_bytes);
        Ok(SqliteStore { main, access, schema: vec![catalog, records], cache, looked_up: AtomicBool::new(false) })
    }

    fn conn(&self) -> Result<Pooled<'_>> {
        self.main.get()
    }
}

/// The block cache a store opened without a size keeps (64 MiB, as PostgreSQL's default).
pub const DEFAULT_BLOCK_CACHE_BYTES: usize = 64 << 20;

/// File name of the controlled-access database, beside the catalog.
pub const ACCESS_DB: &str = "access.db";

const FILE_COLUMNS: &str = "f.number, f.accession, d.accession, f.name, f.sha256, f.size, f.created, \
     f.records, f.split, f.variants, f.realigned, f.skipped, f.duplicates, f.columns";

fn file_from_row(row: &Row<'_>) -> rusqlite::Result<(StoredFile, Vec<u8>)> {
    let stats = IngestStats {
        records: row.get(7)?,
        split: row.get(8)?,
        variants: row.get(9)?,
        realigned: row.get(10)?,
        skipped: row.get(11)?,
        duplicates: row.get(12)?,
    };
    let file = StoredFile {
        number: row.get(0)?,
        accession: row.get(1)?,
        dataset: row.get(2)?,
        name: row.get(3)?,
        sha256: row.get(4)?,
        size: row.get(5)?,
        created: row.get(6)?,
        stats,
        columns: Vec::new(),
    };
    Ok((file, row.get(13)?))
}

fn with_columns((mut file, columns): (StoredFile, Vec<u8>)) -> Result<StoredFile> {
    file.columns = columns_from(&columns)?;
    Ok(file)
}

pub(crate) use crate::vrs_key::{vrs_hash, vrs_key};

/// Stored blocks read piecewise through SQLite's incremental blob I/O: selecting the column makes
/// SQLite copy the whole block out of its overflow pages (61 kB on average at 20,000 samples) for
/// the one entry a lookup needs. One handle moves from block to block: opening one compiles a
/// small statement every time, moving it does not (a lookup reads a block of every file).
struct BlockReader<'c> {
    conn: &'c rusqlite::Connection,
    blob: Option<rusqlite::blob::Blob<'c>>,
}

impl<'c> BlockReader<'c> {
    fn new(conn: &'c rusqlite::Connection) -> Self {
        Self { conn, blob: None }
    }

    /// `read(len, piece)` over block `block`; errors name the block.
    fn read<T>(
        &mut self,
        block: i64,
        read: impl FnOnce(usize, &mut dyn FnMut(usize, &mut [u8]) -> Result<()>) -> Result<T>,
    ) -> Result<T> {
        // A handle that failed to move is left aborted, so it is dropped and the next read opens one.
        let blob = match self.blob.take() {
            Some(mut blob) => {
                blob.reopen(block)?;
                blob
            }
            None => self.conn.blob_open(rusqlite::MAIN_DB, "blocks", "data", block, true)?,
        };
        let blob = self.blob.insert(blob);
        read(blob.len(), &mut |at, buf| Ok(blob.read_at_exact(buf, at)?)).map_err(|e| match e {
            StoreError::Corrupt(what) => StoreError::Corrupt(format!("{what} (block {block})")),
            other => other,
        })
    }
}

/// The variant with this key in every file that holds it: the blocks covering its position
/// (`file, id` rows), each searched for the key ([`find_piecewise`]); the calls in file order.
fn read_variant_by_key(conn: &rusqlite::Connection, key: &VariantKey) -> Result<Option<VariantCalls>> {
    // A block's positions span at most BLOCK_SPAN, so one holding `pos` starts at most that
    // far before it, and its last base is at or after it. Rows in index order: sorting them by
    // file took a temporary b-tree per lookup (about 1 µs of 20 with ten files).
    let mut stmt = conn.prepare_cached(
        "SELECT file, id FROM blocks WHERE contig = ?1 AND first_pos BETWEEN ?2 AND ?3 AND last_pos >= ?3",
    )?;
    let mut rows = stmt.query(params![key.contig, key.pos.saturating_sub(BLOCK_SPAN), key.pos])?;
    let mut out: Option<VariantCalls> = None;
    let mut blocks = BlockReader::new(conn);
    // Blocks are read while the query steps, inside the read transaction it opened: the list and
    // the entries come from one snapshot (`entries_come_from_the_rows_snapshot`).
    while let Some(row) = rows.next()? {
        let file: FileNumber = row.get(0)?;
        if out.as_ref().is_some_and(|found| found.calls.iter().any(|c| c.file == file)) {
            continue; // a file holds a variant once (`FileBlocks` refuses duplicates)
        }
        let found =
            blocks.read(row.get(1)?, |len, read| find_piecewise(len, key.pos, &key.reference, &key.alternate, read))?;
        let Some(one) = found else { continue };
        let (calls, found) = one.calls(file, |entry| (entry.key(key.contig), entry.vrs_id.to_id()))?;
        add_file_calls(&mut out, calls, || Ok(found))?;
    }
    in_file_order(&mut out);
    Ok(out)
}

/// The entries whose VRS id has `vrs_id`'s key (`vrs_keys` rows as `file, slot, block, contig`),
/// those with another id (a key shared by chance) skipped.
fn read_variant_by_vrs_id(conn: &rusqlite::Connection, vrs_id: &str) -> Result<Option<VariantCalls>> {
    let mut stmt = conn.prepare_cached(
        "SELECT b.file, k.slot, k.block, b.contig FROM vrs_keys k JOIN blocks b ON b.id = k.block \
         WHERE k.key = ?1 ORDER BY b.file",
    )?;
    let mut rows = stmt.query(params![vrs_key(vrs_id)])?;
    let mut out: Option<VariantCalls> = None;
    let mut blocks = BlockReader::new(conn);
    // As above: each entry is read while the query steps, in the snapshot of its rows.
    while let Some(row) = rows.next()? {
        let file: FileNumber = row.get(0)?;
        let slot: usize = row.get(1)?;
        let one = blocks.read(row.get(2)?, |len, read| read_slot(len, slot, read))?;
        let contig = row.get(3)?;
        let (calls, (key, id)) = one.calls(file, |entry| (entry.key(contig), entry.vrs_id.to_id()))?;
        if id != vrs_id {
            continue;
        }
        add_file_calls(&mut out, calls, || Ok((key, id)))?;
    }
    Ok(out)
}

impl Catalog for SqliteStore {
    fn schema_versions(&self) -> Vec<SchemaVersion> {
        self.schema.clone()
    }

    fn generation(&self) -> Result<u64> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT value FROM meta WHERE key = 'generation'")?;
        let generation = stmt.query_row([], |r| r.get(0))?;
        self.cache.observe(generation);
        Ok(generation)
    }

    fn datasets(&self) -> Result<Vec<Dataset>> {
        let conn = self.conn()?;
        // A dataset whose files were all removed is gone (its row stays for the tombstones).
        let mut stmt = conn.prepare_cached(
            "SELECT d.accession, d.created FROM datasets d \
             WHERE EXISTS (SELECT 1 FROM files f WHERE f.dataset = d.id AND f.finished = 1) ORDER BY d.id",
        )?;
        let rows = stmt.query_map([], |r| Ok(Dataset { id: r.get(0)?, created: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn files(&self) -> Result<Vec<StoredFile>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files f JOIN datasets d ON d.id = f.dataset \
             WHERE f.finished = 1 ORDER BY f.number"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], file_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(with_columns).collect()
    }

    fn find_file(&self, dataset: &str, sha256: &str) -> Result<Option<StoredFile>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files f JOIN datasets d ON d.id = f.dataset \
             WHERE d.accession = ?1 AND f.sha256 = ?2 AND f.finished = 1"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        stmt.query_row(params![dataset, sha256], file_from_row).optional()?.map(with_columns).transpose()
    }

    fn individuals(&self) -> Result<Vec<StoredIndividual>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT number, pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent FROM individuals \
             WHERE retired = 0 ORDER BY number",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, IndividualNumber>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<u16>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (number, pseudonym, sex, birth_year, hpo, icd10, consent) = row?;
            out.push(individual_from_columns(number, &pseudonym, &sex, birth_year, [&hpo, &icd10, &consent])?);
        }
        Ok(out)
    }
}

impl VariantIndex for SqliteStore {
    fn variant(&self, key: &VariantKey) -> Result<Option<VariantCalls>> {
        if self.cache.is_off() || !self.looked_up.swap(true, Ordering::Relaxed) {
            return read_variant_by_key(&*self.conn()?, key);
        }
        self.cached_variant(key)
    }

    fn region_blocks(&self, contig: u32, start: u64, end: u64, visit: &mut BlockVisit<'_>) -> Result<()> {
        let pooled = self.conn()?;
        // One read transaction: every block from the same commit (a withdrawal rewrites blocks in
        // place), and SQLite's shared lock taken once. Dropping it ends the read.
        let conn = pooled.unchecked_transaction()?;
        let max_ref_len: u64 =
            conn.prepare_cached("SELECT value FROM meta WHERE key = 'max_ref_len'")?.query_row([], |r| r.get(0))?;
        // A block starts at most BLOCK_SPAN + REF length before the last base it covers.
        let lowest_first = start.saturating_sub(BLOCK_SPAN + max_ref_len);
        // The blocks in order first, their data then one by one: sorting rows that carry the data
        // copied every block of the region into SQLite's sorter, which spilled to temporary
        // files: a third of a 1 Mb region count at 20,000 samples went to copying (issue #19).
        let mut stmt = conn.prepare_cached(
            "SELECT id, file FROM blocks WHERE contig = ?1 AND first_pos BETWEEN ?2 AND ?3 AND last_pos >= ?4 \
             ORDER BY file, first_pos, id",
        )?;
        let blocks: Vec<(i64, FileNumber)> = stmt
            .query_map(params![contig, lowest_first, end, start], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut data = conn.prepare_cached("SELECT data FROM blocks WHERE id = ?1")?;
        for (id, file) in blocks {
            let mut rows = data.query([id])?;
            let row = rows.next()?.ok_or_else(|| StoreError::Corrupt(format!("block {id} vanished in a read")))?;
            let bytes = BlockBytes::Borrowed(row.get_ref(0)?.as_blob()?);
            visit(RegionBlock { file, bytes, max_ref_len })?;
        }
        Ok(())
    }

    fn variant_by_vrs_id(&self, vrs_id: &str) -> Result<Option<VariantCalls>> {
        read_variant_by_vrs_id(&*self.conn()?, vrs_id)
    }

    fn haploid_set(&self, file: FileNumber, set: u32) -> Result<Vec<u32>> {
        if set == 0 {
            return Ok(Vec::new());
        }
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT h.columns, length(f.columns) / 4 FROM haploid_sets h JOIN files f ON f.number = h.file \
             WHERE h.file = ?1 AND h.id = ?2",
        )?;
        let found: Option<(Vec<u8>, usize)> =
            stmt.query_row(params![file, set], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        let (bytes, columns) =
            found.ok_or_else(|| StoreError::Corrupt(format!("haploid set {set} of file {file} is missing")))?;
        decode_columns(&bytes, columns).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

impl Writers for SqliteStore {
    fn begin_ingest(&self) -> Result<Box<dyn IngestTransaction + '_>> {
        let conn = self.conn()?;
        // IMMEDIATE: take the write lock now, so two ingests queue instead of failing at commit.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Box::new(SqliteIngest { conn, cache: &self.cache, committed: false, files: HashMap::new(), max_ref_len: 1 }))
    }
}

impl ArchiveCatalog for SqliteStore {
    fn archive_objects(&self) -> Result<Vec<ArchiveObject>> {
        archive::list(&*self.conn()?)
    }

    fn archive_object(&self, accession: &str) -> Result<Option<ArchiveObject>> {
        archive::get(&*self.conn()?, accession)
    }

    fn archive_objects_of_file(&self, file: FileNumber) -> Result<Vec<ArchiveObject>> {
        archive::of_file(&*self.conn()?, file)
    }

    fn switch_archive_headers(&self, switches: &[HeaderSwitch]) -> Result<()> {
        self.main.write(|tx| rules::archive::switch_headers(tx, switches))
    }
}

struct SqliteIngest<'a> {
    conn: Pooled<'a>,
    /// The store's block cache, emptied at commit.
    cache: &'a BlockCache,
    committed: bool,
    /// Blocks being built for each file of this ingest, and its column count.
    files: HashMap<FileNumber, (FileBlocks, usize)>,
    max_ref_len: usize,
}

impl Drop for SqliteIngest<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl SqliteIngest<'_> {
    fn write_blocks(&mut self, file: FileNumber, blocks: Vec<Block>) -> Result<()> {
        for block in blocks {
            let block_id: i64 = self
                .conn
                .prepare_cached(
                    "INSERT INTO blocks (file, contig, first_pos, last_pos, data) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                )?
                .query_row(params![file, block.contig, block.first_pos, block.last_pos, block.encode()], |r| r.get(0))?;
            for (slot, e) in block.entries.iter().enumerate() {
                self.conn
                    .prepare_cached("INSERT INTO vrs_keys (key, block, slot) VALUES (?1, ?2, ?3)")?
                    .execute(params![vrs_key(&e.vrs_id), block_id, slot as i64])?;
                self.max_ref_len = self.max_ref_len.max(e.reference.len());
            }
        }
        let (blocks, columns) = self
            .files
            .get_mut(&file)
            .ok_or_else(|| StoreError::Conflict(format!("file {file} is not part of this ingest")))?;
        let columns = *columns;
        for (id, set) in blocks.take_new_haploid_sets() {
            self.conn
                .prepare_cached("INSERT INTO haploid_sets (file, id, columns) VALUES (?1, ?2, ?3)")?
                .execute(params![file, id, encode_columns(&set, columns)])?;
        }
        Ok(())
    }
}

impl IngestTransaction for SqliteIngest<'_> {
    fn upsert_individuals(&mut self, people: &[Individual]) -> Result<Vec<IndividualNumber>> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO individuals (pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (pseudonym) DO UPDATE SET sex = excluded.sex, birth_year = excluded.birth_year, \
             hpo_terms = excluded.hpo_terms, icd10_codes = excluded.icd10_codes, consent = excluded.consent, \
             retired = 0 RETURNING number",
        )?;
        let mut numbers = Vec::with_capacity(people.len());
        for p in people {
            let number: IndividualNumber = stmt.query_row(
                params![
                    p.pseudonym.as_str(),
                    p.sex.as_str(),
                    p.birth_year,
                    list_text(&p.hpo_terms),
                    list_text(&p.icd10_codes),
                    list_text(&p.consent)
                ],
                |r| r.get(0),
            )?;
            numbers.push(number);
        }
        Ok(numbers)
    }

    fn add_file(&mut self, file: &NewFile, accession_prefix: &str) -> Result<(FileNumber, String)> {
        self.conn
            .execute("INSERT INTO datasets (accession) VALUES (?1) ON CONFLICT DO NOTHING", params![file.dataset])?;
        let dataset: i64 =
            self.conn.query_row("SELECT id FROM datasets WHERE accession = ?1", params![file.dataset], |r| r.get(0))?;
        let number: FileNumber = self.conn.query_row(
            "INSERT INTO files (accession, dataset, name, sha256, size, columns) VALUES ('', ?1, ?2, ?3, ?4, ?5) \
             RETURNING number",
            params![dataset, file.name, file.sha256, file.size, columns_bytes(&file.columns)],
            |r| r.get(0),
        )?;
        let accession = format!("{accession_prefix}-F{number:06}");
        self.conn.execute("UPDATE files SET accession = ?1 WHERE number = ?2", params![accession, number])?;
        self.files.insert(number, (FileBlocks::linked(file.columns.len()), file.columns.len()));
        Ok((number, accession))
    }

    fn add_variant(
        &mut self,
        file: FileNumber,
        key: &VariantKey,
        vrs_id: &str,
        carriers: &[u8],
        haploid: &[u32],
    ) -> Result<()> {
        let (blocks, _) = self
            .files
            .get_mut(&file)
            .ok_or_else(|| StoreError::Conflict(format!("file {file} is not part of this ingest")))?;
        let entry = Entry {
            pos: key.pos,
            reference: key.reference.clone(),
            alternate: key.alternate.clone(),
            vrs_id: vrs_id.to_string(),
            haploid_set: blocks.haploid_set(haploid),
            carriers: carriers.to_vec(),
        };
        let done = blocks.push(key.contig, entry)?;
        self.write_blocks(file, done)
    }

    fn finish_file(&mut self, file: FileNumber, stats: &IngestStats) -> Result<IngestStats> {
        let (blocks, _) = self
            .files
            .get_mut(&file)
            .ok_or_else(|| StoreError::Conflict(format!("file {file} is not part of this ingest")))?;
        let done = blocks.finish();
        let (variants, duplicates) = (blocks.variants, blocks.duplicates);
        self.write_blocks(file, done)?;
        let stats = IngestStats { variants, duplicates, ..*stats };
        self.conn.execute(
            "UPDATE files SET finished = 1, records = ?1, split = ?2, variants = ?3, realigned = ?4, \
             skipped = ?5, duplicates = ?6 WHERE number = ?7",
            params![stats.records, stats.split, stats.variants, stats.realigned, stats.skipped, stats.duplicates, file],
        )?;
        Ok(stats)
    }

    fn add_archive_object(&mut self, object: &ArchiveObject) -> Result<()> {
        if !self.files.contains_key(&object.file) {
            return Err(StoreError::Conflict(format!("file {} is not part of this ingest", object.file)));
        }
        archive::insert(&self.conn, object)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.conn.execute(
            "UPDATE meta SET value = max(value, ?1) WHERE key = 'max_ref_len'",
            params![self.max_ref_len as i64],
        )?;
        self.conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        self.conn.execute_batch("COMMIT")?;
        self.committed = true;
        self.cache.forget();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::blocks::{BlockView, block_of_one};

    /// Slot `slot` of block `block` as a block of its own, as a lookup by VRS id reads it.
    fn entry_of_block(conn: &Connection, block: i64, slot: usize) -> Result<Vec<u8>> {
        BlockReader::new(conn).read(block, |len, read| read_slot(len, slot, read)).map(|alone| alone.block)
    }

    fn entry(pos: u64, alternate: &str, carriers: usize) -> Entry {
        Entry {
            pos,
            reference: "A".into(),
            alternate: alternate.into(),
            vrs_id: format!("ga4gh:VA.test{pos}{alternate}"),
            haploid_set: 0,
            carriers: (0..carriers).map(|i| i as u8).collect(),
        }
    }

    fn node_like(dir: &Path) -> Connection {
        let conn = Connection::open(dir.join("blocks.db")).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "mmap_size", 1i64 << 34).unwrap();
        conn.execute_batch("CREATE TABLE blocks (id INTEGER PRIMARY KEY, data BLOB NOT NULL)").unwrap();
        conn
    }

    #[test]
    fn an_entry_read_alone_equals_the_whole_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let conn = node_like(dir.path());
        // Entries large enough that the block spills over many overflow pages.
        let entries: Vec<Entry> = (0..40).map(|i| entry(1000 + 3 * i, "C", 700 + 911 * (i as usize % 7))).collect();
        let block = Block { contig: 0, first_pos: 1000, last_pos: 1117, entries, columns: None };
        let bytes = block.encode();
        conn.execute("INSERT INTO blocks (id, data) VALUES (7, ?1)", [&bytes]).unwrap();
        let whole = BlockView::parse(&bytes).unwrap();
        for slot in 0..whole.len() {
            let one = entry_of_block(&conn, 7, slot).unwrap();
            let alone = BlockView::parse(&one).unwrap();
            assert_eq!(alone.entry(0).unwrap(), whole.entry(slot).unwrap(), "slot {slot}");
        }
        assert!(matches!(entry_of_block(&conn, 7, 40), Err(StoreError::Corrupt(_))));
        assert!(entry_of_block(&conn, 8, 0).is_err(), "no such block");
        // A block cut short names the damage instead of reading past it.
        conn.execute("INSERT INTO blocks (id, data) VALUES (9, ?1)", [&bytes[..bytes.len() - 1]]).unwrap();
        assert!(matches!(entry_of_block(&conn, 9, 39), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn one_handle_reads_block_after_block_past_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let conn = node_like(dir.path());
        let mut whole = Vec::new();
        for (id, size) in [(7, 300), (9, 9000)] {
            let entries: Vec<Entry> = (0..5).map(|i| entry(100 + i, "G", size + i as usize)).collect();
            let bytes = Block { contig: 0, first_pos: 100, last_pos: 104, entries, columns: None }.encode();
            conn.execute("INSERT INTO blocks (id, data) VALUES (?1, ?2)", params![id, bytes]).unwrap();
            whole.push((id, bytes));
        }
        let mut reader = BlockReader::new(&conn);
        let mut read =
            |block: i64, slot: usize| reader.read(block, |len, read| read_slot(len, slot, read)).map(|a| a.block);
        for (block, slot) in [(7, 0), (9, 4), (8, 0), (9, 1), (7, 3), (8, 2), (8, 2), (7, 4)] {
            let got = read(block, slot);
            match whole.iter().find(|(id, _)| *id == block) {
                Some((_, bytes)) => {
                    let one = got.unwrap();
                    let (alone, stored) = (BlockView::parse(&one).unwrap(), BlockView::parse(bytes).unwrap());
                    assert_eq!(alone.entry(0).unwrap(), stored.entry(slot).unwrap(), "{block}/{slot}");
                }
                None => assert!(got.is_err(), "block {block} does not exist"),
            }
        }
    }

    #[test]
    fn entries_come_from_the_rows_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let reader = node_like(dir.path());
        let block = |text: &str| block_of_one(2, 0, 100, text.as_bytes());
        reader.execute_batch("CREATE TABLE refs (block INTEGER); INSERT INTO refs VALUES (1), (2);").unwrap();
        for (id, text) in [(1, "old one"), (2, "old two")] {
            reader.execute("INSERT INTO blocks (id, data) VALUES (?1, ?2)", params![id, block(text)]).unwrap();
        }
        let mut stmt = reader.prepare("SELECT block FROM refs ORDER BY block").unwrap();
        let mut rows = stmt.query([]).unwrap();
        let first: i64 = rows.next().unwrap().unwrap().get(0).unwrap();
        // Another connection rewrites one block and deletes the other while the query steps.
        let writer = Connection::open(dir.path().join("blocks.db")).unwrap();
        writer.execute("UPDATE blocks SET data = ?1 WHERE id = 1", [block("new one")]).unwrap();
        writer.execute("DELETE FROM blocks WHERE id = 2", []).unwrap();
        assert_eq!(entry_of_block(&reader, first, 0).unwrap(), block("old one"));
        let second: i64 = rows.next().unwrap().unwrap().get(0).unwrap();
        assert_eq!(entry_of_block(&reader, second, 0).unwrap(), block("old two"));
        assert!(rows.next().unwrap().is_none());
        drop(rows);
        // Once the query is done, the next read sees the writer's commit.
        assert_eq!(entry_of_block(&reader, 1, 0).unwrap(), block("new one"));
        assert!(entry_of_block(&reader, 2, 0).is_err());
    }
}
