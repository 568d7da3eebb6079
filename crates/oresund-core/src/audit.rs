//! The tamper-evident audit log: each entry carries the SHA-256 of the one before it, so editing,
//! removing or reordering any entry breaks every hash after it. The store also keeps the chain's
//! head (last sequence number and hash) beside it, updated in the same transaction as every
//! append, so removing the *last* entries is caught too — unless whoever removes them also rewrites
//! the head (it sits in the same database). Against someone with write access to the database the
//! chain proves nothing by itself: keep the head hash `oresund audit verify` prints somewhere they
//! cannot write (a ticket, an append-only store), and compare.
//!
//! What an entry's hash covers is versioned: every entry carries the [`AuditFormat`] it was hashed
//! with, and verification uses each entry's own. Format 1 is the JSON of the record that the first
//! releases hashed (frozen here, field by field, so that changing [`AuditRecord`] cannot change it);
//! format 2 is a canonical encoding that does not depend on any struct layout; format 3, which new
//! entries use, is format 2 plus the record's `subject`. A chain written by an old release and
//! continued by a new one verifies end to end.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What happened, by whom, to what, and how it was decided. Holds user ids and pseudonyms only,
/// never a local personal id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC time.
    pub time: String,
    /// User id (`issuer#subject`, token holder), `operator` (the CLI), `anonymous` or
    /// `unauthenticated` (a credential that was refused).
    pub actor: String,
    pub action: AuditAction,
    /// Endpoint or object acted on.
    pub resource: String,
    pub datasets: Vec<String>,
    /// Granularity returned, for queries.
    pub granularity: Option<String>,
    pub decision: Decision,
    /// Why (the refusal message, the DUO match...).
    pub detail: String,
    /// The researcher the entry concerns when it is not the actor (user id): whose request a
    /// committee member decided, whose identity a refused passport claimed. So that a
    /// researcher's history can be listed whoever acted. Covered by the hash from format 3 on;
    /// formats 1 and 2 ignore it (entries written in them have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// What an audit entry records. Stored, hashed and shown as [`AuditAction::as_str`]: those
/// strings are part of every stored entry's hash and must never change (`budget-unlock` keeps its
/// hyphen beside the dotted `dac.*` names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A Beacon query (`query`).
    Query,
    /// A refused credential (`auth`).
    Auth,
    /// An access request filed (`dac.request`).
    DacRequest,
    /// `dac.approve`.
    DacApprove,
    /// `dac.reject`.
    DacReject,
    /// A grant revoked (`dac.revoke`).
    DacRevoke,
    /// Access requests listed (`dac.list`).
    DacList,
    /// One access request read (`dac.read`).
    DacRead,
    /// Grants listed (`dac.grants`).
    DacGrants,
    /// The operator unlocked a user's privacy budget (`budget-unlock`).
    BudgetUnlock,
    /// An htsget ticket issued (`htsget.ticket`): which bytes of an archived file a researcher may fetch.
    HtsgetTicket,
    /// A DRS object looked up (`drs.object`).
    DrsObject,
    /// A DRS access URL issued (`drs.access`).
    DrsAccess,
    /// Bytes of an archived file served through a data URL (`data.served`).
    DataServed,
    /// A case/control association answered (`association`): allele tables per variant.
    Association,
    /// A matchmaking case submitted or replaced (`mme.case`).
    MmeCase,
    /// A matchmaking case removed (`mme.remove`).
    MmeRemove,
    /// Matchmaking cases listed (`mme.list`).
    MmeList,
    /// A match request answered from this node's cases (`mme.match`).
    MmeMatch,
    /// A match request sent to a partner (`mme.ask`).
    MmeAsk,
    /// A participant withdrawn (`withdraw`): named by pseudonym, with the reason.
    Withdraw,
    /// An ingested file removed (`file.remove`).
    FileRemove,
    /// A dataset removed (`dataset.remove`).
    DatasetRemove,
    /// What the node holds about one person reported (`subject.report`, GDPR article 15).
    SubjectReport,
    /// An action this build does not know (written by a newer Øresund), kept verbatim so that the
    /// entry still reads and verifies. [`AuditAction::parse`] never returns it for a known name.
    Other(String),
}

