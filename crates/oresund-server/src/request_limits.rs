//! Oversized requests are refused at once, in the Beacon error envelope (issue #17).
//!
//! A body announced larger than the limit gets 413 before a byte of it is read — without this, a
//! `Content-Length: 1000000000000` with no body held the connection until the client gave up.
//! Limit refusals made further in (axum's body limit, an over-long URI) come as plain text; they
//! are rewrapped so every refusal has the same shape (`beaconErrorResponse.json`).

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::BeaconError;

/// The largest request body taken (axum's default body limit, which the extractors apply too).
pub const MAX_BODY: u64 = 2 * 1024 * 1024;

fn refusal(status: StatusCode) -> Option<String> {
    Some(match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!("the request body is larger than {} MiB", MAX_BODY >> 20),
        StatusCode::URI_TOO_LONG => "the request URI is too long; send long queries as a POST body".into(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "the request's headers are too large".into(),
        _ => return None,
    })
}

/// Middleware: refuse an announced oversized body at once, and rewrap plain-text limit refusals.
pub async fn enforce(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY) {
        let status = StatusCode::PAYLOAD_TOO_LARGE;
        return BeaconError::new(status, refusal(status).unwrap_or_default()).into_response();
    }
    let response = next.run(request).await;
    let is_json =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    match refusal(response.status()) {
        Some(message) if !is_json => BeaconError::new(response.status(), message).into_response(),
        _ => response,
    }
}
