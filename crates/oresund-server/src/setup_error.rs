//! Why a server could not be set up (before it answers anything): the operator's to fix.

use oresund_node::config_error::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the audit journal: {0}")]
    AuditJournal(#[from] oresund_store::StoreError),
}
