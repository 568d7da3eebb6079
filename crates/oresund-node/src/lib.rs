//! An Øresund node as a library: `init` a directory, `ingest` cohorts into it, ask it for allele
//! counts under cohort filters, and run its data access committee. The CLI and the HTTP server
//! are thin layers over this.

pub mod access;
pub mod archive;
pub mod association;
pub mod audit_head;
pub mod audit_journal;
pub mod backend;
pub mod catalog;
pub mod clock;
pub mod cohort;
pub mod cohort_filter;
pub mod config;
pub mod config_error;
pub mod dac;
pub mod delivery;
pub mod diseases;
pub mod erasure;
pub mod error;
pub mod filter_preparation;
pub mod fsutil;
pub mod genotype_agreement;
pub mod http_url;
pub mod ingest;
pub mod init;
pub mod key_id;
pub mod keys;
pub mod layout;
pub mod matchmaking;
pub mod node;
pub(crate) mod once;
pub mod ontology_file;
pub mod passphrase;
pub mod people_image;
pub mod people_index;
pub mod phenotype_index;
pub mod query;
pub mod records;
pub mod region_count;
pub mod report;
pub mod scrub;
pub mod signing_keys;
pub mod stored_variants;
pub mod subject_report;
pub mod writer_lock;

pub use cohort::{CohortFilter, TermFilter};
pub use error::NodeError;
pub use node::Node;
