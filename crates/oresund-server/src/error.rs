//! Errors as Beacon v2 error responses (`beaconErrorResponse.json`): `{meta, error: {errorCode,
//! errorMessage}}` with the HTTP status as `errorCode`. Every refusal says what to fix.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::request_id::RequestId;

/// A request the node refuses or cannot answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeaconError {
    pub status: StatusCode,
    pub message: String,
    /// Beacon id for the envelope's `meta`.
    pub beacon_id: String,
}

impl BeaconError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), beacon_id: String::new() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message: message.into(), beacon_id: String::new() }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, message: message.into(), beacon_id: String::new() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self { status: StatusCode::FORBIDDEN, message: message.into(), beacon_id: String::new() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, message: message.into(), beacon_id: String::new() }
    }

    /// No node of a network could answer.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_GATEWAY, message: message.into(), beacon_id: String::new() }
    }

    /// A failure on our side (500).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::node_fault(StatusCode::INTERNAL_SERVER_ERROR, cause)
    }

    /// A failure on our side with its 5xx status: the cause goes to the log under the request's
    /// id; the caller gets a generic message quoting that id, and nothing of the cause.
    pub fn node_fault(status: StatusCode, cause: impl std::fmt::Display) -> Self {
        let id = RequestId::current();
        let quoted = id.as_ref().map(|id| id.to_string()).unwrap_or_else(|| "-".into());
        tracing::error!(request_id = %quoted, status = status.as_u16(), cause = %cause, "node fault");
        let what = match status {
            StatusCode::SERVICE_UNAVAILABLE => {
                "the node cannot answer right now (a service it depends on is unavailable or busy); try again later"
            }
            _ => "the node could not answer this request",
        };
        let message = match id {
            Some(id) => format!("{what}; quote request id {id} to the operator"),
            None => format!("{what}; the operator has the details in the log"),
        };
        Self::new(status, message)
    }

    pub fn with_beacon(mut self, beacon_id: &str) -> Self {
        self.beacon_id = beacon_id.to_string();
        self
    }
}

impl From<crate::audit_log::AuditUnavailable> for BeaconError {
    fn from(e: crate::audit_log::AuditUnavailable) -> Self {
        Self::node_fault(StatusCode::SERVICE_UNAVAILABLE, e)
    }
}

impl IntoResponse for BeaconError {
    fn into_response(self) -> Response {
        // beaconErrorResponse.json requires the full response meta, request summary included.
        let body = json!({
            "meta": {
                "beaconId": self.beacon_id,
                "apiVersion": crate::API_VERSION,
                "returnedSchemas": [],
                "returnedGranularity": "boolean",
                "receivedRequestSummary": {
                    "apiVersion": crate::API_VERSION,
                    "requestedSchemas": [],
                    "pagination": {},
                    "requestedGranularity": "boolean",
                },
            },
            "error": {"errorCode": self.status.as_u16(), "errorMessage": self.message},
        });
        (self.status, Json(body)).into_response()
    }
}
