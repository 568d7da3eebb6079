//! The node's data access committee: researchers file requests for a dataset with a research
//! purpose; the node matches the purpose against the DUO consent of everyone in the dataset
//! (`oresund_access::duo_match`, DUOS rules); committee members approve — which issues a GA4GH
//! Passport v1.2 ControlledAccessGrants visa signed with the node's key, carrying the purpose —
//! reject, or revoke. A grant reaches only the people whose consent allows its purpose, so
//! approving a request the automatic match sent to review needs the member's note, and says how
//! many people the grant leaves out. Every action names the member and says why; it and every
//! refused attempt is in the audit log under the member and the researcher concerned, in the
//! same transaction as the change it records.

use std::collections::BTreeMap;

use oresund_access::Reach;
use oresund_access::duo_match::{Decision, Outcome, PurposeError, ResearchPurpose, dataset_decision, match_consent};
use oresund_access::passport::{CONTROLLED_ACCESS_GRANTS, PURPOSE_CLAIM};
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
    #[error(
        "access request {id} needs review: the consent of {left_out} of the {total} individuals of {dataset} does \
         not allow its purpose, and the grant will leave them out; approve it with the member's note saying why \
         (`--note`, or {{\"note\": \"…\"}})"
    )]
    NoteNeeded { id: u64, dataset: String, left_out: u64, total: u64 },
    #[error("{0}")]
    Missing(&'static str),
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
    /// The dataset's policy lets the requester see counts: the automatic match then says how many
    /// individuals each outcome applies to; otherwise only whether none, some or all.
    pub sees_counts: bool,
}

/// What a committee action or read is about: the resource, and the datasets and researcher
/// concerned (when known).
struct Concerning<'a> {
    resource: String,
    datasets: Vec<String>,
    researcher: Option<&'a str>,
}

impl<'a> Concerning<'a> {
    fn new(resource: String) -> Self {
        Concerning { resource, datasets: Vec::new(), researcher: None }
    }

    fn request(resource: String, request: &'a AccessRequest) -> Self {
        Concerning { resource, datasets: vec![request.dataset.clone()], researcher: Some(&request.user) }
    }

    fn grant(resource: String, grant: &'a Grant) -> Self {
        Concerning { resource, datasets: vec![grant.dataset.clone()], researcher: Some(&grant.user) }
    }

    /// The audit entry of `actor` doing `action` on this.
    fn record(&self, actor: &str, action: AuditAction, allowed: bool, detail: String, now: i64) -> AuditRecord {
        AuditRecord {
            time: rfc3339(now),
            actor: actor.to_string(),
            action,
            resource: self.resource.clone(),
            datasets: self.datasets.clone(),
            granularity: None,
            decision: audit::Decision::allowed(allowed),
            detail,
            // The researcher is the actor when they act themselves.
            subject: self.researcher.filter(|r| *r != actor).map(str::to_string),
        }
    }
}

/// An approval: the grant, and how many of the dataset's individuals it reaches.
#[derive(Debug, Clone)]
pub struct Approval {
    pub grant: Grant,
    pub purpose: ResearchPurpose,
    /// Individuals of the dataset whose consent allows the purpose.
    pub reached: u64,
    /// Individuals of the dataset the grant leaves out.
    pub left_out: u64,
}

fn random_jti() -> Result<String, NodeError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| NodeError::NoRandomness(e.to_string()))?;
    Ok(oresund_core::hex::encode(&bytes))
}

/// Counts of people that add up to a known total: exact only when every one (and the total) is
/// zero or at least the threshold, otherwise each is only said to be below or at least the
/// threshold — with the others exact (zeros included), a hidden one would be their difference from
/// the total.
fn shown_together(total: usize, parts: &[(usize, &str)], threshold: u64) -> String {
    let exact = !is_small(total, threshold) && parts.iter().all(|(n, _)| !is_small(*n, threshold));
    let total = if exact { total.to_string() } else { coarse(total, threshold) };
    format!("{total} individuals: {}", shown_parts(parts, exact, threshold))
}

