//! MME errors: a status and `{"message": …}` (search-api.md §"Errors"), in the MME media type.

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use oresund_node::matchmaking::MatchError;
use serde_json::{Value, json};

use super::media::{MEDIA_TYPE, SUPPORTED};
use crate::error::BeaconError;

#[derive(Debug)]
pub struct MmeError {
    pub status: StatusCode,
    pub body: Value,
}

impl MmeError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        MmeError { status, body: json!({ "message": message.into() }) }
    }

    pub fn unsupported(version: &str) -> Self {
        let body = json!({
            "message": format!("unsupported API version {version:?}; this node speaks {}", SUPPORTED.join(" and ")),
            "supportedVersions": SUPPORTED,
        });
        MmeError { status: StatusCode::NOT_ACCEPTABLE, body }
    }

    /// A failure on our side: logged under the request id, the caller told only that id.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let beacon = BeaconError::internal(cause);
        MmeError::new(beacon.status, beacon.message)
    }
}

impl From<crate::audit_log::AuditUnavailable> for MmeError {
    fn from(e: crate::audit_log::AuditUnavailable) -> Self {
        let beacon = BeaconError::from(e);
        MmeError::new(beacon.status, beacon.message)
    }
}

impl From<MatchError> for MmeError {
    fn from(e: MatchError) -> Self {
        match e {
            MatchError::Invalid(e) => MmeError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
            MatchError::UnknownCase(_) => MmeError::new(StatusCode::NOT_FOUND, e.to_string()),
            MatchError::NoOntology => MmeError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            other => MmeError::internal(other),
        }
    }
}

impl From<BeaconError> for MmeError {
    fn from(e: BeaconError) -> Self {
        MmeError::new(e.status, e.message)
    }
}

impl IntoResponse for MmeError {
    fn into_response(self) -> Response {
        (self.status, [(CONTENT_TYPE, MEDIA_TYPE)], Json(self.body)).into_response()
    }
}
