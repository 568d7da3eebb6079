//! Storage errors, one type for every backend.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database value: {0}")]
    Value(#[from] rusqlite::types::FromSqlError),
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
