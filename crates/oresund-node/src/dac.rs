//! The node's data access committee: researchers file requests for a dataset with a research
//! purpose; the node matches the purpose against the DUO consent of everyone in the dataset
//! (`oresund_access::duo_match`, DUOS rules); committee members approve — which issues a GA4GH
//! Passport v1.2 ControlledAccessGrants visa signed with the node's key — reject, or revoke.
//! Every action and every refused attempt is in the audit log, in the same transaction as the
//! change it records.

use std::collections::BTreeMap;

use oresund_access::duo_match::{Decision, Outcome, PurposeError, ResearchPurpose, dataset_decision, match_consent};
use oresund_access::passport::CONTROLLED_ACCESS_GRANTS;
use oresund_core::audit::{self, AuditAction, AuditRecord};
use oresund_core::time::rfc3339;
use oresund_store::{AccessRequest, Grant, IndividualNumber, NewAccessRequest, NewGrant, RequestStatus, StoreError};
use serde_json::json;

use crate::access::OwnIssuer;
use crate::diseases::NodeDiseases;
use crate::error::NodeError;
use crate::node::Node;

/// Why the committee could not act; each says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum DacError {
    #[error("no dataset {0:?} on this node; see /datasets")]
    UnknownDataset(String),
    #[error(transparent)]
    Purpose(#[from] PurposeError),
    #[error("no access request {0}")]
    NoRequest(u64),
    #[error("no grant {0:?}")]
    NoGrant(String),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "access request {0} cannot be approved: the consent of the dataset's individuals excludes this purpose \
         (automatic DUO match: deny); reject it, or ask the researcher for a purpose the consent allows"
    )]
    ConsentDenies(u64),
    #[error("this node has no visa signing key yet: run `oresund keys rotate --signing NODE_DIR`")]
    NoSigningKey,
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<StoreError> for DacError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(message) => DacError::Conflict(message),
            other => DacError::Node(other.into()),
        }
    }
}

impl DacError {
    /// Whether the refusal is about the request (recorded in the audit log as denied) rather than
    /// a failure of the node.
    fn is_refusal(&self) -> bool {
        !matches!(self, DacError::Node(_))
    }
}

/// A request as a researcher files it.
#[derive(Debug, Clone)]
pub struct FiledRequest {
    /// User id of the requester (`iss#sub` for passport holders).
    pub user: String,
    /// The `sub` their passport carries: the visa will be issued to it.
    pub subject: String,
    pub dataset: String,
    pub purpose: ResearchPurpose,
}

fn record(
    actor: &str,
    action: AuditAction,
    resource: String,
    dataset: &str,
    allowed: bool,
    detail: String,
    now: i64,
) -> AuditRecord {
    AuditRecord {
        time: rfc3339(now),
        actor: actor.to_string(),
        action,
        resource,
        datasets: if dataset.is_empty() { Vec::new() } else { vec![dataset.to_string()] },
        granularity: None,
        decision: audit::Decision::allowed(allowed),
        detail,
    }
}

fn random_jti() -> Result<String, NodeError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| NodeError::NoRandomness(e.to_string()))?;
    Ok(oresund_core::hex::encode(&bytes))
}

/// Counts of people that add up to a known total (the dataset's size is public to registered
/// callers): exact only when every one is at least the threshold, otherwise each is only said to
/// be below or at least the threshold — with the others exact, a hidden one would be their
/// difference from the total.
fn shown_together(parts: &[(usize, &str)], threshold: u64) -> String {
    let exact = parts.iter().all(|(n, _)| *n == 0 || *n as u64 >= threshold);
    let shown: Vec<String> = parts
        .iter()
        .map(|(n, what)| match *n {
            n if exact || n == 0 => format!("{n} {what}"),
            n if (n as u64) < threshold => format!("fewer than {threshold} {what}"),
            _ => format!("{threshold} or more {what}"),
        })
        .collect();
    shown.join(", ")
}

