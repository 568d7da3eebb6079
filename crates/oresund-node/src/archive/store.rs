//! The archive's object store, behind a synchronous API.
//!
//! Everything goes through `object_store` on an `Arc<dyn ObjectStore>` and object paths, so the
//! same code serves a local directory and an S3 bucket ([`ObjectArchive::open_s3`], see `s3.rs`).
//! `object_store` is async; the node library is synchronous, so each [`ObjectArchive`] owns a
//! small current-thread tokio runtime and blocks on it. Large objects stream both ways in chunks:
//! uploads of more than one part (6 MiB on S3 at first, 1 MiB on a local directory) become
//! multipart uploads ([`PartSizes`]), reads are ranged GETs of 4 MiB.
//!
//! Because it blocks on its own runtime, the archive must only be called from synchronous code —
//! the CLI, or a thread of tokio's blocking pool such as the server's blocking edge
//! (`oresund_server::blocking`) —, never from async code directly: `block_on` panics on a
//! runtime's worker thread.

use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

use crate::archive::error::ArchiveError;
use crate::archive::location::S3Location;
use crate::archive::part_pool::PartPool;
use crate::archive::s3::{self, S3Credentials, SharedS3};

/// Bytes fetched per ranged read when streaming an object.
const READ_CHUNK: u64 = 4 << 20;
/// Bytes fetched per ranged read when serving an object to a client: smaller, as a server streams
/// many at once and memory is held per stream.
pub const SERVE_CHUNK: u64 = 1 << 20;
/// The first parts of a streaming upload to S3 (whose parts must be at least 5 MiB, all but the
/// last) and any other remote store; a smaller object is one PUT. Two parts in flight and one
/// filling are the archive's share of an ingest's memory: 18 MiB (24 MiB with 8 MiB parts).
const REMOTE_PART: usize = 6 << 20;
/// S3 takes at most 10,000 parts: with fixed 8 MiB parts an object could not pass 80 GB. Parts
/// double every this many (6 GiB in 6 MiB parts, then 12 GiB in 12 MiB parts, …), so that 10,000
/// parts hold more than S3's largest object (5 TiB); an upload holds more memory only past 6 GiB.
const REMOTE_PARTS_PER_SIZE: usize = 1_000;
/// S3's largest part.
const LARGEST_PART: usize = 5 << 30;
/// The parts for a local directory, where a part is one positioned write into the staged file and
/// their number has no limit. With two parts in flight and one filling, 8 MiB parts held 24 MiB
/// while `ingest` archived a large VCF: the peak of the whole ingest at 20,000 samples
/// (BENCHMARKS.md, "Ingest: time and memory").
const LOCAL_PART: usize = 1 << 20;
/// Parts of one upload in flight while the next fills.
const PARTS_IN_FLIGHT: usize = 2;

/// How large each part of a streaming upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSizes {
    /// The size of the first parts.
    pub first: usize,
    /// Parts double after every this many.
    pub per_size: usize,
}

impl PartSizes {
    /// The size of part `index` (from 0).
    pub fn of(&self, index: usize) -> usize {
        let doublings = u32::try_from(index / self.per_size.max(1)).unwrap_or(u32::MAX);
        self.first.saturating_mul(2usize.saturating_pow(doublings)).min(LARGEST_PART)
    }
}

const REMOTE_PARTS: PartSizes = PartSizes { first: REMOTE_PART, per_size: REMOTE_PARTS_PER_SIZE };

/// A private runtime that may be dropped anywhere: dropping a plain [`Runtime`] inside async code
/// panics, and a server keeps its archive in state that async tasks drop.
struct OwnRuntime(Option<Runtime>);

