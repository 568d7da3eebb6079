//! The storage suite on PostgreSQL, a fresh database per test from `ORESUND_TEST_POSTGRES_URL`
//! (external tier: compiled with `--features external-tests`; `./test` starts the server).

mod postgres {
    oresund_storage_suite::storage_suite!(oresund_storage_suite::backends::Postgres);
}
