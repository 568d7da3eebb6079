//! Erasure in SQLite: [`ErasureRows`] over one IMMEDIATE transaction on `node.db` (schema
//! migration 3); the rules are [`crate::rules::erasure`].

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::archive;
use super::tx::WriteTx;
use crate::Erasure;
use crate::encoding::{columns_bytes, columns_from};
use crate::error::Result;
use crate::model::*;
use crate::rules::ErasureRows;
use crate::rules::archive::kind_of;

impl ErasureRows for WriteTx<'_> {
    fn committed_file(&mut self, file: FileNumber) -> Result<Option<Vec<IndividualNumber>>> {
        let columns: Option<Vec<u8>> = self
            .prepare_cached("SELECT columns FROM files WHERE number = ?1 AND finished = 1")?
            .query_row(params![file], |r| r.get(0))
            .optional()?;
        columns.map(|c| columns_from(&c)).transpose()
    }

    fn file_blocks(&mut self, file: FileNumber) -> Result<Vec<(i64, Vec<u8>)>> {
        let mut stmt = self.prepare_cached("SELECT id, data FROM blocks WHERE file = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![file], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_block(&mut self, id: i64, data: &[u8]) -> Result<()> {
        self.prepare_cached("UPDATE blocks SET data = ?1 WHERE id = ?2")?.execute(params![data, id])?;
        Ok(())
    }

    fn haploid_sets(&mut self, file: FileNumber) -> Result<Vec<(u32, Vec<u8>)>> {
        let mut stmt = self.prepare_cached("SELECT id, columns FROM haploid_sets WHERE file = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![file], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_file_columns(&mut self, file: FileNumber, columns: &[IndividualNumber]) -> Result<()> {
        self.prepare_cached("UPDATE files SET columns = ?1 WHERE number = ?2")?
            .execute(params![columns_bytes(columns), file])?;
        Ok(())
    }

    fn file_objects(&mut self, file: FileNumber) -> Result<Vec<ArchiveObject>> {
        archive::of_file(self, file)
    }

    fn delete_object(&mut self, accession: &str) -> Result<()> {
        self.prepare_cached("DELETE FROM archive_objects WHERE accession = ?1")?.execute(params![accession])?;
        Ok(())
    }

    fn insert_object(&mut self, object: &ArchiveObject) -> Result<()> {
        archive::insert(self, object)
    }

    fn insert_shredded(&mut self, o: &ArchiveObject, cause: &str) -> Result<ShreddedObject> {
        let shredded: String = self
            .prepare_cached(
                "INSERT INTO shredded_objects (accession, version, kind, key_id, header_path, body_path, cause) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING shredded",
            )?
            .query_row(
                params![o.accession, o.version, o.kind.as_str(), o.key_id, o.header_path, o.body_path, cause],
                |r| r.get(0),
            )?;
        Ok(ShreddedObject::of(o, shredded, cause))
    }

    fn retire_file(&mut self, file: FileNumber) -> Result<()> {
        for sql in [
            "DELETE FROM vrs_keys WHERE block IN (SELECT id FROM blocks WHERE file = ?1)",
            "DELETE FROM blocks WHERE file = ?1",
            "DELETE FROM haploid_sets WHERE file = ?1",
            // The row stays, invisible (not finished), so the number is never given again; the
            // checksum goes, so the same file can be ingested anew.
            "UPDATE files SET finished = 0, sha256 = 'removed:' || number, columns = x'' WHERE number = ?1",
        ] {
            self.prepare_cached(sql)?.execute(params![file])?;
        }
        Ok(())
    }

    fn all_columns(&mut self) -> Result<Vec<IndividualNumber>> {
        let mut stmt = self.prepare_cached("SELECT columns FROM files WHERE finished = 1")?;
        let blobs = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for blob in blobs {
            out.extend(columns_from(&blob)?);
        }
        Ok(out)
    }

    fn individual_by_pseudonym(&mut self, pseudonym: &str) -> Result<Option<IndividualNumber>> {
        Ok(self
            .prepare_cached("SELECT number FROM individuals WHERE pseudonym = ?1 AND retired = 0")?
            .query_row(params![pseudonym], |r| r.get(0))
            .optional()?)
    }

    fn retire_individual(&mut self, number: IndividualNumber) -> Result<bool> {
        let changed = self
            .prepare_cached(
                "UPDATE individuals SET retired = 1, sex = 'unknown', birth_year = NULL, hpo_terms = '[]', \
                 icd10_codes = '[]', consent = '[]' WHERE number = ?1 AND retired = 0",
            )?
            .execute(params![number])?;
        Ok(changed == 1)
    }

    fn insert_withdrawal(&mut self, w: &Withdrawal) -> Result<()> {
        self.prepare_cached("INSERT INTO withdrawals (pseudonym, dataset) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
            .execute(params![w.pseudonym, w.dataset.as_deref().unwrap_or("")])?;
        Ok(())
    }

    fn bump_generation(&mut self) -> Result<()> {
        self.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'", [])?;
        Ok(())
    }
}

impl Erasure for SqliteStore {
    fn erase(&self, plan: &ErasurePlan) -> Result<ErasureOutcome> {
        let outcome = self.main.write(|tx| crate::rules::erasure::erase(tx, plan));
        // Blocks were rewritten or deleted: this process's cached copies go at once.
        self.cache.forget();
        outcome
    }

    fn withdrawals(&self) -> Result<Vec<Withdrawal>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare_cached("SELECT pseudonym, dataset, recorded FROM withdrawals ORDER BY recorded, pseudonym")?;
        let rows = stmt.query_map([], |r| {
            let dataset: String = r.get(1)?;
            Ok(Withdrawal {
                pseudonym: r.get(0)?,
                dataset: (!dataset.is_empty()).then_some(dataset),
                recorded: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn shredded_objects(&self) -> Result<Vec<ShreddedObject>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT accession, version, kind, key_id, header_path, body_path, shredded, cause \
             FROM shredded_objects ORDER BY accession, version",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    ShreddedObject {
                        accession: r.get(0)?,
                        version: r.get(1)?,
                        kind: ArchiveKind::Vcf,
                        key_id: r.get(3)?,
                        header_path: r.get(4)?,
                        body_path: r.get(5)?,
                        shredded: r.get(6)?,
                        cause: r.get(7)?,
                    },
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(mut o, kind)| {
                o.kind = kind_of(&o.accession, &kind)?;
                Ok(o)
            })
            .collect()
    }
}