impl OwnRuntime {
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        match &self.0 {
            Some(runtime) => runtime.block_on(future),
            // Only `drop` empties it.
            None => unreachable!("the archive's runtime is used after drop"),
        }
    }

    /// Runs `task` on this runtime (it makes progress whenever the runtime is blocked on).
    fn spawn<T: Send + 'static>(
        &self,
        tasks: &mut JoinSet<T>,
        task: impl std::future::Future<Output = T> + Send + 'static,
    ) {
        match &self.0 {
            Some(runtime) => {
                tasks.spawn_on(task, runtime.handle());
            }
            None => unreachable!("the archive's runtime is used after drop"),
        }
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// An object store with a runtime to drive it.
pub struct ObjectArchive {
    store: Arc<dyn ObjectStore>,
    runtime: OwnRuntime,
    /// The directory of a local archive (for [`ObjectArchive::abandoned_uploads`]).
    local_dir: Option<PathBuf>,
    /// The client and key prefix of an S3 archive (for [`ObjectArchive::abandoned_uploads`]).
    s3: Option<(SharedS3, String)>,
    parts: PartSizes,
}

/// Size of a stored object, or that there is none.
pub type ObjectSize = Option<u64>;

fn object_path(path: &str) -> Result<ObjectPath, ArchiveError> {
    ObjectPath::parse(path).map_err(|e| ArchiveError::Invalid(format!("archive object path {path:?}: {e}")))
}

fn store_error(path: &str) -> impl FnOnce(object_store::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::ObjectStore { path: path.to_string(), source: Box::new(source) }
}

impl ObjectArchive {
    /// An archive in a local directory (created if missing). Writes are fsynced before they
    /// return, so an object the catalog refers to survives a power loss like the catalog does.
    pub fn open_local(dir: &Path) -> Result<Self, ArchiveError> {
        std::fs::create_dir_all(dir).map_err(|error| ArchiveError::Io { path: dir.to_path_buf(), error })?;
        let local = LocalFileSystem::new_with_prefix(dir)
            .map_err(|source| ArchiveError::ObjectStore { path: dir.display().to_string(), source: Box::new(source) })?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        let mut archive = Self::new(Arc::new(local))?;
        archive.local_dir = Some(dir.to_path_buf());
        archive.parts = PartSizes { first: LOCAL_PART, per_size: usize::MAX };
        Ok(archive)
    }

    /// An archive in an S3 bucket, under the location's prefix.
    pub fn open_s3(
        location: &S3Location,
        credentials: &S3Credentials,
        connections: usize,
    ) -> Result<Self, ArchiveError> {
        let client: SharedS3 = Arc::new(s3::client(location, credentials, connections)?);
        let store: Arc<dyn ObjectStore> = if location.prefix.is_empty() {
            client.clone()
        } else {
            Arc::new(PrefixStore::new(client.clone(), location.prefix.as_str()))
        };
        // The S3 client needs the runtime's I/O and timer drivers (the local store does not).
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ArchiveError::Runtime)?;
        Ok(ObjectArchive {
            store,
            runtime: OwnRuntime(Some(runtime)),
            local_dir: None,
            s3: Some((client, location.prefix.clone())),
            parts: REMOTE_PARTS,
        })
    }

    /// An archive over any object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Result<Self, ArchiveError> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(ArchiveError::Runtime)?;
        Ok(ObjectArchive { store, runtime: OwnRuntime(Some(runtime)), local_dir: None, s3: None, parts: REMOTE_PARTS })
    }

    /// The same archive uploading in parts of these sizes (for tests: many parts of a small object).
    pub fn with_part_sizes(mut self, parts: PartSizes) -> Self {
        self.parts = parts;
        self
    }

    /// Stores a small object whole; fails if `path` already exists (names are never reused).
    pub fn put_new(&self, path: &str, bytes: Vec<u8>) -> Result<(), ArchiveError> {
        let location = object_path(path)?;
        let options = PutOptions { mode: PutMode::Create, ..Default::default() };
        self.runtime
            .block_on(self.store.put_opts(&location, PutPayload::from(bytes), options))
            .map_err(store_error(path))?;
        Ok(())
    }

    /// Reads a small object whole.
    pub fn get(&self, path: &str) -> Result<Vec<u8>, ArchiveError> {
        let location = object_path(path)?;
        let bytes = self
            .runtime
            .block_on(async { self.store.get(&location).await?.bytes().await })
            .map_err(store_error(path))?;
        Ok(bytes.to_vec())
    }

    /// The size of an object, `None` if it does not exist.
    pub fn size(&self, path: &str) -> Result<ObjectSize, ArchiveError> {
        let location = object_path(path)?;
        match self.runtime.block_on(self.store.head(&location)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error(path)(e)),
        }
    }

    /// Streams an object (or the byte range `range` of it) as a [`Read`].
    pub fn reader(&self, path: &str, range: Option<Range<u64>>) -> Result<ObjectReader<'_>, ArchiveError> {
        self.reader_in_chunks(path, range, READ_CHUNK)
    }

    /// [`ObjectArchive::reader`] fetching `chunk` bytes per ranged read.
    pub fn reader_in_chunks(
        &self,
        path: &str,
        range: Option<Range<u64>>,
        chunk: u64,
    ) -> Result<ObjectReader<'_>, ArchiveError> {
        let location = object_path(path)?;
        let size = self.size(path)?.ok_or_else(|| ArchiveError::Missing(path.to_string()))?;
        let Range { start, end } = range.unwrap_or(0..size);
        Ok(ObjectReader {
            archive: self,
            path: path.to_string(),
            location,
            next: start,
            end: end.min(size),
            chunk: Bytes::new(),
            chunk_size: chunk.max(1),
        })
    }

    /// Starts a streaming upload to `path`; nothing is visible there until
    /// [`ObjectWriter::finish`] (dropping the writer abandons the upload).
    pub fn writer(&self, path: &str) -> Result<ObjectWriter<'_>, ArchiveError> {
        Ok(ObjectWriter {
            archive: self,
            path: path.to_string(),
            location: object_path(path)?,
            upload: None,
            sent: 0,
            part: Vec::new(),
            pool: PartPool::default(),
        })
    }

    /// Deletes an object; deleting one that does not exist is not an error.
    pub fn delete(&self, path: &str) -> Result<(), ArchiveError> {
        let location = object_path(path)?;
        match self.runtime.block_on(self.store.delete(&location)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(path)(e)),
        }
    }

    /// Every object path in the archive with its size.
    pub fn list(&self) -> Result<Vec<(String, u64)>, ArchiveError> {
        self.runtime.block_on(async {
            let mut listing = self.store.list(None);
            let mut out = Vec::new();
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(store_error(""))?;
                out.push((meta.location.to_string(), meta.size));
            }
            out.sort();
            Ok(out)
        })
    }
}

