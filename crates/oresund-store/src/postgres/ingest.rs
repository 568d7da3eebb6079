//! An ingest as one PostgreSQL transaction.
//!
//! Blocks are built exactly as in the embedded store ([`FileBlocks`]) and sent in batches with
//! binary `COPY` (one round trip per batch instead of one `INSERT` per variant), together with
//! each entry's `vrs_keys` row. Nothing is visible to readers before `COMMIT`; if the process
//! dies, the server rolls the transaction back when the connection drops.

use std::collections::HashMap;

use oresund_core::carriers::encode_columns;
use oresund_core::individual::Individual;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::pool::Pooled;
use super::rows::unsigned;
use crate::IngestTransaction;
use crate::block_cache::BlockCache;
use crate::blocks::{Block, Entry, FileBlocks};
use crate::encoding::{columns_bytes, list_text};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::vrs_key::vrs_key;

/// Transaction-scoped advisory lock key serialising ingests ("oresund" + 3), the counterpart of
/// SQLite's `BEGIN IMMEDIATE`: numbers are assigned as max + 1 under it.
pub(super) const INGEST_LOCK: i64 = 0x6f72_6573_756e_6403;
/// Bytes of encoded blocks buffered before a `COPY`: about 100 blocks of 40 kB at 5,000 samples.
/// Counted in blocks (128), the buffer held each block's entries unencoded until it was sent,
/// which took the ingest's peak RSS from 58 MB at 5,000 samples to 100 MB at 20,000
/// (BENCHMARKS.md). Debug builds (the tests) send every 64 KiB, so that their small cohorts cross
/// several `COPY`s.
const FLUSH_BYTES: usize = if cfg!(debug_assertions) { 64 << 10 } else { 4 << 20 };
/// Block ids reserved from the sequence per round trip.
const RESERVE_IDS: i64 = 512;

/// Individuals as one array per column, for a single `unnest` statement.
#[derive(Default)]
struct PeopleColumns {
    number: Vec<i64>,
    pseudonym: Vec<String>,
    sex: Vec<&'static str>,
    birth_year: Vec<Option<i32>>,
    hpo: Vec<String>,
    icd10: Vec<String>,
    consent: Vec<String>,
}

impl PeopleColumns {
    fn push(&mut self, number: i64, person: &Individual) {
        self.number.push(number);
        self.pseudonym.push(person.pseudonym.as_str().to_string());
        self.sex.push(person.sex.as_str());
        self.birth_year.push(person.birth_year.map(i32::from));
        self.hpo.push(list_text(&person.hpo_terms));
        self.icd10.push(list_text(&person.icd10_codes));
        self.consent.push(list_text(&person.consent));
    }
}

/// A completed block as it will be sent: its row and its entries' VRS keys (by slot).
struct Pending {
    file: FileNumber,
    contig: i32,
    first_pos: i64,
    last_pos: i64,
    data: Vec<u8>,
    keys: Vec<i32>,
}

struct FileState {
    blocks: FileBlocks,
    columns: usize,
}

pub(super) struct PostgresIngest<'a> {
    conn: Pooled<'a>,
    /// The store's block cache, emptied at commit.
    cache: &'a BlockCache,
    committed: bool,
    files: HashMap<FileNumber, FileState>,
    /// Completed blocks not yet sent, encoded.
    pending: Vec<Pending>,
    /// Bytes of their data.
    pending_bytes: usize,
    /// Block ids reserved from `block_ids`, not yet used.
    reserved: Vec<i64>,
    max_ref_len: usize,
}

fn not_in_this_ingest(file: FileNumber) -> StoreError {
    StoreError::Conflict(format!("file {file} is not part of this ingest"))
}

fn signed(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Conflict(format!("{what} {value} is out of range")))
}

impl<'a> PostgresIngest<'a> {
    pub(super) fn begin(conn: Pooled<'a>, cache: &'a BlockCache) -> Result<Self> {
        // Built first, so that a failure from here on rolls back (on drop) before the connection
        // returns to the pool.
        let mut ingest = PostgresIngest {
            conn,
            cache,
            committed: false,
            files: HashMap::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            reserved: Vec::new(),
            max_ref_len: 1,
        };
        // lock_timeout: a second ingest waits for the first like SQLite's busy timeout, not forever.
        ingest.conn.client.batch_execute("BEGIN; SET LOCAL lock_timeout = '30s'")?;
        ingest.conn.client.execute("SELECT pg_advisory_xact_lock($1)", &[&INGEST_LOCK])?;
        Ok(ingest)
    }

    fn file(&mut self, file: FileNumber) -> Result<&mut FileState> {
        self.files.get_mut(&file).ok_or_else(|| not_in_this_ingest(file))
    }

