//! An open node: configuration, store, reference and ontology, with the cohort index kept in step
//! with the catalog.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use oresund_core::ontology::Ontology;
use oresund_core::pseudonym::Pseudonymiser;
use oresund_ingest::reference::ReferenceDir;
use oresund_store::{FileNumber, NodeStore};

use crate::cohort::{CohortFilter, CohortIndex, PreparedFilter};
use crate::config::NodeConfig;
use crate::error::NodeError;
use crate::layout::Layout;
use crate::once::get_or_try_init;
use crate::ontology_file::LazyOntology;
use crate::people_index::PeopleIndex;

/// How long a cohort index is trusted before the catalog generation is checked again.
const REFRESH_INTERVAL: Duration = Duration::from_millis(250);
/// Distinct prepared filters kept; the cache is emptied when full (filters are cheap to rebuild).
const FILTER_CACHE: usize = 1024;

/// A file's haploid set: (file, set id).
type HaploidSetKey = (FileNumber, u32);

pub struct Node {
    pub(crate) layout: Layout,
    pub config: NodeConfig,
    pub(crate) store: Box<dyn NodeStore>,
    pub(crate) reference: ReferenceDir,
    pub(crate) hpo: LazyOntology,
    cohort: RwLock<(Arc<CohortIndex>, Instant)>,
    /// Serialises rebuilds so concurrent readers do not all rebuild at once.
    rebuild: Mutex<()>,
    haploid_sets: RwLock<HashMap<HaploidSetKey, Arc<Vec<u32>>>>,
    filters: RwLock<HashMap<CohortFilter, Arc<PreparedFilter>>>,
    /// The pseudonymisation key, read once when first needed by a server (see `scrub`).
    pseudonymiser: std::sync::OnceLock<Pseudonymiser>,
    /// The matchmaking model, built when first needed (see `matchmaking`).
    pub(crate) matchmaker: std::sync::OnceLock<crate::matchmaking::model::Matchmaker>,
    /// The audit journal, once a server has taken it (see `audit_journal`).
    pub(crate) audit_journal: std::sync::OnceLock<crate::audit_journal::AuditJournal>,
    /// Threads a region count uses (`[query] region_threads`, 0: one per core; see `count_region`).
    pub(crate) region_threads: usize,
}

impl Node {
    /// Opens the node in `dir`.
    pub fn open(dir: &Path) -> Result<Self, NodeError> {
        let layout = Layout::new(dir);
        if !layout.config().exists() {
            return Err(NodeError::NotANode(dir.to_path_buf()));
        }
        let config = NodeConfig::load(dir)?;
        let store = crate::backend::open_store(&layout, &config)?;
        let reference = ReferenceDir::open(&layout.reference())?;
        let hpo = LazyOntology::at(config.ontology.hpo.as_ref().map(|p| dir.join(p)))?;
        let index = build_index(store.as_ref())?;
        let region_threads = config.query.region_threads;
        Ok(Node {
            layout,
            config,
            store,
            reference,
            hpo,
            cohort: RwLock::new((Arc::new(index), Instant::now())),
            rebuild: Mutex::new(()),
            haploid_sets: RwLock::new(HashMap::new()),
            filters: RwLock::new(HashMap::new()),
            pseudonymiser: std::sync::OnceLock::new(),
            matchmaker: std::sync::OnceLock::new(),
            audit_journal: std::sync::OnceLock::new(),
            region_threads,
        })
    }

    /// Sets the threads a region count uses, over `[query] region_threads` and as it reads: 0 one
    /// per core, 1 the calling thread only, at most [`crate::config::MAX_REGION_THREADS`].
    pub fn set_region_threads(&mut self, threads: usize) {
        self.region_threads = threads.min(crate::config::MAX_REGION_THREADS);
    }

    /// Ends a one-shot command: the store closes as usual (SQLite checkpoints and removes its
    /// WAL), while the indexes read for the question are left for the process exit to release —
    /// freeing them one by one took 6 of the 24 ms of a phenotype-filtered `query` (issue #19).
    pub fn close_leaving_caches(self) {
        let Node { store, cohort, hpo, filters, .. } = self;
        drop(store);
        std::mem::forget((cohort, hpo, filters));
    }

    /// The raw store, for measuring it (`examples/query_latency.rs`). The server and the CLI use
    /// the node's API (`records.rs`, `query.rs`, `dac.rs`, ...), never this.
    pub fn store(&self) -> &dyn NodeStore {
        self.store.as_ref()
    }

