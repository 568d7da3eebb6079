//! Who is asking: the caller of a request, authenticated from its `Authorization` header, as an
//! extractor ([`Authenticated`]). A refused credential is recorded in the audit log.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use oresund_access::Caller;
use oresund_core::audit::{AuditAction, AuditRecord, Decision};

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

/// Records each use of a grant of this node that no longer holds (revoked): the request goes on
/// without it, and the attempt is filed under the researcher and the dataset.
async fn record_ignored_grants(app: &AppState, caller: &Caller, path: &str) -> Result<(), BeaconError> {
    if caller.ignored_grants.is_empty() {
        return Ok(());
    }
    // A path may hold a local id: checked on the blocking edge, like every recorded text.
    let path = format!("/{}", path.trim_start_matches('/'));
    let resource = app
        .blocking(move |app| crate::decision::shorten(crate::decision::recordable(app, path)))
        .await
        .unwrap_or_else(|_| "(withheld)".into());
    for ignored in &caller.ignored_grants {
        let resource = resource.clone();
        let record = AuditRecord {
            time: oresund_node::clock::now_rfc3339(),
            actor: caller.label().to_string(),
            action: AuditAction::Auth,
            resource,
            datasets: ignored.dataset.clone().into_iter().collect(),
            granularity: None,
            decision: Decision::Denied,
            detail: format!("visa {} ignored: {}", ignored.jti, ignored.why),
            subject: None,
        };
        app.audit.record(record).await?;
    }
    Ok(())
}

/// The caller of a request to `path`; a refused credential is recorded in the audit log.
pub async fn authenticate(app: &AppState, authorization: Option<&str>, path: &str) -> Result<Caller, BeaconError> {
    match app.caller(authorization).await {
        Ok(caller) => {
            record_ignored_grants(app, &caller, path).await?;
            Ok(caller)
        }
        Err(e) => {
            let bearer = oresund_access::authenticator::bearer_token(authorization).ok().flatten().map(str::to_string);
            let (path, error) = (path.to_string(), e.clone());
            let record = app
                .blocking(move |app| crate::decision::credential_refused(app, bearer.as_deref(), &path, &error))
                .await?;
            app.audit.note(record).await;
            Err(e)
        }
    }
}