impl AuditAction {
    const KNOWN: [AuditAction; 24] = [
        AuditAction::Query,
        AuditAction::Auth,
        AuditAction::DacRequest,
        AuditAction::DacApprove,
        AuditAction::DacReject,
        AuditAction::DacRevoke,
        AuditAction::DacList,
        AuditAction::DacRead,
        AuditAction::DacGrants,
        AuditAction::BudgetUnlock,
        AuditAction::HtsgetTicket,
        AuditAction::DrsObject,
        AuditAction::DrsAccess,
        AuditAction::DataServed,
        AuditAction::Association,
        AuditAction::MmeCase,
        AuditAction::MmeRemove,
        AuditAction::MmeList,
        AuditAction::MmeMatch,
        AuditAction::MmeAsk,
        AuditAction::Withdraw,
        AuditAction::FileRemove,
        AuditAction::DatasetRemove,
        AuditAction::SubjectReport,
    ];

    /// The stored (and hashed) name.
    pub fn as_str(&self) -> &str {
        match self {
            AuditAction::Query => "query",
            AuditAction::Auth => "auth",
            AuditAction::DacRequest => "dac.request",
            AuditAction::DacApprove => "dac.approve",
            AuditAction::DacReject => "dac.reject",
            AuditAction::DacRevoke => "dac.revoke",
            AuditAction::DacList => "dac.list",
            AuditAction::DacRead => "dac.read",
            AuditAction::DacGrants => "dac.grants",
            AuditAction::BudgetUnlock => "budget-unlock",
            AuditAction::HtsgetTicket => "htsget.ticket",
            AuditAction::DrsObject => "drs.object",
            AuditAction::DrsAccess => "drs.access",
            AuditAction::DataServed => "data.served",
            AuditAction::Association => "association",
            AuditAction::MmeCase => "mme.case",
            AuditAction::MmeRemove => "mme.remove",
            AuditAction::MmeList => "mme.list",
            AuditAction::MmeMatch => "mme.match",
            AuditAction::MmeAsk => "mme.ask",
            AuditAction::Withdraw => "withdraw",
            AuditAction::FileRemove => "file.remove",
            AuditAction::DatasetRemove => "dataset.remove",
            AuditAction::SubjectReport => "subject.report",
            AuditAction::Other(name) => name,
        }
    }

    /// The action a stored name stands for; an unknown name is kept as [`AuditAction::Other`].
    pub fn parse(name: &str) -> Self {
        Self::KNOWN.into_iter().find(|a| a.as_str() == name).unwrap_or_else(|| AuditAction::Other(name.to_string()))
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for AuditAction {
    fn from(name: &str) -> Self {
        Self::parse(name)
    }
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

/// How an audited action was decided. Stored and hashed as [`Decision::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allowed,
    Denied,
}

impl Decision {
    /// `allowed` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
        }
    }

    pub fn allowed(allowed: bool) -> Self {
        if allowed { Decision::Allowed } else { Decision::Denied }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision name that is neither `allowed` nor `denied`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit decision {0:?}")]
pub struct UnknownDecision(pub String);

impl std::str::FromStr for Decision {
    type Err = UnknownDecision;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [Decision::Allowed, Decision::Denied]
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| UnknownDecision(name.to_string()))
    }
}

/// How an entry's hash encodes what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditFormat {
    /// Format 1, the first releases': SHA-256 of `previous` (hex text), `seq` (u64 little-endian)
    /// and the record as serde_json wrote it, fields in their original order (frozen in a private copy of that struct).
    LegacyJson,
    /// Format 2: SHA-256 of the canonical encoding of [`canonical_v2`].
    Canonical,
    /// Format 3: SHA-256 of [`canonical_v3`], format 2 with the record's `subject`.
    WithSubject,
}

impl AuditFormat {
    /// What new entries are written with.
    pub const CURRENT: AuditFormat = AuditFormat::WithSubject;

    /// The number stored with each entry.
    pub fn code(self) -> u16 {
        match self {
            AuditFormat::LegacyJson => 1,
            AuditFormat::Canonical => 2,
            AuditFormat::WithSubject => 3,
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        [AuditFormat::LegacyJson, AuditFormat::Canonical, AuditFormat::WithSubject]
            .into_iter()
            .find(|f| f.code() == code)
    }
}

/// Entries stored before formats existed were all format 1.
fn legacy_format() -> u16 {
    AuditFormat::LegacyJson.code()
}

/// A record in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub record: AuditRecord,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    pub previous: String,
    /// Hex SHA-256 of (previous, seq, record), encoded as `format` says.
    pub hash: String,
    /// The [`AuditFormat`] code `hash` was computed with.
    #[serde(default = "legacy_format")]
    pub format: u16,
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The record as format 1 hashed it: the first releases' `AuditRecord`, field names and order
/// frozen (serde_json writes struct fields in declaration order), whatever becomes of the record.
#[derive(Serialize)]
struct LegacyV1<'a> {
    time: &'a str,
    actor: &'a str,
    action: &'a str,
    resource: &'a str,
    datasets: &'a [String],
    granularity: Option<&'a str>,
    decision: &'a str,
    detail: &'a str,
}

