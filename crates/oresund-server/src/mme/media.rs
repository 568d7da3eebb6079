//! The MME media type and its versions (search-api.md §"Versioning"): the client names a version
//! in `Content-Type` (1.1) or `Accept` (1.0); a server serves any version with its major and names
//! the one it speaks in every response's `Content-Type`.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};

pub const MEDIA_TYPE: &str = "application/vnd.ga4gh.matchmaker.v1.0+json";
/// The header a partner authenticates with (search-api.md §"Authentication").
pub const AUTH_TOKEN_HEADER: &str = "x-auth-token";
pub const SUPPORTED: [&str; 2] = ["1.0", "1.1"];

/// What the request's headers ask for.
#[derive(Debug, PartialEq, Eq)]
pub enum Negotiated {
    /// A supported version (minor versions are compatible; we answer as 1.0).
    Ok,
    /// A version we do not speak (406).
    Unsupported(String),
    /// A body that is neither JSON nor the MME type (415).
    WrongContentType(String),
}

/// The version a media type names (`application/vnd.ga4gh.matchmaker.v1.1+json` → `1.1`), `None`
/// for another type.
fn version(media: &str) -> Option<String> {
    let media = media.split(';').next()?.trim().to_ascii_lowercase();
    let rest = media.strip_prefix("application/vnd.ga4gh.matchmaker")?;
    let rest = rest.strip_suffix("+json")?;
    Some(rest.strip_prefix(".v").unwrap_or("1.0").to_string())
}

fn supported(version: &str) -> bool {
    version.split('.').next() == Some("1")
}

/// Checks `Content-Type` (when the request has a body) and `Accept`.
pub fn negotiate(headers: &HeaderMap, has_body: bool) -> Negotiated {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    if has_body {
        let content_type = header(CONTENT_TYPE);
        match version(content_type) {
            Some(v) if !supported(&v) => return Negotiated::Unsupported(v),
            Some(_) => {}
            None if content_type
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")) => {}
            None => return Negotiated::WrongContentType(content_type.to_string()),
        }
    }
    // Accept may list several types; one MME version we speak (or none named) is enough.
    let versions: Vec<String> = header(ACCEPT).split(',').filter_map(version).collect();
    match versions.iter().any(|v| supported(v)) || versions.is_empty() {
        true => Negotiated::Ok,
        false => Negotiated::Unsupported(versions.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(content_type: &str, accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if !content_type.is_empty() {
            h.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        }
        if !accept.is_empty() {
            h.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        h
    }

    #[test]
    fn versions_of_major_1_are_served_and_others_refused() {
        let v1 = "application/vnd.ga4gh.matchmaker.v1.0+json";
        let v11 = "application/vnd.ga4gh.matchmaker.v1.1+json";
        let v2 = "application/vnd.ga4gh.matchmaker.v2.0+json";
        assert_eq!(negotiate(&headers(v1, v1), true), Negotiated::Ok);
        assert_eq!(negotiate(&headers(v11, "*/*"), true), Negotiated::Ok);
        assert_eq!(negotiate(&headers("application/json", ""), true), Negotiated::Ok);
        assert_eq!(negotiate(&headers(v1, v2), true), Negotiated::Unsupported("2.0".into()));
        assert_eq!(negotiate(&headers(v2, v1), true), Negotiated::Unsupported("2.0".into()));
        assert_eq!(negotiate(&headers("text/plain", v1), true), Negotiated::WrongContentType("text/plain".into()));
        assert_eq!(negotiate(&headers("", ""), true), Negotiated::WrongContentType(String::new()));
        assert_eq!(negotiate(&headers("", v2), false), Negotiated::Unsupported("2.0".into()));
        assert_eq!(negotiate(&headers("", ""), false), Negotiated::Ok);
    }
}
