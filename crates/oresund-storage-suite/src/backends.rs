//! The two backends the suite runs on, each a fresh, empty store per test.

use std::sync::atomic::{AtomicU32, Ordering};

use oresund_core::audit::AuditEntry;
use oresund_store::postgres::{PostgresOptions, PostgresStore};
use oresund_store::prelude::*;
use oresund_store::sqlite::{ACCESS_DB, SqliteStore};

/// A fresh store, and a way to open a second handle on the same data (another process's view).
pub trait Backend: Sized {
    type Store: NodeStore;
    fn fresh() -> Self;
    fn store(&self) -> &Self::Store;
    fn reopen(&self) -> Self::Store;
    /// The store opened again with no block cache (`block_cache_mb = 0`; the same as `reopen` for
    /// a backend that has none).
    fn reopen_without_cache(&self) -> Self::Store;
    /// The store opened again with a cache too small to keep any block, so that every lookup
    /// reads only the entries it needs (the same as `reopen` for a backend that has no cache).
    fn reopen_keeping_no_blocks(&self) -> Self::Store;
    /// The store opened again with a cache that has room for one of the smallest blocks stored now
    /// and never two, so that a lookup can find one file's block held and read another file's
    /// entries as pieces (the same as `reopen` for a backend that has no cache).
    fn reopen_keeping_one_block(&self) -> Self::Store;
    /// Whether the store has a shared writer lock (the embedded one relies on the node directory's).
    const SHARED_WRITER_LOCK: bool;
    /// Stores audit entries, and moves the chain head to the last, the way the first releases did
    /// (no `format` column: the rows are what a migrated old database holds).
    fn write_first_release_audit(&self, entries: &[AuditEntry]);
}

/// The first releases' audit row insert (every entry is format 1).
const FIRST_RELEASE_AUDIT_INSERT: &str = "INSERT INTO audit_log (seq, time, actor, action, resource, datasets, \
     granularity, decision, detail, previous, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// The `datasets` column: a JSON list (test names need no escaping).
fn datasets_json(datasets: &[String]) -> String {
    let quoted: Vec<String> = datasets.iter().map(|d| format!("\"{d}\"")).collect();
    format!("[{}]", quoted.join(","))
}

pub struct Sqlite {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

impl Sqlite {
    fn reopen_caching(&self, block_cache_bytes: usize) -> SqliteStore {
        SqliteStore::open_with_cache(&self.dir.path().join("node.db"), block_cache_bytes).expect("reopen SQLite store")
    }
}

impl Backend for Sqlite {
    type Store = SqliteStore;
    const SHARED_WRITER_LOCK: bool = false;

    fn fresh() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("node.db")).expect("open SQLite store");
        Sqlite { dir, store }
    }

    fn store(&self) -> &SqliteStore {
        &self.store
    }

    fn reopen(&self) -> SqliteStore {
        SqliteStore::open(&self.dir.path().join("node.db")).expect("reopen SQLite store")
    }

    fn reopen_without_cache(&self) -> SqliteStore {
        self.reopen_caching(0)
    }

    fn reopen_keeping_no_blocks(&self) -> SqliteStore {
        self.reopen_caching(1)
    }

    fn reopen_keeping_one_block(&self) -> SqliteStore {
        let conn = rusqlite::Connection::open(self.dir.path().join("node.db")).expect("open node.db");
        // Room for the smallest block: no two blocks ever fit.
        let smallest: usize =
            conn.query_row("SELECT min(length(data)) FROM blocks", [], |r| r.get(0)).expect("block sizes");
        self.reopen_caching(smallest)
    }

    fn write_first_release_audit(&self, entries: &[AuditEntry]) {
        let conn = rusqlite::Connection::open(self.dir.path().join(ACCESS_DB)).expect("open access.db");
        for e in entries {
            let r = &e.record;
            let seq = i64::try_from(e.seq).expect("small seq");
            conn.execute(
                FIRST_RELEASE_AUDIT_INSERT,
                rusqlite::params![
                    seq,
                    r.time,
                    r.actor,
                    r.action.as_str(),
                    r.resource,
                    datasets_json(&r.datasets),
                    r.granularity,
                    r.decision.as_str(),
                    r.detail,
                    e.previous,
                    e.hash
                ],
            )
            .expect("insert an old audit row");
        }
        if let Some(last) = entries.last() {
            let seq = i64::try_from(last.seq).expect("small seq");
            conn.execute("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", rusqlite::params![seq, last.hash])
                .expect("move the head");
        }
    }
}

