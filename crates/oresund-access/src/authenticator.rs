//! Authenticating a request's `Authorization: Bearer` credential. The server only knows the
//! [`Authenticator`] trait; GA4GH Passports are one implementation (in `oresund-server`), bearer
//! tokens configured by the operator ([`TokenAuthenticator`], for operators and scripts) another.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::caller::{Caller, Reach};
use crate::passport::PassportError;

/// Why a credential was refused (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the bearer token is not valid for this node")]
    UnknownToken,
    #[error("malformed Authorization header: expected `Bearer <token>`")]
    Malformed,
    #[error("passport refused: {0}")]
    Passport(#[from] PassportError),
}

/// The future an [`Authenticator`] returns.
pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Caller, AuthError>> + Send + 'a>>;

/// Turns a request credential into a [`Caller`].
pub trait Authenticator: Send + Sync {
    /// `bearer` is the token of `Authorization: Bearer <token>`, `None` for anonymous requests.
    /// Asynchronous because checking a passport may fetch an issuer's key set.
    fn authenticate<'a>(&'a self, bearer: Option<&'a str>) -> AuthFuture<'a>;
}

/// Parses an `Authorization` header value into its bearer token (RFC 6750 §2.1).
pub fn bearer_token(header: Option<&str>) -> Result<Option<&str>, AuthError> {
    let Some(value) = header else { return Ok(None) };
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(Some(token.trim()))
}

/// One operator-issued token, kept only as its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
    pub user: String,
    pub registered: bool,
    pub clinician: bool,
    /// Datasets the token opens, and whose data in each it reaches.
    pub controlled: BTreeMap<String, Reach>,
}

/// Bearer tokens configured by the operator: the path for operators and scripts, beside passports.
#[derive(Debug, Clone, Default)]
pub struct TokenAuthenticator {
    grants: Vec<TokenGrant>,
}

impl TokenAuthenticator {
    pub fn new(grants: Vec<TokenGrant>) -> Self {
        Self { grants }
    }
}

/// SHA-256 of a token, as stored in configuration.
pub fn token_sha256(token: &str) -> String {
    oresund_core::hex::encode(&Sha256::digest(token.as_bytes()))
}

impl TokenAuthenticator {
    /// The caller holding `bearer`, checked against the configured tokens.
    pub fn check(&self, bearer: Option<&str>) -> Result<Caller, AuthError> {
        let Some(token) = bearer else { return Ok(Caller::anonymous()) };
        let digest = token_sha256(token);
        // Compare every grant in constant time so timing does not reveal a matching prefix.
        let mut found = None;
        for grant in &self.grants {
            if bool::from(grant.sha256.as_bytes().ct_eq(digest.as_bytes())) {
                found = Some(grant);
            }
        }
        let grant = found.ok_or(AuthError::UnknownToken)?;
        Ok(Caller {
            user: Some(grant.user.clone()),
            subject: None,
            registered: grant.registered,
            clinician: grant.clinician,
            controlled: grant.controlled.clone(),
            for_this_node: true,
            ..Caller::default()
        })
    }
}

impl Authenticator for TokenAuthenticator {
    fn authenticate<'a>(&'a self, bearer: Option<&'a str>) -> AuthFuture<'a> {
        Box::pin(async move { self.check(bearer) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tier::Tier;

    #[test]
    fn tokens_map_to_callers_and_tiers() {
        let auth = TokenAuthenticator::new(vec![TokenGrant {
            sha256: token_sha256("s3cret"),
            user: "alice".into(),
            registered: true,
            clinician: false,
            controlled: BTreeMap::from([("DK-1".to_string(), Reach::Everyone)]),
        }]);
        let alice = auth.check(Some("s3cret")).unwrap();
        assert_eq!((alice.tier("DK-1"), alice.tier("SE-1")), (Tier::Controlled, Tier::Registered));
        assert_eq!(auth.check(None).unwrap(), Caller::anonymous());
        assert_eq!(auth.check(Some("guess")), Err(AuthError::UnknownToken));
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token(Some("Bearer abc")).unwrap(), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")).unwrap(), Some("abc"));
        assert_eq!(bearer_token(None).unwrap(), None);
        assert_eq!(bearer_token(Some("Basic abc")), Err(AuthError::Malformed));
        assert_eq!(bearer_token(Some("Bearer")), Err(AuthError::Malformed));
    }
}
