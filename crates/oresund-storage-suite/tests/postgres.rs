//! The storage suite on PostgreSQL, a fresh database per test from `ORESUND_TEST_POSTGRES_URL`
//! (external tier: compiled with `--features external-tests`; `./test` starts the server).

mod postgres {
    oresund_storage_suite::storage_suite!(oresund_storage_suite::backends::Postgres);
}

/// What only PostgreSQL has: the planner's statistics.
mod planner {
    use oresund_storage_suite::backends::{Backend, Postgres};
    use oresund_storage_suite::fixtures::{Ingest, run};

    /// An ingest's commit leaves statistics for the tables it filled: a table never analysed is
    /// planned at a guess until autovacuum comes by, and the VRS-id lookup was then hash-joined
    /// against every block instead of probing one (BENCHMARKS.md, step 10's VRS-id lookups).
    #[test]
    fn an_ingest_commits_with_statistics_for_its_tables() {
        let backend = Postgres::fresh();
        let mut client = backend.client();
        let rows = |client: &mut postgres::Client, table: &str| -> f32 {
            client.query_one("SELECT reltuples FROM pg_class WHERE relname = $1", &[&table]).unwrap().get(0)
        };
        run(backend.store(), &Ingest::new("D1", "sha-a", 1, 6, 0), true);
        let keys: i64 = client.query_one("SELECT count(*) FROM vrs_keys", &[]).unwrap().get(0);
        let blocks: i64 = client.query_one("SELECT count(*) FROM blocks", &[]).unwrap().get(0);
        assert!(keys > 100 && blocks > 1, "{keys} keys in {blocks} blocks");
        assert_eq!(rows(&mut client, "vrs_keys"), keys as f32, "vrs_keys analysed at the commit");
        assert_eq!(rows(&mut client, "blocks"), blocks as f32, "blocks analysed at the commit");
    }
}