fn legacy_v1_json(record: &AuditRecord) -> Vec<u8> {
    let legacy = LegacyV1 {
        time: &record.time,
        actor: &record.actor,
        action: record.action.as_str(),
        resource: &record.resource,
        datasets: &record.datasets,
        granularity: record.granularity.as_deref(),
        decision: record.decision.as_str(),
        detail: &record.detail,
    };
    // Strings and a list of strings: serialising cannot fail.
    serde_json::to_vec(&legacy).unwrap_or_default()
}

/// Builds the canonical encodings (formats 2 and 3): every name and value preceded by its length
/// (u64 little-endian).
struct Canonical(Vec<u8>);

impl Canonical {
    fn new(magic: &[u8]) -> Self {
        Canonical(magic.to_vec())
    }

    fn bytes(&mut self, value: &[u8]) {
        self.0.extend_from_slice(&(value.len() as u64).to_le_bytes());
        self.0.extend_from_slice(value);
    }

    fn field(&mut self, name: &str, value: &str) {
        self.bytes(name.as_bytes());
        self.bytes(value.as_bytes());
    }

    /// The name, then the count (u64 LE), then each item length-prefixed.
    fn list(&mut self, name: &str, values: &[String]) {
        self.bytes(name.as_bytes());
        self.0.extend_from_slice(&(values.len() as u64).to_le_bytes());
        for value in values {
            self.bytes(value.as_bytes());
        }
    }

    /// The name, then one byte: 0 for none, or 1 followed by the length-prefixed text.
    fn optional(&mut self, name: &str, value: Option<&str>) {
        self.bytes(name.as_bytes());
        match value {
            None => self.0.push(0),
            Some(value) => {
                self.0.push(1);
                self.bytes(value.as_bytes());
            }
        }
    }

    /// The fields formats 2 and 3 share, `previous` to `detail`, in their fixed order.
    fn record(&mut self, previous: &str, seq: u64, record: &AuditRecord) {
        self.field("previous", previous);
        self.field("seq", &seq.to_string());
        self.field("time", &record.time);
        self.field("actor", &record.actor);
        self.field("action", record.action.as_str());
        self.field("resource", &record.resource);
        self.list("datasets", &record.datasets);
        self.optional("granularity", record.granularity.as_deref());
        self.field("decision", record.decision.as_str());
        self.field("detail", &record.detail);
    }
}

/// Format 2's bytes: `oresund-audit/2\n`, then each field in this fixed order as a name and a
/// value, every name and value preceded by its length (u64 little-endian):
///
/// `previous`, `seq` (decimal), `time`, `actor`, `action`, `resource`, `datasets` (its value
/// is the count, u64 LE, then each dataset length-prefixed), `granularity` (its value is one byte,
/// 0 for none or 1 followed by the length-prefixed text), `decision`, `detail`.
///
/// Lengths make every field boundary explicit (`["ab"]` and `["a", "b"]` differ, so do no
/// granularity and an empty one), and nothing depends on how a struct is declared or serialised.
/// The record's `subject` is not covered.
pub fn canonical_v2(previous: &str, seq: u64, record: &AuditRecord) -> Vec<u8> {
    let mut out = Canonical::new(b"oresund-audit/2\n");
    out.record(previous, seq, record);
    out.0
}

/// Format 3's bytes: `oresund-audit/3\n`, then the fields of [`canonical_v2`] encoded the same way
/// and in the same order, then `subject` encoded like `granularity` (one byte, 0 for none or 1
/// followed by the length-prefixed text):
///
/// `previous`, `seq`, `time`, `actor`, `action`, `resource`, `datasets`, `granularity`,
/// `decision`, `detail`, `subject`.
///
/// The magic line differs from format 2's, so an entry cannot be relabelled from one to the other.
pub fn canonical_v3(previous: &str, seq: u64, record: &AuditRecord) -> Vec<u8> {
    let mut out = Canonical::new(b"oresund-audit/3\n");
    out.record(previous, seq, record);
    out.optional("subject", record.subject.as_deref());
    out.0
}

