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
    // 2: the hash format of each audit entry (oresund-core `AuditFormat`); entries written before
    // it were all format 1.
    r#"
    ALTER TABLE audit_log ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
    "#,
    // 3: the researcher an audit entry concerns when not its actor (oresund-core
    // `AuditRecord::subject`, hashed from format 3); entries written before it have none. Indexed
    // because `AuditQuery::user` matches it as well as the actor.
    r#"
    ALTER TABLE audit_log ADD COLUMN subject TEXT;
    CREATE INDEX audit_log_by_subject ON audit_log (subject, seq);
    "#,
    // 4: matchmaking cases (Matchmaker Exchange) and the MME metrics' counters.
    r#"
    CREATE TABLE mme_cases (
        case_id TEXT PRIMARY KEY,
        submitter TEXT NOT NULL,
        cross_border INTEGER NOT NULL,
        patient TEXT NOT NULL,
        updated TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE mme_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        generation INTEGER NOT NULL,
        requests_received INTEGER NOT NULL,
        potential_matches_sent INTEGER NOT NULL
    );
    INSERT INTO mme_state VALUES (1, 0, 0, 0);
    "#,
    // 5: the audit chain head each peer node last signed and sent (`PeerHeads`): a copy of the
    // peer's head outside the peer's own database.
    r#"
    CREATE TABLE peer_heads (
        node TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        jws TEXT NOT NULL,
        received TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 6: the last audit journal file moved into the chain (oresund-node `audit_journal`), moved
    // with the head so that a journal applied twice after a crash adds nothing.
    r#"
    ALTER TABLE audit_head ADD COLUMN journal INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// Brings `access.db` to the newest schema; returns the version found and the version now.
pub(super) fn migrate(conn: &mut Connection) -> Result<(i64, i64)> {
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
    Ok((version, known))
}

#[cfg(test)]
mod tests {
    use oresund_core::audit::{AuditAction, AuditEntry, AuditFormat, AuditRecord, Decision, verify_with_head};
    use rusqlite::{Connection, params};

    use super::MIGRATIONS;
    use crate::prelude::*;
    use crate::sqlite::{ACCESS_DB, SqliteStore};
    use crate::{AuditQuery, StoreError};

    fn record(n: u32) -> AuditRecord {
        AuditRecord {
            time: format!("2026-11-25T12:00:{n:02}Z"),
            actor: format!("user{n}"),
            action: AuditAction::Query,
            resource: "/g_variants".into(),
            datasets: vec!["DK-1".into()],
            granularity: Some("count".into()),
            decision: Decision::Allowed,
            detail: String::new(),
            subject: None,
        }
    }

    /// `access.db` as the first releases left it: schema 1, entries hashed in format 1.
    fn first_release_access_db(path: &std::path::Path) -> Vec<AuditEntry> {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let mut entries: Vec<AuditEntry> = Vec::new();
        for n in 0..3 {
            let previous = entries.last().map(|e| (e.hash.as_str(), e.seq));
            entries.push(AuditEntry::next_in(AuditFormat::LegacyJson, previous, record(n)));
        }
        for e in &entries {
            let r = &e.record;
            conn.execute(
                "INSERT INTO audit_log (seq, time, actor, action, resource, datasets, granularity, decision, detail, \
                 previous, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    e.seq,
                    r.time,
                    r.actor,
                    r.action.as_str(),
                    r.resource,
                    r#"["DK-1"]"#,
                    r.granularity,
                    r.decision.as_str(),
                    r.detail,
                    e.previous,
                    e.hash
                ],
            )
            .unwrap();
        }
        let last = entries.last().unwrap();
        conn.execute("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", params![last.seq, last.hash]).unwrap();
        entries
    }

    #[test]
    fn a_first_release_access_db_is_migrated_and_its_chain_continues() {
        let dir = tempfile::tempdir().unwrap();
        let old = first_release_access_db(&dir.path().join(ACCESS_DB));
        let store = SqliteStore::open(&dir.path().join("node.db")).unwrap();
        assert_eq!(store.audit_entries(&AuditQuery::default()).unwrap(), old, "read back as format 1");
        let about_user0 = AuditRecord { subject: Some("user0".into()), ..record(8) };
        store.append_audit(&[record(7), about_user0]).unwrap();
        let entries = store.audit_entries(&AuditQuery::default()).unwrap();
        let formats: Vec<u16> = entries.iter().map(|e| e.format).collect();
        assert_eq!(formats, [1, 1, 1, 3, 3]);
        let subjects: Vec<Option<&str>> = entries.iter().map(|e| e.record.subject.as_deref()).collect();
        assert_eq!(subjects, [None, None, None, None, Some("user0")], "old entries read back without one");
        let user0 = AuditQuery { user: Some("user0".into()), ..AuditQuery::default() };
        let seqs: Vec<u64> = store.audit_entries(&user0).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 5], "as actor, then as subject");
        let (seq, hash) = store.audit_head().unwrap();
        assert_eq!(verify_with_head(&entries, (seq, &hash)), Ok(()));
        let version: i64 = Connection::open(dir.path().join(ACCESS_DB))
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_newer_access_db_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Connection::open(dir.path().join(ACCESS_DB)).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let opened = SqliteStore::open(&dir.path().join("node.db"));
        assert!(matches!(opened, Err(StoreError::TooNew { found: 99, .. })));
    }
}
