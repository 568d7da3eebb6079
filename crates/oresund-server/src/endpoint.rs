//! The Beacon entry endpoints as one typed value: `/{entry}`, `/{entry}/{id}` and
//! `/{entry}/{id}/{related}` for every entry type of the default model. The router builds one
//! per route (see `routes`); the network parses the paths it forwards once ([`Endpoint::parse`]).

use axum::body::Bytes;

use crate::entities::{self, EntryType, GENOMIC_VARIANT};
use crate::error::BeaconError;
use crate::genomic::G_VARIANT_PARAMETERS;
use crate::request::BeaconRequest;

/// One entry endpoint, with the ids its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `/{entry}`: a search (or listing, for collections).
    Entries(EntryType),
    /// `/{entry}/{id}`: one entry.
    Entry(EntryType, String),
    /// `/{entry}/{id}/{related}`: the entries of one type related to one entry
    /// (`/g_variants/{id}/individuals` is about a variant and returns individuals).
    Related(EntryType, String, EntryType),
}

/// How the request parameters arrived.
pub enum Input {
    Query(Option<String>),
    Body(Bytes),
}

fn no_such_endpoint() -> BeaconError {
    BeaconError::not_found("no such endpoint; see /map for the endpoints of this beacon")
}

impl Endpoint {
    /// The endpoint of a path (`g_variants/{id}/individuals`, leading and trailing `/` ignored);
    /// a 404 naming `/map` for anything else.
    pub fn parse(path: &str) -> Result<Endpoint, BeaconError> {
        let mut segments = path.trim_matches('/').split('/');
        let entity = segments.next().and_then(entities::by_path).ok_or_else(no_such_endpoint)?;
        let endpoint = match (segments.next(), segments.next()) {
            (None, _) => Endpoint::Entries(entity),
            (Some(id), None) => Endpoint::Entry(entity, id.to_string()),
            (Some(id), Some(related)) => match entities::by_path(related) {
                Some(related) => Endpoint::Related(entity, id.to_string(), related),
                None => return Err(BeaconError::not_found(format!("no endpoint {path:?}"))),
            },
        };
        if segments.next().is_some() {
            return Err(BeaconError::not_found(format!("no endpoint {path:?}")));
        }
        Ok(endpoint)
    }

    /// The entry type the path is about.
    pub fn entity(&self) -> EntryType {
        match self {
            Endpoint::Entries(entity) | Endpoint::Entry(entity, _) | Endpoint::Related(entity, _, _) => *entity,
        }
    }

    /// The entry type it returns.
    pub fn returned(&self) -> EntryType {
        match self {
            Endpoint::Entries(entity) | Endpoint::Entry(entity, _) => *entity,
            Endpoint::Related(_, _, related) => *related,
        }
    }

    /// The id in the path, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            Endpoint::Entries(_) => None,
            Endpoint::Entry(_, id) | Endpoint::Related(_, id, _) => Some(id),
        }
    }

    /// The path, as recorded (`/g_variants/{id}/individuals` with the id).
    pub fn path(&self) -> String {
        match self {
            Endpoint::Entries(entity) => format!("/{}", entity.path),
            Endpoint::Entry(entity, id) => format!("/{}/{id}", entity.path),
            Endpoint::Related(entity, id, related) => format!("/{}/{id}/{}", entity.path, related.path),
        }
    }

    /// Parameters the endpoint accepts besides the common ones (those of what it returns).
    fn accepted(&self) -> &'static [&'static str] {
        if self.returned() == GENOMIC_VARIANT { &G_VARIANT_PARAMETERS } else { &["datasets"] }
    }

    /// Parses a request to this endpoint.
    pub fn parse_request(&self, input: Input) -> Result<BeaconRequest, BeaconError> {
        match input {
            Input::Query(query) => {
                let pairs: Vec<(String, String)> =
                    form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
                BeaconRequest::from_query(&pairs, self.accepted())
            }
            Input::Body(body) => BeaconRequest::from_body(&body, self.accepted()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::{BIOSAMPLE, INDIVIDUAL};

    #[test]
    fn paths_parse_to_endpoints_and_back() {
        for (path, endpoint) in [
            ("g_variants", Endpoint::Entries(GENOMIC_VARIANT)),
            ("/individuals/DK-1/", Endpoint::Entry(INDIVIDUAL, "DK-1".into())),
            ("g_variants/v1/individuals", Endpoint::Related(GENOMIC_VARIANT, "v1".into(), INDIVIDUAL)),
            ("biosamples", Endpoint::Entries(BIOSAMPLE)),
        ] {
            let parsed = Endpoint::parse(path).unwrap();
            assert_eq!(parsed, endpoint);
            assert_eq!(parsed.path(), format!("/{}", path.trim_matches('/')));
        }
        assert_eq!(Endpoint::Related(GENOMIC_VARIANT, "v".into(), INDIVIDUAL).returned(), INDIVIDUAL);
        for bad in ["", "nothing", "g_variants/v/colours", "g_variants/v/individuals/x"] {
            assert_eq!(Endpoint::parse(bad).unwrap_err().status.as_u16(), 404, "{bad}");
        }
    }
}
