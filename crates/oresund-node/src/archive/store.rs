//! The archive's object store, behind a synchronous API.
//!
//! Everything goes through `object_store` on an `Arc<dyn ObjectStore>` and object paths, so the
//! same code serves a local directory and an S3 bucket ([`ObjectArchive::open_s3`], see `s3.rs`).
//! `object_store` is async; the node library is synchronous, so each [`ObjectArchive`] owns a
//! small current-thread tokio runtime and blocks on it. Large objects stream both ways in chunks,
//! in constant memory: uploads of more than one part (8 MiB on S3, 1 MiB on a local directory)
//! become multipart uploads, reads are ranged GETs of 4 MiB.
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
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use tokio::io::AsyncWriteExt;
use tokio::runtime::Runtime;

use crate::archive::error::ArchiveError;
use crate::archive::location::S3Location;
use crate::archive::part_pool::PartPool;
use crate::archive::s3::{self, S3Credentials, SharedS3};

/// Bytes fetched per ranged read when streaming an object.
const READ_CHUNK: u64 = 4 << 20;
/// Bytes fetched per ranged read when serving an object to a client: smaller, as a server streams
/// many at once and memory is held per stream.
pub const SERVE_CHUNK: u64 = 1 << 20;
/// Bytes buffered before a streaming upload switches to multipart (each part this size), for S3
/// (whose parts must be at least 5 MiB, all but the last) and any other store.
const REMOTE_PART: usize = 8 << 20;
/// The same for a local directory, where a part is one positioned write into the staged file. With
/// two parts in flight and one filling, 8 MiB parts held 24 MiB while `ingest` archived a large
/// VCF: the peak of the whole ingest at 20,000 samples (BENCHMARKS.md, "Ingest: time and memory").
const LOCAL_PART: usize = 1 << 20;

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
        })
    }

    /// An archive over any object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Result<Self, ArchiveError> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(ArchiveError::Runtime)?;
        Ok(ObjectArchive { store, runtime: OwnRuntime(Some(runtime)), local_dir: None, s3: None })
    }

    /// Bytes of one part of a streaming upload.
    fn part_size(&self) -> usize {
        if self.local_dir.is_some() { LOCAL_PART } else { REMOTE_PART }
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
        let location = object_path(path)?;
        let upload = BufWriter::with_capacity(self.store.clone(), location, self.part_size()).with_max_concurrency(2);
        Ok(ObjectWriter {
            archive: self,
            path: path.to_string(),
            upload: Some(upload),
            part: Vec::new(),
            pool: PartPool::new(self.part_size()),
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
    upload: Option<BufWriter>,
    /// Bytes gathered into one whole part before they go to the upload, in a buffer of `pool`
    /// (see [`PartPool`] for why).
    part: Vec<u8>,
    pool: PartPool,
}

impl ObjectWriter<'_> {
    /// Completes the upload: the object becomes visible (and, locally, durable) at once.
    pub fn finish(mut self) -> Result<(), ArchiveError> {
        if let Err(error) = self.send_part() {
            return Err(ArchiveError::ObjectIo { path: self.path.clone(), error });
        }
        let mut upload = self.upload.take().ok_or_else(|| ArchiveError::Invalid("upload already finished".into()))?;
        self.archive
            .runtime
            .block_on(upload.shutdown())
            .map_err(|error| ArchiveError::ObjectIo { path: self.path.clone(), error })
    }

    /// Hands the gathered bytes to the upload.
    fn send_part(&mut self) -> io::Result<()> {
        if self.part.is_empty() {
            return Ok(());
        }
        let upload = self.upload.as_mut().ok_or_else(|| io::Error::other("upload already finished"))?;
        let part = self.pool.send(std::mem::take(&mut self.part));
        self.archive.runtime.block_on(upload.put(part)).map_err(|e| io::Error::other(format!("{}: {e}", self.path)))
    }
}

impl Write for ObjectWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.part.capacity() == 0 {
            self.part = self.pool.take();
        }
        let part_size = self.archive.part_size();
        let n = buf.len().min(part_size - self.part.len());
        self.part.extend_from_slice(&buf[..n]);
        if self.part.len() == part_size {
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
            // Abandoned (an error upstream): remove any staged parts; nothing was published.
            let _ = self.archive.runtime.block_on(upload.abort());
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
}
