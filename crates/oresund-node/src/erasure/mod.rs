//! Forgetting (GDPR article 17): a participant withdraws, or an operator removes a file or a
//! dataset. Afterwards no answer counts them, and the archived versions that held them are
//! crypto-shredded: each was encrypted under a file key of its own (`archive/file_keys.rs`), and
//! destroying that key leaves every copy of the old version — in the archive, in S3 object
//! versions, in any backup of the archive and catalog — unreadable, node key or not.
//!
//! A withdrawal, in order (the writer lock held throughout):
//!
//! 1. each archived file holding the person (and someone else) is written again without them —
//!    the VCF without their column (`rewrite.rs`), the individuals file without their row, the
//!    block index anew — under a new file key;
//! 2. one catalog transaction blanks their column in the variant index (no ALT allele, no call;
//!    the file's width stays, see `oresund_store`'s erasure rules), points the accessions at the
//!    new versions, records the old ones as shredded and the withdrawal itself
//!    (`oresund_store::Erasure`); a file holding only them is removed whole;
//! 3. the old versions' file keys are destroyed and their objects deleted, and the people image
//!    (`people_image.rs`, which may hold their number) with them;
//! 4. one audit entry names the pseudonym and the reason.
//!
//! A kill before 2 leaves the old state (the new objects and key are unreferenced: `archive gc`);
//! after it, the new one, and running the withdrawal again finishes 3 and 4.

pub mod error;
mod rewrite;

use std::collections::BTreeSet;

use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_ingest::individuals::without_person;
use oresund_store::{
    ArchiveKind, ArchiveObject, AuditQuery, ErasureOutcome, ErasurePlan, FileRewrite, IndividualNumber, ShreddedObject,
    StoredFile, Withdrawal,
};

use crate::NodeError;
use crate::archive::error::ArchiveError;
use crate::archive::originals::Originals;
use crate::archive::store::ObjectArchive;
use crate::archive::{INDEX_SUFFIX, StoredObject};
use crate::erasure::error::ErasureError;
use crate::keys::KeyRing;
use crate::node::Node;

/// Who is withdrawn: by local id (pseudonymised on the fly, never stored) or by pseudonym.
#[derive(Debug, Clone, Copy)]
pub enum Person<'a> {
    LocalId(&'a str),
    Pseudonym(&'a str),
}

/// What a withdrawal found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalOutcome {
    pub pseudonym: String,
    /// False when the withdrawal had been made before (nothing more was changed, beyond finishing
    /// an interrupted run).
    pub changed: bool,
    /// Accessions of the files rewritten without the person.
    pub files: Vec<String>,
    /// Datasets the person was withdrawn from.
    pub datasets: Vec<String>,
    pub shredded: Vec<ShreddedObject>,
    /// Individuals whose records were removed (the person, when no file holds them any more).
    pub individuals_removed: u64,
    /// Old versions archived before file keys: their headers were encrypted to the node key
    /// itself, so they become unreadable in old backups only once `keys rotate` retires that key.
    pub sealed_to_node_key: Vec<String>,
}

/// What removing a file or a dataset did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalOutcome {
    pub files: Vec<String>,
    pub shredded: Vec<ShreddedObject>,
    pub individuals_removed: u64,
    pub sealed_to_node_key: Vec<String>,
}

/// A file to rewrite: its record, the person's columns in it and its archived objects.
struct Target {
    file: StoredFile,
    /// The person's columns in the catalog's column list (blanked there).
    blank: Vec<usize>,
    objects: Vec<ArchiveObject>,
}

impl Target {
    /// The person's columns in the archived VCF, which has none for people withdrawn before.
    fn vcf_columns(&self) -> Vec<usize> {
        let gone_before =
            |c: usize| self.file.columns[..c].iter().filter(|n| **n == IndividualNumber::WITHDRAWN).count();
        self.blank.iter().map(|&c| c - gone_before(c)).collect()
    }

    /// Samples the archived VCF still holds.
    fn samples(&self) -> usize {
        self.file.columns.iter().filter(|n| **n != IndividualNumber::WITHDRAWN).count()
    }
}

