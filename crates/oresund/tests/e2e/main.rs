//! The end-to-end tests: one binary that drives the real `oresund` command and server on the
//! repository's synthetic cohorts (`demo-data/`), with fixtures built once and shared by modules.
//!
//! Two tiers (README "Tests"): the modules at this level need only the Rust toolchain and run in
//! `cargo test --workspace`; the modules under `external` compare with reference tools and
//! services (bcftools, Python crypt4gh, vrs-python, jsonschema, joserfc, beacon-verifier,
//! Chromium, PostgreSQL, S3) and are compiled only with `--features external-tests`, so none of
//! them can pass by skipping. `./test` installs and starts what they need.

mod architecture;
mod archive;
mod association;
mod audit_durability;
mod audit_heads;
mod bcf_ingest;
mod common;
mod delivery;
mod erasure;
mod http_limits;
mod ingest_safety;
mod matchmaking;
mod network;
mod people_image;
mod region_counts;
mod stand_alone;
mod start_up;
mod stored_variants;
mod upgrade;

#[cfg(feature = "external-tests")]
mod external;