impl ObjectArchive {
    /// Uploads a killed process never completed (and removes them unless `dry_run`), with their
    /// sizes where known. `object_store` writes a local object to `<name>#<n>` and renames it
    /// when complete, and lists only complete objects, so these are found on the file system; on
    /// S3 they are the incomplete multipart uploads under the archive's prefix (size 0: S3 does
    /// not report it in the listing). Only call this when no upload can be running (under the
    /// writer lock).
    pub fn abandoned_uploads(&self, dry_run: bool) -> Result<Vec<(String, u64)>, ArchiveError> {
        if let Some((client, prefix)) = &self.s3 {
            let listed = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
            return self.runtime.block_on(async {
                let mut found = Vec::new();
                for upload in s3::incomplete_uploads(client, &listed).await? {
                    if !dry_run {
                        s3::abort(client, &upload).await?;
                    }
                    let name = upload.key.strip_prefix(&listed).unwrap_or(&upload.key);
                    found.push((format!("{name} (incomplete upload)"), 0));
                }
                found.sort();
                Ok(found)
            });
        }
        let Some(root) = &self.local_dir else { return Ok(Vec::new()) };
        fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
            move |error| ArchiveError::Io { path: path.to_path_buf(), error }
        }
        let mut found = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
                let path = entry.map_err(io(&dir))?.path();
                let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
                if meta.is_dir() {
                    stack.push(path);
                } else if path.file_name().is_some_and(|n| n.to_string_lossy().contains('#')) {
                    if !dry_run {
                        std::fs::remove_file(&path).map_err(io(&path))?;
                    }
                    let name = path.strip_prefix(root).unwrap_or(&path).display().to_string();
                    found.push((name, meta.len()));
                }
            }
        }
        found.sort();
        Ok(found)
    }
}

/// An object read sequentially in large ranged reads.
pub struct ObjectReader<'a> {
    archive: &'a ObjectArchive,
    path: String,
    location: ObjectPath,
    next: u64,
    end: u64,
    chunk: Bytes,
    chunk_size: u64,
}