/// The test server: `ORESUND_TEST_POSTGRES_URL` (a role that may create databases; password in
/// `PGPASSWORD`). Missing means the services are not running: fail, never skip.
pub fn postgres_admin() -> (String, Option<String>) {
    let url = std::env::var("ORESUND_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("ORESUND_TEST_POSTGRES_URL is not set: these tests need PostgreSQL; run ./test, which starts them")
    });
    (url, std::env::var("PGPASSWORD").ok())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let query = rest.find('?').map_or("", |i| &rest[i..]);
    let authority = rest[..rest.len() - query.len()].split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// A database made for one test and dropped after it.
pub struct FreshDatabase {
    pub url: String,
    pub password: Option<String>,
    admin: String,
    name: String,
}

impl FreshDatabase {
    #[allow(clippy::new_without_default)] // it creates a database: not a default value
    pub fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let (admin, password) = postgres_admin();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("oresund_t{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut client = admin_client(&admin, password.as_deref());
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
        FreshDatabase { url: with_database(&admin, &name), password, admin, name }
    }

    /// A connection to this database, for what a test reads around the store.
    pub fn client(&self) -> postgres::Client {
        admin_client(&self.url, self.password.as_deref())
    }

    pub fn options(&self) -> PostgresOptions {
        let mut options = PostgresOptions::new(self.url.clone(), self.password.clone());
        options.pool_size = 4;
        options
    }
}

fn admin_client(url: &str, password: Option<&str>) -> postgres::Client {
    let mut config: postgres::Config = url.parse().expect("ORESUND_TEST_POSTGRES_URL parses");
    if let Some(password) = password {
        config.password(password);
    }
    config
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {url} ({e}); run ./test, which starts them"))
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let mut client = admin_client(&self.admin, self.password.as_deref());
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

pub struct Postgres {
    store: PostgresStore,
    database: FreshDatabase,
}

impl Postgres {
    /// A connection to the test's database, for what a test reads around the store.
    pub fn client(&self) -> postgres::Client {
        self.database.client()
    }
}

impl Backend for Postgres {
    type Store = PostgresStore;
    const SHARED_WRITER_LOCK: bool = true;

    fn fresh() -> Self {
        let database = FreshDatabase::new();
        let store = PostgresStore::open(&database.options()).expect("open PostgreSQL store");
        Postgres { store, database }
    }

    fn store(&self) -> &PostgresStore {
        &self.store
    }

    fn reopen(&self) -> PostgresStore {
        PostgresStore::open(&self.database.options()).expect("reopen PostgreSQL store")
    }

    fn reopen_without_cache(&self) -> PostgresStore {
        let options = PostgresOptions { block_cache_bytes: 0, ..self.database.options() };
        PostgresStore::open(&options).expect("reopen PostgreSQL store")
    }

    fn reopen_keeping_no_blocks(&self) -> PostgresStore {
        let options = PostgresOptions { block_cache_bytes: 1, ..self.database.options() };
        PostgresStore::open(&options).expect("reopen PostgreSQL store")
    }

    fn reopen_keeping_one_block(&self) -> PostgresStore {
        let row =
            self.client().query_one("SELECT min(octet_length(data))::bigint FROM blocks", &[]).expect("block sizes");
        // Room for the smallest block: no two blocks ever fit.
        let budget = usize::try_from(row.get::<_, i64>(0)).expect("a block's size");
        let options = PostgresOptions { block_cache_bytes: budget, ..self.database.options() };
        PostgresStore::open(&options).expect("reopen PostgreSQL store")
    }

    fn write_first_release_audit(&self, entries: &[AuditEntry]) {
        let mut client = admin_client(&self.database.url, self.database.password.as_deref());
        for e in entries {
            let r = &e.record;
            let seq = i64::try_from(e.seq).expect("small seq");
            client
                .execute(
                    FIRST_RELEASE_AUDIT_INSERT,
                    &[
                        &seq,
                        &r.time,
                        &r.actor,
                        &r.action.as_str(),
                        &r.resource,
                        &datasets_json(&r.datasets),
                        &r.granularity,
                        &r.decision.as_str(),
                        &r.detail,
                        &e.previous,
                        &e.hash,
                    ],
                )
                .expect("insert an old audit row");
        }
        if let Some(last) = entries.last() {
            let seq = i64::try_from(last.seq).expect("small seq");
            client
                .execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", &[&seq, &last.hash])
                .expect("move the head");
        }
    }
}
