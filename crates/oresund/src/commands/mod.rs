//! One file per subcommand.

pub mod ingest;
pub mod init;
pub mod query;