/// Counts shown exactly, or each only as below or at least the threshold.
fn shown_parts(parts: &[(usize, &str)], exact: bool, threshold: u64) -> String {
    let shown: Vec<String> = parts
        .iter()
        .map(|(n, what)| if exact { format!("{n} {what}") } else { format!("{} {what}", coarse(*n, threshold)) })
        .collect();
    shown.join(", ")
}

fn is_small(n: usize, threshold: u64) -> bool {
    n != 0 && (n as u64) < threshold
}

fn coarse(n: usize, threshold: u64) -> String {
    if (n as u64) < threshold { format!("fewer than {threshold}") } else { format!("{threshold} or more") }
}

/// The same without any number, for a requester the dataset shows no counts to.
fn shown_without_counts(total: usize, parts: &[(usize, &str)]) -> String {
    let shown: Vec<String> = parts
        .iter()
        .map(|(n, what)| match *n {
            0 => format!("none {what}"),
            n if n == total => format!("all {what}"),
            _ => format!("some {what}"),
        })
        .collect();
    format!("the dataset's individuals: {}", shown.join(", "))
}

impl Node {
    /// The automatic DUO match of `purpose` against the consent of everyone in `dataset`: the
    /// outcome and its reasons, with how many individuals each applies to when `with_counts` (see
    /// [`shown_together`]), else only whether none, some or all.
    pub fn duo_match(
        &self,
        dataset: &str,
        purpose: &ResearchPurpose,
        with_counts: bool,
    ) -> Result<(Outcome, Vec<String>), DacError> {
        let cohort = self.cohort()?;
        if !cohort.datasets.contains_key(dataset) {
            return Err(DacError::UnknownDataset(dataset.to_string()));
        }
        let diseases = NodeDiseases { hpo: self.hpo()? };
        let people = self.people(&cohort)?;
        let decisions: Vec<Decision> = cohort
            .members(&[dataset.to_string()])
            .iter()
            .filter_map(|n| people.people.get(&IndividualNumber::new(n)))
            .map(|person| match_consent(purpose, &person.consent, &diseases))
            .collect();
        let (outcome, approved, denied) = dataset_decision(&decisions);
        let threshold = self.config.beacon.threshold;
        let review = decisions.len() - approved - denied;
        let outcomes = [(approved, "approve"), (denied, "deny"), (review, "need review")];
        let total = decisions.len();
        let mut reasons = vec![match with_counts {
            true => shown_together(total, &outcomes, threshold),
            false => shown_without_counts(total, &outcomes),
        }];
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for decision in &decisions {
            for reason in &decision.reasons {
                *counts.entry(reason.as_str()).or_default() += 1;
            }
        }
        let parts: Vec<(usize, &str)> = counts.into_iter().map(|(reason, n)| (n, reason)).collect();
        if !parts.is_empty() && with_counts {
            let exact = parts.iter().all(|(n, _)| !is_small(*n, threshold));
            reasons.push(format!("individuals per reason: {}", shown_parts(&parts, exact, threshold)));
        } else if !parts.is_empty() {
            let listed: Vec<&str> = parts.iter().map(|(_, reason)| *reason).collect();
            reasons.push(format!("reasons: {}", listed.join("; ")));
        }
        Ok((outcome, reasons))
    }

    /// Files a request, with its automatic DUO match, and records it.
    pub fn file_access_request(&self, filed: &FiledRequest, now: i64) -> Result<AccessRequest, DacError> {
        let result = filed
            .purpose
            .validate()
            .map_err(DacError::from)
            .and_then(|()| self.duo_match(&filed.dataset, &filed.purpose, filed.sees_counts));
        let (outcome, reasons) = match result {
            Ok(found) => found,
            Err(e) => {
                // The dataset id and the purpose are the requester's words: only a dataset of this
                // node is filed as one, and the message is scrubbed like any typed text.
                let known = self.cohort()?.datasets.contains_key(&filed.dataset);
                let datasets = if known { vec![filed.dataset.clone()] } else { Vec::new() };
                let about = Concerning { datasets, ..Concerning::new("/dac/requests".into()) };
                return self.refused(&filed.user, AuditAction::DacRequest, &about, e, now);
            }
        };
        let new = NewAccessRequest {
            user: filed.user.clone(),
            subject: filed.subject.clone(),
            dataset: filed.dataset.clone(),
            purpose: serde_json::to_string(&filed.purpose.canonical()).unwrap_or_default(),
            automatic: outcome,
            reasons,
        };
        let audit = |request: &AccessRequest| {
            let detail = format!("purpose {}; automatic DUO match: {}", request.purpose, request.automatic);
            let about = Concerning::request(format!("/dac/requests/{}", request.id), request);
            about.record(&request.user, AuditAction::DacRequest, true, detail, now)
        };
        Ok(self.store.add_access_request(&new, &audit)?)
    }

