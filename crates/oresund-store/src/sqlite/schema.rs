//! The embedded schema, versioned with `PRAGMA user_version`; each step runs once, in order.

use rusqlite::Connection;

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
        members BLOB,
        UNIQUE (dataset, sha256)
    );

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

    CREATE TABLE calls (
        variant INTEGER NOT NULL REFERENCES variants(id),
        file INTEGER NOT NULL REFERENCES files(number),
        haploid_set INTEGER NOT NULL,
        carriers BLOB NOT NULL,
        UNIQUE (variant, file)
    );

    -- Haploid individuals repeat for every variant on X; each distinct set is stored once per file.
    CREATE TABLE haploid_sets (
        file INTEGER NOT NULL REFERENCES files(number),
        id INTEGER NOT NULL,
        members BLOB NOT NULL,
        PRIMARY KEY (file, id)
    );
    "#,
];

/// Brings the database to the newest schema.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew { found: version, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
