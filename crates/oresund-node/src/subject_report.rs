//! What the node holds about one person, for a data subject's access request (GDPR article 15):
//! their record, the datasets and files that hold them, how many variants they carry there, the
//! access grants that cover those datasets, and how many audited answers drew on those datasets,
//! and when. Making the report is itself audited (`subject.report`).

use std::collections::{BTreeMap, BTreeSet};

use oresund_core::audit::{AuditAction, Decision};
use oresund_core::pseudonym::Pseudonym;
use oresund_store::{FileNumber, StoredFile};
use serde::Serialize;

use crate::NodeError;
use crate::erasure::error::ErasureError;
use crate::erasure::{Person, erasure_record};
use crate::node::Node;

/// The report (its JSON is documented in the README, "Withdrawal and subject access").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectReport {
    pub pseudonym: String,
    /// Whether the node holds a record of the person now.
    pub held: bool,
    pub sex: Option<String>,
    pub birth_year: Option<u16>,
    /// HPO terms with their names in the node's release.
    pub phenotypes: Vec<Term>,
    pub diagnoses: Vec<String>,
    /// DUO codes of their consent.
    pub consent: Vec<String>,
    pub datasets: Vec<String>,
    pub files: Vec<SubjectFile>,
    /// Grants (active or not) to the datasets that hold them.
    pub grants: Vec<SubjectGrant>,
    /// Audited answers and deliveries drawing on those datasets.
    pub answers: Answers,
    /// Withdrawals recorded for the person.
    pub withdrawals: Vec<WithdrawalRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term {
    pub id: String,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectFile {
    pub accession: String,
    pub dataset: String,
    pub name: String,
    pub ingested: String,
    /// Variants of the file at which the person carries an ALT allele.
    pub variants_carried: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectGrant {
    pub user: String,
    pub dataset: String,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked: Option<String>,
}

/// Audited answers over datasets that hold the person: an answer over a dataset may or may not
/// have counted them (a filter can leave them out), so this is an upper bound.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answers {
    pub total: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// By audited action (`query`, `association`, `htsget.ticket`, …).
    pub by_action: BTreeMap<String, u64>,
    /// By month (`2026-11`).
    pub by_month: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithdrawalRecord {
    /// The dataset, or `null` for every dataset.
    pub dataset: Option<String>,
    pub recorded: String,
}

/// Actions that hand out something derived from the data.
const ANSWERS: [AuditAction; 6] = [
    AuditAction::Query,
    AuditAction::Association,
    AuditAction::HtsgetTicket,
    AuditAction::DrsAccess,
    AuditAction::DataServed,
    AuditAction::MmeMatch,
];

impl Node {
    /// The report for one person; `actor` is recorded in the audit log.
    pub fn subject_report(&self, person: Person<'_>, actor: &str) -> Result<SubjectReport, NodeError> {
        let pseudonym = match person {
            Person::LocalId(id) => self.pseudonymiser()?.pseudonym(id.trim()),
            Person::Pseudonym(p) => Pseudonym::parse(p.trim()).ok_or(ErasureError::UnknownPerson("pseudonym"))?,
        };
        let withdrawals: Vec<WithdrawalRecord> = self
            .store
            .withdrawals()?
            .into_iter()
            .filter(|w| w.pseudonym == pseudonym.as_str())
            .map(|w| WithdrawalRecord { dataset: w.dataset, recorded: w.recorded })
            .collect();
        let record = self.store.individuals()?.into_iter().find(|p| p.individual.pseudonym == pseudonym);
        if record.is_none() && withdrawals.is_empty() {
            let what = if matches!(person, Person::LocalId(_)) { "local id" } else { "pseudonym" };
            return Err(ErasureError::UnknownPerson(what).into());
        }
        let mut report = SubjectReport {
            pseudonym: pseudonym.as_str().to_string(),
            held: record.is_some(),
            sex: None,
            birth_year: None,
            phenotypes: Vec::new(),
            diagnoses: Vec::new(),
            consent: Vec::new(),
            datasets: Vec::new(),
            files: Vec::new(),
            grants: Vec::new(),
            answers: Answers::default(),
            withdrawals,
        };
        if let Some(person) = record {
            let hpo = self.hpo()?;
            let p = person.individual;
            report.sex = Some(p.sex.as_str().to_string());
            report.birth_year = p.birth_year;
            report.phenotypes = p
                .hpo_terms
                .iter()
                .map(|id| Term {
                    id: id.clone(),
                    label: hpo.and_then(|o| o.resolve(id).map(|t| o.name(t).to_string())),
                })
                .collect();
            report.diagnoses = p.icd10_codes;
            report.consent = p.consent;
            let files: Vec<(StoredFile, u32)> = self
                .store
                .files()?
                .into_iter()
                .filter_map(|f| {
                    let column = f.columns.iter().position(|n| *n == person.number)?;
                    Some((f, column as u32))
                })
                .collect();
            let carried = self.variants_carried(&files)?;
            let datasets: BTreeSet<String> = files.iter().map(|(f, _)| f.dataset.clone()).collect();
            report.datasets = datasets.into_iter().collect();
            report.files = files
                .into_iter()
                .map(|(f, _)| SubjectFile {
                    variants_carried: carried.get(&f.number).copied().unwrap_or(0),
                    accession: f.accession,
                    dataset: f.dataset,
                    name: f.name,
                    ingested: f.created,
                })
                .collect();
        }
        let datasets: BTreeSet<&str> = report.datasets.iter().map(String::as_str).collect();
        report.grants = self
            .grants(None)?
            .into_iter()
            .filter(|g| datasets.contains(g.dataset.as_str()))
            .map(|g| SubjectGrant {
                user: g.user,
                dataset: g.dataset,
                issued_at: g.issued_at,
                expires_at: g.expires_at,
                revoked: g.revoked,
            })
            .collect();
        // Datasets they were withdrawn from drew on their data until the withdrawal.
        let mut former: Vec<(String, String)> = Vec::new();
        if !report.withdrawals.is_empty() {
            self.for_each_audit_entry(None, None, |entry| {
                let r = &entry.record;
                if r.action == AuditAction::Withdraw && r.resource == report.pseudonym {
                    former.extend(r.datasets.iter().map(|d| (d.clone(), r.time.clone())));
                }
            })?;
        }
        // Records keep whole seconds: an answer in the withdrawal's own second counts as before it
        // (a subject report must not miss an answer that may have used their data; strict `<`
        // missed them all when the answers and the withdrawal fell in one second).
        let touches = |time: &str, dataset: &str| {
            datasets.contains(dataset) || former.iter().any(|(d, until)| d == dataset && time <= until.as_str())
        };
        let answers = &mut report.answers;
        self.for_each_audit_entry(None, None, |entry| {
            let r = &entry.record;
            if r.decision != Decision::Allowed || !ANSWERS.contains(&r.action) {
                return;
            }
            // An answer naming no dataset drew on all of them.
            let touched = if r.datasets.is_empty() {
                !datasets.is_empty() || former.iter().any(|(_, until)| r.time.as_str() <= until.as_str())
            } else {
                r.datasets.iter().any(|d| touches(&r.time, d))
            };
            if touched {
                answers.total += 1;
                *answers.by_action.entry(r.action.as_str().to_string()).or_default() += 1;
                *answers.by_month.entry(r.time.chars().take(7).collect()).or_default() += 1;
                answers.first.get_or_insert_with(|| r.time.clone());
                answers.last = Some(r.time.clone());
            }
        })?;
        let detail = format!("files: {}; answers counted: {}", report.files.len(), report.answers.total);
        let record =
            erasure_record(actor, AuditAction::SubjectReport, &report.pseudonym, report.datasets.clone(), detail);
        self.store.append_audit(&[record])?;
        Ok(report)
    }

    /// Per file, the variants at which `column` carries an ALT allele (one scan of each contig).
    fn variants_carried(&self, files: &[(StoredFile, u32)]) -> Result<BTreeMap<FileNumber, u64>, NodeError> {
        let wanted: BTreeMap<FileNumber, (u32, usize)> =
            files.iter().map(|(f, column)| (f.number, (*column, f.columns.len()))).collect();
        let mut carried: BTreeMap<FileNumber, u64> = BTreeMap::new();
        if wanted.is_empty() {
            return Ok(carried);
        }
        for (index, contig) in self.reference.contigs().iter().enumerate() {
            self.store.scan_region(index as u32, 1, contig.length, &mut |file, entry| {
                if let Some(&(column, width)) = wanted.get(&file) {
                    let sets = entry
                        .carriers
                        .parse(width)
                        .map_err(|e| oresund_store::StoreError::Corrupt(format!("file {file}: {e}")))?;
                    if sets.carriers().binary_search(&column).is_ok() {
                        *carried.entry(file).or_default() += 1;
                    }
                }
                Ok(())
            })?;
        }
        Ok(carried)
    }
}

impl SubjectReport {
    /// The report as text for a letter to the person.
    pub fn text(&self) -> String {
        let mut out = format!("Data held about the person with pseudonym {}\n\n", self.pseudonym);
        if !self.held {
            out.push_str("The node holds no record of this person now.\n");
        }
        if let Some(sex) = &self.sex {
            out.push_str(&format!("Sex: {sex}\n"));
        }
        if let Some(year) = self.birth_year {
            out.push_str(&format!("Year of birth: {year}\n"));
        }
        let terms: Vec<String> = self
            .phenotypes
            .iter()
            .map(|t| t.label.as_ref().map_or_else(|| t.id.clone(), |l| format!("{} ({l})", t.id)))
            .collect();
        let list = |items: &[String]| if items.is_empty() { "none".to_string() } else { items.join(", ") };
        out.push_str(&format!("Phenotypes: {}\n", list(&terms)));
        out.push_str(&format!("Diagnoses (ICD-10): {}\n", list(&self.diagnoses)));
        out.push_str(&format!("Consent (DUO): {}\n", list(&self.consent)));
        out.push_str(&format!("Datasets: {}\n", list(&self.datasets)));
        for f in &self.files {
            out.push_str(&format!(
                "  file {} ({}, dataset {}, ingested {}): carries an alternate allele at {} variants\n",
                f.accession, f.name, f.dataset, f.ingested, f.variants_carried
            ));
        }
        out.push_str(&format!("Access grants to these datasets: {}\n", self.grants.len()));
        for g in &self.grants {
            let state = g.revoked.as_ref().map_or_else(String::new, |r| format!(", revoked {r}"));
            out.push_str(&format!(
                "  {} to {} (issued {}{state})\n",
                g.dataset,
                g.user,
                oresund_core::time::rfc3339(g.issued_at)
            ));
        }
        let a = &self.answers;
        out.push_str(&format!(
            "Audited answers drawing on these datasets: {} (first {}, last {})\n",
            a.total,
            a.first.as_deref().unwrap_or("-"),
            a.last.as_deref().unwrap_or("-")
        ));
        for (action, n) in &a.by_action {
            out.push_str(&format!("  {action}: {n}\n"));
        }
        for w in &self.withdrawals {
            out.push_str(&format!(
                "Withdrawn from {} on {}\n",
                w.dataset.as_deref().unwrap_or("every dataset"),
                w.recorded
            ));
        }
        out
    }
}
