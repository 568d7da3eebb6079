//! Refusals of the delivery endpoints, in each protocol's envelope: htsget 1.3
//! (`{"htsget": {"error", "message"}}`, spec "Errors") and DRS 1.5 (`{"msg", "status_code"}`).
//! The status is decided by the error's kind (see `error_status`); a node fault gets a generic
//! message with the request id, as everywhere else.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use oresund_node::delivery::DeliveryError;
use serde_json::json;

use crate::error::BeaconError;
use crate::error_status::delivery_status;

/// The media type of htsget responses (spec "Response JSON fields").
pub const HTSGET_JSON: &str = "application/vnd.ga4gh.htsget.v1.3.0+json";

/// A refused or failed delivery request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub status: StatusCode,
    /// htsget's error name.
    pub kind: &'static str,
    pub message: String,
}

impl From<crate::audit_log::AuditUnavailable> for DeliveryFailure {
    fn from(e: crate::audit_log::AuditUnavailable) -> Self {
        Self::from_beacon(e.into())
    }
}

impl DeliveryFailure {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        DeliveryFailure { status, kind, message: message.into() }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidInput", message)
    }

    pub fn invalid_range(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRange", message)
    }

    pub fn unsupported_format(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "UnsupportedFormat", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthentication", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PermissionDenied", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", message)
    }

    /// A failure on the node's side, logged under the request id.
    pub fn fault(status: StatusCode, cause: impl std::fmt::Display) -> Self {
        Self::from_beacon(BeaconError::node_fault(status, cause))
    }

    /// The same refusal as a Beacon error (authentication, a fault).
    pub fn from_beacon(error: BeaconError) -> Self {
        let kind = match error.status {
            StatusCode::UNAUTHORIZED => "InvalidAuthentication",
            StatusCode::FORBIDDEN => "PermissionDenied",
            StatusCode::NOT_FOUND => "NotFound",
            StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLarge",
            s if s.is_client_error() => "InvalidInput",
            _ => "InternalError",
        };
        Self::new(error.status, kind, error.message)
    }

    pub fn from_delivery(error: &DeliveryError) -> Self {
        let status = delivery_status(error);
        if status.is_server_error() {
            return Self::fault(status, error);
        }
        let kind = match error {
            DeliveryError::NotIndexed(_) => "UnsupportedFormat",
            _ if status == StatusCode::NOT_FOUND => "NotFound",
            _ => "InvalidInput",
        };
        Self::new(status, kind, error.to_string())
    }

    /// As an htsget error response.
    pub fn htsget(self) -> Response {
        let body = json!({"htsget": {"error": self.kind, "message": self.message}});
        (self.status, [(header::CONTENT_TYPE, HTSGET_JSON)], Json(body).into_response().into_body()).into_response()
    }

    /// As a DRS error response.
    pub fn drs(self) -> Response {
        (self.status, Json(json!({"msg": self.message, "status_code": self.status.as_u16()}))).into_response()
    }
}