impl Node {
    /// Withdraws a participant from every dataset, or from `dataset` (see the module
    /// documentation). `keys` opens the archived versions; `actor` is recorded.
    pub fn withdraw(
        &self,
        person: Person<'_>,
        dataset: Option<&str>,
        reason: &str,
        keys: &KeyRing,
        actor: &str,
    ) -> Result<WithdrawalOutcome, NodeError> {
        if reason.trim().is_empty() {
            return Err(ErasureError::NoReason.into());
        }
        let _writer = self.lock_writers()?;
        let pseudonymiser = self.pseudonymiser()?;
        let pseudonym = match person {
            Person::LocalId(id) => pseudonymiser.pseudonym(id.trim()),
            Person::Pseudonym(p) => {
                oresund_core::pseudonym::Pseudonym::parse(p.trim()).ok_or(ErasureError::UnknownPerson("pseudonym"))?
            }
        };
        let what = match person {
            Person::LocalId(_) => "local id",
            Person::Pseudonym(_) => "pseudonym",
        };
        if let Some(d) = dataset
            && !self.store.datasets()?.iter().any(|known| known.id == d)
        {
            return Err(ErasureError::UnknownDataset(d.to_string()).into());
        }
        // Scrubbed now, while the person's local id is still known: a reason naming it keeps only
        // the pseudonym (their own id is replaced whatever its form).
        let mut reason = self.scrub_local_ids(reason.trim())?;
        if let Person::LocalId(id) = person
            && !id.trim().is_empty()
        {
            reason = reason.replace(id.trim(), pseudonym.as_str());
        }
        let earlier =
            self.store.withdrawals()?.into_iter().find(|w| {
                w.pseudonym == pseudonym.as_str() && (w.dataset.is_none() || w.dataset.as_deref() == dataset)
            });
        let number =
            self.store.individuals()?.into_iter().find(|p| p.individual.pseudonym == pseudonym).map(|p| p.number);
        let objects = self.archive()?;
        let mut targets = Vec::new();
        for file in self.store.files()?.into_iter().filter(|f| dataset.is_none_or(|d| f.dataset == d)) {
            let blank: Vec<usize> =
                file.columns.iter().enumerate().filter(|(_, n)| Some(**n) == number).map(|(c, _)| c).collect();
            let archived = self.store.archive_objects_of_file(file.number)?;
            let listed = match archived.iter().find(|o| o.kind == ArchiveKind::Individuals) {
                Some(individuals) => {
                    let plain = decrypt_small(&objects, individuals, keys)?;
                    without_person(&plain, &pseudonymiser, &pseudonym)
                        .map_err(|e| ErasureError::Rewrite {
                            accession: individuals.accession.clone(),
                            message: e.to_string(),
                        })?
                        .1
                        > 0
                }
                None => false,
            };
            if !blank.is_empty() || listed {
                targets.push(Target { file, blank, objects: archived });
            }
        }
        if targets.is_empty() {
            return match (earlier, number) {
                (Some(done), _) => self.finish_withdrawal(&done, &reason, actor),
                (None, None) => Err(ErasureError::UnknownPerson(what).into()),
                (None, Some(_)) => Err(ErasureError::NotInDataset(dataset.unwrap_or_default().to_string()).into()),
            };
        }
        let mut written: Vec<Originals<'_>> = Vec::new();
        let mut plan = ErasurePlan {
            withdrawal: Some(Withdrawal {
                pseudonym: pseudonym.as_str().to_string(),
                dataset: dataset.map(str::to_string),
                recorded: String::new(),
            }),
            cause: "withdrawal".into(),
            ..ErasurePlan::default()
        };
        let is_withdrawn =
            |name: &[u8]| std::str::from_utf8(name).is_ok_and(|n| pseudonymiser.pseudonym(n) == pseudonym);
        for target in &targets {
            // A file of this person alone (a single-sample VCF) goes whole: nothing is left to keep.
            if target.samples() > 0 && target.samples() == target.blank.len() {
                plan.removals.push(target.file.number);
                continue;
            }
            let mut originals = Originals::new(&objects, &self.key_files())?;
            let rewritten =
                self.new_version(&objects, target, keys, &pseudonymiser, &pseudonym, &is_withdrawn, &mut originals);
            written.push(originals);
            match rewritten {
                Ok(objects) => plan.rewrites.push(FileRewrite {
                    file: target.file.number,
                    blank_columns: target.blank.iter().map(|&c| c as u32).collect(),
                    objects,
                }),
                Err(e) => {
                    written.into_iter().for_each(Originals::discard);
                    return Err(e);
                }
            }
        }
        let outcome = match self.store.erase(&plan) {
            Ok(outcome) => outcome,
            Err(e) => {
                written.into_iter().for_each(Originals::discard);
                return Err(e.into());
            }
        };
        let sealed_to_node_key = self.shred(&outcome.shredded)?;
        let files: Vec<String> = targets.iter().map(|t| t.file.accession.clone()).collect();
        let removed: Vec<&str> = targets
            .iter()
            .filter(|t| plan.removals.contains(&t.file.number))
            .map(|t| t.file.accession.as_str())
            .collect();
        let datasets: BTreeSet<String> = targets.iter().map(|t| t.file.dataset.clone()).collect();
        let datasets: Vec<String> = datasets.into_iter().collect();
        let scope = dataset.map_or_else(|| "every dataset".to_string(), |d| format!("dataset {d}"));
        self.store.append_audit(&[erasure_record(
            actor,
            AuditAction::Withdraw,
            pseudonym.as_str().to_string(),
            datasets.clone(),
            format!(
                "from {scope}; files rewritten: {}; files removed: {}; versions shredded: {}; reason: {reason}",
                files.iter().filter(|f| !removed.contains(&f.as_str())).cloned().collect::<Vec<_>>().join(", "),
                removed.join(", "),
                outcome.shredded.len()
            ),
        )])?;
        Ok(WithdrawalOutcome {
            pseudonym: pseudonym.as_str().to_string(),
            changed: true,
            files,
            datasets,
            shredded: outcome.shredded,
            individuals_removed: outcome.individuals_removed,
            sealed_to_node_key,
        })
    }

