//! One file per subcommand.

pub mod archive;
pub mod audit;
pub mod audit_peer;
pub mod budget;
pub mod c4gh;
pub mod dac;
pub mod demo;
pub mod ingest;
pub mod init;
pub mod keys;
pub mod migrate;
pub mod mme;
pub mod portal;
pub mod query;
pub mod remove;
pub mod report;
pub mod serve;
pub mod subject_report;
pub mod token;
pub mod withdraw;
