//! Small file-system helpers: atomic writes and secret files.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::NodeError;

/// Writes `bytes` to `path` so that readers see the old or the new content, never a mix:
/// write a temporary file beside it, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    write_atomic_mode(path, bytes, 0o644)
}

/// [`write_atomic`] for secrets: the file is created with mode 0600.
pub fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    write_atomic_mode(path, bytes, 0o600)
}

fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), NodeError> {
    let io = |e| NodeError::io(path, e);
    // A bare file name's parent is "" (the current directory), which cannot be opened to sync.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // The process id keeps two processes writing the same file from writing into one temporary.
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&tmp).map_err(io)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

/// Key files are a few hundred bytes; anything larger is not one (and `/dev/urandom` never ends).
pub const KEY_FILE_LIMIT: u64 = 64 * 1024;

/// Reads a key file as text, refusing one larger than [`KEY_FILE_LIMIT`] without reading it all.
pub fn read_key_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    File::open(path)?.take(KEY_FILE_LIMIT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > KEY_FILE_LIMIT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not a key file: larger than {} KiB", KEY_FILE_LIMIT / 1024),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not a key file: not text (expected PEM)"))
}

/// Creates a directory readable only by its owner (for keys).
pub fn create_private_dir(path: &Path) -> Result<(), NodeError> {
    std::fs::create_dir_all(path).map_err(|e| NodeError::io(path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(|e| NodeError::io(path, e))
}