    /// Queues completed blocks and the file's new haploid sets; sends them when enough are queued.
    fn queue(&mut self, file: FileNumber, blocks: Vec<Block>, force: bool) -> Result<()> {
        let state = self.file(file)?;
        let columns = state.columns;
        let sets = state.blocks.take_new_haploid_sets();
        for (id, set) in sets {
            let statement = self.conn.statement("INSERT INTO haploid_sets (file, id, columns) VALUES ($1, $2, $3)")?;
            self.conn
                .client
                .execute(&statement, &[&i64::from(file), &i64::from(id), &encode_columns(&set, columns)])?;
        }
        for block in blocks {
            self.max_ref_len = self.max_ref_len.max(block.entries.iter().map(|e| e.reference.len()).max().unwrap_or(0));
            let pending = Pending {
                file,
                contig: contig_value(block.contig)?,
                first_pos: signed(block.first_pos, "position")?,
                last_pos: signed(block.last_pos, "position")?,
                data: block.encode(),
                keys: block.entries.iter().map(|e| vrs_key(&e.vrs_id)).collect(),
            };
            self.pending_bytes += pending.data.len();
            self.pending.push(pending);
        }
        if force || self.pending_bytes >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the queued blocks with two binary `COPY`s: the blocks, and their entries' VRS keys.
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.reserved.len() < self.pending.len() {
            let wanted = RESERVE_IDS.max(self.pending.len() as i64);
            let rows = self
                .conn
                .client
                .query("SELECT nextval('block_ids') FROM generate_series(1, $1::bigint)", &[&wanted])?;
            let ids: Vec<i64> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
            self.reserved.extend(ids.into_iter().rev());
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let ids = (0..pending.len())
            .map(|_| self.reserved.pop().ok_or_else(|| StoreError::Corrupt("block id reservation".into())))
            .collect::<Result<Vec<i64>>>()?;
        let writer =
            self.conn.client.copy_in("COPY blocks (id, file, contig, first_pos, last_pos, data) FROM STDIN BINARY")?;
        let mut copy =
            BinaryCopyInWriter::new(writer, &[Type::INT8, Type::INT8, Type::INT4, Type::INT8, Type::INT8, Type::BYTEA]);
        for (id, block) in ids.iter().zip(&pending) {
            copy.write(&[id, &i64::from(block.file), &block.contig, &block.first_pos, &block.last_pos, &block.data])?;
        }
        copy.finish()?;
        let writer = self.conn.client.copy_in("COPY vrs_keys (key, block, slot) FROM STDIN BINARY")?;
        let mut copy = BinaryCopyInWriter::new(writer, &[Type::INT4, Type::INT8, Type::INT4]);
        for (id, block) in ids.iter().zip(&pending) {
            for (slot, key) in block.keys.iter().enumerate() {
                copy.write(&[key, id, &int4(slot)?])?;
            }
        }
        copy.finish()?;
        Ok(())
    }
}

fn contig_value(contig: u32) -> Result<i32> {
    i32::try_from(contig).map_err(|_| StoreError::Conflict(format!("contig number {contig} is out of range")))
}

fn int4(value: usize) -> Result<i32> {
    i32::try_from(value).map_err(|_| StoreError::Conflict(format!("value {value} does not fit a PostgreSQL integer")))
}

impl Drop for PostgresIngest<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.conn.client.batch_execute("ROLLBACK");
        }
    }
}