/// The hash an entry in `format` must carry.
pub fn entry_hash(format: AuditFormat, previous: &str, seq: u64, record: &AuditRecord) -> String {
    let mut hasher = Sha256::new();
    match format {
        AuditFormat::LegacyJson => {
            hasher.update(previous.as_bytes());
            hasher.update(seq.to_le_bytes());
            hasher.update(legacy_v1_json(record));
        }
        AuditFormat::Canonical => hasher.update(canonical_v2(previous, seq, record)),
        AuditFormat::WithSubject => hasher.update(canonical_v3(previous, seq, record)),
    }
    crate::hex::encode(&hasher.finalize())
}

impl AuditEntry {
    /// The entry following `previous` (the previous entry's hash and seq; `None` for the first),
    /// in the current format.
    pub fn next(previous: Option<(&str, u64)>, record: AuditRecord) -> Self {
        Self::next_in(AuditFormat::CURRENT, previous, record)
    }

    /// [`AuditEntry::next`] in a given format (older formats: to test reading old chains).
    pub fn next_in(format: AuditFormat, previous: Option<(&str, u64)>, record: AuditRecord) -> Self {
        let (previous, seq) = match previous {
            Some((hash, seq)) => (hash.to_string(), seq + 1),
            None => (GENESIS.to_string(), 1),
        };
        let hash = entry_hash(format, &previous, seq, &record);
        Self { seq, record, previous, hash, format: format.code() }
    }
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("entry {seq}: its hash does not match its content (edited)")]
    Edited { seq: u64 },
    #[error("entry {seq}: it does not follow entry {expected_previous} (removed or reordered entries)")]
    Broken { seq: u64, expected_previous: u64 },
    #[error("the log ends at entry {last} but its head says {head}: the last entries were removed")]
    Truncated { last: u64, head: u64 },
    #[error("the log's head names entry {head} with another hash than that entry's (edited head or entries)")]
    HeadMismatch { head: u64 },
    #[error("entry {seq}: hash format {format} is unknown to this build (written by a newer Øresund?)")]
    UnknownFormat { seq: u64, format: u16 },
}

/// Checks a whole chain in order, each entry's hash in its own format; the error names the first
/// bad entry.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<(), ChainError> {
    let mut previous: Option<&AuditEntry> = None;
    for entry in entries {
        let (expected_hash, expected_seq) = previous.map_or((GENESIS, 1), |p| (p.hash.as_str(), p.seq + 1));
        if entry.previous != expected_hash || entry.seq != expected_seq {
            return Err(ChainError::Broken { seq: entry.seq, expected_previous: expected_seq - 1 });
        }
        let format = AuditFormat::from_code(entry.format)
            .ok_or(ChainError::UnknownFormat { seq: entry.seq, format: entry.format })?;
        // Formats 1 and 2 do not cover a subject, and entries written in them had none: one found
        // there was added afterwards (it would file the entry under someone else).
        let uncovered_subject = format != AuditFormat::WithSubject && entry.record.subject.is_some();
        if uncovered_subject || entry_hash(format, &entry.previous, entry.seq, &entry.record) != entry.hash {
            return Err(ChainError::Edited { seq: entry.seq });
        }
        previous = Some(entry);
    }
    Ok(())
}

