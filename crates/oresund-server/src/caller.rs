//! Who is asking: the caller of a request, authenticated from its `Authorization` header, as an
//! extractor ([`Authenticated`]). A refused credential is recorded in the audit log.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use oresund_access::Caller;

use crate::error::BeaconError;
use crate::state::AppState;

/// The authenticated caller of a request. Rejects with the Beacon error of a refused credential
/// (401), after recording it; handlers wanting another error shape take
/// `Result<Authenticated, BeaconError>`.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = BeaconError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let authorization = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        match authenticate(app, authorization, parts.uri.path()).await {
            Ok(caller) => Ok(Authenticated(caller)),
            Err(e) => Err(e.with_beacon(&app.beacon.id)),
        }
    }
}

impl AppState {
    /// Authenticates the request's `Authorization` header.
    pub async fn caller(&self, authorization: Option<&str>) -> Result<Caller, BeaconError> {
        let bearer = oresund_access::authenticator::bearer_token(authorization)?;
        Ok(self.auth.authenticate(bearer).await?)
    }
}

/// The caller of a request to `path`; a refused credential is recorded in the audit log.
pub async fn authenticate(app: &AppState, authorization: Option<&str>, path: &str) -> Result<Caller, BeaconError> {
    match app.caller(authorization).await {
        Ok(caller) => Ok(caller),
        Err(e) => {
            let bearer = oresund_access::authenticator::bearer_token(authorization).ok().flatten().map(str::to_string);
            let (path, error) = (path.to_string(), e.clone());
            let record = app
                .blocking(move |app| crate::decision::credential_refused(app, bearer.as_deref(), &path, &error))
                .await?;
            app.audit.record(record).await;
            Err(e)
        }
    }
}
