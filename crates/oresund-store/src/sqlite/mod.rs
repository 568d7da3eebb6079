//! The embedded backend: one SQLite database file (WAL mode), so a node is one directory and
//! `serve` can read while `ingest` writes.

mod schema;

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use oresund_core::carriers::CarrierSets;
use oresund_core::individual::{Individual, Sex};
use oresund_core::pseudonym::Pseudonym;
use roaring::RoaringBitmap;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use crate::error::{Result, StoreError};
use crate::model::*;
use crate::{IngestTransaction, NodeStore};

/// A node store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// A connection borrowed from the pool, returned when dropped.
struct Pooled<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
}

impl Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("present until drop")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.store.idle.lock()) {
            idle.push(conn);
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and applies migrations.
    pub fn open(path: &Path) -> Result<Self> {
        let store = SqliteStore { path: path.to_path_buf(), idle: Mutex::new(Vec::new()) };
        let mut conn = store.connect()?;
        schema::migrate(&mut conn)?;
        store.idle.lock().map_err(|_| StoreError::Corrupt("connection pool poisoned".into()))?.push(conn);
        Ok(store)
    }

    fn connect(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is durable before `ingest` reports success.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    fn conn(&self) -> Result<Pooled<'_>> {
        let idle = self.idle.lock().map_err(|_| StoreError::Corrupt("connection pool poisoned".into()))?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(Pooled { store: self, conn: Some(conn) })
    }
}

fn bitmap(bytes: &[u8]) -> Result<RoaringBitmap> {
    RoaringBitmap::deserialize_from(bytes).map_err(|e| StoreError::Corrupt(format!("bitmap: {e}")))
}

fn bitmap_bytes(set: &RoaringBitmap) -> Vec<u8> {
    let mut out = Vec::with_capacity(set.serialized_size());
    // Writing into a Vec cannot fail.
    let _ = set.serialize_into(&mut out);
    out
}

fn json_list(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list column: {e}")))
}

const FILE_COLUMNS: &str = "f.number, f.accession, d.accession, f.name, f.sha256, f.size, f.created, \
     f.records, f.split, f.variants, f.realigned, f.skipped, f.duplicates, f.members";

fn file_from_row(row: &Row<'_>) -> rusqlite::Result<(StoredFile, Option<Vec<u8>>)> {
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
        members: RoaringBitmap::new(),
    };
    Ok((file, row.get(13)?))
}

fn with_members((mut file, members): (StoredFile, Option<Vec<u8>>)) -> Result<StoredFile> {
    file.members = members.as_deref().map(bitmap).transpose()?.unwrap_or_default();
    Ok(file)
}

/// Rows of `variant.vrs_id, calls.file, calls.haploid_set, calls.carriers` grouped into variants.
fn group_calls(rows: Vec<(VariantKey, String, FileNumber, u32, Vec<u8>)>) -> Result<Vec<VariantCalls>> {
    let mut out: Vec<VariantCalls> = Vec::new();
    for (key, vrs_id, file, haploid_set, carriers) in rows {
        let calls = FileCalls {
            file,
            haploid_set,
            carriers: CarrierSets::from_bytes(&carriers).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        };
        match out.last_mut() {
            Some(last) if last.key == key => last.calls.push(calls),
            _ => out.push(VariantCalls { key, vrs_id, calls: vec![calls] }),
        }
    }
    Ok(out)
}

const CALL_COLUMNS: &str = "v.contig, v.pos, v.ref, v.alt, v.vrs_id, c.file, c.haploid_set, c.carriers";

fn call_row(row: &Row<'_>) -> rusqlite::Result<(VariantKey, String, FileNumber, u32, Vec<u8>)> {
    let key = VariantKey { contig: row.get(0)?, pos: row.get(1)?, reference: row.get(2)?, alternate: row.get(3)? };
    Ok((key, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?))
}

