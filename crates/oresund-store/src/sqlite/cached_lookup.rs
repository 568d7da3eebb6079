//! Single-variant lookups through the per-process block cache (`block_cache.rs`), as the
//! PostgreSQL store makes them: a contig's block directory and the blocks a lookup needs are read
//! once per catalog generation, and a warm lookup then runs no SQL at all.
//!
//! Why in the embedded store, whose pages are already mapped: each lookup through SQLite began a
//! read transaction (a lock in the WAL index: `fcntl`), stepped the position index, and moved a blob
//! handle to each covering block and along its overflow pages. On a node of ten files of 500 people
//! the store's part was four fifths of a lookup's time, most of it in SQLite, and the counting a
//! tenth (`perf`, issue #19); through the cache the lookup's p50 went from 29-34 to 14-15 µs.

use std::sync::Arc;

use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, read_variant_by_key};
use crate::block_cache::{Directory, Listed};
use crate::error::Result;
use crate::model::{VariantCalls, VariantKey};
use crate::variant_index::{add_block_calls, in_file_order};

impl SqliteStore {
    /// The variant `key` in every file holding it, from cached blocks where held. A block not held
    /// is read whole and kept while the cache has room; once it has none, or when a block is not
    /// what the directory says (the catalog changed since it was read), the lookup is made through
    /// SQLite alone, in one read transaction, as without a cache.
    pub(super) fn cached_variant(&self, key: &VariantKey) -> Result<Option<VariantCalls>> {
        let epoch = self.cache.epoch();
        let conn = self.conn()?;
        let directory = match self.cache.directory(key.contig) {
            Some(directory) => directory,
            None => self.cache.put_directory(epoch, key.contig, read_directory(&conn, key.contig)?),
        };
        let mut out: Option<VariantCalls> = None;
        for listed in directory.holding(key.pos) {
            let data = match self.cache.block(listed.id) {
                Some(data) => data,
                None if self.cache.has_room(listed.len) => match read_block(&conn, &listed)? {
                    Some(data) => {
                        self.cache.put_block(epoch, listed.id, data.clone());
                        data
                    }
                    None => return read_variant_by_key(&conn, key),
                },
                None => return read_variant_by_key(&conn, key),
            };
            add_block_calls(&mut out, &data, listed.file, key)?;
        }
        in_file_order(&mut out);
        Ok(out)
    }
}

/// Every block of a contig (id, file, range, length) and the longest REF, for the directory.
pub(super) fn read_directory(conn: &rusqlite::Connection, contig: u32) -> Result<Directory> {
    // One read transaction: the blocks and the longest REF from the same commit.
    let tx = conn.unchecked_transaction()?;
    let max_ref_len: u64 =
        tx.prepare_cached("SELECT value FROM meta WHERE key = 'max_ref_len'")?.query_row([], |r| r.get(0))?;
    // length() of a blob reads its size from the record header, not its overflow pages.
    let mut stmt =
        tx.prepare_cached("SELECT id, file, first_pos, last_pos, length(data) FROM blocks WHERE contig = ?1")?;
    let rows = stmt.query_map(params![contig], |r| {
        Ok(Listed { id: r.get(0)?, file: r.get(1)?, first_pos: r.get(2)?, last_pos: r.get(3)?, len: r.get(4)? })
    })?;
    let blocks = rows.collect::<rusqlite::Result<Vec<Listed>>>()?;
    Ok(Directory::new(max_ref_len, blocks))
}

/// A listed block's bytes; `None` when the row is gone or is no longer the listed one (SQLite may
/// give a deleted block's id to a later one, of another file).
fn read_block(conn: &rusqlite::Connection, listed: &Listed) -> Result<Option<Arc<[u8]>>> {
    let mut stmt = conn.prepare_cached("SELECT data FROM blocks WHERE id = ?1 AND file = ?2 AND first_pos = ?3")?;
    let data: Option<Vec<u8>> =
        stmt.query_row(params![listed.id, listed.file, listed.first_pos], |r| r.get(0)).optional()?;
    Ok(data.map(Arc::from))
}