impl ObjectReader<'_> {
    /// The next bytes as they were fetched (no copy), or `None` at the end.
    pub fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.chunk.is_empty() {
            self.fetch()?;
        }
        Ok((!self.chunk.is_empty()).then(|| std::mem::take(&mut self.chunk)))
    }

    /// Fetches the next range once the current chunk is used up.
    fn fetch(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() && self.next < self.end {
            let range = self.next..self.end.min(self.next + self.chunk_size);
            let archive = self.archive;
            self.chunk = archive
                .runtime
                .block_on(archive.store.get_range(&self.location, range.clone()))
                .map_err(|e| io::Error::other(format!("{}: {e}", self.path)))?;
            if self.chunk.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{}: object shrank", self.path)));
            }
            self.next += self.chunk.len() as u64;
        }
        Ok(())
    }
}

impl Read for ObjectReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.fetch()?;
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

/// A streaming upload, as a [`Write`].
pub struct ObjectWriter<'a> {
    archive: &'a ObjectArchive,
    path: String,
    location: ObjectPath,
    /// Started when the first part is full: a smaller object is one PUT at [`ObjectWriter::finish`].
    upload: Option<Upload>,
    /// Parts handed to the upload so far.
    sent: usize,
    /// Bytes gathered into one whole part before they go to the upload, in a buffer of `pool`
    /// (see [`PartPool`] for why).
    part: Vec<u8>,
    pool: PartPool,
}

/// A multipart upload and its parts in flight.
struct Upload {
    multipart: Box<dyn MultipartUpload>,
    in_flight: JoinSet<object_store::Result<()>>,
}

impl Upload {
    /// Waits until at most `left` parts are in flight; fails with the first part that failed.
    async fn wait(&mut self, left: usize) -> object_store::Result<()> {
        while self.in_flight.len() > left {
            if let Some(part) = self.in_flight.join_next().await {
                part.map_err(|e| object_store::Error::Generic { store: "archive", source: Box::new(e) })??;
            }
        }
        Ok(())
    }
}

impl ObjectWriter<'_> {
    /// Completes the upload: the object becomes visible (and, locally, durable) at once.
    pub fn finish(mut self) -> Result<(), ArchiveError> {
        let path = self.path.clone();
        let failed = |error| ArchiveError::ObjectIo { path, error };
        let runtime = &self.archive.runtime;
        if self.upload.is_none() {
            let whole = PutPayload::from(self.pool.send(std::mem::take(&mut self.part)));
            let put = runtime.block_on(self.archive.store.put(&self.location, whole));
            return put.map(drop).map_err(|e| failed(io_error(&self.path, e)));
        }
        // The last part, however small.
        if let Err(error) = self.send_part() {
            return Err(failed(error));
        }
        let Some(upload) = &mut self.upload else { return Err(ArchiveError::Invalid("upload lost".into())) };
        let completed = runtime.block_on(async {
            upload.wait(0).await?;
            upload.multipart.complete().await
        });
        match completed {
            Ok(_) => {
                self.upload = None;
                Ok(())
            }
            // Dropping the writer removes the staged parts: nothing was published.
            Err(e) => Err(failed(io_error(&self.path, e))),
        }
    }

    /// Hands the gathered bytes to the upload as its next part, once fewer than
    /// [`PARTS_IN_FLIGHT`] are in flight; starts the upload with its first part.
    fn send_part(&mut self) -> io::Result<()> {
        if self.part.is_empty() {
            return Ok(());
        }
        let runtime = &self.archive.runtime;
        let upload = match &mut self.upload {
            Some(upload) => upload,
            None => {
                let started = runtime.block_on(self.archive.store.put_multipart(&self.location));
                let multipart = started.map_err(|e| io_error(&self.path, e))?;
                self.upload.insert(Upload { multipart, in_flight: JoinSet::new() })
            }
        };
        runtime.block_on(upload.wait(PARTS_IN_FLIGHT - 1)).map_err(|e| io_error(&self.path, e))?;
        let part = upload.multipart.put_part(PutPayload::from(self.pool.send(std::mem::take(&mut self.part))));
        runtime.spawn(&mut upload.in_flight, part);
        self.sent += 1;
        Ok(())
    }
}

fn io_error(path: &str, e: object_store::Error) -> io::Error {
    io::Error::other(format!("{path}: {e}"))
}

impl Write for ObjectWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let part_size = self.archive.parts.of(self.sent);
        if self.part.capacity() == 0 {
            self.part = self.pool.take(part_size);
        }
        let n = buf.len().min(part_size.saturating_sub(self.part.len()));
        self.part.extend_from_slice(&buf[..n]);
        if self.part.len() >= part_size {
            self.send_part()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Parts are sent as they fill; completion happens in `finish`.
        Ok(())
    }
}

