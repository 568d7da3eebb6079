//! The network portal's web page: one static HTML page with its script and style, compiled into
//! the binary (no build step, nothing fetched at run time). It asks `/network/g_variants` and shows
//! per-country and pooled allele counts, which nodes answered and how fast, and a notice for any
//! that did not.
//! A second page, `association.html`, asks `POST /network/association` and draws a Manhattan plot
//! (inline SVG) of the pooled and per-country tests with a table of the top variants.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("../web/index.html");
const SCRIPT: &str = include_str!("../web/app.js");
const STYLE: &str = include_str!("../web/style.css");
const ASSOCIATION: &str = include_str!("../web/association.html");
const ASSOCIATION_SCRIPT: &str = include_str!("../web/association.js");

/// Only this origin's script and style; no inline code, no third parties.
pub(crate) const POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:";

fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(CONTENT_TYPE, content_type), (CONTENT_SECURITY_POLICY, POLICY), (CACHE_CONTROL, "no-cache")], body)
}

/// The page under `prefix` (`/` or `/portal/`).
pub fn pages(prefix: &str) -> Router {
    let index = || async { page("text/html; charset=utf-8", INDEX) };
    Router::new()
        .route(prefix, get(index))
        .route(&format!("{prefix}app.js"), get(|| async { page("text/javascript; charset=utf-8", SCRIPT) }))
        .route(&format!("{prefix}style.css"), get(|| async { page("text/css; charset=utf-8", STYLE) }))
        .route(&format!("{prefix}association.html"), get(|| async { page("text/html; charset=utf-8", ASSOCIATION) }))
        .route(
            &format!("{prefix}association.js"),
            get(|| async { page("text/javascript; charset=utf-8", ASSOCIATION_SCRIPT) }),
        )
}
