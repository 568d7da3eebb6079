//! The node's copy of an ontology release (HPO), read from its OBO file.

use std::path::Path;

use oresund_core::ontology::Ontology;

use crate::error::NodeError;

/// Reads an OBO ontology, plain or gzipped.
pub fn load_ontology(path: &Path) -> Result<Ontology, NodeError> {
    let input = oresund_ingest::input::open_maybe_gzipped(path).map_err(|e| NodeError::io(path, e))?;
    Ontology::from_obo(std::io::BufReader::with_capacity(1 << 20, input))
        .map_err(|e| NodeError::Ontology { path: path.to_path_buf(), message: e.to_string() })
}
