//! `oresund init`: a new node directory with its reference, ontology, secrets (pseudonymisation
//! key, archive key pair, visa signing key) and empty store.

use std::path::{Path, PathBuf};

use oresund_ingest::reference::ReferenceDir;

use crate::config::{NodeConfig, OntologyConfig, ReferenceConfig};
use crate::error::NodeError;
use crate::fsutil;
use crate::keys::{self, KeyFiles};
use crate::layout::Layout;
use crate::ontology_file::{load_ontology, write_image};

/// What `init` needs to know.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub node_id: String,
    pub country: String,
    pub assembly: String,
    pub reference: PathBuf,
    pub hpo: Option<PathBuf>,
}

/// Where a new node keeps its catalog and archive; the default is embedded, in the node directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageOptions {
    /// `postgres://…` (no password: see [`crate::catalog`]) for a PostgreSQL catalog.
    pub catalog: Option<String>,
    /// A directory or `s3://BUCKET[/PREFIX]?endpoint=…` (see [`crate::archive::location`]).
    pub archive: Option<String>,
}

/// Creates a node in `dir`, which must not exist or be empty. On failure nothing is left behind.
pub fn init(dir: &Path, options: &InitOptions, progress: impl FnMut(u64)) -> Result<NodeConfig, NodeError> {
    init_with_storage(dir, options, &StorageOptions::default(), progress)
}

/// [`init`] with the catalog and archive in `storage`. A PostgreSQL catalog must be empty and an
/// S3 archive location hold no objects; both are checked before anything else is done.
pub fn init_with_storage(
    dir: &Path,
    options: &InitOptions,
    storage: &StorageOptions,
    progress: impl FnMut(u64),
) -> Result<NodeConfig, NodeError> {
    let layout = Layout::new(dir);
    if layout.config().exists() {
        return Err(NodeError::AlreadyANode(dir.to_path_buf()));
    }
    let existed = dir.exists();
    if existed && std::fs::read_dir(dir).map_err(|e| NodeError::io(dir, e))?.next().is_some() {
        return Err(NodeError::DirectoryNotEmpty(dir.to_path_buf()));
    }
    let result = create(&layout, options, storage, progress);
    if result.is_err() {
        // Leave no half-made node: remove what this call created.
        if existed {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let _ = std::fs::remove_dir_all(entry.path()).or_else(|_| std::fs::remove_file(entry.path()));
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    result
}

fn create(
    layout: &Layout,
    options: &InitOptions,
    storage: &StorageOptions,
    progress: impl FnMut(u64),
) -> Result<NodeConfig, NodeError> {
    let mut config = NodeConfig {
        node_id: options.node_id.clone(),
        country: options.country.to_ascii_uppercase(),
        assembly: options.assembly.clone(),
        reference: ReferenceConfig {
            source: options.reference.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        },
        ontology: OntologyConfig::default(),
        beacon: Default::default(),
        server: Default::default(),
        network: Default::default(),
        archive: Default::default(),
        catalog: Default::default(),
        access: Default::default(),
        economy: Default::default(),
        mme: Default::default(),
        query: Default::default(),
    };
    config.catalog.url = storage.catalog.clone();
    if let Some(archive) = &storage.archive {
        config.archive.location = archive.clone();
    }
    config.validate().map_err(NodeError::InvalidConfig)?;
    std::fs::create_dir_all(layout.root()).map_err(|e| NodeError::io(layout.root(), e))?;
    // The servers first: a wrong URL or missing password fails before the slow reference import.
    crate::backend::create_store(layout, &config)?;
    crate::backend::create_archive(layout.root(), &config.archive)?;
    ReferenceDir::import(&options.reference, &layout.reference(), progress)?;
    if let Some(hpo) = &options.hpo {
        // Parse before copying: a node must not start with an ontology it cannot read.
        let ontology = load_ontology(hpo)?;
        if ontology.is_empty() {
            return Err(NodeError::Ontology { path: hpo.clone(), message: "no [Term] stanzas found".into() });
        }
        std::fs::create_dir_all(layout.ontology()).map_err(|e| NodeError::io(&layout.ontology(), e))?;
        // Kept uncompressed: a command that filters by phenotype reads it on every start, and
        // inflating HPO took a fifth of that (issue #19).
        let name = hpo.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "hp.obo".into());
        let name = name.strip_suffix(".gz").unwrap_or(&name).to_string();
        let target = layout.ontology().join(&name);
        let mut input = oresund_ingest::input::open_maybe_gzipped(hpo).map_err(|e| NodeError::io(hpo, e))?;
        let mut output = std::fs::File::create(&target).map_err(|e| NodeError::io(&target, e))?;
        std::io::copy(&mut input, &mut output).map_err(|e| NodeError::io(&target, e))?;
        drop(output);
        write_image(&target, &ontology)?;
        config.ontology.hpo = Some(format!("ontology/{name}"));
    }
    fsutil::create_private_dir(&layout.secrets())?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| NodeError::NoRandomness(e.to_string()))?;
    fsutil::write_secret(&layout.pseudonym_key(), &secret)?;
    // The archive key pair: sealed with scrypt if ORESUND_KEY_PASSPHRASE is set, else protected
    // by its mode in the 0700 secrets directory (see `archive_config`).
    let passphrase = keys::passphrase_from_env();
    keys::create_node_key(&KeyFiles::of(layout.root(), &config.archive), passphrase.as_deref().map(|p| &p[..]))?;
    // The key that signs the visas the data access committee issues (0600, never served).
    crate::signing_keys::create(layout)?;
    config.save(layout.root())?;
    Ok(config)
}
