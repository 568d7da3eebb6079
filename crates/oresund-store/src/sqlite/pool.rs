//! A pool of SQLite connections to one database file, each set up the same way (WAL, durable
//! commits, memory-mapped reads, statement cache).

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

/// Idle connections to one database file.
pub(super) struct ConnPool {
    path: PathBuf,
    cache: PageCache,
    idle: Mutex<Vec<Connection>>,
}

/// How much heap each connection's page cache may hold (`PRAGMA cache_size`). Reads go through the
/// memory map whatever the size; the cache holds the pages a connection wrote, and keeps them
/// until another connection's write invalidates it.
#[derive(Debug, Clone, Copy)]
pub(super) enum PageCache {
    /// The catalog: an ingest writes one long transaction. 8 MiB holds the pages still being
    /// filled; the rest spill to the WAL before the commit, as they would at the commit. At
    /// 64 MiB the cache was 40 MB of a 5,000-sample ingest's 93 MB peak (heaptrack), with no
    /// ingest time gained (issue #19: ingest in 64 MB whatever the cohort).
    Large,
    /// The access records: many small appends, from any connection of the pool. A large cache
    /// there held every audit page a connection appended (up to 64 MiB each, growing and
    /// dropping with the load: the soak's memory swing, issue #17) for no read it speeds up.
    Small,
}

impl PageCache {
    /// Kibibytes, negated as `cache_size` takes them.
    fn pragma(self) -> i64 {
        match self {
            PageCache::Large => -8192,
            PageCache::Small => -2048,
        }
    }
}

/// A connection borrowed from the pool, returned when dropped.
pub(super) struct Pooled<'a> {
    pool: &'a ConnPool,
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
        // A connection left inside a transaction (a failed rollback) would carry it to the next
        // user: it is closed instead of returned.
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.pool.idle.lock())
            && conn.is_autocommit()
        {
            idle.push(conn);
        }
    }
}

impl ConnPool {
    /// Opens (creating if needed) the database at `path` and brings it to the newest schema;
    /// returns the pool and the schema version found and now.
    pub fn open(
        path: &Path,
        cache: PageCache,
        migrate: fn(&mut Connection) -> Result<(i64, i64)>,
    ) -> Result<(Self, (i64, i64))> {
        let pool = ConnPool { path: path.to_path_buf(), cache, idle: Mutex::new(Vec::new()) };
        let mut conn = pool.connect()?;
        let versions = migrate(&mut conn)?;
        pool.idle.lock().map_err(|_| poisoned())?.push(conn);
        Ok((pool, versions))
    }

    fn connect(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is durable before `ingest` reports success.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // Read pages through a memory map: queries read blocks, not rows.
        conn.pragma_update(None, "mmap_size", 1i64 << 34)?;
        conn.pragma_update(None, "cache_size", self.cache.pragma())?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    pub fn get(&self) -> Result<Pooled<'_>> {
        let idle = self.idle.lock().map_err(|_| poisoned())?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(Pooled { pool: self, conn: Some(conn) })
    }
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("connection pool poisoned".into())
}
