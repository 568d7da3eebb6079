//! The storage suite on the embedded SQLite store (in-process tier).

mod sqlite {
    oresund_storage_suite::storage_suite!(oresund_storage_suite::backends::Sqlite);
}
