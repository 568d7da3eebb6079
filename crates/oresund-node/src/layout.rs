//! Where things live inside a node directory.
//!
//! ```text
//! NODE_DIR/
//!   oresund.toml        configuration (written last by `init`: its presence means the node is whole)
//!   node.db             catalog and variant index (SQLite, WAL)
//!   access.db           access requests, grants, audit log, budgets (SQLite, WAL)
//!   reference/          the imported reference: contigs.tsv + one raw sequence file per contig
//!   ontology/           the HPO release the node resolves phenotype terms with (hp.obo), and its
//!                       binary image (hp.obo.image, rebuilt from the OBO whenever it is stale)
//!   secrets/            0700: pseudonymisation key, archive key pair (archive.sec 0600, archive.pub),
//!                       visa signing key (signing.jwk 0600) and retired public keys (signing-retired.json)
//!   archive/            encrypted originals: Crypt4GH headers and bodies as separate objects
//!   people.image        0600: who has which sex and phenotype term, by individual number, for
//!                       one catalog generation (people_image.rs; rebuilt when stale)
//!   ingest.lock         held while an ingest runs
//!   audit-journal/      audit records written before their answers left, not yet in the chain
//! ```

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> PathBuf {
        self.root.join(crate::config::CONFIG_FILE)
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("node.db")
    }

    pub fn reference(&self) -> PathBuf {
        self.root.join("reference")
    }

    pub fn ontology(&self) -> PathBuf {
        self.root.join("ontology")
    }

    pub fn secrets(&self) -> PathBuf {
        self.root.join("secrets")
    }

    pub fn pseudonym_key(&self) -> PathBuf {
        self.secrets().join("pseudonym.key")
    }

    /// The node's current visa signing key (a private EC P-256 JWK).
    pub fn signing_key(&self) -> PathBuf {
        self.secrets().join("signing.jwk")
    }

    /// Public keys of earlier signing keys, published until the last visa they signed expires.
    pub fn retired_signing_keys(&self) -> PathBuf {
        self.secrets().join("signing-retired.json")
    }

    pub fn audit_journal(&self) -> PathBuf {
        self.root.join("audit-journal")
    }

    pub fn people_image(&self) -> PathBuf {
        self.root.join("people.image")
    }

    pub fn ingest_lock(&self) -> PathBuf {
        self.root.join("ingest.lock")
    }
}
