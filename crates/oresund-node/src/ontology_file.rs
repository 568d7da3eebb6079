//! The node's copy of an ontology release (HPO), read when first needed.
//!
//! Beside the OBO file sits its binary image (`hp.obo.image`), written by `init` and again by the
//! first reader that finds it missing or older than the OBO: loading it instead of parsing HPO's
//! text took a phenotype-filtered command from 58.7 to 25.2 ms (issue #19). The image records the
//! OBO's size and modification time; when they differ, the OBO is parsed and the image rewritten.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::UNIX_EPOCH;

use oresund_core::ontology::Ontology;

use crate::error::NodeError;
use crate::fsutil;
use crate::once::get_or_try_init;

/// Reads an OBO ontology, plain or gzipped.
pub fn load_ontology(path: &Path) -> Result<Ontology, NodeError> {
    let input = oresund_ingest::input::open_maybe_gzipped(path).map_err(|e| NodeError::io(path, e))?;
    Ontology::from_obo(std::io::BufReader::with_capacity(1 << 20, input))
        .map_err(|e| NodeError::Ontology { path: path.to_path_buf(), message: e.to_string() })
}

/// The image file of the OBO file at `obo`.
pub fn image_path(obo: &Path) -> PathBuf {
    let mut name = obo.file_name().unwrap_or_default().to_os_string();
    name.push(".image");
    obo.with_file_name(name)
}

/// Writes the image of `ontology`, parsed from the file at `obo`.
pub fn write_image(obo: &Path, ontology: &Ontology) -> Result<(), NodeError> {
    let mut bytes = source_stamp(obo)?.to_vec();
    bytes.extend_from_slice(&ontology.to_image());
    fsutil::write_atomic(&image_path(obo), &bytes)
}

/// The OBO file's size and modification time (nanoseconds), which an image must match.
fn source_stamp(obo: &Path) -> Result<[u8; 16], NodeError> {
    let meta = std::fs::metadata(obo).map_err(|e| NodeError::io(obo, e))?;
    let modified = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
    let mut stamp = [0u8; 16];
    stamp[..8].copy_from_slice(&meta.len().to_le_bytes());
    stamp[8..].copy_from_slice(&(modified.as_nanos() as u64).to_le_bytes());
    Ok(stamp)
}

/// The ontology from the image of `obo` if there is a current one.
fn read_image(obo: &Path) -> Option<Ontology> {
    let bytes = std::fs::read(image_path(obo)).ok()?;
    let (stamp, image) = bytes.split_at_checked(16)?;
    if stamp != source_stamp(obo).ok()? {
        return None;
    }
    match Ontology::from_image(image) {
        Ok(ontology) => Some(ontology),
        Err(e) => {
            tracing::warn!(path = %image_path(obo).display(), "ontology image not used: {e}");
            None
        }
    }
}

/// The ontology at `obo`: from its image if current, else parsed, writing the image for next time
/// (a node directory this process cannot write to only loses the speed-up).
fn load_with_image(obo: &Path) -> Result<Ontology, NodeError> {
    if let Some(ontology) = read_image(obo) {
        return Ok(ontology);
    }
    let ontology = load_ontology(obo)?;
    if let Err(e) = write_image(obo, &ontology) {
        tracing::debug!("ontology image not written: {e}");
    }
    Ok(ontology)
}

/// An ontology file read on first use. Reading HPO took most of a command's start-up, and most
/// questions (a count without a phenotype filter) never need it (issue #19).
#[derive(Debug, Default)]
pub struct LazyOntology {
    path: Option<PathBuf>,
    parsed: OnceLock<Ontology>,
}

impl LazyOntology {
    /// The ontology at `path` (none when `None`); the file must exist now, and is read later.
    pub fn at(path: Option<PathBuf>) -> Result<Self, NodeError> {
        if let Some(path) = &path {
            std::fs::metadata(path).map_err(|e| NodeError::io(path, e))?;
        }
        Ok(LazyOntology { path, parsed: OnceLock::new() })
    }

    /// The ontology if an earlier use read it.
    pub fn parsed(&self) -> Option<&Ontology> {
        self.parsed.get()
    }

    /// The file's size and modification time (all zero without an ontology): what an index built
    /// with it records, to be found stale when the file changes (`people_image.rs`).
    pub fn stamp(&self) -> Result<[u8; 16], NodeError> {
        self.path.as_deref().map_or(Ok([0; 16]), source_stamp)
    }

    /// The ontology, read now if this is the first use.
    pub fn get(&self) -> Result<Option<&Ontology>, NodeError> {
        let Some(path) = &self.path else { return Ok(None) };
        get_or_try_init(&self.parsed, || load_with_image(path)).map(Some)
    }
}