/// [`verify_chain`], then checks that the chain ends where its head (`seq`, `hash`, kept apart
/// by the store; `(0, GENESIS)` for an empty log) says it does.
pub fn verify_with_head(entries: &[AuditEntry], head: (u64, &str)) -> Result<(), ChainError> {
    verify_chain(entries)?;
    let (last, last_hash) = entries.last().map_or((0, GENESIS), |e| (e.seq, e.hash.as_str()));
    if last < head.0 {
        return Err(ChainError::Truncated { last, head: head.0 });
    }
    if last != head.0 || last_hash != head.1 {
        return Err(ChainError::HeadMismatch { head: head.0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(actor: &str) -> AuditRecord {
        AuditRecord {
            time: "2026-11-25T12:00:00Z".into(),
            actor: actor.into(),
            action: AuditAction::Query,
            resource: "/g_variants".into(),
            datasets: vec!["DK-1".into()],
            granularity: Some("count".into()),
            decision: Decision::Allowed,
            detail: String::new(),
            subject: None,
        }
    }

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let previous = out.last().map(|e| (e.hash.as_str(), e.seq));
            let entry = AuditEntry::next(previous, record(&format!("user{i}")));
            out.push(entry);
        }
        out
    }

    #[test]
    fn edits_removals_and_reorders_are_found_at_the_first_bad_entry() {
        let good = chain(5);
        assert_eq!(verify_chain(&good), Ok(()));
        let mut edited = good.clone();
        edited[2].record.decision = Decision::Denied;
        assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq: 3 }));
        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(verify_chain(&removed), Err(ChainError::Broken { seq: 3, expected_previous: 1 }));
        let mut reordered = good.clone();
        reordered.swap(3, 4);
        assert_eq!(verify_chain(&reordered), Err(ChainError::Broken { seq: 5, expected_previous: 3 }));
    }

    #[test]
    fn the_head_catches_removed_last_entries() {
        let good = chain(5);
        let head = (5, good[4].hash.as_str());
        assert_eq!(verify_with_head(&good, head), Ok(()));
        assert_eq!(verify_with_head(&good[..3], head), Err(ChainError::Truncated { last: 3, head: 5 }));
        assert_eq!(verify_with_head(&[], head), Err(ChainError::Truncated { last: 0, head: 5 }));
        assert_eq!(verify_with_head(&[], (0, GENESIS)), Ok(()));
        assert_eq!(verify_with_head(&good, (5, GENESIS)), Err(ChainError::HeadMismatch { head: 5 }));
    }

    /// Two records as the first releases hashed them, and the hashes those releases computed
    /// (format 1, before formats existed): stored chains like these must keep verifying.
    fn legacy_records() -> [AuditRecord; 2] {
        [
            AuditRecord {
                time: "2026-11-25T12:00:00Z".into(),
                actor: "iss#alice".into(),
                action: AuditAction::Query,
                resource: "/g_variants".into(),
                datasets: vec!["DK-1".into(), "SE-1".into()],
                granularity: Some("count".into()),
                decision: Decision::Allowed,
                detail: String::new(),
                subject: None,
            },
            AuditRecord {
                time: "2026-11-25T12:00:01Z".into(),
                actor: "dac@x".into(),
                action: AuditAction::DacApprove,
                resource: "request/1".into(),
                datasets: vec![],
                granularity: None,
                decision: Decision::Denied,
                detail: "purpose \"HMB\" — ø".into(),
                subject: None,
            },
        ]
    }

    const LEGACY_HASHES: [&str; 2] = [
        "d604bb04faf9c6a358ef0d661e0557986f6c5c257475e3b446c57a630d116e7a",
        "52af8feb7ee7c8b9296d0630f5cad5e051da851e89743f89d4b7ca98d01ef7b7",
    ];

    #[test]
    fn a_chain_hashed_by_the_first_releases_still_verifies() {
        let [first, second] = legacy_records();
        let entries = vec![
            AuditEntry { seq: 1, record: first, previous: GENESIS.into(), hash: LEGACY_HASHES[0].into(), format: 1 },
            AuditEntry {
                seq: 2,
                record: second,
                previous: LEGACY_HASHES[0].into(),
                hash: LEGACY_HASHES[1].into(),
                format: 1,
            },
        ];
        assert_eq!(verify_with_head(&entries, (2, LEGACY_HASHES[1])), Ok(()));
        let rebuilt = AuditEntry::next_in(AuditFormat::LegacyJson, None, entries[0].record.clone());
        assert_eq!(rebuilt, entries[0]);
        // Format 2 hashes the same record differently: the format is part of what is verified.
        let mut relabelled = entries.clone();
        relabelled[0].format = 2;
        assert_eq!(verify_chain(&relabelled), Err(ChainError::Edited { seq: 1 }));
        relabelled[0].format = 9;
        assert_eq!(verify_chain(&relabelled), Err(ChainError::UnknownFormat { seq: 1, format: 9 }));
    }

    #[test]
    fn format_2_is_frozen_and_continues_a_format_1_chain() {
        let [first, second] = legacy_records();
        let old = AuditEntry::next_in(AuditFormat::LegacyJson, None, first);
        let new = AuditEntry::next_in(AuditFormat::Canonical, Some((&old.hash, old.seq)), second);
        assert_eq!(new.format, 2);
        // Computed once when format 2 was introduced: any change to its encoding breaks this.
        assert_eq!(new.hash, FORMAT_2_FIXTURE);
        let chain = [old, new];
        assert_eq!(verify_chain(&chain), Ok(()));
        for seq in [1, 2] {
            let mut edited = chain.to_vec();
            edited[seq - 1].record.detail.push('!');
            assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq: seq as u64 }));
        }
    }

    #[test]
    fn action_and_decision_names_are_the_stored_ones() {
        let names = [
            "query",
            "auth",
            "dac.request",
            "dac.approve",
            "dac.reject",
            "dac.revoke",
            "dac.list",
            "dac.read",
            "dac.grants",
            "budget-unlock",
            "htsget.ticket",
            "drs.object",
            "drs.access",
            "data.served",
            "association",
            "mme.case",
            "mme.remove",
            "mme.list",
            "mme.match",
            "mme.ask",
            "withdraw",
            "file.remove",
            "dataset.remove",
            "subject.report",
        ];
        assert_eq!(AuditAction::KNOWN.map(|a| a.as_str().to_string()), names.map(String::from));
        for name in names {
            assert!(!matches!(AuditAction::parse(name), AuditAction::Other(_)), "{name}");
            assert_eq!(AuditAction::parse(name).as_str(), name);
        }
        assert_eq!(AuditAction::parse("dac.audit"), AuditAction::Other("dac.audit".into()));
        assert_eq!(AuditAction::parse("dac.audit").as_str(), "dac.audit");
        assert_eq!("allowed".parse(), Ok(Decision::Allowed));
        assert_eq!("denied".parse(), Ok(Decision::Denied));
        assert!("Allowed".parse::<Decision>().is_err());
        let json = serde_json::to_string(&record("u")).unwrap();
        assert!(json.contains(r#""action":"query""#) && json.contains(r#""decision":"allowed""#), "{json}");
        assert_eq!(serde_json::from_str::<AuditRecord>(&json).unwrap(), record("u"));
    }

    /// A committee member's decision on alice's request: the actor is not whom the entry concerns.
    fn decision_on(subject: Option<&str>) -> AuditRecord {
        AuditRecord {
            action: AuditAction::DacApprove,
            resource: "request/1".into(),
            subject: subject.map(Into::into),
            ..record("dac@x")
        }
    }

    #[test]
    fn format_3_entries_verify_with_and_without_a_subject_and_cover_it() {
        for subject in [None, Some("iss#alice")] {
            let entry = AuditEntry::next(None, decision_on(subject));
            assert_eq!(entry.format, 3);
            assert_eq!(verify_with_head(std::slice::from_ref(&entry), (1, &entry.hash)), Ok(()), "{subject:?}");
        }
        let entry = AuditEntry::next(None, decision_on(Some("iss#alice")));
        for subject in [None, Some(""), Some("iss#bob"), Some("iss#alice ")] {
            let mut edited = entry.clone();
            edited.record.subject = subject.map(Into::into);
            assert_eq!(verify_chain(&[edited]), Err(ChainError::Edited { seq: 1 }), "subject {subject:?}");
        }
        let mut added = AuditEntry::next(None, decision_on(None));
        added.record.subject = Some("iss#alice".into());
        assert_eq!(verify_chain(&[added]), Err(ChainError::Edited { seq: 1 }), "a subject added afterwards");
    }

    #[test]
    fn formats_1_and_2_do_not_cover_the_subject() {
        // Entries they hashed had no subject: the hash ignores it, so verification refuses one.
        for format in [AuditFormat::LegacyJson, AuditFormat::Canonical] {
            let hash = |r: &AuditRecord| entry_hash(format, GENESIS, 1, r);
            assert_eq!(hash(&decision_on(Some("iss#alice"))), hash(&decision_on(None)), "{format:?}");
            let mut filed = AuditEntry::next_in(format, None, decision_on(None));
            assert_eq!(verify_chain(std::slice::from_ref(&filed)), Ok(()));
            filed.record.subject = Some("iss#alice".into());
            assert_eq!(verify_chain(&[filed]), Err(ChainError::Edited { seq: 1 }), "{format:?}: a subject added");
        }
        let without = decision_on(None);
        assert_ne!(
            entry_hash(AuditFormat::WithSubject, GENESIS, 1, &without),
            entry_hash(AuditFormat::Canonical, GENESIS, 1, &without),
            "format 3 differs from format 2 even without a subject"
        );
        let json = serde_json::to_string(&without).unwrap();
        assert!(!json.contains("subject"), "no subject, no field: {json}");
        assert_eq!(serde_json::from_str::<AuditRecord>(&json).unwrap(), without);
    }

    #[test]
    fn a_chain_of_formats_1_2_and_3_verifies() {
        let [first, second] = legacy_records();
        let one = AuditEntry::next_in(AuditFormat::LegacyJson, None, first);
        let two = AuditEntry::next_in(AuditFormat::Canonical, Some((&one.hash, one.seq)), second.clone());
        let third = AuditRecord { subject: Some("iss#alice".into()), ..second };
        let three = AuditEntry::next(Some((&two.hash, two.seq)), third);
        assert_eq!([one.format, two.format, three.format], [1, 2, 3]);
        // Computed once when format 3 was introduced: any change to its encoding breaks this.
        assert_eq!(three.hash, FORMAT_3_FIXTURE);
        let chain = [one, two, three];
        assert_eq!(verify_with_head(&chain, (3, &chain[2].hash)), Ok(()));
        for index in 0..chain.len() {
            let seq = chain[index].seq;
            // Each entry is checked in its own format: relabelled, it no longer verifies.
            for format in [1, 2, 3].into_iter().filter(|&f| f != chain[index].format) {
                let mut edited = chain.to_vec();
                edited[index].format = format;
                assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq }), "entry {seq} as format {format}");
            }
            let mut edited = chain.to_vec();
            edited[index].record.actor.push('!');
            assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq }));
        }
        let mut edited = chain.to_vec();
        edited[2].record.subject = Some("iss#bob".into());
        assert_eq!(verify_chain(&edited), Err(ChainError::Edited { seq: 3 }));
    }

    const FORMAT_3_FIXTURE: &str = "f1c26161457f3a04795c5584c83130177a316006b796701c763b29a6a70c2533";

    const FORMAT_2_FIXTURE: &str = "b80563498d1e52ed99dcf1883d7414521eb5c7105916b8dcf566fb2ef9ea4f03";

    /// Asserts that `base` and each of its `edits` hash apart in `format`, and that seq is covered.
    fn edits_change_the_hash(format: AuditFormat, base: &AuditRecord, edits: &[fn(&mut AuditRecord)]) {
        let hash = |r: &AuditRecord| entry_hash(format, GENESIS, 1, r);
        let mut variants = vec![hash(base)];
        for edit in edits {
            let mut r = base.clone();
            edit(&mut r);
            variants.push(hash(&r));
        }
        let distinct: std::collections::HashSet<&String> = variants.iter().collect();
        assert_eq!(distinct.len(), variants.len(), "{format:?}: every edit changes the hash");
        assert_ne!(entry_hash(format, GENESIS, 2, base), hash(base), "{format:?}: seq is covered");
        assert_ne!(entry_hash(format, "1".repeat(64).as_str(), 1, base), hash(base), "{format:?}: previous");
    }

    #[test]
    fn format_2_keeps_field_boundaries() {
        edits_change_the_hash(
            AuditFormat::Canonical,
            &record("u"),
            &[
                |r| r.datasets = vec!["DK".into(), "-1".into()],
                |r| r.datasets = vec!["DK-1".into(), String::new()],
                |r| r.granularity = None,
                |r| r.granularity = Some(String::new()),
                |r| {
                    r.action = AuditAction::Other("query/g_variants".into());
                    r.resource = String::new();
                },
                |r| r.time.push('x'),
                |r| r.actor.push('x'),
                |r| r.decision = Decision::Denied,
                |r| r.detail.push('x'),
            ],
        );
    }

    #[test]
    fn format_3_keeps_field_boundaries() {
        edits_change_the_hash(
            AuditFormat::WithSubject,
            &decision_on(Some("iss#alice")),
            &[
                |r| r.subject = None,
                |r| r.subject = Some(String::new()),
                |r| {
                    r.detail = "iss#alice".into();
                    r.subject = Some(String::new());
                },
                |r| {
                    r.granularity = Some("iss#alice".into());
                    r.subject = None;
                },
                |r| r.datasets = vec!["DK".into(), "-1".into()],
                |r| r.granularity = None,
                |r| r.time.push('x'),
                |r| r.actor.push('x'),
                |r| r.resource.push('x'),
                |r| r.decision = Decision::Denied,
                |r| r.detail.push('x'),
            ],
        );
    }
}
