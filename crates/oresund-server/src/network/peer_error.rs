//! Why a node of the network gave no answer. Shown to the caller per node (its `Display`), and
//! deciding the status of a network answer when no node answered ([`PeerError::refusal_status`]).

use axum::http::StatusCode;

#[derive(Debug, Clone, thiserror::Error)]
pub enum PeerError {
    #[error("no answer within {ms} ms")]
    Timeout { ms: u128 },
    #[error("unreachable (connection refused or no route)")]
    Unreachable,
    #[error("bad peer url: {0}")]
    BadUrl(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("reading the answer failed: {0}")]
    Read(String),
    #[error("the answer is larger than {mb} MB")]
    TooLarge { mb: usize },
    #[error("HTTP {0}: the answer is not JSON")]
    NotJson(StatusCode),
    #[error("HTTP {}: not a Beacon response", .0.as_u16())]
    NotBeacon(StatusCode),
    #[error("answered with records; network answers are aggregates only")]
    Records,
    /// The node holds more variant rows for the question than are pooled from one node.
    #[error("more than {max} variant rows: too many to pool exactly; ask about a narrower region")]
    TooManyRows { max: usize },
    /// The node refused the query, or failed, with a Beacon error.
    #[error("HTTP {}: {message}", status.as_u16())]
    Refused { status: StatusCode, message: String },
    /// The node refused this aggregator's signature (it said so in `x-oresund-peer-refused`).
    #[error("HTTP {}: {message}", status.as_u16())]
    SignatureRefused { status: StatusCode, message: String },
}

impl PeerError {
    /// The 4xx with which the node refused the caller's request. A refused signature is a set-up
    /// fault between nodes, not the caller's: it has none (the network answer is then a 502).
    pub fn refusal_status(&self) -> Option<StatusCode> {
        match self {
            PeerError::Refused { status, .. } if status.is_client_error() => Some(*status),
            // The caller's question is too broad: every node refusing it is a 400.
            PeerError::TooManyRows { .. } => Some(StatusCode::BAD_REQUEST),
            PeerError::Refused { .. }
            | PeerError::SignatureRefused { .. }
            | PeerError::Timeout { .. }
            | PeerError::Unreachable
            | PeerError::BadUrl(_)
            | PeerError::Request(_)
            | PeerError::Read(_)
            | PeerError::TooLarge { .. }
            | PeerError::NotJson(_)
            | PeerError::NotBeacon(_)
            | PeerError::Records => None,
        }
    }
}
