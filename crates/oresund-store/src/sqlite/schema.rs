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
    // 5: the blocks alone say where a variant is. A lookup by key reads the blocks that cover its
    // position (the index now holds each block's range and file, so it answers without the
    // table) and finds the slot in the block's position table (`blocks::find_piecewise`); a
    // lookup by VRS id goes through `vrs_keys`, a 32-bit key of each entry's id to its block and
    // slot (a key shared by chance costs one more entry read: the id in the entry decides). At
    // 5,000 samples `variants`, its two indexes and `variant_blocks` took 5.5 MB of 28.7
    // (BENCHMARKS.md, "Index size").
    r#"
    CREATE TABLE vrs_keys (
        key INTEGER NOT NULL,
        block INTEGER NOT NULL REFERENCES blocks(id),
        slot INTEGER NOT NULL,
        PRIMARY KEY (key, block, slot)
    ) WITHOUT ROWID;
    INSERT INTO vrs_keys (key, block, slot)
        SELECT v.vrs_key >> 32, vb.block, vb.slot FROM variants v JOIN variant_blocks vb ON vb.variant = v.id;
    DROP TABLE variant_blocks;
    DROP TABLE variants;
    DROP INDEX blocks_by_position;
    CREATE INDEX blocks_by_position ON blocks (contig, first_pos, last_pos, file);
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
        Ok(super::vrs_hash(&ctx.get::<String>(0)?) as i64)
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

    /// A catalog made before step 4 keeps finding its variants by VRS id after steps 4 and 5: the
    /// id becomes a 64-bit key in `variants`, then a 32-bit key in `vrs_keys` equal to the one
    /// an ingest writes today, pointing at the same block and slot.
    #[test]
    fn steps_4_and_5_turn_stored_vrs_ids_into_keys_of_slots() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.pragma_update(None, "foreign_keys", false).unwrap(); // rows of block 7 alone
        // Ids whose keys have either sign (the key is the hash's high half, shifted arithmetically).
        let ids = ["ga4gh:VA.2fM4UHDIZ6AmCXvtmOBKSU4l7pYfhi5c", "ga4gh:VA.-d8fNYvvDbzDZST6IaXqA2h9Uz0-T1Sa"];
        let signs: Vec<bool> = ids.iter().map(|id| super::super::vrs_key(id) < 0).collect();
        assert!(signs.contains(&true) && signs.contains(&false), "{signs:?}");
        for (i, id) in ids.iter().enumerate() {
            conn.execute(
                "INSERT INTO variants (id, contig, pos, ref, alt, vrs_id) VALUES (?1, 0, ?1, 'A', 'C', ?2)",
                rusqlite::params![i + 1, id],
            )
            .unwrap();
            conn.execute("INSERT INTO variant_blocks (variant, file, block, slot) VALUES (?1, 1, 7, ?1 + 10)", [i + 1])
                .unwrap();
        }
        assert_eq!(migrate(&mut conn).unwrap(), (3, MIGRATIONS.len() as i64));
        for (i, id) in ids.iter().enumerate() {
            let slot: i64 = conn
                .query_row("SELECT slot FROM vrs_keys WHERE key = ?1 AND block = 7", [super::super::vrs_key(id)], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(slot, i as i64 + 11);
        }
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema WHERE name IN ('variants', 'variant_blocks')", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(tables, 0);
    }
}
