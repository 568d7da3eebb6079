//! Who may have an archived file: a caller with CONTROLLED access to its dataset (a passport
//! visa, or a visa of this node's committee), authenticated from the `Authorization` header or
//! from the passports of a DRS POST body, each verified like a bearer passport. Every refusal
//! and every answer goes to the audit log.

use crate::audit_log::AuditUnavailable;
use std::sync::Arc;

use oresund_access::{Caller, Reach, Tier};
use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_node::delivery::{DeliverableFile, Deliveries};

use crate::decision::{recordable, shorten};
use crate::delivery_error::DeliveryFailure;
use crate::state::{AppState, DeliveryService};

/// How a request proves who it is.
pub enum Credentials {
    /// The `Authorization` header (absent: anonymous).
    Header(Option<String>),
    /// The `passports` of a DRS POST body.
    Passports(Vec<String>),
}

/// A caller cleared for one file.
pub struct Cleared {
    pub deliveries: Arc<Deliveries>,
    pub url_ttl_s: u64,
    pub file: DeliverableFile,
    pub caller: Caller,
}

/// What the audit log records of a delivery request.
pub struct Recorded {
    pub action: AuditAction,
    pub resource: String,
}

impl Recorded {
    pub fn new(action: AuditAction, resource: String) -> Self {
        Recorded { action, resource }
    }

    /// Records this request by `actor` on `dataset` in the audit log, returning once committed:
    /// call before the answer leaves.
    pub async fn log(
        &self,
        app: &AppState,
        actor: &str,
        dataset: Option<&str>,
        decision: Decision,
        detail: String,
    ) -> Result<(), AuditUnavailable> {
        let record = self.record(app, actor, dataset, decision, detail).await;
        app.audit.record(record).await
    }

    /// Records a refusal, or what was served after the answer left ([`crate::audit_log::AuditLog::note`]).
    pub async fn note(&self, app: &AppState, actor: &str, dataset: Option<&str>, decision: Decision, detail: String) {
        let record = self.record(app, actor, dataset, decision, detail).await;
        app.audit.note(record).await;
    }

    /// The record, its texts checked for local ids on the blocking edge (that reads the catalog).
    async fn record(
        &self,
        app: &AppState,
        actor: &str,
        dataset: Option<&str>,
        decision: Decision,
        detail: String,
    ) -> AuditRecord {
        let mut record = AuditRecord {
            time: oresund_node::clock::now_rfc3339(),
            actor: actor.to_string(),
            action: self.action.clone(),
            resource: self.resource.clone(),
            datasets: dataset.map(str::to_string).into_iter().collect(),
            granularity: None,
            decision,
            detail,
            subject: None,
        };
        let (resource, detail) = (record.resource.clone(), record.detail.clone());
        let scrubbed = app
            .blocking(move |app| (shorten(recordable(app, resource)), shorten(recordable(app, detail))))
            .await
            .unwrap_or_else(|_| ("(withheld)".to_string(), "(withheld)".to_string()));
        (record.resource, record.detail) = scrubbed;
        record
    }
}

/// The delivery service, or a 503 saying why it is off.
pub fn service(app: &AppState) -> Result<(Arc<Deliveries>, u64), DeliveryFailure> {
    match &app.delivery {
        DeliveryService::Ready { deliveries, url_ttl_s } => Ok((deliveries.clone(), *url_ttl_s)),
        DeliveryService::Unavailable(why) => Err(DeliveryFailure::fault(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("delivery is off on this node: {why}"),
        )),
    }
}

/// The callers a request's credentials name (refused credentials are recorded as such).
async fn callers(app: &AppState, credentials: Credentials, path: &str) -> Result<Vec<Caller>, DeliveryFailure> {
    match credentials {
        Credentials::Header(authorization) => {
            let caller = crate::caller::authenticate(app, authorization.as_deref(), path)
                .await
                .map_err(DeliveryFailure::from_beacon)?;
            Ok(vec![caller])
        }
        Credentials::Passports(passports) => {
            let mut out = Vec::new();
            for passport in passports {
                let header = format!("Bearer {passport}");
                let caller = crate::caller::authenticate(app, Some(&header), path)
                    .await
                    .map_err(DeliveryFailure::from_beacon)?;
                out.push(caller);
            }
            if out.is_empty() {
                out.push(Caller::anonymous());
            }
            Ok(out)
        }
    }
}

/// A grant reaches only the people whose consent allows its purpose, and a delivered file holds
/// every sample of the archived one: a file with anyone the grant does not reach is refused
/// (delivering it without them — removing their columns — is not built).
pub(crate) async fn outside_consent(
    app: &AppState,
    caller: &Caller,
    file: &DeliverableFile,
) -> Result<Option<DeliveryFailure>, DeliveryFailure> {
    let Some(reach) = caller.reach(&file.dataset).filter(|r| **r != Reach::Everyone).cloned() else {
        return Ok(None);
    };
    let samples = file.samples.clone();
    let outside = app
        .blocking(move |app| app.node.not_reached(&samples, &reach))
        .await
        .map_err(DeliveryFailure::from_beacon)?
        .map_err(|e| DeliveryFailure::from_beacon(crate::error::BeaconError::from(e)))?;
    // How many are left out is not said: a small number would single people out.
    Ok((outside > 0).then(|| {
        DeliveryFailure::forbidden(format!(
            "{} holds people whose consent does not allow the purpose of your grant; this node cannot deliver \
             the file without them yet — ask for what you may see through the Beacon endpoints",
            file.object.accession
        ))
    }))
}

/// Clears the caller for `accession`, or refuses (recorded).
pub async fn clear(
    app: &AppState,
    credentials: Credentials,
    accession: &str,
    recorded: &Recorded,
) -> Result<Cleared, DeliveryFailure> {
    let (deliveries, url_ttl_s) = service(app)?;
    let callers = callers(app, credentials, &recorded.resource).await?;
    let lookup = deliveries.clone();
    let wanted = accession.to_string();
    let file = app.blocking(move |app| lookup.file(&app.node, &wanted)).await.map_err(DeliveryFailure::from_beacon)?;
    let label = callers.iter().find_map(|c| c.user.clone()).unwrap_or_else(|| "anonymous".into());
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            let failure = DeliveryFailure::from_delivery(&e);
            let detail = format!("HTTP {}: {}", failure.status.as_u16(), failure.message);
            recorded.note(app, &label, None, Decision::Denied, detail).await;
            return Err(failure);
        }
    };
    match callers.iter().find(|c| c.tier(&file.dataset) == Tier::Controlled) {
        Some(caller) => {
            if let Some(failure) = outside_consent(app, caller, &file).await? {
                let detail = format!("HTTP {}: {}", failure.status.as_u16(), failure.message);
                recorded.note(app, &label, Some(&file.dataset), Decision::Denied, detail).await;
                return Err(failure);
            }
            Ok(Cleared { deliveries, url_ttl_s, file, caller: caller.clone() })
        }
        None => {
            let message = format!("{accession} belongs to dataset {}, which needs CONTROLLED access", file.dataset);
            let failure = if callers.iter().all(|c| c.user.is_none()) {
                DeliveryFailure::unauthenticated(format!("{message}; send a passport with a visa for it"))
            } else {
                DeliveryFailure::forbidden(format!("{message}, and no visa of this caller grants it"))
            };
            let detail = format!("HTTP {}: {}", failure.status.as_u16(), failure.message);
            recorded.note(app, &label, Some(&file.dataset), Decision::Denied, detail).await;
            Err(failure)
        }
    }
}