    /// Records a refused committee action; the refusal is passed on.
    fn refused<T>(
        &self,
        actor: &str,
        action: AuditAction,
        about: &Concerning<'_>,
        error: DacError,
        now: i64,
    ) -> Result<T, DacError> {
        if error.is_refusal() {
            let detail = self.scrub_local_ids(&error.to_string())?;
            self.store.append_audit(&[about.record(actor, action, false, detail, now)])?;
        }
        Err(error)
    }

    /// The research purpose a request was filed with (`what` names it in an error).
    fn purpose_of(what: &str, stored: &str) -> Result<ResearchPurpose, DacError> {
        serde_json::from_str(stored)
            .map_err(|e| DacError::Node(NodeError::Damaged(format!("{what}: stored purpose: {e}"))))
    }

    /// How many of `dataset`'s individuals a grant for `purpose` reaches, and how many it leaves out.
    pub fn grant_reach(&self, dataset: &str, purpose: &ResearchPurpose) -> Result<(u64, u64), NodeError> {
        let cohort = self.cohort()?;
        let members = cohort.members(&[dataset.to_string()]);
        let reached =
            members.intersection_len(&self.people(&cohort)?.consenting(&Reach::purpose(purpose.clone()), self.hpo()?));
        Ok((reached, members.len() - reached))
    }

    /// How many of `samples` (pseudonyms) a grant of `reach` does not reach.
    pub fn not_reached(&self, samples: &[String], reach: &Reach) -> Result<u64, NodeError> {
        let cohort = self.cohort()?;
        let people = self.people(&cohort)?;
        let reached = people.consenting(reach, self.hpo()?);
        let known = |p: &String| people.by_pseudonym.get(p).map(|n| n.get());
        Ok(samples.iter().filter(|p| known(p).is_none_or(|n| !reached.contains(n))).count() as u64)
    }