    /// Whether the catalog is the embedded SQLite store. Its reads never enter an async runtime
    /// (PostgreSQL's client blocks on one of its own), so a server may make a short one on the
    /// thread that answers the request.
    pub fn catalog_is_embedded(&self) -> bool {
        self.config.catalog.url.is_none()
    }

    pub fn reference(&self) -> &ReferenceDir {
        &self.reference
    }

    /// The node's HPO release, parsed when first asked for (`serve` asks at start).
    pub fn hpo(&self) -> Result<Option<&Ontology>, NodeError> {
        self.hpo.get()
    }

    pub fn dir(&self) -> &Path {
        self.layout.root()
    }

    pub(crate) fn pseudonymiser(&self) -> Result<Pseudonymiser, NodeError> {
        let path = self.layout.pseudonym_key();
        let secret = std::fs::read(&path).map_err(|e| NodeError::io(&path, e))?;
        Pseudonymiser::new(&secret).ok_or_else(|| NodeError::Config {
            path,
            message: "the pseudonymisation key is shorter than 32 bytes".into(),
        })
    }

    /// The pseudonymisation key, read from its file once.
    pub(crate) fn cached_pseudonymiser(&self) -> Result<&Pseudonymiser, NodeError> {
        get_or_try_init(&self.pseudonymiser, || self.pseudonymiser())
    }

    /// The cohort index for the current catalog, rebuilt when an ingest has committed since.
    pub fn cohort(&self) -> Result<Arc<CohortIndex>, NodeError> {
        {
            let guard = self.cohort.read().map_err(|_| poisoned())?;
            if guard.1.elapsed() < REFRESH_INTERVAL {
                return Ok(guard.0.clone());
            }
        }
        let _rebuilding = self.rebuild.lock().map_err(|_| poisoned())?;
        // Another reader may have refreshed while this one waited for the lock.
        {
            let guard = self.cohort.read().map_err(|_| poisoned())?;
            if guard.1.elapsed() < REFRESH_INTERVAL {
                return Ok(guard.0.clone());
            }
        }
        self.refresh_locked()
    }

    /// Checks the catalog generation now and rebuilds the cohort index if it moved.
    pub fn refresh_cohort(&self) -> Result<Arc<CohortIndex>, NodeError> {
        let _rebuilding = self.rebuild.lock().map_err(|_| poisoned())?;
        self.refresh_locked()
    }

    /// [`Node::refresh_cohort`] with the rebuild lock held.
    fn refresh_locked(&self) -> Result<Arc<CohortIndex>, NodeError> {
        let generation = self.store.generation()?;
        let current = self.cohort.read().map_err(|_| poisoned())?.0.clone();
        let index =
            if current.generation == generation { current } else { Arc::new(build_index(self.store.as_ref())?) };
        *self.cohort.write().map_err(|_| poisoned())? = (index.clone(), Instant::now());
        Ok(index)
    }

    /// The individuals of `cohort` (one of this node's indexes), read from the catalog when
    /// first needed.
    pub fn people<'a>(&self, cohort: &'a CohortIndex) -> Result<&'a PeopleIndex, NodeError> {
        Ok(cohort.people(|| self.store.individuals())?)
    }

    pub(crate) fn filter_cache_get(&self, filter: &CohortFilter, generation: u64) -> Option<Arc<PreparedFilter>> {
        let cache = self.filters.read().ok()?;
        cache.get(filter).filter(|p| p.generation == generation).cloned()
    }

    pub(crate) fn filter_cache_put(&self, filter: &CohortFilter, prepared: Arc<PreparedFilter>) {
        if let Ok(mut cache) = self.filters.write() {
            if cache.len() >= FILTER_CACHE {
                cache.clear();
            }
            cache.insert(filter.clone(), prepared);
        }
    }

    /// The sample columns with haploid calls for a haploid-set id of a file (cached; sets never change).
    pub(crate) fn haploid_set(&self, file: FileNumber, set: u32) -> Result<Arc<Vec<u32>>, NodeError> {
        if let Some(found) = self.haploid_sets.read().map_err(|_| poisoned())?.get(&(file, set)) {
            return Ok(found.clone());
        }
        let loaded = Arc::new(self.store.haploid_set(file, set)?);
        self.haploid_sets.write().map_err(|_| poisoned())?.insert((file, set), loaded.clone());
        Ok(loaded)
    }
}

fn build_index(store: &dyn NodeStore) -> Result<CohortIndex, NodeError> {
    // Read the generation first: a commit racing with this read makes the next check rebuild again.
    let generation = store.generation()?;
    Ok(CohortIndex::build(generation, store.files()?))
}

fn poisoned() -> NodeError {
    NodeError::Poisoned
}
