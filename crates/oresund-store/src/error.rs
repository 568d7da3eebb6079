//! Storage errors, one type for every backend.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database value: {0}")]
    Value(#[from] rusqlite::types::FromSqlError),
    /// A PostgreSQL error. Its text comes from the server or the client library, which never
    /// include the password.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// The PostgreSQL catalog could not be reached; `target` is the URL without any password.
    #[error("cannot connect to the PostgreSQL catalog {target}: {source}")]
    Connect { target: String, source: postgres::Error },
    /// Every pooled connection stayed in use for the whole wait.
    #[error(
        "all {size} PostgreSQL connections of this process stayed busy for {waited_s} s; raise [catalog] pool_size"
    )]
    PoolExhausted { size: usize, waited_s: u64 },
    /// Another writer (ingest, archive gc, key rotation) holds the store's writer lock.
    #[error("{0}")]
    Busy(String),
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the store was written by a newer Øresund (schema {found}, this build knows up to {known})")]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
