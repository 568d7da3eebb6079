//! The embedded schema, versioned with `PRAGMA user_version`; each step runs once, in order.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::error::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: catalog and variant index.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta VALUES ('generation', 0), ('max_ref_len', 1);

    CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        accession TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );

    -- One row per person; the local id is never stored, only its keyed pseudonym.
    CREATE TABLE individuals (
        number INTEGER PRIMARY KEY,
        pseudonym TEXT NOT NULL UNIQUE,
        sex TEXT NOT NULL,
        birth_year INTEGER,
        hpo_terms TEXT NOT NULL,
        icd10_codes TEXT NOT NULL,
        consent TEXT NOT NULL
    );

    -- columns: the individual number of each sample column (u32 LE each).
    CREATE TABLE files (
        number INTEGER PRIMARY KEY,
        accession TEXT NOT NULL UNIQUE,
        dataset INTEGER NOT NULL REFERENCES datasets(id),
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        records INTEGER NOT NULL DEFAULT 0,
        split INTEGER NOT NULL DEFAULT 0,
        variants INTEGER NOT NULL DEFAULT 0,
        realigned INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        columns BLOB NOT NULL,
        finished INTEGER NOT NULL DEFAULT 0,
        UNIQUE (dataset, sha256)
    );

    -- The variant index: blocks of consecutive variants of one file (see blocks.rs).
    CREATE TABLE blocks (
        id INTEGER PRIMARY KEY,
        file INTEGER NOT NULL REFERENCES files(number),
        contig INTEGER NOT NULL,
        first_pos INTEGER NOT NULL,
        last_pos INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX blocks_by_position ON blocks (contig, first_pos);

    -- Every distinct variant, for lookups by key or VRS id, and where each file stores it.
    CREATE TABLE variants (
        id INTEGER PRIMARY KEY,
        contig INTEGER NOT NULL,
        pos INTEGER NOT NULL,
        ref TEXT NOT NULL,
        alt TEXT NOT NULL,
        vrs_id TEXT NOT NULL,
        UNIQUE (contig, pos, ref, alt)
    );
    CREATE INDEX variants_by_vrs_id ON variants (vrs_id);

    CREATE TABLE variant_blocks (
        variant INTEGER NOT NULL REFERENCES variants(id),
        file INTEGER NOT NULL REFERENCES files(number),
        block INTEGER NOT NULL REFERENCES blocks(id),
        slot INTEGER NOT NULL,
        PRIMARY KEY (variant, file)
    ) WITHOUT ROWID;

    -- Haploid sample columns repeat for every variant on X; each distinct set is stored once per file.
    CREATE TABLE haploid_sets (
        file INTEGER NOT NULL REFERENCES files(number),
        id INTEGER NOT NULL,
        columns BLOB NOT NULL,
        PRIMARY KEY (file, id)
    );
    "#,
    // 2: the encrypted archive of ingested files (metadata only; the bytes are in the object store).
    r#"
    CREATE TABLE archive_objects (
        accession TEXT PRIMARY KEY,
        file INTEGER NOT NULL REFERENCES files(number),
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        plaintext_sha256 TEXT NOT NULL,
        plaintext_size INTEGER NOT NULL,
        body_sha256 TEXT NOT NULL,
        body_size INTEGER NOT NULL,
        header_path TEXT NOT NULL UNIQUE,
        body_path TEXT NOT NULL UNIQUE,
        key_id TEXT NOT NULL,
        created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE INDEX archive_objects_by_file ON archive_objects (file);
    "#,
    // 3: erasure (rules/erasure.rs): archive versions, shredded versions, withdrawals, and
    // individuals kept as cleared rows once no file holds them (numbers are never given again).
    r#"
    ALTER TABLE archive_objects ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE individuals ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE shredded_objects (
        accession TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        key_id TEXT NOT NULL,
        header_path TEXT NOT NULL,
        body_path TEXT NOT NULL,
        shredded TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        cause TEXT NOT NULL,
        PRIMARY KEY (accession, version)
    );
    -- dataset '' : every dataset.
    CREATE TABLE withdrawals (
        pseudonym TEXT NOT NULL,
        dataset TEXT NOT NULL,
        recorded TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        PRIMARY KEY (pseudonym, dataset)
    );
    "#,
    // 4: a variant row keeps a 64-bit key of its VRS id instead of the 41-character id, which the
    // block entry holds (`vrs_key` in sqlite/mod.rs); lookups by id check the entry's. At 5,000
    // samples the table and its id index took 7.9 MB of 37.6, with the key 3.1 (BENCHMARKS.md).
    r#"
    ALTER TABLE variants ADD COLUMN vrs_key INTEGER NOT NULL DEFAULT 0;
    UPDATE variants SET vrs_key = oresund_vrs_key(vrs_id);
    DROP INDEX variants_by_vrs_id;
    ALTER TABLE variants DROP COLUMN vrs_id;
    CREATE INDEX variants_by_vrs_key ON variants (vrs_key);
    "#,
];

/// Brings the database to the newest schema; returns the version found and the version now.
pub fn migrate(conn: &mut Connection) -> Result<(i64, i64)> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { found: version, known });
    }
    // Step 4 computes keys in SQL.
    conn.create_scalar_function("oresund_vrs_key", 1, FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(super::vrs_key(&ctx.get::<String>(0)?))
    })?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok((version, known))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A catalog made before step 4 keeps finding its variants by VRS id after the step.
    #[test]
    fn step_4_turns_stored_vrs_ids_into_keys() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        let id = "ga4gh:VA.2fM4UHDIZ6AmCXvtmOBKSU4l7pYfhi5c";
        conn.execute("INSERT INTO variants (contig, pos, ref, alt, vrs_id) VALUES (0, 10, 'A', 'C', ?1)", [id])
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), (3, MIGRATIONS.len() as i64));
        let key: i64 = conn.query_row("SELECT vrs_key FROM variants WHERE pos = 10", [], |r| r.get(0)).unwrap();
        assert_eq!(key, super::super::vrs_key(id));
        assert_ne!(key, super::super::vrs_key("ga4gh:VA.2fM4UHDIZ6AmCXvtmOBKSU4l7pYfhi5d"));
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('variants')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(columns, ["id", "contig", "pos", "ref", "alt", "vrs_key"]);
    }
}