impl NodeStore for SqliteStore {
    fn generation(&self) -> Result<u64> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT value FROM meta WHERE key = 'generation'")?;
        Ok(stmt.query_row([], |r| r.get(0))?)
    }

    fn datasets(&self) -> Result<Vec<Dataset>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT accession, created FROM datasets ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok(Dataset { id: r.get(0)?, created: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn files(&self) -> Result<Vec<StoredFile>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files f JOIN datasets d ON d.id = f.dataset \
             WHERE f.members IS NOT NULL ORDER BY f.number"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], file_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(with_members).collect()
    }

    fn find_file(&self, dataset: &str, sha256: &str) -> Result<Option<StoredFile>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files f JOIN datasets d ON d.id = f.dataset \
             WHERE d.accession = ?1 AND f.sha256 = ?2 AND f.members IS NOT NULL"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        stmt.query_row(params![dataset, sha256], file_from_row).optional()?.map(with_members).transpose()
    }

    fn individuals(&self) -> Result<Vec<StoredIndividual>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT number, pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent FROM individuals ORDER BY number",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, u32>(0)?,
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
            let pseudonym = Pseudonym::parse(&pseudonym)
                .ok_or_else(|| StoreError::Corrupt(format!("pseudonym of individual {number}")))?;
            let sex: Sex = sex.parse().map_err(|_| StoreError::Corrupt(format!("sex of individual {number}")))?;
            let individual = Individual {
                pseudonym,
                sex,
                birth_year,
                hpo_terms: json_list(&hpo)?,
                icd10_codes: json_list(&icd10)?,
                consent: json_list(&consent)?,
            };
            out.push(StoredIndividual { number, individual });
        }
        Ok(out)
    }

    fn variant(&self, key: &VariantKey) -> Result<Option<VariantCalls>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM variants v JOIN calls c ON c.variant = v.id \
             WHERE v.contig = ?1 AND v.pos = ?2 AND v.ref = ?3 AND v.alt = ?4 ORDER BY c.file"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![key.contig, key.pos, key.reference, key.alternate], call_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(group_calls(rows)?.pop())
    }

    fn region(&self, contig: u32, start: u64, end: u64) -> Result<Vec<VariantCalls>> {
        let conn = self.conn()?;
        let max_ref_len: u64 =
            conn.prepare_cached("SELECT value FROM meta WHERE key = 'max_ref_len'")?.query_row([], |r| r.get(0))?;
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM variants v JOIN calls c ON c.variant = v.id \
             WHERE v.contig = ?1 AND v.pos BETWEEN ?2 AND ?3 AND v.pos + length(v.ref) - 1 >= ?4 \
             ORDER BY v.pos, v.ref, v.alt, c.file"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let from = start.saturating_sub(max_ref_len.saturating_sub(1)).max(1);
        let rows =
            stmt.query_map(params![contig, from, end, start], call_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        group_calls(rows)
    }

    fn variant_by_vrs_id(&self, vrs_id: &str) -> Result<Option<VariantCalls>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM variants v JOIN calls c ON c.variant = v.id WHERE v.vrs_id = ?1 ORDER BY c.file"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![vrs_id], call_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(group_calls(rows)?.pop())
    }

    fn haploid_set(&self, file: FileNumber, set: u32) -> Result<RoaringBitmap> {
        if set == 0 {
            return Ok(RoaringBitmap::new());
        }
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT members FROM haploid_sets WHERE file = ?1 AND id = ?2")?;
        let bytes: Option<Vec<u8>> = stmt.query_row(params![file, set], |r| r.get(0)).optional()?;
        bitmap(&bytes.ok_or_else(|| StoreError::Corrupt(format!("haploid set {set} of file {file} is missing")))?)
    }

    fn begin_ingest(&self) -> Result<Box<dyn IngestTransaction + '_>> {
        let conn = self.conn()?;
        // IMMEDIATE: take the write lock now, so two ingests queue instead of failing at commit.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Box::new(SqliteIngest { conn, committed: false, haploid_ids: HashMap::new(), max_ref_len: 1 }))
    }
}

