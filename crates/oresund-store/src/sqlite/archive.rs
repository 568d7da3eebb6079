//! Archive object metadata in SQLite (schema migration 2). Only committed ingests' objects are
//! visible: an object written by an ingest that never committed has no row, so it stays invisible.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::tx::WriteTx;
use crate::error::Result;
use crate::model::{ArchiveKind, ArchiveObject, FileNumber, HeaderSwitch};
use crate::rules::ArchiveRows;
use crate::rules::archive::kind_of;

const COLUMNS: &str = "a.accession, a.file, a.kind, a.name, a.plaintext_sha256, a.plaintext_size, \
     a.body_sha256, a.body_size, a.header_path, a.body_path, a.key_id, a.created, a.version";

/// Rows of committed files only (`finished` is set in the ingest transaction that commits them).
const FROM: &str = "FROM archive_objects a JOIN files f ON f.number = a.file WHERE f.finished = 1";

fn object_from_row(row: &Row<'_>) -> rusqlite::Result<(ArchiveObject, String)> {
    let object = ArchiveObject {
        accession: row.get(0)?,
        file: row.get(1)?,
        kind: ArchiveKind::Vcf,
        name: row.get(3)?,
        plaintext_sha256: row.get(4)?,
        plaintext_size: row.get(5)?,
        body_sha256: row.get(6)?,
        body_size: row.get(7)?,
        header_path: row.get(8)?,
        body_path: row.get(9)?,
        key_id: row.get(10)?,
        created: row.get(11)?,
        version: row.get(12)?,
    };
    Ok((object, row.get(2)?))
}

fn with_kind((mut object, kind): (ArchiveObject, String)) -> Result<ArchiveObject> {
    object.kind = kind_of(&object.accession, &kind)?;
    Ok(object)
}

pub(super) fn list(conn: &Connection) -> Result<Vec<ArchiveObject>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} {FROM} ORDER BY a.accession"))?;
    let rows = stmt.query_map([], object_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(with_kind).collect()
}

pub(super) fn get(conn: &Connection, accession: &str) -> Result<Option<ArchiveObject>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} {FROM} AND a.accession = ?1"))?;
    stmt.query_row(params![accession], object_from_row).optional()?.map(with_kind).transpose()
}

pub(super) fn of_file(conn: &Connection, file: FileNumber) -> Result<Vec<ArchiveObject>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} {FROM} AND a.file = ?1 ORDER BY a.accession"))?;
    let rows = stmt.query_map(params![file], object_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(with_kind).collect()
}

pub(super) fn insert(conn: &Connection, o: &ArchiveObject) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO archive_objects (accession, file, kind, name, plaintext_sha256, plaintext_size, \
         body_sha256, body_size, header_path, body_path, key_id, version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        o.accession,
        o.file,
        o.kind.as_str(),
        o.name,
        o.plaintext_sha256,
        o.plaintext_size,
        o.body_sha256,
        o.body_size,
        o.header_path,
        o.body_path,
        o.key_id,
        o.version
    ])?;
    Ok(())
}

/// Inside the caller's IMMEDIATE transaction (the rule is [`crate::rules::archive`]).
impl ArchiveRows for WriteTx<'_> {
    fn switch_header(&mut self, s: &HeaderSwitch) -> Result<bool> {
        let changed = self
            .prepare_cached(
                "UPDATE archive_objects SET header_path = ?1, key_id = ?2 WHERE accession = ?3 AND header_path = ?4",
            )?
            .execute(params![s.to_header_path, s.to_key_id, s.accession, s.from_header_path])?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;
    use crate::sqlite::SqliteStore;
    use crate::{ArchiveKind, ArchiveObject, FileNumber, HeaderSwitch, NewFile, StoreError};

    fn object(accession: &str, file: FileNumber, kind: ArchiveKind) -> ArchiveObject {
        ArchiveObject {
            accession: accession.into(),
            file,
            kind,
            name: "x.vcf.gz".into(),
            plaintext_sha256: "aa".into(),
            plaintext_size: 10,
            body_sha256: "bb".into(),
            body_size: 38,
            header_path: format!("{accession}/h"),
            body_path: format!("{accession}/b"),
            key_id: "k1".into(),
            created: String::new(),
            version: 1,
        }
    }

    fn ingest(store: &SqliteStore, commit: bool) -> (FileNumber, String) {
        let mut tx = store.begin_ingest().unwrap();
        let file = NewFile { dataset: "D".into(), name: "x".into(), sha256: "s".into(), size: 1, columns: vec![] };
        let (number, accession) = tx.add_file(&file, "T").unwrap();
        tx.add_archive_object(&object(&accession, number, ArchiveKind::Vcf)).unwrap();
        tx.add_archive_object(&object(&format!("{accession}-M"), number, ArchiveKind::Individuals)).unwrap();
        tx.finish_file(number, &Default::default()).unwrap();
        if commit {
            tx.commit().unwrap();
        }
        (number, accession)
    }

    #[test]
    fn objects_appear_at_commit_and_switch_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).unwrap();
        ingest(&store, false);
        assert!(store.archive_objects().unwrap().is_empty(), "rolled back objects are invisible");
        let (number, accession) = ingest(&store, true);
        let all = store.archive_objects().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].kind, ArchiveKind::Individuals);
        assert!(!all[0].created.is_empty());
        assert_eq!(store.archive_objects_of_file(number).unwrap(), all);
        assert_eq!(store.archive_object(&accession).unwrap().unwrap().kind, ArchiveKind::Vcf);

        let switch = |acc: &str, from: &str| HeaderSwitch {
            accession: acc.into(),
            from_header_path: from.into(),
            to_header_path: format!("{acc}/h2"),
            to_key_id: "k2".into(),
        };
        // One stale switch refuses the whole batch.
        let stale = [switch(&accession, &format!("{accession}/h")), switch(&format!("{accession}-M"), "nope")];
        assert!(matches!(store.switch_archive_headers(&stale), Err(StoreError::Conflict(_))));
        assert_eq!(store.archive_objects().unwrap(), all);
        let good =
            [switch(&accession, &format!("{accession}/h")), switch(&format!("{accession}-M"), &all[1].header_path)];
        store.switch_archive_headers(&good).unwrap();
        assert!(store.archive_objects().unwrap().iter().all(|o| o.key_id == "k2" && o.header_path.ends_with("/h2")));
    }
}