impl IngestTransaction for PostgresIngest<'_> {
    fn upsert_individuals(&mut self, people: &[Individual]) -> Result<Vec<IndividualNumber>> {
        let pseudonyms: Vec<&str> = people.iter().map(|p| p.pseudonym.as_str()).collect();
        let statement = self.conn.statement("SELECT pseudonym, number FROM individuals WHERE pseudonym = ANY($1)")?;
        let mut numbers: HashMap<String, i64> = HashMap::with_capacity(people.len());
        for row in self.conn.client.query(&statement, &[&pseudonyms])? {
            numbers.insert(row.try_get(0)?, row.try_get(1)?);
        }
        let mut next: i64 =
            self.conn.client.query_one("SELECT coalesce(max(number), 0) FROM individuals", &[])?.try_get(0)?;
        // The last description of a person wins, as with the embedded upsert.
        let mut last: HashMap<&str, &Individual> = HashMap::with_capacity(people.len());
        let mut order = Vec::with_capacity(people.len());
        for p in people {
            let pseudonym = p.pseudonym.as_str();
            if !numbers.contains_key(pseudonym) {
                next += 1;
                numbers.insert(pseudonym.to_string(), next);
            }
            if last.insert(pseudonym, p).is_none() {
                order.push(pseudonym);
            }
        }
        let mut rows = PeopleColumns::default();
        for pseudonym in order {
            rows.push(numbers[pseudonym], last[pseudonym]);
        }
        // One statement for all: new people are inserted with their numbers, known ones updated.
        let statement = self.conn.statement(
            "INSERT INTO individuals (number, pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], \
             $7::text[]) ON CONFLICT (pseudonym) DO UPDATE SET sex = excluded.sex, birth_year = excluded.birth_year, \
             hpo_terms = excluded.hpo_terms, icd10_codes = excluded.icd10_codes, consent = excluded.consent, \
             retired = false",
        )?;
        self.conn.client.execute(
            &statement,
            &[&rows.number, &rows.pseudonym, &rows.sex, &rows.birth_year, &rows.hpo, &rows.icd10, &rows.consent],
        )?;
        people.iter().map(|p| unsigned(numbers[p.pseudonym.as_str()], "individual number")).collect()
    }

    fn add_file(&mut self, file: &NewFile, accession_prefix: &str) -> Result<(FileNumber, String)> {
        let client = &mut self.conn.client;
        client.execute(
            "INSERT INTO datasets (id, accession) SELECT coalesce(max(id), 0) + 1, $1 FROM datasets \
             ON CONFLICT (accession) DO NOTHING",
            &[&file.dataset],
        )?;
        let dataset: i64 =
            client.query_one("SELECT id FROM datasets WHERE accession = $1", &[&file.dataset])?.try_get(0)?;
        let number: i64 = client.query_one("SELECT coalesce(max(number), 0) + 1 FROM files", &[])?.try_get(0)?;
        let number: FileNumber = unsigned(number, "file number")?;
        let accession = format!("{accession_prefix}-F{number:06}");
        client.execute(
            "INSERT INTO files (number, accession, dataset, name, sha256, size, columns) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &i64::from(number),
                &accession,
                &dataset,
                &file.name,
                &file.sha256,
                &signed(file.size, "file size")?,
                &columns_bytes(&file.columns),
            ],
        )?;
        // Linked blocks (version 3), as the embedded store writes them.
        let blocks = FileBlocks::linked(file.columns.len());
        self.files.insert(number, FileState { blocks, columns: file.columns.len() });
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
        let state = self.file(file)?;
        let entry = Entry {
            pos: key.pos,
            reference: key.reference.clone(),
            alternate: key.alternate.clone(),
            vrs_id: vrs_id.to_string(),
            haploid_set: state.blocks.haploid_set(haploid),
            carriers: carriers.to_vec(),
        };
        let done = state.blocks.push(key.contig, entry)?;
        self.queue(file, done, false)
    }

    fn finish_file(&mut self, file: FileNumber, stats: &IngestStats) -> Result<IngestStats> {
        let state = self.file(file)?;
        let done = state.blocks.finish();
        let (variants, duplicates) = (state.blocks.variants, state.blocks.duplicates);
        self.queue(file, done, true)?;
        let number = i64::from(file);
        let client = &mut self.conn.client;
        let stats = IngestStats { variants, duplicates, ..*stats };
        client.execute(
            "UPDATE files SET finished = true, records = $1, split = $2, variants = $3, realigned = $4, \
             skipped = $5, duplicates = $6 WHERE number = $7",
            &[
                &signed(stats.records, "records")?,
                &signed(stats.split, "split")?,
                &signed(stats.variants, "variants")?,
                &signed(stats.realigned, "realigned")?,
                &signed(stats.skipped, "skipped")?,
                &signed(stats.duplicates, "duplicates")?,
                &number,
            ],
        )?;
        Ok(stats)
    }

    fn add_archive_object(&mut self, object: &ArchiveObject) -> Result<()> {
        if !self.files.contains_key(&object.file) {
            return Err(not_in_this_ingest(object.file));
        }
        super::archive::insert(&mut self.conn, object)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.flush()?;
        let max_ref_len = signed(self.max_ref_len as u64, "max_ref_len")?;
        let client = &mut self.conn.client;
        client.execute("UPDATE meta SET value = greatest(value, $1) WHERE key = 'max_ref_len'", &[&max_ref_len])?;
        client.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", &[])?;
        // Statistics for the rows just copied, before anyone reads them: until autovacuum gets to
        // it, a table never analysed is planned at a guess, and the VRS-id lookup was hash-joined
        // against every block (a sequential scan; 0.7-0.9 ms at 1,060 blocks) instead of probing
        // one. ANALYZE samples a bounded number of rows and skips the blocks' wide data.
        client.batch_execute("ANALYZE vrs_keys, blocks")?;
        client.batch_execute("COMMIT")?;
        self.committed = true;
        self.cache.forget();
        Ok(())
    }
}