    /// The objects of a file's new version without the person, stored under a new file key.
    #[allow(clippy::too_many_arguments)]
    fn new_version(
        &self,
        objects: &ObjectArchive,
        target: &Target,
        keys: &KeyRing,
        pseudonymiser: &oresund_core::pseudonym::Pseudonymiser,
        pseudonym: &oresund_core::pseudonym::Pseudonym,
        is_withdrawn: &(dyn Fn(&[u8]) -> bool + Sync),
        originals: &mut Originals<'_>,
    ) -> Result<Vec<ArchiveObject>, NodeError> {
        let mut new = Vec::new();
        let record = |stored: StoredObject, old: &ArchiveObject| {
            stored.record(old.accession.clone(), old.file, old.kind, old.name.clone())
        };
        let vcf = target.objects.iter().find(|o| o.kind == ArchiveKind::Vcf).ok_or_else(|| {
            ArchiveError::Invalid(format!("{}: the catalog lists no archived VCF for it", target.file.accession))
        })?;
        let secret = keys.for_object(&vcf.accession, &vcf.key_id)?;
        let rewritten = rewrite::rewrite_vcf(objects, vcf, &secret, &target.vcf_columns(), is_withdrawn, originals)?;
        new.push(record(rewritten.stored, vcf));
        let index = originals.store(rewritten.index.text())?;
        let index_accession = format!("{}{INDEX_SUFFIX}", vcf.accession);
        new.push(index.record(index_accession, vcf.file, ArchiveKind::BlockIndex, format!("{}.blocks", vcf.name)));
        for old in target.objects.iter().filter(|o| o.kind == ArchiveKind::Individuals) {
            let plain = decrypt_small(objects, old, keys)?;
            let (kept, _) = without_person(&plain, pseudonymiser, pseudonym)
                .map_err(|e| ErasureError::Rewrite { accession: old.accession.clone(), message: e.to_string() })?;
            new.push(record(originals.store(&kept[..])?, old));
        }
        Ok(new)
    }