    /// Approves a pending request on behalf of committee member `member`: issues its
    /// ControlledAccessGrants visa (iss and jku of this node, `sub` the requester's, `value` the
    /// dataset's URL, `by: dac`, the purpose in [`PURPOSE_CLAIM`]) and records the grant with the
    /// member's `note` (required; for a request the automatic match sent to review, the refusal
    /// says how many people the grant would leave out).
    pub fn approve_access_request(
        &self,
        id: u64,
        member: &str,
        note: Option<&str>,
        issuer: &OwnIssuer,
        now: i64,
    ) -> Result<Approval, DacError> {
        let resource = format!("/dac/requests/{id}");
        let action = AuditAction::DacApprove;
        let request = match self.store.access_request(id)? {
            Some(request) => request,
            None => return self.refused(member, action, &Concerning::new(resource), DacError::NoRequest(id), now),
        };
        let about = Concerning::request(resource, &request);
        if request.status != RequestStatus::Pending {
            let e = DacError::Conflict(format!("access request {id} is already {}", request.status.as_str()));
            return self.refused(member, action, &about, e, now);
        }
        if request.automatic == Outcome::Deny {
            return self.refused(member, action, &about, DacError::ConsentDenies(id), now);
        }
        let purpose = Self::purpose_of(&format!("access request {id}"), &request.purpose)?;
        let (reached, left_out) = self.grant_reach(&request.dataset, &purpose)?;
        // Notes are kept and audited: a local id typed into one is kept as the person's pseudonym.
        let note = note.map(|n| self.scrub_local_ids(n.trim())).transpose()?;
        let Some(note) = note.filter(|n| !n.is_empty()) else {
            let e = match request.automatic {
                Outcome::NeedsReview => {
                    let total = reached + left_out;
                    DacError::NoteNeeded { id, dataset: request.dataset.clone(), left_out, total }
                }
                _ => DacError::Missing("an approval needs the member's note (`--note`, or {\"note\": \"…\"})"),
            };
            return self.refused(member, action, &about, e, now);
        };
        let Some(keys) = self.signing_keys()? else {
            return self.refused(member, action, &about, DacError::NoSigningKey, now);
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
            PURPOSE_CLAIM: purpose,
        });
        let visa = keys.current.sign(&claims, "JWT", &issuer.jku());
        let grant = NewGrant {
            jti: jti.clone(),
            kid: keys.current.kid.clone(),
            visa,
            issued_at: now,
            expires_at: expires,
            note: Some(note.to_string()),
        };
        let detail = format!(
            "granted {} to {} for {} until {} (visa {jti}); reaches {reached} individuals, leaves out {left_out}; \
             note: {note}",
            request.dataset,
            request.user,
            purpose.describe(),
            rfc3339(expires)
        );
        let audit = about.record(member, action.clone(), true, detail, now);
        match self.store.approve_access_request(id, member, &grant, &audit) {
            Ok(grant) => Ok(Approval { grant, purpose, reached, left_out }),
            Err(e) => self.refused(member, action, &about, e.into(), now),
        }
    }

    /// Rejects a pending request on behalf of `member`, with their note (required).
    pub fn reject_access_request(
        &self,
        id: u64,
        member: &str,
        note: &str,
        now: i64,
    ) -> Result<AccessRequest, DacError> {
        let resource = format!("/dac/requests/{id}");
        let action = AuditAction::DacReject;
        let Some(request) = self.store.access_request(id)? else {
            return self.refused(member, action, &Concerning::new(resource), DacError::NoRequest(id), now);
        };
        let about = Concerning::request(resource, &request);
        let note = self.scrub_local_ids(note.trim())?;
        if note.is_empty() {
            return self.refused(member, action, &about, DacError::Missing("a rejection needs a note saying why"), now);
        }
        let audit = about.record(member, action.clone(), true, format!("rejected: {note}"), now);
        match self.store.reject_access_request(id, member, &note, &audit) {
            Ok(request) => Ok(request),
            Err(e) => self.refused(member, action, &about, e.into(), now),
        }
    }

    /// Revokes a grant on behalf of `member`, with a reason (required): its visa stops working at
    /// once, before it expires.
    pub fn revoke_grant(&self, jti: &str, member: &str, reason: &str, now: i64) -> Result<Grant, DacError> {
        let resource = format!("/dac/grants/{jti}");
        let action = AuditAction::DacRevoke;
        let Some(grant) = self.store.grant(jti)? else {
            let e = DacError::NoGrant(jti.to_string());
            return self.refused(member, action, &Concerning::new(resource), e, now);
        };
        let about = Concerning::grant(resource, &grant);
        let reason = self.scrub_local_ids(reason.trim())?;
        if reason.is_empty() {
            return self.refused(member, action, &about, DacError::Missing("a revocation needs a reason"), now);
        }
        let detail = format!("revoked the grant of {} to {}: {reason}", grant.dataset, grant.user);
        let audit = about.record(member, action.clone(), true, detail, now);
        match self.store.revoke_grant(jti, member, &reason, &audit) {
            Ok(grant) => Ok(grant),
            Err(e) => self.refused(member, action, &about, e.into(), now),
        }
    }

    /// A grant of this node and the research purpose it was approved for (one read).
    pub fn grant_with_purpose(&self, jti: &str) -> Result<Option<(Grant, Option<ResearchPurpose>)>, DacError> {
        self.store.grant(jti)?.map(Self::with_purpose).transpose()
    }

    /// Grants in issuing order (all, or one user's), each with the purpose it was approved for.
    pub fn grants_with_purpose(&self, user: Option<&str>) -> Result<Vec<(Grant, Option<ResearchPurpose>)>, DacError> {
        self.store.grants(user)?.into_iter().map(Self::with_purpose).collect()
    }

    /// A grant with its purpose parsed; `None` when the request it approved is gone.
    fn with_purpose(grant: Grant) -> Result<(Grant, Option<ResearchPurpose>), DacError> {
        let purpose = match grant.purpose.is_empty() {
            true => None,
            false => Some(Self::purpose_of(&format!("grant {}", grant.jti), &grant.purpose)?),
        };
        Ok((grant, purpose))
    }
}

