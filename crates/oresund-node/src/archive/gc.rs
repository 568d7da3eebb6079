//! `archive gc`: remove objects no catalog row refers to — left by an ingest, a withdrawal or a
//! key rotation that was killed before it finished —, uploads such a kill left incomplete, and
//! file keys no object is encrypted to. Runs under the writer lock (`writer_lock.rs`), so an ingest that is writing
//! objects it has not yet committed is never in progress meanwhile.

use std::collections::HashSet;

use crate::NodeError;
use crate::node::Node;

/// What a gc run found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GcSummary {
    /// Unreferenced objects (removed unless it was a dry run), with their sizes.
    pub unreferenced: Vec<(String, u64)>,
    /// Objects the catalog refers to.
    pub referenced: usize,
    /// File keys no catalog object is encrypted to (left by a killed ingest or withdrawal), which
    /// gc destroys unless it was a dry run.
    pub unreferenced_keys: Vec<String>,
}

impl Node {
    /// Finds (and unless `dry_run`, removes) unreferenced archive objects.
    pub fn archive_gc(&self, dry_run: bool) -> Result<GcSummary, NodeError> {
        let _writer = self.lock_writers()?;
        let catalog = self.store.archive_objects()?;
        let keys: HashSet<&str> = catalog.iter().map(|o| o.key_id.as_str()).collect();
        let file_keys = self.key_files().file_keys();
        let mut unreferenced_keys: Vec<String> =
            file_keys.list()?.into_iter().map(|(id, _)| id).filter(|id| !keys.contains(id.as_str())).collect();
        unreferenced_keys.dedup();
        if !dry_run {
            for id in &unreferenced_keys {
                file_keys.shred(id)?;
            }
        }
        let referenced: HashSet<String> = catalog.into_iter().flat_map(|o| [o.header_path, o.body_path]).collect();
        let objects = self.archive()?;
        let mut summary = GcSummary { unreferenced_keys, ..GcSummary::default() };
        for (path, size) in objects.list()? {
            let ours = path.ends_with(".body") || path.ends_with(".header");
            if referenced.contains(&path) {
                summary.referenced += 1;
            } else if ours {
                if !dry_run {
                    objects.delete(&path)?;
                }
                summary.unreferenced.push((path, size));
            }
        }
        summary.unreferenced.extend(objects.abandoned_uploads(dry_run)?);
        Ok(summary)
    }
}