    /// Finishes a withdrawal made before: shreds what an interrupted run left, and records it in
    /// the audit log if that run was killed before it could.
    fn finish_withdrawal(&self, done: &Withdrawal, reason: &str, actor: &str) -> Result<WithdrawalOutcome, NodeError> {
        self.complete_shredding()?;
        if !self.audited_since(&done.recorded, &AuditAction::Withdraw, &done.pseudonym)? {
            let scope = done.dataset.as_ref().map_or_else(|| "every dataset".to_string(), |d| format!("dataset {d}"));
            self.store.append_audit(&[erasure_record(
                actor,
                AuditAction::Withdraw,
                done.pseudonym.clone(),
                done.dataset.iter().cloned().collect(),
                format!("from {scope}; completed an interrupted withdrawal; reason: {reason}"),
            )])?;
        }
        Ok(WithdrawalOutcome {
            pseudonym: done.pseudonym.clone(),
            changed: false,
            files: Vec::new(),
            datasets: done.dataset.iter().cloned().collect(),
            shredded: Vec::new(),
            individuals_removed: 0,
            sealed_to_node_key: Vec::new(),
        })
    }

    /// Removes one ingested file (by accession): its variants leave every answer and its archived
    /// versions are shredded.
    pub fn remove_file(&self, accession: &str, reason: &str, actor: &str) -> Result<RemovalOutcome, NodeError> {
        if reason.trim().is_empty() {
            return Err(ErasureError::NoReason.into());
        }
        let _writer = self.lock_writers()?;
        let Some(file) = self.store.files()?.into_iter().find(|f| f.accession == accession) else {
            let cause = "file removed";
            return self
                .finish_removal(
                    |v| v.cause == cause && v.accession == accession,
                    AuditAction::FileRemove,
                    accession,
                    reason,
                    actor,
                )?
                .ok_or_else(|| ErasureError::UnknownFile(accession.to_string()).into());
        };
        self.remove(vec![file], "file removed", AuditAction::FileRemove, accession, reason, actor)
    }

    /// Removes a dataset and every file in it.
    pub fn remove_dataset(&self, dataset: &str, reason: &str, actor: &str) -> Result<RemovalOutcome, NodeError> {
        if reason.trim().is_empty() {
            return Err(ErasureError::NoReason.into());
        }
        let _writer = self.lock_writers()?;
        let files: Vec<StoredFile> = self.store.files()?.into_iter().filter(|f| f.dataset == dataset).collect();
        let cause = format!("dataset {dataset} removed");
        if files.is_empty() {
            return self
                .finish_removal(|v| v.cause == cause, AuditAction::DatasetRemove, dataset, reason, actor)?
                .ok_or_else(|| ErasureError::UnknownDataset(dataset.to_string()).into());
        }
        self.remove(files, &cause, AuditAction::DatasetRemove, dataset, reason, actor)
    }

    fn remove(
        &self,
        files: Vec<StoredFile>,
        cause: &str,
        action: AuditAction,
        resource: &str,
        reason: &str,
        actor: &str,
    ) -> Result<RemovalOutcome, NodeError> {
        let reason = self.scrub_local_ids(reason.trim())?;
        let plan = ErasurePlan {
            removals: files.iter().map(|f| f.number).collect(),
            cause: cause.to_string(),
            ..ErasurePlan::default()
        };
        let outcome: ErasureOutcome = self.store.erase(&plan)?;
        let sealed_to_node_key = self.shred(&outcome.shredded)?;
        let accessions: Vec<String> = files.iter().map(|f| f.accession.clone()).collect();
        let datasets: BTreeSet<String> = files.iter().map(|f| f.dataset.clone()).collect();
        self.store.append_audit(&[erasure_record(
            actor,
            action,
            resource.to_string(),
            datasets.into_iter().collect(),
            format!(
                "files removed: {}; versions shredded: {}; reason: {reason}",
                accessions.join(", "),
                outcome.shredded.len()
            ),
        )])?;
        Ok(RemovalOutcome {
            files: accessions,
            shredded: outcome.shredded,
            individuals_removed: outcome.individuals_removed,
            sealed_to_node_key,
        })
    }

