//! The schema of `access.db`, the embedded store's controlled-access database, versioned with
//! `PRAGMA user_version` like the catalog's (`schema.rs`); each step runs once, in order. The
//! PostgreSQL backend keeps the same tables in its one database (its migration 3).

use rusqlite::Connection;

use crate::error::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: access requests and grants, the audit log and its head, re-identification budgets.
    r#"
    -- A researcher's request for a dataset, with the automatic DUO match and the committee's decision.
    CREATE TABLE access_requests (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        dataset TEXT NOT NULL,
        purpose TEXT NOT NULL,
        automatic TEXT NOT NULL,
        reasons TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        decided TEXT,
        decided_by TEXT,
        note TEXT
    );
    CREATE INDEX access_requests_by_user ON access_requests (user_id);

    -- The ControlledAccessGrants visas this node issued (jti = visa jti), revocable at once.
    CREATE TABLE grants (
        jti TEXT PRIMARY KEY,
        request INTEGER NOT NULL UNIQUE REFERENCES access_requests(id),
        user_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        dataset TEXT NOT NULL,
        kid TEXT NOT NULL,
        visa TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked TEXT,
        revoked_by TEXT,
        revoke_reason TEXT
    );
    CREATE INDEX grants_by_user ON grants (user_id);
    CREATE INDEX grants_by_kid ON grants (kid);

    -- The hash-chained audit log (oresund-core audit.rs): each entry holds the previous one's hash.
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        resource TEXT NOT NULL,
        datasets TEXT NOT NULL,
        granularity TEXT,
        decision TEXT NOT NULL,
        detail TEXT NOT NULL,
        previous TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
    CREATE INDEX audit_log_by_time ON audit_log (time);
    -- The chain's head, moved in the transaction of every append: appends queue on it, and a
    -- removed last entry no longer matches it.
    CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
    INSERT INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

    -- Re-identification budgets (Raisaro et al. 2017): nats spent per (user, individual), the
    -- disclosures already charged (free when repeated), and users locked by a refusal.
    CREATE TABLE budget_users (user_id TEXT PRIMARY KEY, locked TEXT);
    CREATE TABLE budget_spent (
        user_id TEXT NOT NULL,
        individual INTEGER NOT NULL,
        spent REAL NOT NULL,
        PRIMARY KEY (user_id, individual)
    ) WITHOUT ROWID;
    CREATE TABLE budget_answers (
        user_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (user_id, fingerprint)
    ) WITHOUT ROWID;
    "#,
];

/// Brings `access.db` to the newest schema.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
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
