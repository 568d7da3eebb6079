//! One file per subcommand.

pub mod archive;
pub mod c4gh;
pub mod demo;
pub mod ingest;
pub mod init;
pub mod keys;
pub mod portal;
pub mod query;
pub mod serve;
pub mod token;