impl Node {
    /// The automatic DUO match of `purpose` against the consent of everyone in `dataset`: the
    /// outcome and its reasons, with how many individuals each applies to (see [`shown_together`]).
    pub fn duo_match(&self, dataset: &str, purpose: &ResearchPurpose) -> Result<(Outcome, Vec<String>), DacError> {
        let cohort = self.cohort()?;
        if !cohort.datasets.contains_key(dataset) {
            return Err(DacError::UnknownDataset(dataset.to_string()));
        }
        let diseases = NodeDiseases { hpo: self.hpo() };
        let decisions: Vec<Decision> = cohort
            .members(&[dataset.to_string()])
            .iter()
            .filter_map(|n| cohort.people.get(&IndividualNumber::new(n)))
            .map(|person| match_consent(purpose, &person.consent, &diseases))
            .collect();
        let (outcome, approved, denied) = dataset_decision(&decisions);
        let threshold = self.config.beacon.threshold;
        let review = decisions.len() - approved - denied;
        let mut reasons = vec![format!(
            "{} individuals: {}",
            decisions.len(),
            shown_together(&[(approved, "approve"), (denied, "deny"), (review, "need review")], threshold)
        )];
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for decision in &decisions {
            for reason in &decision.reasons {
                *counts.entry(reason.as_str()).or_default() += 1;
            }
        }
        let parts: Vec<(usize, &str)> = counts.into_iter().map(|(reason, n)| (n, reason)).collect();
        if !parts.is_empty() {
            reasons.push(format!("individuals per reason: {}", shown_together(&parts, threshold)));
        }
        Ok((outcome, reasons))
    }

    /// Files a request, with its automatic DUO match, and records it.
    pub fn file_access_request(&self, filed: &FiledRequest, now: i64) -> Result<AccessRequest, DacError> {
        let result = filed
            .purpose
            .validate()
            .map_err(DacError::from)
            .and_then(|()| self.duo_match(&filed.dataset, &filed.purpose));
        let (outcome, reasons) = match result {
            Ok(found) => found,
            Err(e) => {
                let refused = record(
                    &filed.user,
                    AuditAction::DacRequest,
                    "/dac/requests".into(),
                    &filed.dataset,
                    false,
                    e.to_string(),
                    now,
                );
                self.store.append_audit(&[refused])?;
                return Err(e);
            }
        };
        let new = NewAccessRequest {
            user: filed.user.clone(),
            subject: filed.subject.clone(),
            dataset: filed.dataset.clone(),
            purpose: serde_json::to_string(&filed.purpose).unwrap_or_default(),
            automatic: outcome,
            reasons,
        };
        let audit = |request: &AccessRequest| {
            let detail = format!("purpose {}; automatic DUO match: {}", request.purpose, request.automatic);
            record(
                &request.user,
                AuditAction::DacRequest,
                format!("/dac/requests/{}", request.id),
                &request.dataset,
                true,
                detail,
                now,
            )
        };
        Ok(self.store.add_access_request(&new, &audit)?)
    }

    /// Records a refused committee action; the refusal is passed on.
    fn refused<T>(
        &self,
        actor: &str,
        action: AuditAction,
        resource: String,
        dataset: &str,
        error: DacError,
        now: i64,
    ) -> Result<T, DacError> {
        if error.is_refusal() {
            self.store.append_audit(&[record(actor, action, resource, dataset, false, error.to_string(), now)])?;
        }
        Err(error)
    }

