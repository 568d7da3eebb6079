//! Which HTTP status each error of the node gets, decided here once by its kind — never by its
//! text. Every match lists every variant: a new kind of error does not compile until it is given
//! a status.
//!
//! | whose fault | status |
//! |---|---|
//! | the caller's (the question does not fit the data) | 400, with what to fix |
//! | nothing there | 404 |
//! | in use, already exists | 409 |
//! | the node's (damage, bugs, its operator's set-up) | 500, generic message + request id |
//! | a service the node depends on (catalog unreachable, pool exhausted, writer busy) | 503, likewise |
//! | a credential refused | 401 (a grant the node could not look up: 500/503 as above) |

use axum::http::StatusCode;
use oresund_access::authenticator::AuthError;
use oresund_access::passport::{GrantLookupError, KeysError, PassportError};
use oresund_node::NodeError;
use oresund_node::archive::error::ArchiveError;
use oresund_node::delivery::DeliveryError;
use oresund_node::erasure::error::ErasureError;
use oresund_store::StoreError;

use crate::error::BeaconError;

/// The status of a node error.
pub fn node_status(error: &NodeError) -> StatusCode {
    match error {
        NodeError::UnknownContig { .. }
        | NodeError::RegionBeyondContig { .. }
        | NodeError::Normalise(_)
        | NodeError::VariantId(_)
        | NodeError::Filter(_)
        | NodeError::DatasetId(_)
        | NodeError::CommandLineUrl(_) => StatusCode::BAD_REQUEST,
        NodeError::AlreadyANode(_)
        | NodeError::DirectoryNotEmpty(_)
        | NodeError::CatalogInUse(_)
        | NodeError::ArchiveInUse { .. } => StatusCode::CONFLICT,
        NodeError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        NodeError::Store(e) => store_status(e),
        NodeError::Archive(e) => archive_status(e),
        NodeError::Erasure(e) => erasure_status(e),
        // The operator's files and set-up: nothing a caller can fix.
        NodeError::Io { .. }
        | NodeError::Config { .. }
        | NodeError::InvalidConfig(_)
        | NodeError::BadConfig { .. }
        | NodeError::NotANode(_)
        | NodeError::Reference(_)
        | NodeError::Vcf(_)
        | NodeError::Bcf { .. }
        | NodeError::Individuals { .. }
        | NodeError::Ontology { .. }
        | NodeError::Damaged(_)
        | NodeError::Poisoned
        | NodeError::NoRandomness(_)
        | NodeError::SigningKey(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status of a withdrawal's or removal's error (operator actions; no route answers them yet).
pub fn erasure_status(error: &ErasureError) -> StatusCode {
    match error {
        ErasureError::UnknownPerson(_)
        | ErasureError::NotInDataset(_)
        | ErasureError::UnknownFile(_)
        | ErasureError::UnknownDataset(_) => StatusCode::NOT_FOUND,
        ErasureError::NoReason => StatusCode::BAD_REQUEST,
        ErasureError::Withdrawn { .. } => StatusCode::CONFLICT,
        ErasureError::ColumnMismatch { .. } | ErasureError::Rewrite { .. } | ErasureError::Crashed(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The status of a storage error: the catalog out of reach or busy is a 503 (try again later).
pub fn store_status(error: &StoreError) -> StatusCode {
    match error {
        StoreError::Connect { .. } | StoreError::PoolExhausted { .. } | StoreError::Busy(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        StoreError::Conflict(_) => StatusCode::CONFLICT,
        StoreError::Sqlite(_)
        | StoreError::Value(_)
        | StoreError::Postgres(_)
        | StoreError::Corrupt(_)
        | StoreError::TooNew { .. }
        | StoreError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status of an archive error: the object store out of reach is a 503.
pub fn archive_status(error: &ArchiveError) -> StatusCode {
    match error {
        ArchiveError::ObjectStore { .. } => StatusCode::SERVICE_UNAVAILABLE,
        ArchiveError::NotFound(_) => StatusCode::NOT_FOUND,
        ArchiveError::Region(_) => StatusCode::BAD_REQUEST,
        ArchiveError::ChangedDuringIngest { .. } => StatusCode::CONFLICT,
        ArchiveError::ObjectIo { .. }
        | ArchiveError::Missing(_)
        | ArchiveError::Io { .. }
        | ArchiveError::Crypt4gh { .. }
        | ArchiveError::KeyFile { .. }
        | ArchiveError::KeyMissing(_)
        | ArchiveError::PassphraseRequired(_)
        | ArchiveError::WrongPassphrase(_)
        | ArchiveError::UnknownKey { .. }
        | ArchiveError::Export { .. }
        | ArchiveError::BlockIndex { .. }
        | ArchiveError::Location(_)
        | ArchiveError::Invalid(_)
        | ArchiveError::Runtime(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status of a delivery error (htsget, DRS, data URLs).
pub fn delivery_status(error: &DeliveryError) -> StatusCode {
    match error {
        DeliveryError::NotFound(_) | DeliveryError::UnknownContig { .. } => StatusCode::NOT_FOUND,
        DeliveryError::NotIndexed(_) => StatusCode::BAD_REQUEST,
        DeliveryError::Archive(e) => archive_status(e),
        DeliveryError::Store(e) => store_status(e),
        DeliveryError::NoHeader
        | DeliveryError::Samples { .. }
        | DeliveryError::Damaged(_)
        | DeliveryError::OutOfFile(_)
        | DeliveryError::Block(_)
        | DeliveryError::Crypt4gh(_)
        | DeliveryError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status of a refused credential: 401, unless the node could not check it.
pub fn auth_status(error: &AuthError) -> StatusCode {
    match error {
        AuthError::UnknownToken | AuthError::Malformed => StatusCode::UNAUTHORIZED,
        AuthError::Passport(e) => passport_status(e),
    }
}

fn passport_status(error: &PassportError) -> StatusCode {
    match error {
        PassportError::GrantCheck { error: GrantLookupError::Unavailable(_), .. } => StatusCode::SERVICE_UNAVAILABLE,
        PassportError::GrantCheck { error: GrantLookupError::Failed(_), .. }
        | PassportError::Keys { error: KeysError::Own(_), .. } => StatusCode::INTERNAL_SERVER_ERROR,
        // An issuer's key set that cannot be fetched is the passport's issuer's problem, refused
        // (and remembered for jwks_failure_ttl_s) like an untrusted one.
        PassportError::Keys { error: KeysError::Fetch(_) | KeysError::Untrusted(_), .. }
        | PassportError::Token(_)
        | PassportError::UntrustedIssuer { .. }
        | PassportError::UntrustedJku { .. }
        | PassportError::Claims { .. }
        | PassportError::Signature { .. }
        | PassportError::TooManyVisas(_)
        | PassportError::UnknownGrant { .. }
        | PassportError::OtherHolder { .. } => StatusCode::UNAUTHORIZED,
    }
}

/// A 4xx carries the error's message (it says what to fix); a 5xx a generic one, the cause logged.
fn beacon_error(status: StatusCode, cause: impl std::fmt::Display) -> BeaconError {
    if status.is_client_error() {
        BeaconError::new(status, cause.to_string())
    } else {
        BeaconError::node_fault(status, cause)
    }
}

impl From<NodeError> for BeaconError {
    fn from(error: NodeError) -> Self {
        beacon_error(node_status(&error), error)
    }
}

impl From<AuthError> for BeaconError {
    fn from(error: AuthError) -> Self {
        beacon_error(auth_status(&error), error)
    }
}

impl From<StoreError> for BeaconError {
    fn from(error: StoreError) -> Self {
        beacon_error(store_status(&error), error)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use axum::http::StatusCode;
    use oresund_core::variant::Variant;
    use oresund_ingest::bcf::BcfError;
    use oresund_ingest::individuals::IndividualsError;
    use oresund_ingest::normalize::NormaliseError;
    use oresund_ingest::reference::ReferenceError;
    use oresund_ingest::vcf::reader::VcfError;
    use oresund_node::NodeError;
    use oresund_node::archive::error::ArchiveError;
    use oresund_node::archive::index::IndexError;
    use oresund_node::archive::location::LocationError;
    use oresund_node::cohort::FilterError;
    use oresund_node::config_error::ConfigError;
    use oresund_store::StoreError;

    use oresund_access::authenticator::AuthError;
    use oresund_access::passport::{GrantLookupError, KeysError, PassportError};

    use super::{archive_status, auth_status, node_status, store_status};

    const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;
    const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;
    const CONFLICT: StatusCode = StatusCode::CONFLICT;
    const INTERNAL: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;
    const UNAVAILABLE: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

    fn path() -> PathBuf {
        PathBuf::from("/node/x")
    }

    fn io() -> std::io::Error {
        std::io::Error::other("disk")
    }

    /// A real client error: connecting through a socket directory that does not exist.
    fn postgres_error() -> postgres::Error {
        match postgres::Client::connect("host=/nonexistent-oresund-test port=1 user=x", postgres::NoTls) {
            Ok(_) => panic!("connected to a socket that does not exist"),
            Err(e) => e,
        }
    }

    fn stores() -> Vec<(StoreError, StatusCode)> {
        vec![
            (StoreError::Connect { target: "postgresql://db/x".into(), source: postgres_error() }, UNAVAILABLE),
            (StoreError::PoolExhausted { size: 4, waited_s: 30 }, UNAVAILABLE),
            (StoreError::Busy("ingest running".into()), UNAVAILABLE),
            (StoreError::Conflict("already decided".into()), CONFLICT),
            (StoreError::Corrupt("bad block".into()), INTERNAL),
            (StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows), INTERNAL),
            (StoreError::Value(rusqlite::types::FromSqlError::InvalidType), INTERNAL),
            (StoreError::Postgres(postgres_error()), INTERNAL),
            (StoreError::Io(io()), INTERNAL),
            (StoreError::TooNew { found: 9, known: 3 }, INTERNAL),
        ]
    }

    fn archives() -> Vec<(ArchiveError, StatusCode)> {
        let unreachable = object_store::Error::Generic { store: "S3", source: "connection refused".into() };
        let c4gh = || oresund_c4gh::Error::Io(io());
        vec![
            (ArchiveError::ObjectStore { path: "a".into(), source: Box::new(unreachable) }, UNAVAILABLE),
            (ArchiveError::NotFound("EGAF1".into()), NOT_FOUND),
            (ArchiveError::Region("EGAF1: no index".into()), BAD_REQUEST),
            (ArchiveError::ChangedDuringIngest { path: path() }, CONFLICT),
            (ArchiveError::ObjectIo { path: "a".into(), error: io() }, INTERNAL),
            (ArchiveError::Missing("a".into()), INTERNAL),
            (ArchiveError::Io { path: path(), error: io() }, INTERNAL),
            (ArchiveError::Crypt4gh { accession: "EGAF1".into(), source: c4gh() }, INTERNAL),
            (ArchiveError::KeyFile { path: path(), source: c4gh() }, INTERNAL),
            (ArchiveError::KeyMissing(path()), INTERNAL),
            (ArchiveError::PassphraseRequired(path()), INTERNAL),
            (ArchiveError::WrongPassphrase(path()), INTERNAL),
            (ArchiveError::UnknownKey { accession: "EGAF1".into(), key_id: "k".into() }, INTERNAL),
            (ArchiveError::Export { accession: "EGAF1".into(), error: io() }, INTERNAL),
            (ArchiveError::Location(LocationError::Scheme("gs://b".into())), INTERNAL),
            (ArchiveError::BlockIndex { accession: "EGAF1".into(), error: IndexError::NotAnIndex }, INTERNAL),
            (ArchiveError::Invalid("upload already finished".into()), INTERNAL),
            (ArchiveError::Runtime(io()), INTERNAL),
        ]
    }

    fn nodes() -> Vec<(NodeError, StatusCode)> {
        let variant_id = "22-x".parse::<Variant>().expect_err("not a variant");
        let mut table = vec![
            // The caller's fault.
            (NodeError::UnknownContig { name: "chrZ".into(), known: "22".into() }, BAD_REQUEST),
            (NodeError::RegionBeyondContig { region: "22:9-10".into(), contig: "22".into(), length: 8 }, BAD_REQUEST),
            (NodeError::Normalise(NormaliseError::NonAcgtnReference("X".into())), BAD_REQUEST),
            (NodeError::VariantId(variant_id), BAD_REQUEST),
            (NodeError::Filter(FilterError::UnknownTerm("HP:9".into())), BAD_REQUEST),
            (NodeError::Filter(FilterError::UnknownDataset("NO".into())), BAD_REQUEST),
            (NodeError::DatasetId("-".into()), BAD_REQUEST),
            (NodeError::CommandLineUrl("--catalog has a password".into()), BAD_REQUEST),
            // In use already.
            (NodeError::AlreadyANode(path()), CONFLICT),
            (NodeError::DirectoryNotEmpty(path()), CONFLICT),
            (NodeError::CatalogInUse("postgresql://db/x".into()), CONFLICT),
            (NodeError::ArchiveInUse { location: "s3://b".into(), first: "EGAF1".into() }, CONFLICT),
            // Try again later.
            (NodeError::Busy(path()), UNAVAILABLE),
            // The node's fault.
            (NodeError::Io { path: path(), error: io() }, INTERNAL),
            (NodeError::Config { path: path(), message: "bad".into() }, INTERNAL),
            (NodeError::InvalidConfig(ConfigError::Threshold), INTERNAL),
            (NodeError::BadConfig { path: path(), error: ConfigError::NetworkTimeout }, INTERNAL),
            (NodeError::NotANode(path()), INTERNAL),
            (NodeError::Reference(ReferenceError::Damaged { path: path(), message: "x".into() }), INTERNAL),
            (NodeError::Vcf(VcfError::Io { path: path(), error: io() }), INTERNAL),
            (NodeError::Bcf { path: path(), error: BcfError::NotBcf }, INTERNAL),
            (NodeError::Individuals { path: path(), error: IndividualsError::Io(io()) }, INTERNAL),
            (NodeError::Ontology { path: path(), message: "x".into() }, INTERNAL),
            (NodeError::Damaged("the reference has no sequence for contig number 3".into()), INTERNAL),
            (NodeError::Poisoned, INTERNAL),
            (NodeError::NoRandomness("none".into()), INTERNAL),
            (NodeError::SigningKey("x".into()), INTERNAL),
        ];
        table.extend(stores().into_iter().map(|(e, status)| (NodeError::Store(e), status)));
        table.extend(archives().into_iter().map(|(e, status)| (NodeError::Archive(e), status)));
        table
    }

    #[test]
    fn every_error_kind_gets_its_status() {
        for (error, status) in stores() {
            assert_eq!(store_status(&error), status, "{error:?}");
        }
        for (error, status) in archives() {
            assert_eq!(archive_status(&error), status, "{error:?}");
        }
        for (error, status) in nodes() {
            assert_eq!(node_status(&error), status, "{error:?}");
        }
    }

    #[test]
    fn a_credential_the_node_could_not_check_is_not_refused() {
        let what = || "visa 0".to_string();
        let grant = |error| AuthError::Passport(PassportError::GrantCheck { what: what(), error });
        let keys = |error| AuthError::Passport(PassportError::Keys { what: what(), error });
        let table = [
            (AuthError::UnknownToken, StatusCode::UNAUTHORIZED),
            (AuthError::Malformed, StatusCode::UNAUTHORIZED),
            (keys(KeysError::Fetch("down".into())), StatusCode::UNAUTHORIZED),
            (keys(KeysError::Untrusted("https://x/jwks".into())), StatusCode::UNAUTHORIZED),
            (keys(KeysError::Own("bad row".into())), INTERNAL),
            (grant(GrantLookupError::Unavailable("catalog down".into())), UNAVAILABLE),
            (grant(GrantLookupError::Failed("bad row".into())), INTERNAL),
        ];
        for (error, status) in table {
            assert_eq!(auth_status(&error), status, "{error:?}");
            let answer = crate::error::BeaconError::from(error);
            assert!(!answer.message.contains("catalog down") && !answer.message.contains("bad row"), "{answer:?}");
        }
    }

    #[test]
    fn only_the_callers_faults_are_told_their_cause() {
        for (error, status) in nodes() {
            let text = error.to_string();
            let answer = crate::error::BeaconError::from(error);
            assert_eq!(answer.status, status);
            if status.is_client_error() {
                assert_eq!(answer.message, text);
            } else {
                assert!(!answer.message.contains(&text), "{text:?} leaked into {:?}", answer.message);
            }
        }
    }
}
