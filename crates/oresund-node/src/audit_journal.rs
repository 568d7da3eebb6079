//! The audit journal (issue #17): on the embedded store a server writes each request's audit
//! record to an append-only file before the answer leaves, and moves the file into the hash chain
//! behind the answers, in groups. Writing a line is one system call, after which the record is in
//! the kernel's page cache and `kill -9` cannot lose it — the guarantee a `synchronous = NORMAL`
//! commit gave, at a fraction of the cost (a commit per group of answers halved Beacon
//! throughput: BENCHMARKS.md). As with such commits, a power failure may lose the last records;
//! moving a file into the chain is a synced commit.
//!
//! Files are `audit-journal/<n>.jsonl`, numbered upwards, one JSON record a line. File `n` is
//! appended to the chain and `n` marked in the same transaction
//! ([`oresund_store::AuditLog::append_audit_journal`]), so a file whose removal a crash prevented
//! adds nothing the second time. One process owns the journal at a time (a lock on
//! `audit-journal/lock`, released by the kernel when it dies); files a crashed owner left are moved
//! in by the next process that takes the journal — `serve`, or any reader of the audit log.
//! Reading the log through the node first settles the journal (`Node::settle_audit_journal`), so
//! it shows every record of an answer given before the read began.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use oresund_core::audit::AuditRecord;
use oresund_store::{AuditLog, Result, StoreError};

const LOCK_FILE: &str = "lock";
const SUFFIX: &str = ".jsonl";
/// How long a reader waits for another process to move its journal files in.
const SETTLE_WAIT: Duration = Duration::from_secs(5);

/// The journal a process owns: records are written to the current file until it is moved in.
pub struct AuditJournal {
    dir: PathBuf,
    _lock: File,
    current: Mutex<Current>,
    /// Held while files are moved in, so that a reader's settle waits for a move under way.
    moving: Mutex<()>,
    /// Records a stopped owner had left, moved in when this process took the journal.
    recovered: usize,
    /// Records this process has moved in since it took the journal, whoever asked.
    moved: AtomicU64,
}

struct Current {
    /// The number the current file has, or the next file will have.
    number: u64,
    file: Option<File>,
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The numbers of the journal files in `dir`, in order.
pub(crate) fn journal_files(dir: &Path) -> Result<Vec<u64>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir, e)),
    };
    let mut numbers = Vec::new();
    for entry in entries {
        let name = entry.map_err(|e| io_error(dir, e))?.file_name();
        if let Some(number) = name.to_str().and_then(|n| n.strip_suffix(SUFFIX)).and_then(|n| n.parse().ok()) {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

fn file_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}{SUFFIX}"))
}

/// The records of a journal file. A last line without its newline is a write that never finished,
/// so its request was never answered: it is left out. Any other line that is not a record is an
/// error naming the file and line (the file stays for an operator to look at).
fn read_records(path: &Path) -> Result<Vec<AuditRecord>> {
    let text = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut records = Vec::new();
    for (i, line) in text[..complete].split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let record = serde_json::from_slice(line).map_err(|e| {
            StoreError::Corrupt(format!(
                "{}:{}: not an audit record ({e}); the file is left in place",
                path.display(),
                i + 1
            ))
        })?;
        records.push(record);
    }
    Ok(records)
}

/// Moves journal file `number` into the chain and removes it; returns the records appended.
fn move_in(store: &dyn AuditLog, dir: &Path, number: u64) -> Result<usize> {
    let path = file_path(dir, number);
    let records = read_records(&path)?;
    let appended = store.append_audit_journal(number, &records)?;
    std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
    Ok(if appended { records.len() } else { 0 })
}

impl AuditJournal {
    /// Takes the journal in `dir` and moves into `store`'s chain the files a crashed owner left.
    /// `None` when another process owns the journal.
    pub fn take(dir: PathBuf, store: &dyn AuditLog) -> Result<Option<AuditJournal>> {
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create(&lock_path).map_err(|e| io_error(&lock_path, e))?;
        if lock.try_lock().is_err() {
            return Ok(None);
        }
        let left = journal_files(&dir)?;
        let mut moved = 0;
        for &number in &left {
            moved += move_in(store, &dir, number)?;
        }
        let applied = store.audit_journal_applied()?;
        let number = left.last().copied().unwrap_or(0).max(applied) + 1;
        Ok(Some(AuditJournal {
            dir,
            _lock: lock,
            current: Mutex::new(Current { number, file: None }),
            moving: Mutex::new(()),
            recovered: moved,
            moved: AtomicU64::new(0),
        }))
    }

