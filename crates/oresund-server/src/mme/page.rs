//! The clinicians' page (`/mme.html`): HPO terms with autocomplete from the node's ontology
//! (`/mme/terms`), genes and an optional variant; `POST /mme/match` with the clinician's token; the
//! matches ranked per country with score, shared features and genes, and the other clinician's
//! contact. Static, compiled in, under the same content policy as the portal's pages.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::portal::POLICY;

const PAGE: &str = include_str!("../../web/mme.html");
const SCRIPT: &str = include_str!("../../web/mme.js");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(CONTENT_TYPE, content_type), (CONTENT_SECURITY_POLICY, POLICY), (CACHE_CONTROL, "no-cache")], body)
}

pub fn routes() -> Router {
    Router::new()
        .route("/mme.html", get(|| async { asset("text/html; charset=utf-8", PAGE) }))
        .route("/mme.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
}
