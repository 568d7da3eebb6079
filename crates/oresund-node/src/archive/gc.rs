//! `archive gc`: remove objects no catalog row refers to — left by an ingest or a key rotation
//! that was killed before it finished — and uploads such a kill left incomplete. Runs under the writer lock (`writer_lock.rs`), so an ingest that is writing
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
}

impl Node {
    /// Finds (and unless `dry_run`, removes) unreferenced archive objects.
    pub fn archive_gc(&self, dry_run: bool) -> Result<GcSummary, NodeError> {
        let _writer = self.lock_writers()?;
        let referenced: HashSet<String> =
            self.store.archive_objects()?.into_iter().flat_map(|o| [o.header_path, o.body_path]).collect();
        let objects = self.archive()?;
        let mut summary = GcSummary::default();
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