struct SqliteIngest<'a> {
    conn: Pooled<'a>,
    committed: bool,
    /// Interned haploid sets of this ingest: (file, serialised set) → id.
    haploid_ids: HashMap<(FileNumber, Vec<u8>), u32>,
    max_ref_len: usize,
}

impl Drop for SqliteIngest<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl IngestTransaction for SqliteIngest<'_> {
    fn upsert_individuals(&mut self, people: &[Individual]) -> Result<Vec<u32>> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO individuals (pseudonym, sex, birth_year, hpo_terms, icd10_codes, consent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (pseudonym) DO UPDATE SET sex = excluded.sex, birth_year = excluded.birth_year, \
             hpo_terms = excluded.hpo_terms, icd10_codes = excluded.icd10_codes, consent = excluded.consent \
             RETURNING number",
        )?;
        let list = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        let mut numbers = Vec::with_capacity(people.len());
        for p in people {
            let number: u32 = stmt.query_row(
                params![
                    p.pseudonym.as_str(),
                    p.sex.as_str(),
                    p.birth_year,
                    list(&p.hpo_terms),
                    list(&p.icd10_codes),
                    list(&p.consent)
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
        let number: u32 = self.conn.query_row(
            "INSERT INTO files (accession, dataset, name, sha256, size) VALUES ('', ?1, ?2, ?3, ?4) RETURNING number",
            params![dataset, file.name, file.sha256, file.size],
            |r| r.get(0),
        )?;
        let accession = format!("{accession_prefix}-F{number:06}");
        self.conn.execute("UPDATE files SET accession = ?1 WHERE number = ?2", params![accession, number])?;
        Ok((number, accession))
    }

    fn add_variant(
        &mut self,
        file: FileNumber,
        key: &VariantKey,
        vrs_id: &str,
        carriers: &CarrierSets,
        haploid: &RoaringBitmap,
    ) -> Result<bool> {
        let haploid_set = if haploid.is_empty() {
            0
        } else {
            let bytes = bitmap_bytes(haploid);
            let next = self.haploid_ids.len() as u32 + 1;
            match self.haploid_ids.get(&(file, bytes.clone())) {
                Some(&id) => id,
                None => {
                    self.conn
                        .prepare_cached("INSERT INTO haploid_sets (file, id, members) VALUES (?1, ?2, ?3)")?
                        .execute(params![file, next, bytes])?;
                    self.haploid_ids.insert((file, bytes), next);
                    next
                }
            }
        };
        let variant: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO variants (contig, pos, ref, alt, vrs_id) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (contig, pos, ref, alt) DO UPDATE SET vrs_id = excluded.vrs_id RETURNING id",
            )?
            .query_row(params![key.contig, key.pos, key.reference, key.alternate, vrs_id], |r| r.get(0))?;
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO calls (variant, file, haploid_set, carriers) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![variant, file, haploid_set, carriers.to_bytes()])?;
        self.max_ref_len = self.max_ref_len.max(key.reference.len());
        Ok(inserted == 1)
    }

    fn finish_file(&mut self, file: FileNumber, members: &RoaringBitmap, stats: &IngestStats) -> Result<()> {
        self.conn.execute(
            "UPDATE files SET members = ?1, records = ?2, split = ?3, variants = ?4, realigned = ?5, \
             skipped = ?6, duplicates = ?7 WHERE number = ?8",
            params![
                bitmap_bytes(members),
                stats.records,
                stats.split,
                stats.variants,
                stats.realigned,
                stats.skipped,
                stats.duplicates,
                file
            ],
        )?;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.conn.execute(
            "UPDATE meta SET value = max(value, ?1) WHERE key = 'max_ref_len'",
            params![self.max_ref_len as i64],
        )?;
        self.conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        self.conn.execute_batch("COMMIT")?;
        self.committed = true;
        Ok(())
    }
}