    /// How many records a stopped owner had left (moved in when this process took the journal).
    pub fn recovered(&self) -> usize {
        self.recovered
    }

    /// Records moved into the chain by this process since it took the journal (by the server's
    /// mover or a reader's settle alike).
    pub fn moved(&self) -> u64 {
        self.moved.load(Ordering::Relaxed)
    }

    /// Writes one record; returns once the kernel holds it (the answer may leave then). A write
    /// that fails closes the file, so that a line it left half written stays the file's last
    /// (skipped when moved in) instead of running into the next record.
    pub fn write(&self, record: &AuditRecord) -> Result<()> {
        let mut line = serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(format!("audit record: {e}")))?;
        line.push(b'\n');
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let path = file_path(&self.dir, current.number);
        if current.file.is_none() {
            let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io_error(&path, e))?;
            current.file = Some(file);
        }
        match current.file.as_mut().map(|f| f.write_all(&line)) {
            Some(Err(e)) => {
                current.file = None;
                current.number += 1;
                Err(io_error(&path, e))
            }
            _ => Ok(()),
        }
    }

    /// Closes the current file (new records go to the next one) and moves every closed file into
    /// the chain, in order. Returns the records appended. A file that cannot be moved in stays on
    /// disk and is tried again first next time.
    pub fn move_in(&self, store: &dyn AuditLog) -> Result<usize> {
        let _moving = self.moving.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            if current.file.take().is_some() {
                current.number += 1;
            }
        }
        let closed = journal_files(&self.dir)?;
        let open = self.current.lock().unwrap_or_else(|e| e.into_inner()).number;
        let mut moved = 0;
        for number in closed.into_iter().filter(|&n| n < open) {
            let count = move_in(store, &self.dir, number)?;
            self.moved.fetch_add(count as u64, Ordering::Relaxed);
            moved += count;
        }
        Ok(moved)
    }
}

/// Waits until the journal files in `dir` now are moved in by the process that owns the journal
/// (it does so every few milliseconds); an error after a few seconds.
pub(crate) fn wait_for_owner(dir: &Path, waiting: &[u64]) -> Result<()> {
    let started = Instant::now();
    while journal_files(dir)?.first().is_some_and(|first| waiting.contains(first)) {
        if started.elapsed() > SETTLE_WAIT {
            return Err(StoreError::Busy(format!(
                "{}: the server that owns the audit journal has not moved its records into the chain for {} s; \
                 is it stuck? (its latest records would be missing from this read)",
                dir.display(),
                SETTLE_WAIT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use oresund_core::audit::{AuditAction, Decision};

    use super::*;

    fn record(n: u32) -> AuditRecord {
        AuditRecord {
            time: format!("2026-12-03T00:00:{n:02}Z"),
            actor: "anonymous".into(),
            action: AuditAction::Query,
            resource: "/g_variants".into(),
            datasets: vec!["DK-1".into()],
            granularity: Some("boolean".into()),
            decision: Decision::Allowed,
            detail: String::new(),
            subject: None,
        }
    }

    fn line(n: u32) -> String {
        format!("{}\n", serde_json::to_string(&record(n)).unwrap())
    }

    #[test]
    fn a_write_cut_short_is_left_out_and_a_damaged_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(dir.path(), 7);
        let cut = line(3);
        std::fs::write(&path, format!("{}{}{}", line(1), line(2), &cut[..cut.len() / 2])).unwrap();
        assert_eq!(read_records(&path).unwrap(), vec![record(1), record(2)], "the unfinished third is not a record");

        std::fs::write(&path, format!("{}{{\"time\":\n{}", line(1), line(2))).unwrap();
        let error = read_records(&path).unwrap_err().to_string();
        assert!(error.contains("00000000000000000007.jsonl:2: not an audit record"), "{error}");
    }

    #[test]
    fn journal_files_are_listed_in_number_order_and_other_files_ignored() {
        let dir = tempfile::tempdir().unwrap();
        for n in [12, 3, 100] {
            std::fs::write(file_path(dir.path(), n), "").unwrap();
        }
        std::fs::write(dir.path().join(LOCK_FILE), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        assert_eq!(journal_files(dir.path()).unwrap(), vec![3, 12, 100]);
        assert_eq!(journal_files(&dir.path().join("missing")).unwrap(), Vec::<u64>::new());
    }
}