/// Audit entries for a committee read by `reader`: one per researcher whose requests or grants
/// it showed (`shown`: researcher and dataset of each item), so each is found under the
/// researcher and the dataset concerned.
pub fn committee_read_records(
    reader: &str,
    action: AuditAction,
    resource: &str,
    shown: &[(&str, &str)],
    now: i64,
) -> Vec<AuditRecord> {
    let mut by_researcher: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (researcher, dataset) in shown {
        let datasets = by_researcher.entry(researcher).or_default();
        if !datasets.iter().any(|d| d == dataset) {
            datasets.push(dataset.to_string());
        }
    }
    if by_researcher.is_empty() {
        return vec![Concerning::new(resource.into()).record(reader, action, true, "nothing to show".into(), now)];
    }
    by_researcher
        .into_iter()
        .map(|(researcher, datasets)| {
            let n = shown.iter().filter(|(r, _)| *r == researcher).count();
            let about = Concerning { resource: resource.into(), datasets, researcher: Some(researcher) };
            about.record(reader, action.clone(), true, format!("{n} item(s) of {researcher} shown"), now)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{committee_read_records, shown_together, shown_without_counts};
    use oresund_core::audit::AuditAction;

    #[test]
    fn a_committee_read_is_filed_under_each_researcher_shown() {
        let shown = [("alice", "DK-1"), ("bob", "DK-1"), ("alice", "SE-1"), ("alice", "DK-1")];
        let records = committee_read_records("member", AuditAction::DacList, "/dac/requests", &shown, 0);
        let filed: Vec<(Option<&str>, &[String])> =
            records.iter().map(|r| (r.subject.as_deref(), r.datasets.as_slice())).collect();
        let (dk_se, dk) = (["DK-1".to_string(), "SE-1".to_string()], ["DK-1".to_string()]);
        assert_eq!(filed, [(Some("alice"), &dk_se[..]), (Some("bob"), &dk[..])]);
        assert!(records.iter().all(|r| r.actor == "member" && r.action == AuditAction::DacList));
        assert_eq!(records[0].detail, "3 item(s) of alice shown");
        // Their own requests: the researcher is the actor, not also the subject.
        let own = committee_read_records("alice", AuditAction::DacList, "/dac/requests", &shown[..1], 0);
        assert_eq!(own[0].subject, None);
        assert_eq!(committee_read_records("m", AuditAction::DacGrants, "/dac/grants", &[], 0).len(), 1);
    }

    #[test]
    fn a_small_part_of_a_known_total_hides_the_others_and_the_total_too() {
        assert_eq!(
            shown_together(500, &[(495, "approve"), (5, "deny"), (0, "review")], 5),
            "500 individuals: 495 approve, 5 deny, 0 review"
        );
        assert_eq!(
            shown_together(500, &[(497, "approve"), (1, "deny"), (2, "review")], 5),
            "5 or more individuals: 5 or more approve, fewer than 5 deny, fewer than 5 review"
        );
        // A small dataset: its total and zeros would give the one part away.
        assert_eq!(
            shown_together(3, &[(3, "approve"), (0, "deny"), (0, "review")], 5),
            "fewer than 5 individuals: fewer than 5 approve, fewer than 5 deny, fewer than 5 review"
        );
        assert_eq!(
            shown_without_counts(500, &[(500, "approve"), (0, "deny"), (0, "review")]),
            "the dataset's individuals: all approve, none deny, none review"
        );
        assert_eq!(
            shown_without_counts(500, &[(497, "approve"), (3, "deny"), (0, "review")]),
            "the dataset's individuals: some approve, some deny, none review"
        );
    }
}
