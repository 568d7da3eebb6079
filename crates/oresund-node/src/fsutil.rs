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
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&tmp).map_err(io)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

/// Creates a directory readable only by its owner (for keys).
pub fn create_private_dir(path: &Path) -> Result<(), NodeError> {
    std::fs::create_dir_all(path).map_err(|e| NodeError::io(path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(|e| NodeError::io(path, e))
}