    /// A removal made before (`was_it` picks its shredded versions): shreds what an interrupted
    /// run left and records it in the audit log if that run was killed before it could. `None`:
    /// there was no such removal.
    fn finish_removal(
        &self,
        was_it: impl Fn(&ShreddedObject) -> bool,
        action: AuditAction,
        resource: &str,
        reason: &str,
        actor: &str,
    ) -> Result<Option<RemovalOutcome>, NodeError> {
        let versions: Vec<ShreddedObject> = self.store.shredded_objects()?.into_iter().filter(&was_it).collect();
        let Some(first) = versions.iter().map(|v| v.shredded.clone()).min() else { return Ok(None) };
        self.complete_shredding()?;
        if !self.audited_since(&first, &action, resource)? {
            let reason = self.scrub_local_ids(reason.trim())?;
            self.store.append_audit(&[erasure_record(
                actor,
                action,
                resource.to_string(),
                Vec::new(),
                format!("completed an interrupted removal; versions shredded: {}; reason: {reason}", versions.len()),
            )])?;
        }
        Ok(Some(RemovalOutcome {
            files: Vec::new(),
            shredded: Vec::new(),
            individuals_removed: 0,
            sealed_to_node_key: Vec::new(),
        }))
    }

    /// Whether the audit log has an entry of `action` on `resource` since `since` (the record of a
    /// run that was killed after its catalog commit may be missing).
    fn audited_since(&self, since: &str, action: &AuditAction, resource: &str) -> Result<bool, NodeError> {
        let query = AuditQuery { since: Some(since.to_string()), ..AuditQuery::default() };
        Ok(self
            .store
            .audit_entries(&query)?
            .iter()
            .any(|e| &e.record.action == action && e.record.resource == resource))
    }

    /// Destroys the file keys of shredded versions and deletes their objects (no secret key is
    /// needed to destroy a key); returns the versions whose header was encrypted to the node key
    /// itself (archived before file keys, see [`WithdrawalOutcome::sealed_to_node_key`]).
    fn shred(&self, shredded: &[ShreddedObject]) -> Result<Vec<String>, NodeError> {
        self.remove_people_image()?;
        let file_keys = self.key_files().file_keys();
        let node_key = crate::keys::key_id(&self.key_files().read_public()?);
        let objects = self.archive()?;
        let mut sealed_to_node_key = Vec::new();
        for version in shredded {
            if version.key_id == node_key {
                sealed_to_node_key.push(format!("{} v{}", version.accession, version.version));
            } else {
                file_keys.shred(&version.key_id)?;
            }
            objects.delete(&version.header_path)?;
            objects.delete(&version.body_path)?;
        }
        Ok(sealed_to_node_key)
    }

    /// Destroys every file key a recorded shredded version still has, and deletes its objects: the
    /// end of a withdrawal or removal killed after its catalog commit. Returns how many versions
    /// still had a key.
    pub fn complete_shredding(&self) -> Result<usize, NodeError> {
        self.remove_people_image()?;
        let file_keys = self.key_files().file_keys();
        let present: BTreeSet<String> = file_keys.list()?.into_iter().map(|(id, _)| id).collect();
        let objects = self.archive()?;
        let mut finished = 0;
        for version in self.store.shredded_objects()? {
            if present.contains(&version.key_id) {
                file_keys.shred(&version.key_id)?;
                finished += 1;
            }
            objects.delete(&version.header_path)?;
            objects.delete(&version.body_path)?;
        }
        Ok(finished)
    }
}

/// The plaintext of a small archived object (an individuals file).
fn decrypt_small(objects: &ObjectArchive, object: &ArchiveObject, keys: &KeyRing) -> Result<Vec<u8>, NodeError> {
    let c4gh = ArchiveError::c4gh(&object.accession);
    let secret = keys.for_object(&object.accession, &object.key_id)?;
    let header = oresund_c4gh::Header::decrypt(&objects.get(&object.header_path)?, &secret).map_err(&c4gh)?;
    let mut plain = Vec::with_capacity(object.plaintext_size as usize);
    oresund_c4gh::decrypt_body(objects.reader(&object.body_path, None)?, &mut plain, &header, 1).map_err(c4gh)?;
    Ok(plain)
}

/// The audit entry of an operator's erasure action (always allowed: a refusal is an error, and
/// changes nothing).
pub(crate) fn erasure_record(
    actor: &str,
    action: AuditAction,
    resource: impl Into<String>,
    datasets: Vec<String>,
    detail: String,
) -> AuditRecord {
    AuditRecord {
        time: crate::clock::now_rfc3339(),
        actor: actor.to_string(),
        action,
        resource: resource.into(),
        datasets,
        granularity: None,
        decision: Decision::Allowed,
        detail,
        subject: None,
    }
}
