//! The node's copy of an ontology release (HPO), read from its OBO file when first needed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use oresund_core::ontology::Ontology;

use crate::error::NodeError;
use crate::once::get_or_try_init;

/// Reads an OBO ontology, plain or gzipped.
pub fn load_ontology(path: &Path) -> Result<Ontology, NodeError> {
    let input = oresund_ingest::input::open_maybe_gzipped(path).map_err(|e| NodeError::io(path, e))?;
    Ontology::from_obo(std::io::BufReader::with_capacity(1 << 20, input))
        .map_err(|e| NodeError::Ontology { path: path.to_path_buf(), message: e.to_string() })
}

/// An ontology file parsed on first use. Parsing HPO takes most of a command's start-up, and most
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

    /// The ontology if an earlier use parsed it.
    pub fn parsed(&self) -> Option<&Ontology> {
        self.parsed.get()
    }

    /// The parsed ontology, read now if this is the first use.
    pub fn get(&self) -> Result<Option<&Ontology>, NodeError> {
        let Some(path) = &self.path else { return Ok(None) };
        get_or_try_init(&self.parsed, || load_ontology(path)).map(Some)
    }
}
