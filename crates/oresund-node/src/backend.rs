//! Which storage a node runs on, chosen by its configuration: the embedded SQLite database and
//! a local archive directory (the default), or PostgreSQL (`[catalog] url`) and an S3 bucket
//! (`[archive] location = "s3://…"`), independently. The node directory holds the rest either
//! way: configuration, reference, ontology and secrets.

use std::path::Path;

use oresund_store::NodeStore;
use oresund_store::sqlite::SqliteStore;

use crate::archive::config::ArchiveConfig;
use crate::archive::error::ArchiveError;
use crate::archive::location::ArchiveLocation;
use crate::archive::s3::S3Credentials;
use crate::archive::store::ObjectArchive;
use crate::config::NodeConfig;
use crate::error::NodeError;
use crate::layout::Layout;

/// Opens the node's store (applying migrations).
pub fn open_store(layout: &Layout, config: &NodeConfig) -> Result<Box<dyn NodeStore>, NodeError> {
    match config.catalog.open_postgres()? {
        Some(store) => Ok(store),
        None => Ok(Box::new(SqliteStore::open_with_cache(&layout.database(), config.catalog.block_cache_bytes())?)),
    }
}

/// Creates the store of a new node. A PostgreSQL catalog must be empty: a second node directory
/// over a used catalog would pseudonymise with another key (to run more servers, copy the node
/// directory instead).
pub fn create_store(layout: &Layout, config: &NodeConfig) -> Result<(), NodeError> {
    match config.catalog.open_postgres_store()? {
        Some(store) if !store.is_empty()? => Err(NodeError::CatalogInUse(
            config.catalog.url.as_deref().map(oresund_store::postgres::redact_url).unwrap_or_default(),
        )),
        Some(_) => Ok(()),
        None => SqliteStore::open(&layout.database()).map(|_| ()).map_err(NodeError::from),
    }
}

/// Opens the node's archive: its directory, or its S3 bucket with keys from the environment.
pub fn open_archive(node_dir: &Path, config: &ArchiveConfig) -> Result<ObjectArchive, ArchiveError> {
    match config.location(node_dir)? {
        ArchiveLocation::Local(dir) => ObjectArchive::open_local(&dir),
        ArchiveLocation::S3(location) => {
            let credentials = S3Credentials::from_env(&config.access_key_id_env, &config.secret_access_key_env)?;
            ObjectArchive::open_s3(&location, &credentials, config.connections)
        }
    }
}

/// Checks a new node's archive: reachable with the configured keys, and holding no objects yet.
pub fn create_archive(node_dir: &Path, config: &ArchiveConfig) -> Result<(), NodeError> {
    if let ArchiveLocation::Local(_) = config.location(node_dir).map_err(|e| NodeError::InvalidConfig(e.into()))? {
        // Created with the first object.
        return Ok(());
    }
    let archive = open_archive(node_dir, config)?;
    let objects = archive.list()?;
    if let Some((first, _)) = objects.first() {
        return Err(NodeError::ArchiveInUse { location: config.location.clone(), first: first.to_string() });
    }
    Ok(())
}