impl Drop for ObjectWriter<'_> {
    fn drop(&mut self) {
        if let Some(mut upload) = self.upload.take() {
            // Abandoned (an error upstream): stop the parts in flight and remove any staged
            // parts; nothing was published.
            let _ = self.archive.runtime.block_on(async {
                upload.in_flight.shutdown().await;
                upload.multipart.abort().await
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_stream_range_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let archive = ObjectArchive::open_local(dir.path()).unwrap();
        archive.put_new("A/x.header", b"head".to_vec()).unwrap();
        assert!(archive.put_new("A/x.header", b"again".to_vec()).is_err(), "names are never overwritten");
        assert_eq!(archive.get("A/x.header").unwrap(), b"head");

        let big: Vec<u8> = (0..(20u32 << 20)).map(|i| (i % 251) as u8).collect();
        let mut writer = archive.writer("A/x.body").unwrap();
        // Writes that straddle the parts (1 MiB here).
        for chunk in big.chunks(1_000_003) {
            writer.write_all(chunk).unwrap();
        }
        assert_eq!(archive.size("A/x.body").unwrap(), None, "invisible until finished");
        writer.finish().unwrap();
        assert_eq!(archive.size("A/x.body").unwrap(), Some(big.len() as u64));
        let mut back = Vec::new();
        archive.reader("A/x.body", None).unwrap().read_to_end(&mut back).unwrap();
        assert!(back == big);
        let mut part = Vec::new();
        archive.reader("A/x.body", Some(5..9_000_000)).unwrap().read_to_end(&mut part).unwrap();
        assert!(part[..] == big[5..9_000_000]);

        let mut abandoned = archive.writer("A/y.body").unwrap();
        abandoned.write_all(&big[..100]).unwrap();
        drop(abandoned);
        let names: Vec<String> = archive.list().unwrap().into_iter().map(|(p, _)| p).collect();
        assert_eq!(names, ["A/x.body", "A/x.header"]);
        archive.delete("A/x.header").unwrap();
        archive.delete("A/x.header").unwrap();
        assert!(matches!(archive.reader("A/x.header", None), Err(ArchiveError::Missing(_))));
    }

    #[test]
    fn parts_grow_so_that_ten_thousand_hold_s3s_largest_object() {
        let sizes: Vec<usize> = (0..10_000).map(|i| REMOTE_PARTS.of(i)).collect();
        assert_eq!(
            [sizes[0], sizes[999], sizes[1_000], sizes[2_999], sizes[9_999]],
            [6 << 20, 6 << 20, 12 << 20, 24 << 20, 3 << 30]
        );
        assert!(sizes.iter().all(|size| (5 << 20..=5 << 30).contains(size)), "within S3's part sizes");
        let total: u64 = sizes.iter().map(|&size| size as u64).sum();
        assert!(total >= 5 << 40, "10,000 parts hold {total} bytes, less than 5 TiB");
        let local = PartSizes { first: LOCAL_PART, per_size: usize::MAX };
        assert_eq!(local.of(1_000_000), LOCAL_PART, "a local directory's parts stay small");
        assert_eq!(PartSizes { first: 3, per_size: 1 }.of(usize::MAX), LARGEST_PART, "no overflow");
    }

    #[test]
    fn objects_written_in_growing_parts_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let parts = PartSizes { first: 1 << 20, per_size: 2 };
        let archive = ObjectArchive::open_local(dir.path()).unwrap().with_part_sizes(parts);
        // Parts of 1, 1, 2, 2, 4 MiB and the rest; one part less a byte; nothing.
        for (name, len) in [("A/big.body", (13 << 20) + 5), ("A/small.body", (1 << 20) - 1), ("A/empty.body", 0)] {
            let data: Vec<u8> = (0..len).map(|i: u32| (i % 253) as u8).collect();
            let mut writer = archive.writer(name).unwrap();
            for chunk in data.chunks(777_777) {
                writer.write_all(chunk).unwrap();
            }
            writer.finish().unwrap();
            let mut back = Vec::new();
            archive.reader(name, None).unwrap().read_to_end(&mut back).unwrap();
            assert!(back == data, "{name}: {} bytes back of {len}", back.len());
        }
    }
}
