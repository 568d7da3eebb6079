//! Upgrades lose nothing, on PostgreSQL and S3 (issue #11): the catalog 0.1.0 wrote (its
//! `pg_dump`) restored into a fresh database, its archive objects into a fresh bucket, and the
//! node directory pointed at them opens with this build and answers as 0.1.0 did.

use crate::common::release_fixture::{
    check_upgraded, copy_node, every_variant_is_found_by_its_vrs_id, expected, fixture_dir,
};
use crate::common::{ScaleServices, s3_request_with_body, sh};

#[test]
fn a_postgres_node_made_by_release_0_1_0_opens_with_everything_intact() {
    let services = ScaleServices::new();
    let fixture = fixture_dir().join("postgres");
    sh(&format!(
        "psql -qX -v ON_ERROR_STOP=1 '{}' -f '{}' >/dev/null",
        services.catalog,
        fixture.join("catalog.sql").display()
    ));
    let archive = fixture.join("archive");
    for prefix in std::fs::read_dir(&archive).unwrap() {
        let prefix = prefix.unwrap().path();
        for object in std::fs::read_dir(&prefix).unwrap() {
            let object = object.unwrap().path();
            let key = object.strip_prefix(&archive).unwrap().to_str().unwrap();
            let url = format!("{}/{}/{key}", services.endpoint, services.bucket);
            s3_request_with_body("PUT", &url, &std::fs::read(&object).unwrap());
        }
    }
    let node = copy_node("postgres");
    let config = node.dir.join("oresund.toml");
    let text: String = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .map(|line| match line {
            l if l.starts_with("location = ") => format!(
                "location = \"{}\"\naccess_key_id_env = \"ORESUND_TEST_S3_ACCESS_KEY_ID\"\n\
                 secret_access_key_env = \"ORESUND_TEST_S3_SECRET_ACCESS_KEY\"",
                services.archive
            ),
            l if l.starts_with("url = \"postgres://") => format!("url = \"{}\"", services.catalog),
            l => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    std::fs::write(&config, text).unwrap();
    check_upgraded(&node.dir, &expected("postgres"), || services.oresund());
    // Step 10 analyses the table it fills, so lookups by VRS id are planned with statistics from
    // the first one (never analysed, PostgreSQL hash-joined them against every block).
    let analysed = sh(&format!(
        "psql -AtX '{}' -c \"SELECT c.reltuples::bigint = (SELECT count(*) FROM vrs_keys) AND c.reltuples > 0 \
         FROM pg_class c WHERE c.relname = 'vrs_keys'\"",
        services.catalog
    ));
    assert_eq!(analysed.trim(), "t", "vrs_keys analysed by the migration");
    every_variant_is_found_by_its_vrs_id(&node.dir);
}
