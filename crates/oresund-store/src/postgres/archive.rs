//! Archive object metadata in PostgreSQL (schema migration 2), as in `sqlite/archive.rs`: only
//! committed ingests' objects are visible (their file row is `finished` in the same transaction),
//! so an object an uncommitted ingest wrote has no visible row.

use postgres::GenericClient;
use postgres::types::ToSql;

use super::pool::Conn;
use super::rows::{self, archive_columns};
use super::tx::WriteTx;
use crate::error::{Result, StoreError};
use crate::model::{ArchiveObject, FileNumber, HeaderSwitch};
use crate::rules::ArchiveRows;

pub(super) fn list(conn: &mut Conn) -> Result<Vec<ArchiveObject>> {
    let statement = conn.statement(concat!(
        "SELECT ",
        archive_columns!(),
        " FROM archive_objects a JOIN files f ON f.number = a.file WHERE f.finished ORDER BY a.accession"
    ))?;
    conn.client.query(&statement, &[])?.iter().map(rows::archive_object_from_row).collect()
}

pub(super) fn get(conn: &mut Conn, accession: &str) -> Result<Option<ArchiveObject>> {
    let statement = conn.statement(concat!(
        "SELECT ",
        archive_columns!(),
        " FROM archive_objects a JOIN files f ON f.number = a.file WHERE f.finished AND a.accession = $1"
    ))?;
    conn.client.query_opt(&statement, &[&accession])?.as_ref().map(rows::archive_object_from_row).transpose()
}

pub(super) fn of_file(conn: &mut Conn, file: FileNumber) -> Result<Vec<ArchiveObject>> {
    let statement = conn.statement(concat!(
        "SELECT ",
        archive_columns!(),
        " FROM archive_objects a JOIN files f ON f.number = a.file WHERE f.finished AND a.file = $1 \
         ORDER BY a.accession"
    ))?;
    conn.client.query(&statement, &[&i64::from(file)])?.iter().map(rows::archive_object_from_row).collect()
}

fn size_param(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| StoreError::Conflict(format!("object size {size} is out of range")))
}

/// Records an object inside the caller's (ingest) transaction.
pub(super) fn insert(conn: &mut Conn, o: &ArchiveObject) -> Result<()> {
    insert_in(&mut conn.client, o)
}

/// Records an object through any client (an ingest's connection, an erasure's transaction).
pub(super) fn insert_in(client: &mut impl GenericClient, o: &ArchiveObject) -> Result<()> {
    let version = i32::try_from(o.version)
        .map_err(|_| StoreError::Conflict(format!("object version {} is out of range", o.version)))?;
    let params: [&(dyn ToSql + Sync); 12] = [
        &o.accession,
        &i64::from(o.file),
        &o.kind.as_str(),
        &o.name,
        &o.plaintext_sha256,
        &size_param(o.plaintext_size)?,
        &o.body_sha256,
        &size_param(o.body_size)?,
        &o.header_path,
        &o.body_path,
        &o.key_id,
        &version,
    ];
    client.execute(
        "INSERT INTO archive_objects (accession, file, kind, name, plaintext_sha256, plaintext_size, \
         body_sha256, body_size, header_path, body_path, key_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &params,
    )?;
    Ok(())
}

/// Inside the caller's transaction (the rule is [`crate::rules::archive`]).
impl ArchiveRows for WriteTx<'_> {
    fn switch_header(&mut self, s: &HeaderSwitch) -> Result<bool> {
        let changed = self.execute(
            "UPDATE archive_objects SET header_path = $1, key_id = $2 WHERE accession = $3 AND header_path = $4",
            &[&s.to_header_path, &s.to_key_id, &s.accession, &s.from_header_path],
        )?;
        Ok(changed == 1)
    }
}
