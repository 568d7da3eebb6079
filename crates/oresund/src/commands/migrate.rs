//! `oresund migrate`: brings a node made by an older release to this release's storage schema
//! and says what that changed.

use std::path::PathBuf;

use clap::Args;
use oresund_node::Node;

/// Bring a node's store to this release's schema and say what changed. Every command that opens
/// a node does the same on its way in; run this first after an upgrade to see it happen (and,
/// with several servers over one PostgreSQL catalog, before restarting them). Each step runs in
/// its own transaction: an interrupted migration leaves the store at the last whole step and is
/// finished by the next run. An older oresund refuses a migrated store.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  oresund migrate dk-node")]
pub struct MigrateArgs {
    /// Node directory
    pub node_dir: PathBuf,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let versions = node.schema_versions();
    for v in &versions {
        if v.migrated() {
            println!("{}: schema {} → {} (migrated)", v.part, v.found, v.current);
        } else {
            println!("{}: schema {} (current)", v.part, v.current);
        }
    }
    if versions.iter().any(|v| v.migrated()) {
        println!("migrated; releases older than this one can no longer open this node");
    } else {
        println!("nothing to migrate");
    }
    Ok(())
}