    /// Approves a pending request: issues its ControlledAccessGrants visa (iss and jku of this
    /// node, `sub` the requester's, `value` the dataset's URL, `by: dac`) and records the grant.
    pub fn approve_access_request(
        &self,
        id: u64,
        actor: &str,
        issuer: &OwnIssuer,
        now: i64,
    ) -> Result<Grant, DacError> {
        let resource = format!("/dac/requests/{id}");
        let request = match self.store.access_request(id)? {
            Some(request) => request,
            None => return self.refused(actor, AuditAction::DacApprove, resource, "", DacError::NoRequest(id), now),
        };
        if request.status != RequestStatus::Pending {
            let e = DacError::Conflict(format!("access request {id} is already {}", request.status.as_str()));
            return self.refused(actor, AuditAction::DacApprove, resource, &request.dataset, e, now);
        }
        if request.automatic == Outcome::Deny {
            return self.refused(
                actor,
                AuditAction::DacApprove,
                resource,
                &request.dataset,
                DacError::ConsentDenies(id),
                now,
            );
        }
        let Some(keys) = self.signing_keys()? else {
            return self.refused(
                actor,
                AuditAction::DacApprove,
                resource,
                &request.dataset,
                DacError::NoSigningKey,
                now,
            );
        };
        let expires = now + self.config.access.visa_lifetime_days as i64 * 86_400;
        let jti = random_jti()?;
        let claims = json!({
            "iss": issuer.iss,
            "sub": request.subject,
            "iat": now,
            "exp": expires,
            "jti": jti,
            "ga4gh_visa_v1": {
                "type": CONTROLLED_ACCESS_GRANTS,
                "asserted": now,
                "value": self.config.access.dataset_url(&issuer.iss, &request.dataset),
                "source": format!("{}/dac", issuer.iss),
                "by": "dac",
            },
        });
        let visa = keys.current.sign(&claims, "JWT", &issuer.jku());
        let grant =
            NewGrant { jti: jti.clone(), kid: keys.current.kid.clone(), visa, issued_at: now, expires_at: expires };
        let detail = format!("granted {} to {} until {} (visa {jti})", request.dataset, request.user, rfc3339(expires));
        let audit = record(actor, AuditAction::DacApprove, resource.clone(), &request.dataset, true, detail, now);
        match self.store.approve_access_request(id, actor, &grant, &audit) {
            Ok(grant) => Ok(grant),
            Err(e) => self.refused(actor, AuditAction::DacApprove, resource, &request.dataset, e.into(), now),
        }
    }

    /// Rejects a pending request with the committee's note.
    pub fn reject_access_request(&self, id: u64, actor: &str, note: &str, now: i64) -> Result<AccessRequest, DacError> {
        let resource = format!("/dac/requests/{id}");
        let Some(request) = self.store.access_request(id)? else {
            return self.refused(actor, AuditAction::DacReject, resource, "", DacError::NoRequest(id), now);
        };
        let audit = record(
            actor,
            AuditAction::DacReject,
            resource.clone(),
            &request.dataset,
            true,
            format!("rejected: {note}"),
            now,
        );
        match self.store.reject_access_request(id, actor, note, &audit) {
            Ok(request) => Ok(request),
            Err(e) => self.refused(actor, AuditAction::DacReject, resource, &request.dataset, e.into(), now),
        }
    }

    /// Revokes a grant: its visa stops working at once, before it expires.
    pub fn revoke_grant(&self, jti: &str, actor: &str, reason: &str, now: i64) -> Result<Grant, DacError> {
        let resource = format!("/dac/grants/{jti}");
        let Some(grant) = self.store.grant(jti)? else {
            return self.refused(actor, AuditAction::DacRevoke, resource, "", DacError::NoGrant(jti.to_string()), now);
        };
        let detail = format!("revoked the grant of {} to {}: {reason}", grant.dataset, grant.user);
        let audit = record(actor, AuditAction::DacRevoke, resource.clone(), &grant.dataset, true, detail, now);
        match self.store.revoke_grant(jti, actor, reason, &audit) {
            Ok(grant) => Ok(grant),
            Err(e) => self.refused(actor, AuditAction::DacRevoke, resource, &grant.dataset, e.into(), now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shown_together;

    #[test]
    fn a_small_part_of_a_known_total_hides_the_others_too() {
        assert_eq!(shown_together(&[(495, "approve"), (5, "deny"), (0, "review")], 5), "495 approve, 5 deny, 0 review");
        assert_eq!(
            shown_together(&[(497, "approve"), (1, "deny"), (2, "review")], 5),
            "5 or more approve, fewer than 5 deny, fewer than 5 review"
        );
    }
}
